"""A run prints what a person needs: one line for the faults switched on (not one per app the
suite builds), no warning the suite caused itself, and a selftest without tracebacks that says
how each fault went as it goes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

AUTHCONFORM = str(Path(sys.executable).with_name("authconform"))


def _authconform(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AUTHCONFORM, *argv], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_switched_on_faults_are_one_line_per_run(tmp_path: Path) -> None:
    done = _authconform("run", "--fault", "accept-alg-none", "--check", "TOK-ALG-NONE", "--check",
                        "TOK-SIG-NULL", "--report-dir", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert output.count("faults switched on") == 1, output  # before: one WARNING per app built
    assert "WARNING" not in output


def test_a_store_the_suite_switched_off_prints_no_warning(tmp_path: Path) -> None:
    done = _authconform("run", "--check", "REV-STORE-DOWN-FAILS-CLOSED", "--report-dir", str(tmp_path / "out"),
                        cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "store unavailable" not in done.stdout + done.stderr


def test_selftest_has_no_tracebacks_and_a_line_per_fault(tmp_path: Path) -> None:
    # crash-on-malformed-body makes the reference log a 500 with its traceback on purpose.
    done = _authconform("selftest", "--workers", "1", "--fault", "crash-on-malformed-body", "--fault",
                        "accept-alg-none", "--report-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    progress = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert any("crash-on-malformed-body: killed" in line for line in progress), done.stdout
    assert any("accept-alg-none: killed" in line for line in progress), done.stdout
