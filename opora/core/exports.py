"""One writer for every XLSX export: each cell is plain data, never a formula.

Names, notes and addresses in the hand-off workbook, the journals and the registries come from the
public (the portal, e-mail, messengers). Written with openpyxl's `ws.append`, a name such as
`=HYPERLINK("http://…","Click")` becomes a live formula in the workbook a provider opens, and a
control character makes openpyxl refuse to build the day's workbook at all
(`IllegalCharacterError`). `write_row` writes text as text: control characters other than tab and
line breaks are dropped, the cell's type is forced to a string, and text that a spreadsheet would
read as a formula (= + - @, a leading tab or carriage return) is marked with Excel's quote prefix
(the apostrophe), so that it stays text even when someone edits the cell. Numbers and dates stay
numbers and dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from opora.core.inputs import strip_control_chars

# What spreadsheets take as the start of a formula (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def plain_text(value: str) -> str:
    """`value` as it may stand in a cell: without the control characters openpyxl refuses."""
    return strip_control_chars(value, multiline=True)


def text_cell(sheet: Worksheet, value: Any) -> Any:
    """A cell for `value`: a string becomes a text cell, anything else is left to openpyxl."""
    if not isinstance(value, str):
        return value
    text = plain_text(value)
    # Row and column are set where `sheet.append` puts the cell (openpyxl defaults them to None;
    # types-openpyxl wrongly makes them required).
    cell = Cell(sheet, value=text)  # type: ignore[call-arg]
    cell.data_type = "s"  # never "f": openpyxl makes any text starting with "=" a formula
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def write_row(sheet: Worksheet, values: Iterable[Any]) -> None:
    """Append `values` to `sheet` as the next row, every string as plain text."""
    sheet.append([text_cell(sheet, value) for value in values])


def csv_cell(value: Any) -> Any:
    """`value` as a CSV cell that a spreadsheet opens as plain data: text without control
    characters, and text a spreadsheet would read as a formula (= + - @, a leading tab or
    carriage return) behind Excel's quote prefix; None as an empty cell; numbers as they are."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = plain_text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
