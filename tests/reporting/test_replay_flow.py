"""authconform replay re-runs one check of a report against the recorded target, faults and seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import exitcodes
from conformance.cli import main


def test_replay_reproduces_the_recorded_failure_with_the_recorded_fault(
        faulty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", str(faulty_dir / "report.json"), "--check", "TOK-ALG-NONE"])
    assert code == exitcodes.CONFORMANCE_FAILURE
    out = capsys.readouterr().out
    assert "replay:   fail" in out and "reproduced" in out and "accept-alg-none" in out


def test_replay_of_a_passing_check_passes(clean_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(clean_dir / "report.json"), "--check", "TOK-ALG-NONE"]) == exitcodes.OK
    assert "reproduced" in capsys.readouterr().out


def test_replay_carries_the_recorded_seed_into_its_report(faulty_dir: Path, tmp_path: Path) -> None:
    report = json.loads((faulty_dir / "report.json").read_text())
    report["run"]["hypothesis_seed"] = 1234
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    out = tmp_path / "replay"
    assert main(["replay", str(path), "--check", "TOK-ALG-NONE", "--report-dir", str(out)]) == 1
    replayed = json.loads((out / "report.json").read_text())
    assert replayed["run"]["hypothesis_seed"] == 1234 and replayed["run"]["replay_of"] == str(path)
    assert replayed["run"]["faults"] == ["accept-alg-none"]


def test_replay_of_a_check_not_in_the_report_is_a_usage_error(
        faulty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(faulty_dir / "report.json"), "--check", "TOK-SIG-BROKEN"]) == \
        exitcodes.USAGE_OR_PROFILE
    assert "TOK-SIG-BROKEN" in capsys.readouterr().err
