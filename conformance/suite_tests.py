"""The conformance suite as pytest tests: one per registered check (collected by the plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance import registry
from conformance.plugin import report_verdict
from conformance.profile import ProfileError
from conformance.runner import run_guarded
from conformance.suite_support import suite_source
from conformance.verdict import TargetUnreachable


@pytest.fixture(scope="session")
def authconform_source(pytestconfig: pytest.Config) -> Iterator[Any]:
    try:
        source = suite_source(pytestconfig)
    except ProfileError as exc:
        pytest.exit(f"profile error: {exc}", returncode=2)
    except TargetUnreachable as exc:
        pytest.exit(f"target unreachable: {exc}", returncode=3)
    breaker = getattr(source, "breaker", None)
    if breaker is not None and breaker.trip is not None:  # the pre-flight found no target to test
        pytest.exit(breaker.trip.headline(), returncode=3)
    yield source
    close = getattr(source, "close", None)
    if close is not None:  # the in-process reference's last frozen clock must not outlive the session
        close()


@pytest.mark.parametrize(
    "check_id",
    [pytest.param(c.id, id=c.id, marks=getattr(pytest.mark, c.area)) for c in registry.all_checks()],
)
def test_check(check_id: str, authconform_source: Any, request: pytest.FixtureRequest) -> None:
    check = registry.get(check_id)
    strict = bool(request.config.getoption("authconform_strict"))
    breaker = getattr(authconform_source, "breaker", None)  # an HTTP target: see conformance/breaker.py
    result = run_guarded(check, authconform_source(check), breaker, strict=strict)
    report_verdict(request.node, result, strict)
