"""Under pytest, checks have node ids a person can feed back (``authconform::TOK-ALG-NONE``), a
path of one's own runs only that, and a failure prints the steps, the fix and the command that
runs the check alone."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conformance.plugin import SUITE_MODULE, suite_node_id


def _pytest(directory: Path, *argv: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--authconform", *argv], cwd=directory, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


def _passed(output: str) -> int:
    found = re.search(r"(\d+) passed", output)
    return int(found.group(1)) if found else 0


def test_a_check_alias_runs_that_check_only(tmp_path: Path) -> None:
    code, output = _pytest(tmp_path, "authconform::TOK-ALG-NONE", "authconform::TOK-SIG-NULL")
    assert code == 0 and _passed(output) == 2, output[-2000:]


def test_the_full_node_id_works_too(tmp_path: Path) -> None:
    code, output = _pytest(tmp_path, suite_node_id("TOK-ALG-NONE"))
    assert code == 0 and _passed(output) == 1, output[-2000:]
    assert suite_node_id("X").startswith(str(SUITE_MODULE))


def test_a_path_of_ones_own_runs_only_that(tmp_path: Path) -> None:
    # Before, the plugin appended the whole suite to whatever was asked for.
    (tmp_path / "test_mine.py").write_text("def test_mine() -> None:\n    assert 1 + 1 == 2\n")
    code, output = _pytest(tmp_path, "test_mine.py")
    assert code == 0 and _passed(output) == 1, output[-2000:]


def test_a_failure_says_how_to_fix_it_and_how_to_run_it_alone(tmp_path: Path) -> None:
    code, output = _pytest(tmp_path, "--authconform-fault", "accept-alg-none", "authconform::TOK-ALG-NONE")
    assert code == 1, output[-2000:]
    assert "how to fix: " in output and "algorithms=" in output
    assert 'run it alone: pytest --authconform "authconform::TOK-ALG-NONE"' in output
    assert "the exchange(s) that decided it" in output and "> GET " in output and "< HTTP " in output


def test_a_failure_shows_the_marked_exchange_first() -> None:
    from conformance.plugin import failure_text
    from conformance.verdict import Result, Verdict

    def exchange(n: int, status: int, decisive: bool = False) -> dict[str, object]:
        record: dict[str, object] = {"n": n, "note": f"step {n}", "request": {"method": "GET", "url": "/me"},
                                     "response": {"status": status, "body": ""}}
        if decisive:
            record["decisive"] = True
        return record

    # Before, the last three exchanges were shown, and the 200 that proved the bug was not one of them.
    evidence = [exchange(1, 200), exchange(2, 200, decisive=True), *(exchange(n, 401) for n in range(3, 7))]
    text = failure_text(Result("TOK-ALG-NONE", Verdict.FAIL, "alg none accepted", evidence))
    decided, _sep, rest = text.partition("set-up before it")
    assert "#2 step 2" in decided and "< HTTP 200" in decided and "#6" not in decided
    assert "#5 step 5" in rest and "#6 step 6" in rest and "#1 " not in rest
