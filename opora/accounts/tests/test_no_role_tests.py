"""No module but the access policy tests roles (issue 10): every view, service, selector, task and
consumer asks `opora.accounts.policy` (`can` / `require` / `role_required(Action.X)`).

An AST scan of every module of `opora` (not tests, migrations or the demo data) fails on:

- a comparison with a role: `x.role == ...`, `x.role in ...`, `... == Role.X`, `... in (Role.X, ...)`;
- `has_role(...)` (the user model's role test);
- `is_superuser` read anywhere (a superuser is an administrator: the policy knows).

Choosing people by role in a query (`User.objects.filter(role=Role.HEAD)`: who is told, who may
be picked) is not a permission check and is not flagged. What must remain is in `ALLOWED`, each
with its reason; an entry that no longer matches anything fails too, so the list stays short.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the `opora` package

# Modules that may test roles, and why.
EXEMPT_MODULES = {
    "accounts/policy.py": "the access policy itself: the one place that knows roles",
    "accounts/models.py": "defines `Role`, `has_role` and the superuser flag",
    "accounts/admin.py": "edits the role and superuser fields of a user",
}

# (module, line text stripped) -> reason. Matched by the source line, not its number, so
# unrelated edits above it do not break the list.
ALLOWED: dict[tuple[str, str], str] = {
    # The seat in the room (the consultant's side or the client's), not a staff role: the seat is
    # given once at connect, after `consultant_may_enter` (the policy) or the client's link.
    **dict.fromkeys(
        [
            ("consultations/consumers.py", 'elif kind == "admit" and self.role == "consultant":'),
            ("consultations/consumers.py", 'elif kind == "end" and self.role == "consultant":'),
            (
                "consultations/consumers.py",
                'if (kind == "offer" and self.role != "consultant") or (',
            ),
            ("consultations/consumers.py", 'kind == "answer" and self.role != "client"'),
            (
                "consultations/consumers.py",
                'if self.role == "consultant" and not await database_sync_to_async(_may_conduct)(',
            ),
        ],
        "the room's seat (consultant/client side of a WebSocket), not a person's role",
    ),
    (
        "journals/rows.py",
        'position = str(Role(role).label).lower() if role in Role.values else ""',
    ): "the journal's «Должность» column: a role's printed name, not an access check",
    # Phase 2 leftovers in files another helper edits this round (issue 10): each moves to the
    # policy there — `consultation.report_failure` (the head of the service), and the journal's
    # consultant filter (`policy.own_only(user, Action.JOURNAL_VIEW)`); then the old
    # `role_required(Role...)` adapter goes (its last caller is `protocol_form`).
    ("consultations/services/after.py", 'and actor.has_role("head")'): (
        "phase 2: failure_report's head test; after.py is another helper's file this round"
    ),
    (
        "consultations/views/after.py",
        "if wanted_consultant.isdigit() and user.role != Role.CONSULTANT:",
    ): "phase 2: the journal page's consultant filter; after.py is another helper's file",
    (
        "consultations/views/after.py",
        '"consultants": consultants if user.role != Role.CONSULTANT else None,',
    ): "phase 2: the journal page's consultant filter; after.py is another helper's file",
    ("accounts/workplace.py", "elif not user.has_role(*roles):"): (
        "the old role_required(Role...) adapter, while consultations/views/after.py passes roles"
    ),
}


def _modules() -> list[Path]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        parts = rel.split("/")
        if "tests" in parts or "migrations" in parts or parts[0] == "demo":
            continue
        if rel.startswith("settings") or rel in EXEMPT_MODULES:
            continue
        out.append(path)
    return out


def _is_role_ref(node: ast.AST) -> bool:
    """`x.role`, `Role.X` (or `Role` itself)."""
    if isinstance(node, ast.Attribute):
        if node.attr == "role":
            return True
        return isinstance(node.value, ast.Name) and node.value.id == "Role"
    return isinstance(node, ast.Name) and node.id == "Role"


def _mentions_role(node: ast.AST) -> bool:
    return any(_is_role_ref(n) for n in ast.walk(node))


def _findings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and _mentions_role(node):
            found.append((node.lineno, "compares a role"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "has_role":
                found.append((node.lineno, "calls has_role()"))
        elif isinstance(node, ast.Attribute) and node.attr == "is_superuser":
            found.append((node.lineno, "reads is_superuser"))
    return found


def test_no_module_but_the_policy_tests_roles():
    wrong = []
    used = set()
    for path in _modules():
        rel = path.relative_to(ROOT).as_posix()
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, what in _findings(path):
            key = (rel, lines[lineno - 1].strip())
            if key in ALLOWED:
                used.add(key)
                continue
            wrong.append(f"opora/{rel}:{lineno}: {what}: {key[1]}")
    assert not wrong, (
        "Ask the access policy (opora.accounts.policy: can / require / own_only / "
        "role_required(Action.X)) instead of testing roles here, or add the line to ALLOWED in "
        "opora/accounts/tests/test_no_role_tests.py with the reason:\n" + "\n".join(sorted(wrong))
    )
    stale = sorted(set(ALLOWED) - used)
    assert not stale, f"ALLOWED names lines that no longer test roles: {stale}"


def test_the_scan_sees_role_tests():
    """The scan itself: it catches each form (and not a query that picks people by role)."""
    import tempfile

    source = (
        "if user.role == 'head': pass\n"
        "if user.role in (Role.HEAD,): pass\n"
        "if Role.ADMIN == x: pass\n"
        "user.has_role(Role.HEAD)\n"
        "user.is_superuser\n"
        "User.objects.filter(role=Role.HEAD)\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(source)
    found = _findings(Path(f.name))
    Path(f.name).unlink()
    assert [line for line, _ in found] == [1, 2, 3, 4, 5]


def test_no_template_tests_roles():
    """Templates ask `{% if user|may:"action" %}` (the `access_policy` tags), never a role."""
    import re

    role_test = re.compile(r"\.role\s*(==|!=|in\b)|is_superuser|has_role")
    wrong = [
        f"{path.relative_to(ROOT).as_posix()}:{n}: {line.strip()[:120]}"
        for path in sorted(ROOT.rglob("templates/**/*.html"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if role_test.search(line)
    ]
    assert not wrong, 'Use {% if user|may:"<action>" %} instead:\n' + "\n".join(wrong)
