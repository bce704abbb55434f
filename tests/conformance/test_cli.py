"""The command line: listings, exit codes for bad usage, bad profiles and unreachable targets."""

from __future__ import annotations

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
    err = capsys.readouterr().err
    assert "unreachable" in err and url in err and "Traceback" not in err


def test_unknown_fault_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--fault", "no-such-fault"]) == exitcodes.USAGE_OR_PROFILE
    assert "no-such-fault" in capsys.readouterr().err
