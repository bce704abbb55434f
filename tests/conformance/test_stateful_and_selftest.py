"""The model-based stateful check on the clean reference and on the faults that name it, and the
``authconform selftest`` command end to end on a few faults."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from reference_runs import run_on_reference

from conformance.checks.stateful import without_shrinking
from conformance.verdict import Result, Verdict
from reference_impl.faults import CATALOG

STATEFUL = "PROP-STATEFUL-MODEL"
STATEFUL_FAULTS = [fault.name for fault in CATALOG if STATEFUL in fault.caught_by]
AUTHCONFORM = str(Path(sys.executable).with_name("authconform"))


def run_stateful(faults: frozenset[str] = frozenset()) -> Result:
    return run_on_reference(STATEFUL, faults)


def test_the_stateful_model_passes_on_the_clean_reference() -> None:
    result = run_stateful()
    assert result.verdict is Verdict.PASS, result.reason
    assert result.details["stateful_examples"] >= 10
    assert "hypothesis_seed" in result.details


def test_at_least_three_stateful_faults_name_the_model() -> None:
    assert len(STATEFUL_FAULTS) >= 3


def test_the_same_seed_finds_the_same_sequence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTHCONF_HYPOTHESIS_SEED", "4")
    with without_shrinking():  # shrinking has a time budget; generation has none
        first, second = run_stateful(frozenset({"evict-newest"})), run_stateful(frozenset({"evict-newest"}))
    assert first.verdict is second.verdict is Verdict.FAIL
    assert [r["op"] for r in first.details["stateful_records"]] == [r["op"] for r in second.details["stateful_records"]]


@pytest.mark.parametrize("fault", STATEFUL_FAULTS)
def test_the_stateful_model_catches_every_fault_that_names_it(fault: str) -> None:
    with without_shrinking():  # only the kill matters here; shrinking is tested below
        result = run_stateful(frozenset({fault}))
    assert result.verdict is Verdict.FAIL, f"{fault}: {result.verdict} {result.reason}"


@pytest.mark.parametrize("fault", ["reuse-no-family-revoke", "sessions-not-bound"])
def test_a_caught_fault_shrinks_to_a_short_readable_sequence(fault: str) -> None:
    result = run_stateful(frozenset({fault}))
    assert result.verdict is Verdict.FAIL, f"{fault}: {result.verdict} {result.reason}"
    steps = result.details["stateful_steps"]
    assert 2 <= len(steps) <= 20, steps  # shrunk, not the raw random run
    assert f"shortest sequence found: {len(steps)} step(s), seed " in result.reason
    assert all(isinstance(step, str) and step and "Traceback" not in step for step in steps)
    # The records behind the steps are what a saved scenario replays.
    assert result.details["stateful_records"][0]["op"] == "sign_up"


def test_selftest_prints_the_kill_matrix_and_writes_it_as_json(tmp_path: Path) -> None:
    faults = ["accept-alg-none", "evict-newest", "limiter-off-by-one"]
    done = subprocess.run([AUTHCONFORM, "selftest", "--workers", "1", "--report-dir", str(tmp_path),
                           *[arg for name in faults for arg in ("--fault", name)]],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"kill rate 100% \(3/3\), 0 clean failures", done.stdout), done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    matrix = json.loads((tmp_path / "selftest.json").read_text())
    assert matrix["faults"] == matrix["killed"] == len(faults) and matrix["clean_failures"] == []
    assert {row["fault"] for row in matrix["matrix"]} == set(faults)
    assert all(row["killed"] for row in matrix["matrix"])
