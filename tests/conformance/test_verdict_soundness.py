"""A verdict is evidence: no check passes on an answer that does not bear on its rule.

Reproduces the unsound passes of the first wave (a 429 read as a refusal, single-use tokens
making forged probes "refused", a pass with roles it could not test) and proves the framework
rules that prevent them: controls declared and run, needs validated, harness errors never "not
applicable", and a representative part of the no-false-pass matrix.
"""

from __future__ import annotations

import pytest
from reference_runs import run_on_reference

from conformance import no_false_pass, profile, registry
from conformance.deployments import in_process_source, reference_config
from conformance.registry import CONTROLS, Check, Level, Severity
from conformance.runner import run_check
from conformance.verdict import Verdict
from reference_impl.conditions import CONDITIONS
from reference_impl.faults import BY_NAME


@pytest.mark.parametrize(("check_id", "fault", "limit"), [
    ("TOK-ALG-NONE", "accept-alg-none", 1),
    ("TOK-SIG-BROKEN", "skip-signature-check", 1),
    ("REV-LOGOUT-ACCESS", "logout-client-side-only", 2),
])
def test_a_429_is_never_read_as_the_refusal_the_rule_is_about(check_id: str, fault: str, limit: int) -> None:
    # The profile still declares 60 requests a window; the reference admits `limit`.
    result = run_on_reference(check_id, frozenset({fault}), api_rate_limit=limit)
    assert result.verdict is Verdict.FAIL, result.reason


@pytest.mark.parametrize("check_id", ["TOK-ALG-NONE", "TOK-SIG-BROKEN", "TOK-CLAIMS-TAMPERED"])
def test_single_use_tokens_make_forged_probes_no_evidence(check_id: str) -> None:
    fault = next(f.name for f in BY_NAME.values() if check_id in f.caught_by)
    result = run_on_reference(check_id, frozenset({fault}), conditions=frozenset({"single-use-access-tokens"}))
    assert result.verdict is not Verdict.PASS
    clean = run_on_reference(check_id, conditions=frozenset({"single-use-access-tokens"}))
    assert clean.verdict is Verdict.ERROR, clean.reason  # the set-up or the liveness control says why


def test_a_separate_check_reports_single_use_access_tokens() -> None:
    result = run_on_reference("TOK-ACCESS-REUSABLE", frozenset({"access-token-single-use"}))
    assert result.verdict is Verdict.FAIL and "single-use" in result.reason


def test_every_check_declares_its_controls_or_why_it_has_none() -> None:
    for check in registry.all_checks():
        assert bool(check.controls) != bool(check.no_controls), check.id
        assert check.controls <= CONTROLS.keys(), check.id


def test_controls_run_and_are_reported_on_the_clean_reference() -> None:
    result = run_on_reference("TOK-ALG-NONE")
    assert result.verdict is Verdict.PASS
    phases = {(c["name"], c["phase"]) for c in result.controls if c["held"]}
    assert {("valid-token", "before"), ("no-token", "before"), ("liveness", "after")} <= phases


def test_an_unknown_need_is_refused_at_registration() -> None:
    with pytest.raises(ValueError, match="unknown need"):
        registry.check("TOK-X-TYPO", title="t", rule="r", severity=Severity.LOW, needs=("refersh",),
                       no_controls="a test")(lambda ctx: None)


def test_a_check_without_controls_or_reason_is_refused_at_registration() -> None:
    with pytest.raises(ValueError, match="declare its controls"):
        registry.check("TOK-X-NOCONTROL", title="t", rule="r", severity=Severity.LOW)(lambda ctx: None)


def _fake(body: object, **fields: object) -> Check:
    return Check(id="TOK-X-FAKE", area="tokens", title="t", rule="r", level=Level.MUST, severity=Severity.LOW,
                 references=(), needs=frozenset(), body=body, **fields)  # type: ignore[arg-type]


def _run(check: Check) -> object:
    source = in_process_source(profile.load(), reference_config())
    try:
        return run_check(check, source(check))
    finally:
        source.close()  # type: ignore[attr-defined]


def test_not_implemented_inside_a_check_is_an_error_never_not_applicable() -> None:
    def body(ctx: object) -> None:
        raise NotImplementedError("half written")

    result = _run(_fake(body, no_controls="a test"))
    assert result.verdict is Verdict.ERROR and "NotImplementedError" in result.reason  # type: ignore[attr-defined]


def test_a_pass_before_its_declared_control_ran_is_an_error() -> None:
    result = _run(_fake(lambda ctx: None, controls=frozenset({"valid-token", "no-token"})))
    assert result.verdict is Verdict.ERROR and "control" in result.reason  # type: ignore[attr-defined]


def test_a_pass_that_judged_less_than_asked_is_partial() -> None:
    def body(ctx: object) -> None:
        ctx.cover(2, 4, "roles", ["admin", "superadmin"])  # type: ignore[attr-defined]

    result = _run(_fake(body, no_controls="a test"))
    assert result.verdict is Verdict.PARTIAL  # type: ignore[attr-defined]
    assert "2 of 4 roles" in result.reason  # type: ignore[attr-defined]


@pytest.mark.parametrize("condition", [c.name for c in CONDITIONS])
def test_no_false_pass_under_each_condition_representative(condition: str) -> None:
    """A representative part of `authconform selftest --conditions` (the nox session runs all)."""
    from conformance.selftest import run

    tasks = no_false_pass.plan([condition], no_false_pass.REPRESENTATIVE_FAULTS)
    named = sorted({c for name in no_false_pass.REPRESENTATIVE_FAULTS for c in BY_NAME[name].caught_by})
    tasks[0] = type(tasks[0])(tasks[0].fault, tasks[0].config, tuple(named), condition)  # clean: the same checks
    summary = no_false_pass.build(run(tasks, workers=1))
    assert not summary["false_passes"], summary["false_passes"]
    assert not summary["false_failures"], summary["false_failures"]


def _without_login_limits() -> profile.Profile:
    """The bundled profile of a service whose profile does not declare login throttling."""
    base = profile.load()
    return base.with_overrides({"capabilities": [c for c in base.capabilities if c != "rate_limit_login"]})


@pytest.mark.parametrize("check_id", ["RL-LOGIN-ACCOUNT", "RL-LOGIN-IP"])
def test_login_throttling_is_probed_when_not_declared(check_id: str) -> None:
    """Absence of a protection is a finding: a missing login limiter fails, a present one is judged
    in part (its number is not declared)."""
    base = _without_login_limits()
    missing = run_on_reference(check_id, frozenset({"login-not-limited"}), base=base)
    assert missing.verdict is Verdict.FAIL and "no login throttling observed" in missing.reason
    present = run_on_reference(check_id, base=base)
    assert present.verdict is Verdict.PARTIAL, present.reason


def test_a_waived_protection_is_not_applicable_with_its_reason() -> None:
    base = _without_login_limits().with_overrides({"waive": {"rate_limit_login": "the gateway throttles logins"}})
    result = run_on_reference("RL-LOGIN-ACCOUNT", frozenset({"login-not-limited"}), base=base)
    assert result.verdict is Verdict.NOT_APPLICABLE and "the gateway throttles logins" in result.reason
