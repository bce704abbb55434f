"""Two reports compared check by check: what regressed, what got fixed, what is new or gone.

A regression is a check failing in the new report that was not failing in the old one (a new
check that fails counts too); a fix is the reverse. ``authconform diff`` exits 1 when there is a
regression, so a pull request can be gated on "no new failures" against main's report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def failing(verdict: str | None, strict: bool = False) -> bool:
    """Whether ``verdict`` fails a run: fail and error always; under ``strict`` also a broken SHOULD
    rule (non-strict) and a check that judged less than asked (partial)."""
    return verdict in ("fail", "error") or (strict and verdict in ("non-strict", "partial"))


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
    other_changes: list[Change] = field(default_factory=list)  # e.g. pass -> not-applicable

    def to_dict(self) -> dict[str, Any]:
        return {name: [c.to_dict() for c in getattr(self, name)]
                for name in ("regressions", "fixes", "new_checks", "removed_checks", "other_changes")}

    def render(self) -> str:
        lines = []
        for title, name in (("regressions", "regressions"), ("fixes", "fixes"), ("new checks", "new_checks"),
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
        if failing(entry["verdict"], strict) and not failing(old_verdict, strict):
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
