"""The revocation, credential and cookie checks pass on the clean reference and fail with every
fault of the catalog that names them."""

from __future__ import annotations

from typing import Any

import pytest
from reference_runs import run_on_reference

from conformance import registry
from conformance.checks.credentials import cliffs_delta, timing_separated
from conformance.selftest import killing_verdict
from conformance.verdict import Result, Verdict
from reference_impl.faults import CATALOG

PREFIXES = ("REV-", "CRED-", "COOK-")
CHECK_IDS = sorted(c.id for c in registry.all_checks() if c.id.startswith(PREFIXES))
FAULT_CASES = [(fault.name, check_id) for fault in CATALOG for check_id in fault.caught_by
               if check_id.startswith(PREFIXES)]


def run(check_id: str, faults: frozenset[str] = frozenset(), **config: Any) -> Result:
    if check_id.startswith("COOK-"):
        config.setdefault("cookie_mode", True)
    return run_on_reference(check_id, faults, **config)


def test_every_assigned_check_is_registered() -> None:
    expected = {
        "REV-LOGOUT-ACCESS", "REV-LOGOUT-REFRESH", "REV-LOGOUT-SESSION", "REV-LOGOUT-ALL",
        "REV-PASSWORD-CHANGE", "REV-DELETED-USER", "REV-REFRESH-ROTATES", "REV-REFRESH-REUSE-REJECTED",
        "REV-REFRESH-REUSE-FAMILY", "REV-SHARED-STORE", "REV-STORE-DOWN-FAILS-CLOSED",
        "CRED-ENUM-STATUS", "CRED-ENUM-BODY", "CRED-ENUM-TIMING", "CRED-PASSWORD-LENGTH",
        "CRED-NO-SECRET-LEAK", "CRED-NO-MINT-ROUTE", "CRED-ERROR-FORMAT", "CRED-PASSWORD-CHANGE-CURRENT",
        "CRED-USERNAME-UNIQUE",
        "COOK-FLAGS", "COOK-REFRESH-PATH", "COOK-CSRF", "COOK-LOGOUT-CLEARS",
    }
    assert expected <= set(CHECK_IDS)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_passes_on_the_clean_reference(check_id: str) -> None:
    result = run(check_id)
    assert result.verdict is Verdict.PASS, result.reason


@pytest.mark.parametrize(("fault", "check_id"), FAULT_CASES)
def test_check_fails_with_the_fault_that_names_it(fault: str, check_id: str) -> None:
    result = run(check_id, frozenset({fault}))
    # A broken MUST fails; a broken SHOULD is non-strict (the verdict the kill matrix counts).
    assert str(result.verdict) == killing_verdict(check_id), f"{fault}: {result.verdict} {result.reason}"


@pytest.mark.parametrize("check_id", ["COOK-FLAGS", "COOK-CSRF"])
def test_cookie_checks_are_not_applicable_in_json_delivery(check_id: str) -> None:
    assert run(check_id, cookie_mode=False).verdict is Verdict.NOT_APPLICABLE


def test_timing_check_reports_its_statistics() -> None:
    result = run("CRED-ENUM-TIMING")
    timing = result.details["timing"]
    assert {"median_ms", "cliffs_delta", "median_ratio", "samples_per_side"} <= timing.keys()


def test_cliffs_delta_spans_minus_one_to_one() -> None:
    assert cliffs_delta([5, 6, 7], [1, 2, 3]) == 1.0
    assert cliffs_delta([1, 2, 3], [5, 6, 7]) == -1.0
    assert cliffs_delta([1, 2, 3], [1, 2, 3]) == 0.0


def test_timing_separation_needs_effect_ratio_and_gap_together() -> None:
    fast = [0.001 + i * 1e-5 for i in range(16)]
    slow = [0.140 + i * 1e-4 for i in range(16)]
    assert timing_separated(fast, slow)[0]
    # Fully separated but tiny in absolute terms: noise of the machine, not a side channel.
    assert not timing_separated(fast, [0.002 + i * 1e-5 for i in range(16)])[0]
    # Overlapping samples are never a failure, however the medians sit.
    assert not timing_separated(fast + slow, slow + fast)[0]
