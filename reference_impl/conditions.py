"""Conditions: ways a correct service can be awkward to judge, kept apart from the fault catalog.

A fault is a vulnerability the checks must catch. A condition is not a vulnerability: it is the
kind of target that tempts a check into a verdict it has no evidence for (a limiter tighter than
the profile says, tokens that die after one use, a 503 now and then, slow answers). Under a
condition the clean reference must never fail a check, and with a fault on top the check that
must catch the fault may end in fail, error or partial, never pass: the no-false-pass matrix of
``authconform selftest --conditions``. Switched on like faults (``AUTHCONF_CONDITIONS``, refused
without ``AUTHCONF_ALLOW_FAULTS``); the code paths live where the behaviour does, behind
``config.has_condition(name)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# flaky-5xx: every FLAKY_EVERY-th request answers 503 before the app sees it.
FLAKY_EVERY = 7
# slow-answers: every answer waits this long (real seconds, bounded and small: the matrix runs
# each condition against every fault).
SLOW_SECONDS = 0.01


@dataclass(frozen=True)
class Condition:
    name: str
    what: str
    config: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # Profile fields (dotted) the suite must not learn from the configuration: the profile keeps
    # declaring the default, as a profile that does not know the target's real number would.
    hides: tuple[str, ...] = ()
    # Checks whose own rule the condition breaks (single-use tokens are the deviation
    # TOK-ACCESS-REUSABLE reports): their failure on the clean reference is the right verdict.
    breaks: tuple[str, ...] = ()


def _c(name: str, what: str, hides: tuple[str, ...] = (), breaks: tuple[str, ...] = (),
       **config: object) -> Condition:
    return Condition(name, what, MappingProxyType(dict(config)), hides, breaks)


CONDITIONS: tuple[Condition, ...] = (
    _c("tiny-api-limit", "the per-user API limit is 2 per window while the profile still declares 60",
       hides=("rate_limits.api_limit",), api_rate_limit=2),
    _c("single-use-access-tokens", "an access token is accepted once; every later use is refused",
       breaks=("TOK-ACCESS-REUSABLE",)),
    _c("flaky-5xx", f"one request in {FLAKY_EVERY} answers 503 before the app sees it"),
    _c("slow-answers", f"every answer is delayed by {SLOW_SECONDS * 1000:g} ms"),
)
BY_NAME: Mapping[str, Condition] = MappingProxyType({c.name: c for c in CONDITIONS})


def parse_condition_list(text: str) -> frozenset[str]:
    """Parse ``AUTHCONF_CONDITIONS``-style text (comma separated); unknown names are an error."""
    names = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(names - BY_NAME.keys())
    if unknown:
        raise ValueError(f"unknown condition(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return names
