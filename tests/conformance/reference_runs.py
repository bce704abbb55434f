"""One check run against a fresh in-process reference (a fault catalog subset, config overrides),
with the reference's frozen clock stopped afterwards: what the per-area check tests share."""

from __future__ import annotations

from typing import Any

from conformance import profile, registry
from conformance.deployments import in_process_source, reference_config
from conformance.profile import Profile
from conformance.runner import run_check
from conformance.verdict import Result


def run_on_reference(check_id: str, faults: frozenset[str] = frozenset(), *, base: Profile | None = None,
                     conditions: frozenset[str] = frozenset(), **config: Any) -> Result:
    check = registry.get(check_id)
    source = in_process_source(base or profile.load(), reference_config(faults, conditions, **config))
    try:
        return run_check(check, source(check))
    finally:
        source.close()  # type: ignore[attr-defined]
