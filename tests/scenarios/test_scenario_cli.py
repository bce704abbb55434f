"""`authconform scenario`: listing, transcripts, and the exit codes of the command table."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from conformance import exitcodes
from conformance.cli import main


def test_scenario_list_names_every_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == exitcodes.OK
    out = capsys.readouterr().out
    assert "stolen-refresh-replay" in out and "scenarios" in out


def test_scenario_run_prints_the_transcript_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "run", "shared-computer-logout"]) == exitcodes.OK
    out = capsys.readouterr().out
    assert 'logout("library-pc")' in out and "POST /auth/logout" in out and "PASS" in out


def test_scenario_run_with_a_fault_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["scenario", "run", "shared-computer-logout", "--fault", "logout-client-side-only"])
    assert code == exitcodes.CONFORMANCE_FAILURE
    assert "FAIL at step" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    ["scenario", "run", "no-such-scenario"],
    ["scenario", "run", "session-fixation", "--fault", "no-such-fault"],
    ["scenario", "run", "session-fixation", "--fault", "session-fixation", "--target", "http://127.0.0.1:9"],
    ["scenario"],
])
def test_scenario_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == exitcodes.USAGE_OR_PROFILE
    assert "Traceback" not in capsys.readouterr().err


def test_scenario_run_against_an_unreachable_target_exits_3(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    profile = tmp_path / "quick.toml"
    profile.write_text("extends = \"reference\"\n[target]\nready_timeout = 0.5\nconnect_timeout = 0.5\n")
    code = main(["scenario", "run", "session-fixation", "--target", f"http://127.0.0.1:{port}",
                 "--profile", str(profile)])
    assert code == exitcodes.TARGET_UNREACHABLE


def test_scenario_run_writes_the_reports_of_a_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    code = main(["scenario", "run", "shared-computer-logout", "--fault", "logout-client-side-only",
                 "--report-dir", str(tmp_path)])
    assert code == exitcodes.CONFORMANCE_FAILURE
    report = json.loads((tmp_path / "report.json").read_text())
    (entry,) = report["checks"]
    assert entry["id"] == "scenario:shared-computer-logout" and entry["kind"] == "scenario"
    assert entry["verdict"] == "fail" and entry["details"]["scenario_steps"]
    page = (tmp_path / "report.html").read_text()
    assert "ended at step" in page and "<code>logout(&#34;library-pc&#34;)</code>" in page
    assert "Story (" in (tmp_path / "summary.md").read_text() and (tmp_path / "junit.xml").is_file()


def test_checks_lists_scenarios_by_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--kind", "scenario"]) == exitcodes.OK
    out = capsys.readouterr().out
    assert "scenario:stolen-refresh-replay" in out and "TOK-ALG-NONE" not in out
    assert main(["checks"]) == exitcodes.OK
    assert "scenario:" not in capsys.readouterr().out
