"""Row locks live in one place per app (Saleor's `lock_objects.py`, here `<app>/locks.py`).

Every module under opora/ except tests and migrations is parsed (nothing is imported): a
`select_for_update` — called or read — or a raw `FOR UPDATE` in a string outside a `locks.py` fails.
The functions of a `locks.py` carry the model in their name (`booking_qs_select_for_update()`), so
a reader finds every lock of an app, with its NOWAIT, SKIP LOCKED and `of=`, in one file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

OPORA_DIR = Path(__file__).resolve().parents[2]

# Every app takes its row locks in its locks.py; none is exempt.
ALLOWED_APPS: tuple[str, ...] = ()

FOR_UPDATE = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", re.IGNORECASE)


def _checked_modules() -> list[Path]:
    modules = []
    for path in sorted(OPORA_DIR.rglob("*.py")):
        parts = path.relative_to(OPORA_DIR).parts
        if "tests" in parts or "migrations" in parts or path.name == "locks.py":
            continue
        if parts[0] in ALLOWED_APPS:
            continue
        modules.append(path)
    return modules


def _locks_in(path: Path) -> list[str]:
    return _locks_in_text(path.read_text(encoding="utf-8"), str(path.relative_to(OPORA_DIR.parent)))


def _locks_in_text(text: str, label: str) -> list[str]:
    tree = ast.parse(text, filename=label)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "select_for_update":
            found.append(f"{label}:{node.lineno} .select_for_update")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if FOR_UPDATE.search(node.value) and not _is_docstring(node, tree):
                found.append(f"{label}:{node.lineno} FOR UPDATE")
    return found


def _is_docstring(node: ast.Constant, tree: ast.Module) -> bool:
    for owner in ast.walk(tree):
        if isinstance(owner, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = owner.body
            if body and isinstance(body[0], ast.Expr) and body[0].value is node:
                return True
    return False


def test_every_row_lock_is_taken_in_a_locks_module():
    modules = _checked_modules()
    assert len(modules) > 50, "the scan found too few modules: wrong directory?"
    found = [hit for path in modules for hit in _locks_in(path)]
    assert not found, "row locks outside a locks.py (move them to <app>/locks.py):\n" + "\n".join(
        found
    )


def test_the_scan_sees_a_lock():
    """The scan itself works: a lock in a module is found, a lock function's name is not."""
    text = (
        '"""A docstring may say FOR UPDATE."""\n'
        "def f():\n"
        "    Slot.objects.select_for_update(nowait=True).get(pk=1)\n"
        "    locks.slot_qs_select_for_update()\n"
        "    cursor.execute('SELECT 1 FROM t FOR UPDATE SKIP LOCKED')\n"
    )
    assert sorted(_locks_in_text(text, "probe.py")) == [
        "probe.py:3 .select_for_update",
        "probe.py:5 FOR UPDATE",
    ]
