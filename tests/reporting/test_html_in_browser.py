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
