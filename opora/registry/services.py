"""CONTRACT (to be implemented): writes of the registry domain."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opora.registry.models import EligibilityCheck, ImportRun


@dataclass(frozen=True)
class EligibilityResult:
    eligible: bool
    reason: str  # EligibilityCheck.Reason value
    message: str  # the scripted answer the operator reads to the caller, translated
    check: EligibilityCheck
    child_iin: str = ""


def eligibility_check(*, actor: Any, service: Any, iin: str, full_name: str) -> EligibilityResult:
    """Regulation 001 §3: look the IIN up as a ЦБД recipient, a ЦБД child or a ЦБДИ person; eligible
    when an active recipient (or a child in ЦБДИ) is found and the caller's full name matches.
    Stores an EligibilityCheck. Raises registry.iin.IINError for a malformed IIN."""
    raise NotImplementedError


def registry_import(*, source: str, path: Path, actor: Any = None) -> ImportRun:
    """Import a ЦБД/ЦБДИ CSV (UTF-8, header, comma or semicolon): idempotent upsert, bad rows reported
    with line number and reason, good rows kept; a failure leaves the previous data intact."""
    raise NotImplementedError
