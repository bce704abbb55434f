"""The one registry of checks: the CLI, the pytest plugin, reports, docs and the fault catalog
all read this list, so no list of checks is ever written twice.

A check is a small function ``def body(ctx: CheckContext) -> None`` registered with ``@check``.
It passes by returning, and ends otherwise by raising ``CheckFailed``, ``NotApplicable`` or
``ControlFailed`` (see ``conformance.verdict``).

Entries come in kinds (``KINDS``): ``check``, the rules of the contract one by one (the modules of
``CHECK_MODULES``), and ``scenario``, the stories of ``scenarios/stories/``, each a body that plays
its steps through the same ``CheckContext`` and runs through the same runner, with the same
verdicts, controls and evidence. The scenarios package sits above this one (it imports the checks'
helpers), so it registers its stories itself: ``scenarios.runner.register_all()``, which the front
ends call before they list or run scenarios. Listings name the kind they want (``all_checks(kind=
"scenario")``); the default is the checks alone, as a run of the contract wants.
"""

from __future__ import annotations

import functools
import importlib
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance.errors import UsageError

if TYPE_CHECKING:
    from conformance.context import CheckContext


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# Contract area -> (id prefix, contract section). Order is the order of reports.
AREAS: dict[str, tuple[str, str]] = {
    "tokens": ("TOK", "1"),
    "revocation": ("REV", "2"),
    "roles": ("ROLE", "3"),
    "sessions": ("SES", "4"),
    "tenancy": ("TEN", "5"),
    "rate_limits": ("RL", "6"),
    "credentials": ("CRED", "7"),
    "cookies": ("COOK", "8"),
    "mfa": ("MFA", "9"),
    "properties": ("PROP", "7"),
}
_AREA_BY_PREFIX = {prefix: area for area, (prefix, _section) in AREAS.items()}

# Needs that are target abilities rather than profile capabilities, and the signing key.
ABILITIES = frozenset({"clock", "workers", "restart", "store_control", "provision"})
MINTING = "minting"

# The controls the framework runs around a check body (see conformance.context):
CONTROLS: dict[str, str] = {
    "valid-token": "before: a valid access token of the check's own user is accepted",
    "no-token": "before: the same request without a token is refused",
    "liveness": "after: the credentials the check relied on still work (a probe refused after its "
                "credential died is no evidence)",
    "minted-twin": "before: a token minted with the profile's key and the real token's claims is accepted",
    "valid-login": "before: the check's own account logs in with its right password",
}
# How to fix each check, kept as data beside the checks (one entry per check id).
REMEDIATION_FILE = Path(__file__).with_name("data") / "remediation.toml"

# What the registry holds: the contract's checks, and the stories that combine several rules.
CHECK, SCENARIO = "check", "scenario"
KINDS = (CHECK, SCENARIO)
# A scenario is filed under the area of the first contract section it names.
_AREA_BY_SECTION = {section: area for area, (_prefix, section) in reversed(AREAS.items())}

# One module per area, plus the model-based stateful check (area "properties").
CHECK_MODULES = (*(f"conformance.checks.{area}" for area in AREAS), "conformance.checks.stateful")


@dataclass(frozen=True)
class Check:
    id: str
    area: str
    title: str  # what the check sends
    rule: str  # the contract sentence it enforces
    level: Level
    severity: Severity
    references: tuple[str, ...]
    needs: frozenset[str]  # capabilities (profile or target) without which it is not applicable
    body: Callable[[CheckContext], None]
    # The controls the framework runs and requires (names of CONTROLS), or why there are none.
    controls: frozenset[str] = frozenset()
    no_controls: str = ""
    # The check counts the target's rate-limit answers itself: they reach it unchanged, instead
    # of being waited out and sent again.
    counts_limits: bool = False
    # Waiting out a rate limit in the middle would move the check's own timing (expiry, idle and
    # absolute timeouts): a rate-limited answer ends it in error at once.
    clock_sensitive: bool = False
    # The rule ends the check's own credential (logout, expiry, eviction): the liveness control
    # runs on a witness the runner logs in after the body and uses twice.
    ends_credential: bool = False
    kind: str = CHECK
    # A scenario's own account of itself (threat, contract sections, steps, faults), for listings.
    about: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # The check needs the target quiet (timing comparisons): the scheduler runs it alone.
    exclusive: bool = False
    # The check waits on the target's clock over HTTP (expiry, timeouts, windows): the scheduler
    # starts it early, so its waits overlap the other checks. Clock-sensitive checks always do.
    waits_on_clock: bool = False

    @property
    def waits(self) -> bool:
        return self.waits_on_clock or self.clock_sensitive

    @property
    def section(self) -> str:
        return AREAS[self.area][1]

    @property
    def remediation(self) -> str:
        """How to fix a failure of this check ("" when the data file has no entry for it); a
        scenario points at the checks whose rules it plays out."""
        if self.kind == SCENARIO:
            return "Fix what the checks of this story report: " + ", ".join(self.references) + "."
        return remediation_table().get(self.id, "")

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "area": self.area,
            "section": self.section,
            "title": self.title,
            "rule": self.rule,
            "level": str(self.level),
            "severity": str(self.severity),
            "references": list(self.references),
            "needs": sorted(self.needs),
            "controls": sorted(self.controls),
            **({"no_controls": self.no_controls} if self.no_controls else {}),
            "remediation": self.remediation,
            **({"scenario": dict(self.about)} if self.kind == SCENARIO else {}),
        }


_checks: dict[str, Check] = {}


def check(
    check_id: str,
    *,
    title: str,
    rule: str,
    severity: Severity,
    references: Iterable[str] = (),
    needs: Iterable[str] = (),
    level: Level = Level.MUST,
    controls: Iterable[str] = (),
    no_controls: str = "",
    counts_limits: bool = False,
    clock_sensitive: bool = False,
    ends_credential: bool = False,
    exclusive: bool = False,
    waits_on_clock: bool = False,
) -> Callable[[Callable[[CheckContext], None]], Callable[[CheckContext], None]]:
    """Register a check body under a stable id such as ``TOK-ALG-NONE``."""
    prefix = check_id.split("-", 1)[0]
    if prefix not in _AREA_BY_PREFIX:
        raise ValueError(f"check id {check_id!r} does not start with a known area prefix")

    def register_body(body: Callable[[CheckContext], None]) -> Callable[[CheckContext], None]:
        register(entry(check_id, area=_AREA_BY_PREFIX[prefix], title=title, rule=rule, severity=severity,
                       references=references, needs=needs, level=level, controls=controls,
                       no_controls=no_controls, counts_limits=counts_limits, clock_sensitive=clock_sensitive,
                       ends_credential=ends_credential, exclusive=exclusive, waits_on_clock=waits_on_clock,
                       body=body))
        return body

    return register_body


def entry(check_id: str, *, area: str, body: Callable[[CheckContext], None], kind: str = CHECK,
          about: Mapping[str, Any] | None = None, **fields: Any) -> Check:
    """A registry entry of any kind (not yet registered: see ``register``). ``fields`` are those of
    ``Check`` that ``@check`` takes (title, rule, severity, needs, controls...); needs and
    controls are validated as ``@check`` validates them."""
    if kind not in KINDS:
        raise ValueError(f"{check_id}: unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    if area not in AREAS:
        raise ValueError(f"{check_id}: unknown area {area!r}")
    needs = frozenset(fields.pop("needs", ()))
    unknown = sorted(needs - known_needs())
    if unknown:
        raise ValueError(f"check {check_id}: unknown need(s) {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(known_needs()))}")
    controls = frozenset(fields.pop("controls", ()))
    if controls - CONTROLS.keys():
        raise ValueError(f"check {check_id}: unknown control(s) {', '.join(sorted(controls - CONTROLS.keys()))}")
    if bool(controls) == bool(fields.get("no_controls")):
        raise ValueError(f"check {check_id}: declare its controls, or say in no_controls why it has none")
    return Check(id=check_id, area=area, body=body, needs=needs, controls=controls,
                 references=tuple(fields.pop("references", ())), level=fields.pop("level", Level.MUST),
                 kind=kind, about=dict(about or {}), **fields)


def register(new: Check) -> Check:
    """Add an entry to the registry; an id is registered once (the same body again is a no-op)."""
    known = _checks.get(new.id)
    if known is not None and known.body is not new.body:
        raise ValueError(f"check id {new.id} registered twice")
    _checks[new.id] = new
    return new


def area_of_section(section: str) -> str:
    """The contract area a section number belongs to (``"2"`` is ``revocation``)."""
    if section not in _AREA_BY_SECTION:
        raise ValueError(f"no contract section {section!r}; sections: {', '.join(sorted(_AREA_BY_SECTION))}")
    return _AREA_BY_SECTION[section]


def known_needs() -> frozenset[str]:
    from conformance.profile import CAPABILITIES, OPERATION_CAPABILITY, OPERATION_NEED

    return (frozenset(CAPABILITIES) | ABILITIES | {MINTING}
            | {OPERATION_NEED + name for name in OPERATION_CAPABILITY})


@functools.cache
def remediation_table() -> dict[str, str]:
    """Check id -> remediation text, from ``REMEDIATION_FILE``."""
    with REMEDIATION_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    return {check_id: str(entry.get("fix", "")) for check_id, entry in data.items()}


def load_all() -> None:
    for module in CHECK_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def all_checks(kind: str | None = CHECK) -> list[Check]:
    """The registered entries of ``kind`` (None: of every kind), in report order."""
    load_all()
    order = list(AREAS)
    return sorted((c for c in _checks.values() if kind is None or c.kind == kind),
                  key=lambda c: (KINDS.index(c.kind), order.index(c.area), c.id))


def get(check_id: str) -> Check:
    """The entry with this id, of any kind."""
    load_all()
    try:
        return _checks[check_id]
    except KeyError:
        raise SelectionError(f"no check with id {check_id!r} (see `authconform checks`)") from None


SELECTION_RULES = ("Selection: --area and --check narrow like pytest's -m and -k: a check runs when it is in "
                   "one of the given areas (any area when none is given) and has one of the given ids (any "
                   "id when none is given). Several --area add areas, several --check add ids.")


def select(areas: Iterable[str] = (), ids: Iterable[str] = (), kind: str | None = CHECK) -> list[Check]:
    """The checks in any of ``areas`` that have any of ``ids`` (see ``SELECTION_RULES``): each
    filter narrows, repeating one widens it; no filter selects every check. Unknown names are a
    ``SelectionError``; a selection that leaves nothing is one too, naming the check's own area."""
    areas, ids = set(areas), set(ids)
    unknown_areas = areas - AREAS.keys()
    if unknown_areas:
        raise SelectionError(f"unknown area(s) {', '.join(sorted(unknown_areas))}; areas: {', '.join(AREAS)}")
    for check_id in ids:
        get(check_id)
    chosen = [c for c in all_checks(kind) if (not areas or c.area in areas) and (not ids or c.id in ids)]
    if not chosen:
        outside = ", ".join(f"{c} is in {get(c).area}" for c in sorted(ids))
        raise SelectionError(f"no check is in area(s) {', '.join(sorted(areas))} with id(s) "
                             f"{', '.join(sorted(ids))} ({outside}); filters narrow, so drop one of them")
    return chosen


class SelectionError(UsageError, KeyError):
    """An --area or --check names nothing (a usage error: exit 2)."""
