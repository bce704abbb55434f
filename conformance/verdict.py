"""Verdicts a check can end with, and the exceptions a check body raises to reach them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"  # a MUST rule is broken
    NON_STRICT = "non-strict"  # a SHOULD rule is broken: fails the run only under --strict
    PARTIAL = "partial"  # judged less than it was asked (Result.coverage says what); never counted as a pass
    NOT_APPLICABLE = "not-applicable"  # the target does not declare what the check needs
    ERROR = "error"  # the target or the harness broke; never counted as a pass

    @property
    def is_failure(self) -> bool:
        return self in (Verdict.FAIL, Verdict.ERROR)

    @property
    def judged(self) -> bool:
        """The target was judged on the rule (fully or in part)."""
        return self in (Verdict.PASS, Verdict.FAIL, Verdict.NON_STRICT, Verdict.PARTIAL)


@dataclass
class Result:
    check_id: str
    verdict: Verdict
    reason: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)
    duration: float = 0.0
    # Structured detail a report may render (e.g. a role x route matrix).
    details: dict[str, Any] = field(default_factory=dict)
    # What was judged against what was asked, e.g. {"judged": 2, "asked": 4, "unit": "roles",
    # "missing": ["admin", "superadmin"]}; None when the check judged all it was asked.
    coverage: dict[str, Any] | None = None
    # The controls run around the body: {"name", "phase": "before" | "after", "held": bool, "detail"}.
    controls: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "verdict": str(self.verdict),
            "reason": self.reason,
            "evidence": self.evidence,
            "duration": round(self.duration, 4),
            "details": self.details,
            "coverage": self.coverage,
            "controls": self.controls,
        }


class CheckOutcome(Exception):
    """Base of the exceptions that end a check body with a verdict other than pass."""

    verdict: Verdict = Verdict.ERROR

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CheckFailed(CheckOutcome):
    verdict = Verdict.FAIL


class NotApplicable(CheckOutcome):
    verdict = Verdict.NOT_APPLICABLE


class ControlFailed(CheckOutcome):
    """A negative control did not hold (e.g. a valid token was refused): the check cannot judge."""

    verdict = Verdict.ERROR


class CannotJudge(CheckOutcome):
    """The target answered, but not in a way that bears on the rule (rate-limited, crashed, a
    credential that died): the check ends in error with the reason."""

    verdict = Verdict.ERROR


class TargetUnreachable(Exception):
    """The target did not answer at all (connection refused, timed out)."""


class TargetMisbehaved(Exception):
    """The target answered, but not in a form the suite can work with."""
