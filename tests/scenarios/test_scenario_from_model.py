"""A failing stateful-model run saved as a scenario file replays as is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance import registry
from conformance.checks.stateful import Mismatch, build_machine
from conformance.context import CheckContext
from conformance.deployments import in_process_source, reference_config
from conformance.profile import load
from conformance.verdict import Verdict
from scenarios.catalog import load_file
from scenarios.from_model import STATEFUL_CHECK, record_on_reference, save, steps_from_records
from scenarios.runner import run_on_reference

PROFILE = load(None)

# What the stateful check records for: admin signs up, creates a viewer, who logs in, refreshes,
# an attacker replays the rotated refresh token, and the viewer's session is used again.
RECORDS: list[dict[str, Any]] = [
    {"op": "sign_up", "user": "admin-1a2b3c4d"},
    {"op": "create_user", "user": "u1-0a0b0c", "role": "viewer", "expect": "yes"},
    {"op": "login", "user": "u1-0a0b0c", "session": "s2", "expect": "yes"},
    {"op": "refresh", "session": "s2", "expect": "yes"},
    {"op": "reuse_old_refresh", "session": "s2", "generation": 0, "expect": "no"},
    {"op": "use", "session": "s2", "expect": "no", "role": "viewer"},
]


def test_records_become_readable_steps() -> None:
    text = [step.source() for step in steps_from_records(RECORDS)]
    assert text[:3] == ['tenant("t1", admin="admin")', 'login("admin", as_="admin-console")',
                        'user("u1", role="viewer", by="admin-console", expect="accepted")']
    assert 'replay_refresh("s2", generation=0, as_="s2-thief", expect="refused")' in text


def test_saved_records_replay_failing_on_the_fault_and_passing_when_clean(tmp_path: Path) -> None:
    path = save(RECORDS, tmp_path / "found_reuse.py", faults=["reuse-no-family-revoke"],
                lines=["admin signs up", "..."], reason="request with session s2: refused expected")
    scenario = load_file(path)
    assert scenario.caught_by_faults == ("reuse-no-family-revoke",)
    assert run_on_reference(scenario, PROFILE).verdict is Verdict.PASS
    failing = run_on_reference(scenario, PROFILE, ["reuse-no-family-revoke"])
    assert failing.verdict is Verdict.FAIL, failing.transcript()


def _drive_stateful_model(fault: str) -> tuple[list[str], list[dict[str, Any]], str]:
    """Drive the stateful check's own machine through one sequence (no search, so it is quick):
    sign up, create a viewer, log in, refresh, replay the rotated refresh token; the replay rule then
    uses the session it just ended, which is where the fault shows."""
    check = registry.get(STATEFUL_CHECK)
    deployment = in_process_source(PROFILE, reference_config(frozenset({fault})))(check)
    transcript: list[list[str]] = []
    records: list[list[dict[str, Any]]] = []
    try:
        ctx = CheckContext(check, deployment.target, deployment.profile, deployment.redactor)
        machine: Any = build_machine(ctx, transcript, records)()
        machine.sign_up()
        session = machine.login(machine.create_user("viewer"))
        machine.refresh(session)
        with pytest.raises(Mismatch) as mismatch:
            machine.reuse_old_refresh(session)
    finally:
        deployment.target.close()
    return transcript[-1], records[-1], str(mismatch.value)


def test_a_failing_stateful_model_sequence_is_saved_and_replays(tmp_path: Path) -> None:
    fault = "reuse-no-family-revoke"
    lines, records, reason = _drive_stateful_model(fault)
    assert len(lines) == len(records) == 6
    path = save(records, tmp_path / "found_by_model.py", lines=lines, reason=reason, faults=[fault])
    text = path.read_text()
    assert "uses session" in text and 'replay_refresh("s' in text
    scenario = load_file(path)
    replay = run_on_reference(scenario, PROFILE, [fault])
    assert replay.verdict is Verdict.FAIL, replay.transcript()
    assert replay.failed_step is not None and scenario.steps[replay.failed_step - 1].op == "use"
    clean = run_on_reference(scenario, PROFILE)
    assert clean.verdict is Verdict.PASS, clean.transcript()


def test_recording_a_passing_stateful_run_saves_nothing(tmp_path: Path) -> None:
    recording = record_on_reference(PROFILE, [], tmp_path / "nothing.py")
    assert recording.verdict is Verdict.PASS and recording.path is None
    assert not (tmp_path / "nothing.py").exists()
