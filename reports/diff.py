"""Two reports compared check by check: what regressed, what got fixed, what is new or gone.

A A regression is a check failing in the new report that was not failing in the old one (a new
check that fails counts too); a fix is the reverse. Lost coverage is listed apart: a check that
passed and now cannot judge (not applicable, error, partial), say because a signing key left the
profile. ``authconform diff`` exits 1 on a regression or a pass turned error, and with --strict on
any lost coverage too, so a pull request can be gated on "nothing that was proven is unproven now".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Verdicts that judged nothing in full: a pass turning into one of these is coverage lost.
UNJUDGED = ("not-applicable", "error", "partial")


def failing(verdict: str | None, strict: bool = False) -> bool:
    """Whether ``verdict`` fails a run: fail and error always; under ``strict`` also a broken SHOULD
    rule (non-strict) and a check that judged less than asked (partial)."""
    return verdict in ("fail", "error") or (strict and verdict in ("non-strict", "partial"))


def lost_coverage(old: str | None, new: str | None) -> bool:
    """A check that passed and no longer judges the rule in full."""
    return old == "pass" and new in UNJUDGED


@dataclass
class Change:
    check: str
    old: str | None  # None: the check is not in that report
    new: str | None
    reason: str = ""  # the new report's reason (the old one's for a fix)

    def line(self) -> str:
        old, new = self.old or "absent", self.new or "absent"
        text = f"{self.check}: {old} -> {new}"
        return text + (f" ({self.reason})" if self.reason else "")

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "old": self.old, "new": self.new, "reason": self.reason}


@dataclass
class Diff:
    regressions: list[Change] = field(default_factory=list)
    fixes: list[Change] = field(default_factory=list)
    new_checks: list[Change] = field(default_factory=list)
    removed_checks: list[Change] = field(default_factory=list)
    coverage_lost: list[Change] = field(default_factory=list)  # pass -> not-applicable / error / partial
    other_changes: list[Change] = field(default_factory=list)  # e.g. not-applicable -> pass

    def failed(self, *, strict: bool = False) -> bool:
        """Whether the gate fails: a regression, a pass turned error, or (strict) any coverage lost."""
        return bool(self.regressions) or any(c.new == "error" or strict for c in self.coverage_lost)

    def to_dict(self) -> dict[str, Any]:
        return {name: [c.to_dict() for c in getattr(self, name)]
                for name in ("regressions", "coverage_lost", "fixes", "new_checks", "removed_checks",
                             "other_changes")}

    def render(self) -> str:
        lines = []
        for title, name in (("regressions", "regressions"),
                            ("coverage regressions (passed, now cannot judge)", "coverage_lost"),
                            ("fixes", "fixes"), ("new checks", "new_checks"),
                            ("removed checks", "removed_checks"), ("other verdict changes", "other_changes")):
            changes = getattr(self, name)
            lines.append(f"{title}: {len(changes)}")
            lines += [f"  {c.line()}" for c in changes]
        return "\n".join(lines)


def compare(old: dict[str, Any], new: dict[str, Any], *, strict: bool = False) -> Diff:
    before = {c["id"]: c for c in old["checks"]}
    after = {c["id"]: c for c in new["checks"]}
    diff = Diff()
    for check_id, entry in after.items():
        previous = before.get(check_id)
        old_verdict = previous["verdict"] if previous else None
        change = Change(check_id, old_verdict, entry["verdict"], entry.get("reason", ""))
        if previous is None:
            diff.new_checks.append(change)
        if lost_coverage(old_verdict, entry["verdict"]):
            diff.coverage_lost.append(change)
        elif failing(entry["verdict"], strict) and not failing(old_verdict, strict):
            diff.regressions.append(change)
        elif failing(old_verdict, strict) and not failing(entry["verdict"], strict):
            assert previous is not None
            diff.fixes.append(Change(check_id, old_verdict, entry["verdict"], previous.get("reason", "")))
        elif previous is not None and old_verdict != entry["verdict"]:
            diff.other_changes.append(change)
    for check_id, entry in before.items():
        if check_id not in after:
            diff.removed_checks.append(Change(check_id, entry["verdict"], None))
    return diff


def differing(reports: list[dict[str, Any]]) -> set[str]:
    """The check ids whose verdict is not the same in every report (absent counts as a verdict)."""
    verdicts: dict[str, set[str | None]] = {}
    for report in reports:
        present = {c["id"]: c["verdict"] for c in report["checks"]}
        for check_id in present.keys() | verdicts.keys():
            verdicts.setdefault(check_id, set())
        for check_id, seen in verdicts.items():
            seen.add(present.get(check_id))
    return {check_id for check_id, seen in verdicts.items() if len(seen) > 1}


def only_differences(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reports with only the checks that differ between them (for ``compare --only-differences``)."""
    keep = differing(reports)
    return [{**report, "checks": [c for c in report["checks"] if c["id"] in keep]} for report in reports]
