"""Baselines: the failures a team has accepted for now, so the CI gate stays on without going red.

A baseline is a TOML (or JSON) file of entries, each naming a check id, optionally a glob over the
report's target, the reason it is accepted, and the date it stops being accepted::

    [[expected]]
    check = "TOK-ALG-NONE"
    target = "https://staging.*"    # optional; without it, any target
    reason = "legacy verifier; replaced in AUTH-123"
    expires = 2025-03-31

The gate passes when every failing check is covered by an entry that has not expired. Entries
whose check now passes, and expired entries, are stale: they are printed and written into the
reports so the baseline shrinks over time.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic
from pydantic import ConfigDict, TypeAdapter, ValidationError, field_validator

DEFAULT_EXPIRY_DAYS = 90
REASON_PLACEHOLDER = "TODO: say why this failure is accepted and when it will be fixed"


class BaselineError(ValueError):
    """The baseline file is missing or malformed; the message names the file, the entry and the fix."""


@pydantic.dataclasses.dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Entry:
    """One accepted failure (an ``[[expected]]`` table)."""

    check: str = pydantic.Field(min_length=1)
    reason: str = ""
    expires: dt.date | None = None
    target: str = ""  # a glob over the report's target (or base URL); empty: any target

    @field_validator("expires", mode="before")
    @classmethod
    def _day(cls, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"expires {value!r} is not a date; write it as YYYY-MM-DD") from None
        if not isinstance(value, dt.date):
            raise ValueError(f"expires {value!r} is not a date; write it as YYYY-MM-DD")
        return value

    @field_validator("reason", "target", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else value

    def covers_target(self, run: dict[str, Any]) -> bool:
        if not self.target:
            return True
        names = [str(run.get("target") or ""), str(run.get("base_url") or "")]
        return any(name and fnmatch.fnmatchcase(name, self.target) for name in names)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "target": self.target, "reason": self.reason,
                "expires": self.expires.isoformat() if self.expires else None}


FIELDS = ("check", "target", "reason", "expires")
_ENTRIES = TypeAdapter(list[Entry])


def _problem(path: Path, exc: ValidationError) -> BaselineError:
    """The first problem in the words of a baseline: the file, the entry (1-based), the fix."""
    error = exc.errors()[0]
    loc = error["loc"]
    where = f"{path}: entry {int(loc[0]) + 1}" if loc and isinstance(loc[0], int) else str(path)
    name = str(loc[1]) if len(loc) > 1 else ""
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        close = difflib.get_close_matches(name, FIELDS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "fields are " + ", ".join(FIELDS)
        return BaselineError(f"{where}: unknown field {name!r}; {hint}")
    if name == "check" or error["type"] in ("dataclass_type", "dict_type", "model_type"):
        return BaselineError(f"{where}: every entry needs check = \"CHECK-ID\"")
    if error["type"] == "value_error":
        return BaselineError(f"{where}: {error['ctx']['error']}")
    return BaselineError(f"{where}: {name}: {error['msg']}")


def load(path: str | Path) -> list[Entry]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline ({exc.strerror}); "
                            "create one with `authconform baseline write REPORT.json -o FILE`") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise BaselineError(f"{path}: not valid {kind} ({exc})") from None
    raw = data.get("expected", []) if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise BaselineError(f"{path}: expected a list of [[expected]] entries")
    try:
        return _ENTRIES.validate_python(raw)
    except ValidationError as exc:
        raise _problem(path, exc) from None


def _is_failing(verdict: str, strict: bool) -> bool:
    return verdict in ("fail", "error") or (strict and verdict == "non-strict")


@dataclass
class Gate:
    """What a baseline made of one report."""

    path: str
    expected: dict[str, Entry] = field(default_factory=dict)  # failing check id -> entry covering it
    unexpected: list[str] = field(default_factory=list)  # failing checks no live entry covers
    now_passing: list[Entry] = field(default_factory=list)  # entries whose check passed in this run
    expired: list[Entry] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.unexpected

    @property
    def stale(self) -> list[tuple[Entry, str]]:
        found = [(e, "expected failure that now passes") for e in self.now_passing]
        found += [(e, f"expired on {e.expires.isoformat() if e.expires else '?'}") for e in self.expired]
        return found

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.path,
            "passed": self.passed,
            "expected_failures": [{"check": c, **e.to_dict()} for c, e in self.expected.items()],
            "unexpected_failures": list(self.unexpected),
            "stale": [{**e.to_dict(), "why": why} for e, why in self.stale],
        }

    def lines(self) -> list[str]:
        """What the CLI prints about the gate."""
        out = []
        for check_id, entry in self.expected.items():
            out.append(f"baselined  {check_id}: {entry.reason}")
            if entry.reason in ("", REASON_PLACEHOLDER):
                out.append(f"           (give it a real reason in {self.path})")
        for entry, why in self.stale:
            out.append(f"STALE      {entry.check}: {why} (remove it from {self.path})")
        if self.unexpected:
            out.append("not in the baseline: " + ", ".join(self.unexpected))
        return out


def evaluate(report: dict[str, Any], entries: list[Entry], *, path: str = "", strict: bool = False,
             today: dt.date | None = None) -> Gate:
    today = today or dt.date.today()
    run = report["run"]
    applicable = [e for e in entries if e.covers_target(run)]
    gate = Gate(path=path)
    gate.expired = [e for e in applicable if e.expired(today)]
    live = {e.check: e for e in applicable if not e.expired(today)}
    verdicts = {c["id"]: c["verdict"] for c in report["checks"]}
    for check_id, verdict in verdicts.items():
        if not _is_failing(verdict, strict):
            continue
        if check_id in live:
            gate.expected[check_id] = live[check_id]
        else:
            gate.unexpected.append(check_id)
    gate.now_passing = [e for e in live.values() if verdicts.get(e.check) == "pass"]
    return gate


def annotate(report: dict[str, Any], gate: Gate) -> dict[str, Any]:
    """Record the gate in the report: a ``gate`` section, and ``baseline`` on each excused check."""
    report["gate"] = gate.to_dict()
    for entry in report["checks"]:
        covering = gate.expected.get(entry["id"])
        entry["baseline"] = covering.to_dict() if covering else None
    return report


def _toml_string(value: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes (non-ASCII kept as is).
    return json.dumps(value, ensure_ascii=False)


def _comment(text: str) -> str:
    first = text.splitlines()[0] if text.strip() else ""
    return "".join(ch if ch.isprintable() else "?" for ch in first[:200])


def from_report(report: dict[str, Any], *, today: dt.date | None = None, days: int = DEFAULT_EXPIRY_DAYS,
                strict: bool = False) -> str:
    """A baseline (TOML text) accepting every failure of ``report`` for ``days`` days."""
    today = today or dt.date.today()
    expires = today + dt.timedelta(days=days)
    run = report["run"]
    lines = [
        "# authconform baseline: failures accepted for now (see docs/ci.md).",
        f"# Written {today.isoformat()} from a report of {run['target']} ({run['started']}).",
        "# Give every entry a real reason; an entry stops counting on its expiry date.",
        '# Add target = "glob" to an entry to accept it only for matching targets.',
    ]
    for entry in report["checks"]:
        if not _is_failing(entry["verdict"], strict) and entry["verdict"] != "non-strict":
            continue
        lines += [
            "",
            "[[expected]]",
            f"check = {_toml_string(entry['id'])}",
            f"reason = {_toml_string(REASON_PLACEHOLDER)}",
            f"# it failed with: {_comment(entry['reason'])}",
            f"expires = {expires.isoformat()}",
        ]
    return "\n".join(lines) + "\n"
