"""One run writes all four formats, from the CLI and from the pytest plugin (merged under xdist);
compare puts several reports side by side; CI logs get sparse progress lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import exitcodes
from conformance.cli import Progress, main
from conformance.registry import all_checks
from conformance.verdict import Result, Verdict
from reports import FILES, html, markdown

ROOT = Path(__file__).resolve().parents[2]


def test_one_run_writes_all_four_formats(faulty_dir: Path) -> None:
    for name in FILES:
        assert (faulty_dir / name).stat().st_size > 0, name
    report = json.loads((faulty_dir / "report.json").read_text())
    assert report["schema"] == "authconform.report/2"
    assert report["run"]["faults"] == ["accept-alg-none"]
    assert "hypothesis_seed" in report["run"] and "hypothesis_seed" in report["checks"][0]
    assert [c["id"] for c in report["checks"]] == ["TOK-ALG-NONE"]
    assert "TOK-ALG-NONE" in (faulty_dir / "summary.md").read_text()
    page = (faulty_dir / "report.html").read_text()
    assert "<script" not in page and "http://" not in page.replace("http://127.0.0.1:8000", "")


def test_html_renders_matrices_failures_and_curl(synthetic_report: dict[str, Any]) -> None:
    page = html.render(synthetic_report)
    assert "Role × route" in page and "Tenant × object" in page and "leaked" in page
    assert "curl -sS -i" in page and "http://127.0.0.1:9/api/me" in page
    assert "${REDACTED}" in page  # the redacted bearer becomes a variable the reader fills in
    assert "<&>" not in page and "&lt;&amp;&gt;" in page


def test_curl_quotes_for_the_shell_and_keeps_secrets_as_variables() -> None:
    exchange = {"request": {"method": "POST", "url": "/auth/login",
                            "headers": {"Authorization": "Bearer [redacted-jwt]"},
                            "body": '{"username": "o\'brien", "password": "[redacted]"}'}}
    command = html.curl(exchange, "https://api.example.test")
    argv = subprocess.run(["bash", "-c", 'printf "%s\\n" ' + command.split(" ", 1)[1].replace("\\\n", "")],
                          capture_output=True, text=True, env={"REDACTED_TOKEN": "T", "REDACTED": "P"},
                          check=True).stdout.splitlines()
    assert "https://api.example.test/auth/login" in argv
    assert "Authorization: Bearer T" in argv
    assert '{"username": "o\'brien", "password": "P"}' in argv
    assert "Content-Type: application/json" in argv


def test_markdown_summary_stays_small(synthetic_report: dict[str, Any]) -> None:
    failing = next(e for e in synthetic_report["checks"] if e["verdict"] == "fail")
    failing["reason"] = "x" * 5000
    synthetic_report["checks"] += [dict(failing, id=f"TOK-X-{i}") for i in range(300)]
    text = markdown.render(synthetic_report)
    assert len(text) < 30_000 and "more: see report.html" in text


def test_compare_writes_one_matrix_of_targets_by_checks(faulty_dir: Path, clean_dir: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "matrix.html"
    code = main(["compare", str(faulty_dir / "report.json"), str(clean_dir / "report.json"), "-o", str(out)])
    assert code == exitcodes.OK
    page = out.read_text()
    assert "TOK-ALG-NONE" in page and "2 targets side by side" in page
    assert page.count('class="badge v-fail"') >= 1 and page.count('class="badge v-pass"') >= 1
    assert "2 targets x 1 checks" in capsys.readouterr().out


def test_compare_refuses_a_file_that_is_not_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    assert main(["compare", str(bogus), str(bogus)]) == exitcodes.USAGE_OR_PROFILE
    assert "x.json" in capsys.readouterr().err


def test_plain_progress_prints_one_line_per_finished_check(capsys: pytest.CaptureFixture[str]) -> None:
    checks = all_checks()
    progress = Progress(len(checks), checks)
    progress.tty = False
    for index, check in enumerate(checks, 1):
        verdict = Verdict.FAIL if index == 2 else Verdict.PASS
        progress(check, Result(check.id, verdict, "why" if index == 2 else ""), index, len(checks))
    progress.done()
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(checks)
    assert lines[1] == f"[2/{len(checks)}] FAIL           {checks[1].id} (0.0 s): why"
    assert lines[-1].startswith(f"[{len(checks)}/{len(checks)}] PASS ")


def test_quiet_progress_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    checks = all_checks()[:3]
    progress = Progress(len(checks), checks, quiet=True)
    for index, check in enumerate(checks, 1):
        progress(check, Result(check.id, Verdict.FAIL, "why"), index, len(checks))
    progress.done()
    assert capsys.readouterr().out == ""


def test_pytest_plugin_writes_one_merged_set_under_xdist(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "AUTHCONF_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "2", "--authconform",
         "--authconform-fault", "accept-alg-none", "--authconform-report-dir", str(out),
         "-k", "TOK-ALG-NONE or TOK-SIG-BROKEN", "--rootdir", str(tmp_path), "-c", os.devnull],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    for name in FILES:
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    verdicts = {c["id"]: c["verdict"] for c in report["checks"]}
    assert verdicts == {"TOK-ALG-NONE": "fail", "TOK-SIG-BROKEN": "pass"}
    assert report["run"]["faults"] == ["accept-alg-none"]
    assert 'name="TOK-ALG-NONE"' in (out / "junit.xml").read_text()
