"""The command line: listings, exit codes for bad usage, bad profiles and unreachable targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance import exitcodes
from conformance.cli import main
from conformance.served import free_port


def test_checks_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks"]) == exitcodes.OK
    out = capsys.readouterr().out
    assert "TOK-ALG-NONE" in out and "checks" in out


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--no-such-option"]) == exitcodes.USAGE_OR_PROFILE
    assert "Traceback" not in capsys.readouterr().err


def test_unknown_check_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--check", "TOK-NOPE"]) == exitcodes.USAGE_OR_PROFILE
    assert "TOK-NOPE" in capsys.readouterr().err


def test_bad_profile_exits_2_naming_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.toml"
    path.write_text('extends = "reference"\n[tokens]\nleeway = 999\n')
    assert main(["run", "--profile", str(path)]) == exitcodes.USAGE_OR_PROFILE
    err = capsys.readouterr().err
    assert "tokens.leeway" in err and "Fix:" in err and "Traceback" not in err


def test_unreachable_target_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code = main(["run", "--target", url, "--set", "target.ready_timeout=0.5",
                 "--report-dir", str(tmp_path)])
    assert code == exitcodes.TARGET_UNREACHABLE
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    # One banner with the reason, not one identical error line per check the run did not run.
    banners = [line for line in out.splitlines() if url in line and "unreachable" in line]
    assert len(banners) == 1 and banners[0].startswith("RUN STOPPED"), out
    not_run = [line for line in out.splitlines() if line.startswith("not run (")]
    assert len(not_run) == 1 and "TOK-ALG-NONE" in not_run[0], out
    assert "ERROR " not in out and "area tokens done" not in out
    summary = out.strip().splitlines()[-1]
    assert "run stopped" in summary and "not run" in summary, summary
    report = json.loads((tmp_path / "report.json").read_text())
    # The wall time includes the pre-flight wait (0.5 s here), not only the instant the checks took.
    assert report["run"]["duration"] >= 0.5
    markdown = (tmp_path / "summary.md").read_text()
    assert "**Run stopped: target unreachable" in markdown and "| `TOK-ALG-NONE`" not in markdown


def test_unknown_fault_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--fault", "no-such-fault"]) == exitcodes.USAGE_OR_PROFILE
    assert "no-such-fault" in capsys.readouterr().err
