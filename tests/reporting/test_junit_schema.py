"""junit.xml validates against the Ant/Jenkins JUnit schema and carries what CI viewers show."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reports import junit

lxml_etree = pytest.importorskip("lxml.etree")
XSD = Path(__file__).resolve().parents[1] / "data" / "junit.xsd"


def validate(text: str) -> Any:
    schema = lxml_etree.XMLSchema(lxml_etree.parse(str(XSD)))
    document = lxml_etree.fromstring(text.encode("utf-8"))
    schema.assertValid(document)
    return document


def test_junit_of_a_failing_run_validates_against_the_schema(faulty_dir: Path) -> None:
    document = validate((faulty_dir / "junit.xml").read_text())
    case = document.find(".//testcase[@name='TOK-ALG-NONE']")
    assert case is not None and case.get("classname") == "authconform.tokens"
    failure = case.find("failure")
    assert failure is not None and failure.get("message")
    assert failure.text.startswith("expected: the algorithm allow-list")
    assert "\nactual: " in failure.text and "evidence" in failure.text
    assert document.find("testsuite").get("name") == "authconform.tokens"


def test_every_verdict_maps_onto_a_valid_element(synthetic_report: dict[str, Any]) -> None:
    document = validate(junit.render(synthetic_report))
    by_verdict = {e["verdict"]: e["id"] for e in synthetic_report["checks"]}
    for verdict, element in (("fail", "failure"), ("non-strict", "failure"), ("error", "error"),
                             ("not-applicable", "skipped")):
        case = document.find(f".//testcase[@name='{by_verdict[verdict]}']")
        assert case is not None and case.find(element) is not None, verdict
    passed = document.find(f".//testcase[@name='{by_verdict['pass']}']")
    assert passed is not None and len(passed) == 0
    assert document.get("tests") == "5" and document.get("failures") == "2" and document.get("errors") == "1"


def test_a_baselined_failure_is_an_expected_failure_not_a_red_test(synthetic_report: dict[str, Any]) -> None:
    failing = next(e for e in synthetic_report["checks"] if e["verdict"] == "fail")
    failing["baseline"] = {"check": failing["id"], "target": "", "reason": "known, ticket 12", "expires": None}
    document = validate(junit.render(synthetic_report))
    skipped = document.find(f".//testcase[@name='{failing['id']}']/skipped")
    assert skipped is not None and "expected failure" in skipped.get("message")
    assert "ticket 12" in skipped.get("message")
