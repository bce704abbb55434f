"""JUnit XML, as the common CI test-report viewers (Jenkins, GitLab, GitHub actions) read it.

One ``<testsuite>`` per contract area, one ``<testcase>`` per check: ``name`` is the check id,
``classname`` is ``authconform.<area>``. A fail (or a non-strict SHOULD failure, or a partial
judgement, which is never a pass) is a ``<failure>`` whose body reads "expected / actual", what
was judged, the controls, then the redacted evidence (the deciding exchanges first); not
applicable is ``<skipped>``; error is ``<error>``; a failure the baseline accepts is ``<skipped>``
saying "expected failure" (as pytest writes an xfail). The shape follows the Ant/Jenkins schema
that ``tests/data/junit.xsd`` describes.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from reports.json_report import checks_by_area, control_text, coverage_text, split_evidence

# XML 1.0 forbids most control characters even when escaped; evidence bodies may carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
EVIDENCE_SHOWN = 4  # exchanges per failure body: the deciding ones, then the last set-up ones
FAILURES = ("fail", "non-strict", "partial")


def _clean(text: str) -> str:
    return _NOT_XML.sub("?", text)


def failure_body(entry: dict[str, Any]) -> str:
    lines = [f"expected: {entry['rule']}", f"actual: {entry['reason']}"]
    if entry.get("coverage"):
        lines.append("judged: " + coverage_text(entry["coverage"]))
    lines += ["control " + control_text(c) for c in entry.get("controls") or []]
    if entry.get("references"):
        lines.append("references: " + ", ".join(entry["references"]))
    deciding, setup = split_evidence(list(entry.get("evidence") or []))
    shown = deciding[:EVIDENCE_SHOWN]
    room = EVIDENCE_SHOWN - len(shown)
    shown += setup[max(0, len(setup) - room):] if room else []
    if shown:
        lines += ["", f"evidence ({len(shown)} of {len(deciding) + len(setup)} exchanges, the deciding ones first, "
                      "secrets redacted):", json.dumps(shown, indent=1)]
    return _clean("\n".join(lines))


def render(report: dict[str, Any]) -> str:
    run = report["run"]
    suites = ET.Element("testsuites", name=f"authconform: {run['target']}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for index, (area, entries) in enumerate(checks_by_area(report)):
        counts = {
            "tests": len(entries),
            "failures": sum(e["verdict"] in FAILURES and not e.get("baseline") for e in entries),
            "errors": sum(e["verdict"] == "error" and not e.get("baseline") for e in entries),
            "skipped": sum(e["verdict"] == "not-applicable" or bool(e.get("baseline")) for e in entries),
            "time": sum(float(e.get("duration") or 0) for e in entries),
        }
        for key in totals:
            totals[key] += counts[key]
        suite = ET.SubElement(suites, "testsuite", {
            "name": f"authconform.{area}", "id": str(index), "package": "authconform",
            "hostname": "localhost", "timestamp": run["started"][:19],
            "tests": str(counts["tests"]), "failures": str(counts["failures"]),
            "errors": str(counts["errors"]), "skipped": str(counts["skipped"]),
            "time": f"{counts['time']:.3f}",
        })
        props = ET.SubElement(suite, "properties")
        for name in ("target", "profile_name", "profile_hash", "authconform_version", "git_sha",
                     "hypothesis_seed"):
            if run.get(name) not in (None, ""):
                ET.SubElement(props, "property", name=name, value=_clean(str(run[name])))
        for entry in entries:
            case = ET.SubElement(suite, "testcase", name=entry["id"], classname=f"authconform.{area}",
                                 time=f"{float(entry.get('duration') or 0):.3f}")
            verdict = entry["verdict"]
            if entry.get("baseline") and verdict in ("fail", "error", "non-strict"):
                # An accepted failure reads like pytest's xfail: skipped, saying so, with the evidence.
                skipped = ET.SubElement(case, "skipped", message=_clean(
                    f"expected failure (baseline: {entry['baseline']['reason']}): {entry['reason']}"))
                skipped.text = failure_body(entry)
            elif verdict in FAILURES:
                label = {"non-strict": "SHOULD rule broken", "partial": "partial judgement"}.get(verdict,
                                                                                               "MUST rule broken")
                message = entry["reason"]
                if verdict == "partial" and entry.get("coverage"):
                    message = f"judged {coverage_text(entry['coverage'])}" + (f": {message}" if message else "")
                failure = ET.SubElement(case, "failure", message=_clean(message),
                                        type=f"{label} ({entry['severity']})")
                failure.text = failure_body(entry)
            elif verdict == "error":
                error = ET.SubElement(case, "error", message=_clean(entry["reason"]), type="error")
                error.text = failure_body(entry)
            elif verdict == "not-applicable":
                ET.SubElement(case, "skipped", message=_clean(entry["reason"]))
        ET.SubElement(suite, "system-out").text = ""
        ET.SubElement(suite, "system-err").text = ""
    for key in ("tests", "failures", "errors", "skipped"):
        suites.set(key, str(totals[key]))
    suites.set("time", f"{totals['time']:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def write(report: dict[str, Any], directory: Path) -> Path:
    path = directory / "junit.xml"
    path.write_text(render(report), encoding="utf-8")
    return path
