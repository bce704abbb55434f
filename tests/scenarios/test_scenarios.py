"""Every bundled scenario passes on the clean reference and fails against the faults it declares."""

from __future__ import annotations

import pytest

from conformance import registry
from conformance.profile import CAPABILITIES, load
from conformance.runner import ABILITIES
from conformance.verdict import Verdict
from reference_impl.faults import BY_NAME, CATALOG
from scenarios.catalog import Scenario, all_scenarios
from scenarios.runner import reference_deployment, run_on_reference, run_scenario

SCENARIOS = all_scenarios()
PROFILE = load(None)
FAULT_CASES = [(s, fault) for s in SCENARIOS for fault in s.caught_by_faults]


def _name(value: object) -> str:
    return value.name if isinstance(value, Scenario) else str(value)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_name)
def test_scenario_passes_on_the_clean_reference(scenario: Scenario) -> None:
    result = run_on_reference(scenario, PROFILE)
    assert result.verdict is Verdict.PASS, "\n" + result.transcript()


@pytest.mark.parametrize(("scenario", "fault"), FAULT_CASES, ids=_name)
def test_scenario_fails_against_each_fault_it_declares(scenario: Scenario, fault: str) -> None:
    result = run_on_reference(scenario, PROFILE, [fault])
    assert result.verdict is Verdict.FAIL, "\n" + result.transcript()
    assert result.failed_step is not None and result.steps[result.failed_step - 1].verdict == "FAIL"


def test_there_are_at_least_fifteen_scenarios_with_unique_titles() -> None:
    assert len(SCENARIOS) >= 15
    assert len({s.title for s in SCENARIOS}) == len(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_name)
def test_scenario_declares_what_a_reviewer_needs(scenario: Scenario) -> None:
    assert scenario.title and len(scenario.threat) > 40
    assert set(scenario.contract) <= {str(n) for n in range(1, 10)}, scenario.contract
    known_checks = {c.id for c in registry.all_checks()} | {c for f in CATALOG for c in f.caught_by}
    assert scenario.checks and set(scenario.checks) <= known_checks, set(scenario.checks) - known_checks
    assert scenario.needs <= set(CAPABILITIES) | ABILITIES | {"minting"}, scenario.needs
    assert scenario.caught_by_faults, "declare the fault(s) the scenario must fail against"
    assert set(scenario.caught_by_faults) <= set(BY_NAME), set(scenario.caught_by_faults) - set(BY_NAME)


def test_a_scenario_that_assumes_another_algorithm_is_not_applicable_with_the_reason() -> None:
    scenario = next(s for s in SCENARIOS if s.name == "key-confusion-jwks")
    hs256 = Scenario(**{**scenario.__dict__, "reference_config": {}})
    result = run_on_reference(hs256, PROFILE)
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert "tokens.algorithm" in result.reason and "HS256" in result.reason


def test_transcript_has_one_line_per_step_and_no_secrets() -> None:
    scenario = next(s for s in SCENARIOS if s.name == "stolen-refresh-replay")
    deployment = reference_deployment(scenario, PROFILE, ["reuse-no-family-revoke"])
    try:
        result = run_scenario(scenario, deployment)
        transcript = result.transcript()
        # Every secret the run learnt is registered: redacting again must change nothing.
        assert deployment.redactor.text(transcript) == transcript
    finally:
        deployment.target.close()
    assert "eyJ" not in transcript and "Pw-" not in transcript
    for step in scenario.steps:
        shown = f"~ {step.args[0]}" if step.op == "note" else step.source()
        assert sum(shown in line for line in transcript.splitlines()) == 1, shown
    assert "POST /auth/refresh" in transcript and "FAIL at step" in transcript


def test_the_scenario_docs_name_every_step() -> None:
    from pathlib import Path

    from scenarios.steps import VOCABULARY

    text = (Path(__file__).parents[2] / "docs" / "scenarios.md").read_text()
    missing = [name for name in VOCABULARY if f"`{name}`" not in text]
    assert not missing, f"docs/scenarios.md does not describe the steps {missing}"


def test_every_story_is_a_registry_entry_of_kind_scenario_and_checks_stay_apart() -> None:
    from scenarios.runner import register_all, scenario_check

    entries = register_all()
    assert {e.id for e in entries} == {f"scenario:{s.name}" for s in SCENARIOS}
    assert all(e.kind == registry.SCENARIO and e.controls or e.no_controls for e in entries)
    assert not [c for c in registry.all_checks() if c.kind != registry.CHECK]  # a contract run: checks only
    assert len(registry.all_checks(kind=None)) == len(registry.all_checks()) + len(entries)
    for scenario in SCENARIOS:
        assert scenario_check(scenario) is registry.get(f"scenario:{scenario.name}")
    described = registry.get("scenario:stolen-refresh-replay").describe()
    assert described["kind"] == "scenario" and described["area"] == "revocation"
    assert described["controls"] == ["valid-login"] and described["scenario"]["caught_by_faults"]


def test_a_scenario_runs_through_the_one_runner_with_its_controls_and_evidence() -> None:
    from conformance.runner import run_check

    scenario = next(s for s in SCENARIOS if s.name == "stolen-refresh-replay")
    entry = registry.get("scenario:stolen-refresh-replay")
    deployment = reference_deployment(scenario, PROFILE, ["reuse-no-family-revoke"])
    try:
        result = run_check(entry, deployment)
    finally:
        deployment.target.close()
    assert result.verdict is Verdict.FAIL and result.check_id == entry.id
    assert [c["name"] for c in result.controls if c["held"]][:1] == ["valid-login"]
    assert any(e["request"]["url"] == "/auth/refresh" for e in result.evidence)
    steps = result.details["scenario_steps"]
    assert len(steps) == len(scenario.steps) and steps[result.details["scenario_failed_step"] - 1]["verdict"] == "FAIL"


def test_a_story_without_a_set_up_login_says_why_it_has_no_controls(tmp_path: object) -> None:
    from pathlib import Path

    from scenarios.catalog import ScenarioFileError, load_file

    story = Path(str(tmp_path)) / "guesses.py"
    story.write_text('from scenarios.steps import login_attempts, tenant\n'
                     'title = "t"\nthreat = "x"\ncontract = {"6": "login is limited"}\n'
                     'checks = ("RL-LOGIN-ACCOUNT",)\nneeds = ("rate_limit_login",)\n'
                     'steps = [tenant("acme", admin="alice"), login_attempts("alice", count=3)]\n')
    with pytest.raises(ScenarioFileError, match="no_controls"):
        load_file(story)
    story.write_text(story.read_text() + 'no_controls = "the sign-up is its set-up"\n')
    assert load_file(story).no_controls == "the sign-up is its set-up"
