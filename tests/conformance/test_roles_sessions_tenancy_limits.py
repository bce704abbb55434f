"""The role, session, tenancy and rate-limit checks pass on the clean reference and fail with every
fault of the catalog that names them."""

from __future__ import annotations

import pytest
from reference_runs import run_on_reference

from conformance import profile, registry
from conformance.checks._support import missing_id
from conformance.checks.sessions import _counter_like
from conformance.selftest import killing_verdict
from conformance.verdict import Verdict
from reference_impl.faults import CATALOG

PREFIXES = ("ROLE-", "SES-", "TEN-", "RL-")
CHECK_IDS = sorted(c.id for c in registry.all_checks() if c.id.startswith(PREFIXES))
FAULT_CASES = [(fault.name, check_id) for fault in CATALOG for check_id in fault.caught_by
               if check_id.startswith(PREFIXES)]


run = run_on_reference


def test_every_assigned_check_is_registered() -> None:
    expected = {
        "ROLE-MATRIX", "ROLE-CLAIM-TAMPER", "ROLE-NO-SELF-CHANGE", "ROLE-NO-GRANT-ABOVE", "ROLE-ONE-LEVEL",
        "ROLE-MANAGE-USERS-ONLY", "ROLE-NO-CROSS-TENANT", "ROLE-UNKNOWN-REJECTED", "ROLE-DEMOTION-IMMEDIATE",
        "ROLE-SIGNUP-NO-SUPERADMIN", "TEN-SIGNUP-NEW-TENANT",
        "SES-ID-FRESH", "SES-FIXATION", "SES-EVICT-OLDEST", "SES-IDLE-TIMEOUT", "SES-ABSOLUTE-TIMEOUT",
        "SES-LIST", "SES-DELETE",
        "TEN-OBJECT-ACCESS", "TEN-CROSS-TENANT-404", "TEN-SUPERADMIN-CONFINED", "TEN-HEADER-SPOOF",
        "TEN-PARAM-SPOOF", "TEN-LIST-FILTER",
        "RL-API-EXACT", "RL-HEADERS", "RL-WINDOW-RESET", "RL-LOGIN-ACCOUNT", "RL-LOGIN-IP", "RL-CONCURRENCY",
        "RL-XFF-SPOOF", "RL-ACROSS-WORKERS",
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


def test_limiter_race_is_caught_on_every_run() -> None:
    # A race is a matter of luck; the burst must make it show every time, not most times.
    for _ in range(3):
        result = run("RL-CONCURRENCY", frozenset({"limiter-race"}))
        assert result.verdict is Verdict.FAIL, result.reason


def test_role_matrix_is_recorded_for_the_report() -> None:
    matrix = run("ROLE-MATRIX").details["role_matrix"]
    assert matrix["users_list"] == {"anonymous": 401, "viewer": 403, "editor": 403, "admin": 200,
                                    "superadmin": 200}
    assert matrix["audit"]["admin"] == 403


def test_session_limit_is_read_from_the_profile() -> None:
    result = run("SES-EVICT-OLDEST", max_sessions=2)
    assert result.verdict is Verdict.PASS, result.reason
    assert result.details["logins"] == 3


def test_forwarded_for_check_is_not_applicable_behind_declared_proxies() -> None:
    assert run("RL-XFF-SPOOF", trusted_proxies=1).verdict is Verdict.NOT_APPLICABLE


def test_counter_like_session_ids_are_recognised() -> None:
    assert _counter_like("session-41", "session-42")
    assert _counter_like("1000", "1001")
    assert not _counter_like("aZ3kP0qv_9xT", "Qm81LrT_x0aZ")
    assert not _counter_like("same-7", "same-7")


def test_missing_id_keeps_the_form_of_a_real_one() -> None:
    assert missing_id("41").isdigit() and missing_id("41") != "41"
    hex_id = "0f" * 16
    assert len(missing_id(hex_id)) == 32 and missing_id(hex_id) != hex_id
    assert "-" in missing_id("123e4567-e89b-12d3-a456-426614174000")


@pytest.mark.parametrize(("check_id", "capability"), [("ROLE-SIGNUP-NO-SUPERADMIN", "roles"),
                                                      ("TEN-SIGNUP-NEW-TENANT", "tenants")])
def test_sign_up_checks_are_not_applicable_without_their_capability(check_id: str, capability: str) -> None:
    base = profile.load()
    base = base.with_overrides({"capabilities": [c for c in base.capabilities if c != capability]})
    result = run_on_reference(check_id, base=base)
    assert result.verdict is Verdict.NOT_APPLICABLE and capability in result.reason
