"""Answers that reach a wanted total, for worked examples at every band boundary."""

from typing import Any

from opora.surveys import scoring


def answers_for_total(definition: dict[str, Any], total: int) -> dict[str, int]:
    """Raw answers (as the client gives them, before reversal) whose score is `total`: counted
    points are given to the items in published order, each up to its maximum."""
    by_number = {str(i["number"]): i for i in scoring.items(definition)}
    reversed_items = {str(n) for n in definition.get("reversed") or []}
    answers = {}
    remaining = total - scoring.total_range(definition)[0]
    for number in definition["total"]:
        values = scoring.option_values(definition, by_number[number])
        low, high = min(values), max(values)
        counted = low + min(remaining, high - low)
        remaining -= counted - low
        answers[number] = low + high - counted if number in reversed_items else counted
    assert remaining == 0, "total out of range"
    return answers
