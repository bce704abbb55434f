"""Redaction as a property: after a run against the reference (with a fault on, so there is failing
evidence), no secret the run used appears in any file it wrote or in anything it printed.

"Every secret" is taken from the source of truth: each value the run registered with a
``Redactor`` (the reference's secret and signing keys, every password the suite chose, every
token it received), captured by wrapping ``Redactor.add``. Each is looked for raw and in the
encodings the writers use (JSON, HTML, URL); and nothing shaped like a JWT may appear at all.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from pathlib import Path

import pytest

from conformance import evidence
from conformance.cli import main

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}")
# The whole suite (logins, refresh, cookies, password changes, tenants): every secret a run handles.
AREAS: tuple[str, ...] = ()  # every area: the whole suite


def forms(secret: str) -> set[str]:
    return {secret, json.dumps(secret)[1:-1], html.escape(secret, quote=True), urllib.parse.quote(secret, safe="")}


def test_no_secret_of_the_run_appears_in_its_reports_or_output(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    secrets: set[str] = set()
    original = evidence.Redactor.add

    def add(self: evidence.Redactor, *values: str | None) -> None:
        secrets.update(v for v in values if v and len(v) >= 4)
        original(self, *values)

    monkeypatch.setattr(evidence.Redactor, "add", add)
    out = tmp_path / "report"
    argv = ["run", "--fault", "accept-alg-none", "--report-dir", str(out)]
    for area in AREAS:
        argv += ["--area", area]
    assert main(argv) == 1  # the fault makes TOK-ALG-NONE fail, with evidence
    printed = capsys.readouterr()

    written = {path.name: path.read_text(errors="replace") for path in out.iterdir() if path.is_file()}
    assert {"report.json", "junit.xml", "report.html", "summary.md"} <= written.keys()
    report = json.loads(written["report.json"])
    assert any(c["verdict"] == "fail" and c["evidence"] for c in report["checks"])
    # Keys, passwords and tokens were all registered: the property is not vacuous.
    assert len(secrets) >= 10, f"only {len(secrets)} secrets registered"

    texts = {**written, "stdout": printed.out, "stderr": printed.err}
    leaks = []
    for name, text in texts.items():
        for secret in secrets:
            if any(form in text for form in forms(secret)):
                leaks.append(f"{name}: a registered secret of {len(secret)} characters ({secret[:3]}...)")
        shaped = JWT.search(text)
        if shaped:
            leaks.append(f"{name}: something shaped like a JWT: {shaped.group()[:12]}...")
    assert not leaks, "\n".join(sorted(set(leaks)))
