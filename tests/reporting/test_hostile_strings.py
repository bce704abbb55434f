"""Whatever a target sends ends up in a report (headers, bodies, reasons quoting them), and so may
anything else a report holds: a report whose every string field carries markup and
attribute-breaking quotes renders, in every HTML page, as text — no script, no event handler, no
element or attribute the writers did not put there."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from report_samples import LOAD_FIGURES, SELFTEST, rich_report

from reports import html, junit, load

lxml_html = pytest.importorskip("lxml.html")

PAYLOAD = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>\" onmouseover=\"alert(3)"
# Values the writers branch on; poisoning them too is a second case (then no failure card is drawn).
KEYWORDS = {"pass", "fail", "error", "non-strict", "partial", "not-applicable", "before", "after"}
# Maps whose keys are data (names a target or a check chose), not field names of the schema, and how
# many levels down their keys are data: details hold matrices ({row: {column: value}}).
DATA_MAPS = {"details": 3, "headers": 1, "notes": 1, "expected": 1, "status_classes": 1, "over_admission": 1,
             "limits": 1}
STYLE = (Path(html.__file__).parent / "templates" / "partials" / "style.css.j2").read_text()


def poison(value: Any, *, keep_keywords: bool, keys: int = 0) -> Any:
    """``value`` with the payload appended to every string in it, and to the keys of data maps."""
    if isinstance(value, str):
        return value if keep_keywords and value in KEYWORDS else value + PAYLOAD
    if isinstance(value, dict):
        return {(poison(k, keep_keywords=keep_keywords) if keys else k):
                poison(v, keep_keywords=keep_keywords, keys=keys - 1 if keys else DATA_MAPS.get(k, 0))
                for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, keep_keywords=keep_keywords) for v in value]
    return value


def poisoned_report(synthetic: dict[str, Any], *, keep_keywords: bool) -> dict[str, Any]:
    return poison(rich_report(synthetic), keep_keywords=keep_keywords)


def assert_inert(page: str) -> None:
    document = lxml_html.document_fromstring(page)
    tags = {element.tag for element in document.iter() if isinstance(element.tag, str)}
    assert not tags & {"script", "img", "iframe", "object", "embed", "link", "base", "form"}, tags
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (element.tag, name, value)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert value.startswith("#"), (element.tag, name, value)
            if name == "style":
                assert value.startswith("background:#"), value
        if element.tag == "meta":
            assert set(element.attrib) <= {"charset", "name", "content"}
    styles = document.findall(".//style")
    assert len(styles) == 1 and styles[0].text.strip() == STYLE.strip()
    assert "<script>alert(1)</script>" in document.text_content()  # it was drawn, as text


@pytest.mark.parametrize("keep_keywords", [True, False], ids=["verdicts-kept", "verdicts-poisoned-too"])
def test_every_string_of_a_report_comes_out_inert_in_report_html(synthetic_report: dict[str, Any],
                                                                 keep_keywords: bool) -> None:
    report = poisoned_report(synthetic_report, keep_keywords=keep_keywords)
    page = html.render(report, selftest=poison(SELFTEST, keep_keywords=keep_keywords),
                       load=poison(LOAD_FIGURES, keep_keywords=keep_keywords))
    assert_inert(page)
    if keep_keywords:  # the cards with evidence, controls and coverage were drawn
        assert page.count('class="failure ') >= 2 and "did not hold" in page and "decided the verdict" in page


def test_the_compare_page_and_the_load_page_come_out_inert(synthetic_report: dict[str, Any]) -> None:
    one = poisoned_report(synthetic_report, keep_keywords=True)
    other = poisoned_report(synthetic_report, keep_keywords=False)
    assert_inert(html.compare_page([("a" + PAYLOAD, one), ("b" + PAYLOAD, other)]))
    load_report = copy.deepcopy(one)
    load_report.update(checks=[], load=poison(LOAD_FIGURES, keep_keywords=True))
    page = load.render_page(load_report)
    assert_inert(page)
    assert page.count("<svg") == 3


def test_junit_stays_well_formed_with_hostile_strings(synthetic_report: dict[str, Any]) -> None:
    report = poisoned_report(synthetic_report, keep_keywords=True)
    document = ET.fromstring(junit.render(report).encode())
    messages = [f.get("message") for f in document.iter("failure")]
    assert any(m and "<script>alert(1)</script>" in m for m in messages)
