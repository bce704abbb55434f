"""report.html in a real browser: headless Chromium renders it, takes a screenshot, and the
rendered page holds the summary and a failure's evidence. Without chromium the test skips
locally and fails in CI (CI=true), where .ci/run installs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    message = "chromium is not installed (Debian: apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; .ci/run installs it")
    pytest.skip(message)


def browse(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    return subprocess.run([chromium(), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_html_renders_in_chromium_with_summary_and_evidence(faulty_dir: Path, tmp_path: Path) -> None:
    page = (faulty_dir / "report.html").resolve()
    url = page.as_uri()
    shot = tmp_path / "report.png"
    done = browse(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert shot.is_file(), done.stderr[-2000:]
    with shot.open("rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank page compresses to far less

    dom = browse(tmp_path, "--dump-dom", url).stdout
    assert "Summary by area" in dom and "tokens" in dom
    assert "1 check(s) failed" in dom
    assert 'id="TOK-ALG-NONE"' in dom and "evidence:" in dom
    assert "Authorization: Bearer [redacted]" in dom  # the evidence, redacted, is on the page
    assert "curl -sS -i" in dom


def _run_report(tmp_path: Path, name: str, *args: str) -> Path:
    """A report of ``authconform run ARGS`` written to its own directory (the CLI, as a person runs it)."""
    from conformance.cli import main

    directory = tmp_path / name
    main(["run", *args, "--report-dir", str(directory)])
    return (directory / "report.html").resolve()


def _visible_open(dom: str, text: str) -> bool:
    """``text`` is on the page outside every folded <details> (visible without a click)."""
    import re

    unfolded = re.sub(r"<details(?![^>]*\bopen\b).*?</details>", "", dom, flags=re.S)
    return text in unfolded


def test_a_fault_run_shows_the_deciding_exchange_and_the_fix_without_a_click(tmp_path: Path) -> None:
    page = _run_report(tmp_path, "fault", "--fault", "accept-alg-none", "--check", "TOK-ALG-NONE")
    dom = browse(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert _visible_open(dom, "how to fix") and _visible_open(dom, "algorithms")
    # the deciding exchange (alg none, accepted) comes first, before any folded set-up
    assert _visible_open(dom, "FORGED=$(authconform forge alg-none")


def test_a_stopped_run_shows_one_banner_and_the_checks_it_did_not_run(tmp_path: Path) -> None:
    page = _run_report(tmp_path, "stopped", "--target", "http://127.0.0.1:9", "--set", "target.ready_timeout=1")
    dom = browse(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "Run stopped, target unreachable before the first check" in dom
    assert "check(s) failed" not in dom
    assert dom.count("verdict error (the run stopped before them)") == 1


def test_a_stateful_failure_lists_its_steps_numbered(tmp_path: Path) -> None:
    page = _run_report(tmp_path, "stateful", "--fault", "refresh-reuse-accepted", "--check", "PROP-STATEFUL-MODEL")
    dom = browse(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert _visible_open(dom, "failing sequence") and "<ol><li>" in dom
