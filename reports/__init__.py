"""Report writers. One run writes four files into one directory:

``report.json`` (the record, schema in docs/report-schema.md), ``junit.xml`` (for CI test-report
viewers), ``report.html`` (for people) and ``summary.md`` (for a CI job summary or a PR comment).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SELFTEST_FILE = "selftest.json"  # written by `authconform selftest`; included in report.html when present
FILES = ("report.json", "junit.xml", "report.html", "summary.md")


def write_all(report: dict[str, Any], directory: Path, *, load: dict[str, Any] | None = None) -> list[Path]:
    """Write the four formats of ``report`` (a json_report.build dictionary) into ``directory``."""
    from reports import html, json_report, junit, markdown

    directory.mkdir(parents=True, exist_ok=True)
    selftest = None
    selftest_path = directory / SELFTEST_FILE
    if selftest_path.is_file():
        try:
            selftest = json.loads(selftest_path.read_text())
        except (OSError, json.JSONDecodeError):
            selftest = None
    return [json_report.write_report(report, directory), junit.write(report, directory),
            html.write(report, directory, selftest=selftest, load=load), markdown.write(report, directory)]
