"""The baseline gate end to end against the reference with accept-alg-none on: a failure in the
baseline passes the gate, a failure outside it does not, and stale entries are reported."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from conformance import exitcodes
from conformance.cli import main
from reports import baseline

CHECK, FAULT = "TOK-ALG-NONE", "accept-alg-none"


def write_baseline(path: Path, *, expires: str = "2999-12-31", target: str = "") -> Path:
    lines = ["[[expected]]", f'check = "{CHECK}"', 'reason = "legacy verifier, ticket 7"', f"expires = {expires}"]
    if target:
        lines.append(f'target = "{target}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def gated_run(tmp_path: Path, base: Path, *, fault: bool = True) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "out"
    argv = ["run", "--check", CHECK, "--report-dir", str(out), "--baseline", str(base)]
    code = main(argv + (["--fault", FAULT] if fault else []))
    return code, json.loads((out / "report.json").read_text())


def test_baseline_write_then_gate_passes_on_the_accepted_failure(
        faulty_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "baseline.toml"
    assert main(["baseline", "write", str(faulty_dir / "report.json"), "-o", str(base)]) == exitcodes.OK
    entries = baseline.load(base)
    assert [e.check for e in entries] == [CHECK]
    assert entries[0].reason == baseline.REASON_PLACEHOLDER
    assert entries[0].expires == dt.date.today() + dt.timedelta(days=90)
    assert main(["baseline", "write", str(faulty_dir / "report.json"), "-o", str(base)]) == \
        exitcodes.USAGE_OR_PROFILE  # never over a file people edited, unless --force

    code, report = gated_run(tmp_path, base)
    assert code == exitcodes.OK
    assert report["gate"]["passed"] and report["gate"]["expected_failures"][0]["check"] == CHECK
    assert report["checks"][0]["verdict"] == "fail" and report["checks"][0]["baseline"]["check"] == CHECK
    assert "baselined  TOK-ALG-NONE" in capsys.readouterr().out
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Baseline gate passes" in summary and "(baselined)" in summary


def test_expected_failure_that_now_passes_is_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = gated_run(tmp_path, write_baseline(tmp_path / "b.toml"), fault=False)
    assert code == exitcodes.OK
    assert [s["why"] for s in report["gate"]["stale"]] == ["expected failure that now passes"]
    assert "STALE      TOK-ALG-NONE: expected failure that now passes" in capsys.readouterr().out
    assert "stale" in (tmp_path / "out" / "report.html").read_text().lower()
    assert "stale: `TOK-ALG-NONE`" in (tmp_path / "out" / "summary.md").read_text()


def test_expired_entry_no_longer_excuses_the_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = gated_run(tmp_path, write_baseline(tmp_path / "b.toml", expires="2000-01-01"))
    assert code == exitcodes.CONFORMANCE_FAILURE
    assert report["gate"]["unexpected_failures"] == [CHECK]
    assert report["gate"]["stale"][0]["why"] == "expired on 2000-01-01"
    assert "expired on 2000-01-01" in capsys.readouterr().out


def test_entry_for_another_target_does_not_excuse_the_failure(tmp_path: Path) -> None:
    code, report = gated_run(tmp_path, write_baseline(tmp_path / "b.toml", target="https://staging.*"))
    assert code == exitcodes.CONFORMANCE_FAILURE and not report["gate"]["passed"]


def test_a_malformed_baseline_is_a_usage_error_before_anything_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "b.toml"
    bad.write_text('[[expected]]\ncheck = "TOK-ALG-NONE"\nexpires = "soon"\n')
    out = tmp_path / "out"
    assert main(["run", "--check", CHECK, "--baseline", str(bad), "--report-dir", str(out)]) == \
        exitcodes.USAGE_OR_PROFILE
    assert "YYYY-MM-DD" in capsys.readouterr().err and not out.exists()


def test_json_baselines_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"expected": [{"check": CHECK, "reason": "r", "expires": "2030-01-02"}]}))
    assert baseline.load(path) == [baseline.Entry(CHECK, "r", dt.date(2030, 1, 2))]
