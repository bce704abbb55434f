"""The same circuit breaker under the pytest plugin (``pytest --authconform-target URL``): a target
that is not there ends the session with exit code 3 at once; one whose API stops answering ends
in a bounded time, every later check failing with the reason instead of waiting."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance import exitcodes

from .servers import MisbehavingServer, not_listening
from .test_hostile_targets import MARGIN, SETTINGS, bound_for, hang_here, health_only

pytestmark = pytest.mark.hostile


def _pytest_suite(url: str, directory: Path, timeout: float) -> tuple[int, str, float]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
               "--authconform-target", url]
    for item in SETTINGS:
        command += ["--authconform-set", item]
    started = time.monotonic()
    finished = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=timeout)
    return finished.returncode, finished.stdout + finished.stderr, time.monotonic() - started


def test_no_target_ends_the_pytest_session_with_exit_3(tmp_path: Path) -> None:
    with not_listening() as url:
        code, output, _seconds = _pytest_suite(url, tmp_path, timeout=120)
    assert code == exitcodes.TARGET_UNREACHABLE, output[-2000:]
    assert "target unreachable" in output and "connection refused" in output


def test_an_api_that_stops_answering_ends_the_pytest_session_in_bounded_time(tmp_path: Path) -> None:
    bound = bound_for(SETTINGS)
    with MisbehavingServer(health_only(hang_here)) as server:
        code, output, seconds = _pytest_suite(server.url(), tmp_path, timeout=MARGIN * bound + 60)
    print(f"\npytest plugin, API hangs: {seconds:.1f} s (bound {bound:.0f} s)")
    assert code == 1, output[-2000:]
    assert seconds < MARGIN * bound + 10  # + pytest's own start
    assert "not run: target unreachable" in output
    assert " passed" not in output.splitlines()[-1], output.splitlines()[-1]
