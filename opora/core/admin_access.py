"""Who may use the admin pages: asked of the access policy, which lives above `core`.

`core` imports no app, so the policy registers its answer here when the accounts app is ready
(`opora.accounts.apps`). Until then (no policy installed) nobody passes: the admin fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (user, what: "view" | "change" | "add" | "delete" | "module", obj) -> bool
_check: Callable[[Any, str, Any], bool] | None = None


def install(check: Callable[[Any, str, Any], bool]) -> None:
    global _check
    _check = check


def admin_allows(user: Any, what: str, obj: Any = None) -> bool:
    return _check is not None and bool(_check(user, what, obj))
