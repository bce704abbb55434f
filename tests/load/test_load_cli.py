"""`authconform load`: bad input is refused before anything starts, naming the option or field and
the fix; load never goes anywhere but loopback or the profile's own declared target."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from conformance import exitcodes
from conformance.cli import main
from conformance.load.settings import LoadUsageError, check_target, parse_duration, profile_from_options, resolve
from conformance.profile import ProfileError, load


def _refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["load", *argv]) == exitcodes.USAGE_OR_PROFILE
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_an_unknown_profile_name_lists_the_load_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, "stampede")
    assert "stampede" in err and "rate_limit_probe" in err and "login_storm" in err


@pytest.mark.parametrize(("argv", "named"), [
    (["--run-time", "9999"], "--run-time"),
    (["--run-time", "soon"], "--run-time"),
    (["--users", "0"], "--users"),
    (["--users", "many"], "--users"),
    (["--spawn-rate", "0"], "--spawn-rate"),
    (["--workers", "-1"], "--workers"),
    (["--reference-workers", "0"], "--reference-workers"),
    (["--fault", "no-such-fault"], "no-such-fault"),
    (["--target", "http://127.0.0.1:9", "--fault", "limiter-per-process"], "--fault"),
    (["--master-bind", "0.0.0.0"], "--remote-workers"),
    (["--remote-workers", "2"], "--remote-workers"),
    (["--master-port", "70000"], "--master-port"),
])
def test_bad_options_are_named(capsys: pytest.CaptureFixture[str], argv: list[str], named: str) -> None:
    assert named in _refused(capsys, "rate_limit_probe", *argv)


def test_load_to_a_foreign_host_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    err = _refused(capsys, "rate_limit_probe", "--target", "http://198.51.100.7:8000")
    assert "refusing to send load to http://198.51.100.7:8000" in err and "base_url" in err


def test_only_loopback_or_the_profile_files_own_target_takes_load() -> None:
    for url in ("http://127.0.0.1:8000", "http://[::1]:8000", "http://localhost:8000", "http://127.1.2.3"):
        check_target(url, "")
    check_target("https://auth.example.test", "https://auth.example.test/")
    for url in ("http://auth.example.test", "http://10.0.0.5:8000", "ftp://127.0.0.1"):
        with pytest.raises(LoadUsageError):
            check_target(url, "https://other.example.test")


def test_a_bad_load_section_names_the_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.toml"
    for text, field in (("[load]\nmax_error_ratio = 2.0\n", "load.max_error_ratio"),
                        ("[load]\nroute = \"document_get\"\n", "load.route"),
                        ("[load]\nusers = \"lots\"\n", "load.users"),
                        ("[load]\nmax_p95 = 10\n", "load.max_p95")):
        path.write_text('extends = "reference"\n' + text)
        err = _refused(capsys, "rate_limit_probe", "--profile", str(path))
        assert field in err and "Fix:" in err


def test_a_profile_without_the_capability_cannot_run_the_load_profile() -> None:
    profile = load(None, overrides={"capabilities": ["signup", "refresh"]})
    with pytest.raises(ProfileError, match="rate_limit_api"):
        resolve(profile, "rate_limit_probe", users=None, spawn_rate=None, run_time=None, workers=None)


def test_unreachable_target_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = main(["load", "rate_limit_probe", "--target", f"http://127.0.0.1:{port}",
                 "--set", "target.ready_timeout=0.3", "--report-dir", str(tmp_path)])
    assert code == exitcodes.TARGET_UNREACHABLE
    assert "Traceback" not in capsys.readouterr().err


def test_durations() -> None:
    assert [parse_duration(t) for t in ("45", "45s", "2m", "1m30s", "1h")] == [45, 45, 120, 90, 3600]
    with pytest.raises(LoadUsageError, match="--run-time"):
        parse_duration("")


def test_settings_come_from_the_profile_and_options_override_them() -> None:
    profile = load(None, overrides={"load.users": 7, "load.run_time": 12})
    chosen = resolve(profile, "mixed", users=None, spawn_rate=None, run_time="30s", workers=2)
    assert (chosen.users, chosen.run_time, chosen.workers, chosen.processes) == (7, 30, 2, 2)
    assert chosen.locustfile.is_file()


def test_the_locustfiles_read_the_same_profile(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("extends = \"reference\"\n[rate_limits]\napi_limit = 7\n[load]\nusers_per_account = 2\n")
    profile = profile_from_options(str(path), json.dumps({"rate_limits.api_window": 5}))
    assert (profile.rate_limits.api_limit, profile.rate_limits.api_window, profile.load.users_per_account) == (7, 5, 2)
    with pytest.raises(ProfileError, match="--authconform-overrides"):
        profile_from_options("", "[1, 2]")


def test_the_suite_never_imports_locust_into_its_own_process() -> None:
    """locust patches the standard library (gevent) when imported; only its own processes may import it."""
    import subprocess
    import sys

    code = ("import sys, conformance.cli, conformance.load.runner, reports.load; "
            "conformance.cli.build_parser(); print('locust' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "False"
