"""The load run in the report format: ``report.json`` (with a ``load`` object of figures),
``report.html`` (the load section with its charts), ``junit.xml`` (one test case per threshold) and
``summary.md``.

The charts are inline SVG (``reports/charts.py``): requests per second over time split by answer
(2xx, 401, 429, 5xx, other), admitted requests per limiter window against the limit line, and
locust's latency percentiles over time. No script, no network: the page stays self-contained.
The same section appears in the suite's report.html when load figures are handed to it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from conformance.load.settings import processes_text
from reports import templating
from reports.charts import Chart, Plot, number, values

COLOURS = {"2xx": "#1a7f37", "401": "#bf8700", "429": "#0969da", "5xx": "#cf222e", "other": "#8c959f"}
LATENCY_COLOURS = {"p50_ms": "#1a7f37", "p95_ms": "#bf8700", "p99_ms": "#cf222e"}
WITHIN, OVER = "#1a7f37", "#cf222e"
LIMITER_TITLES = {"api": "API, per user", "login-ip": "login, per client address",
                  "login-account": "login, per (client address, account)"}
OVER_TITLES = {"rate_limits": "admitted over a rate limit"}
MAX_BARS = 80  # windows drawn per limiter chart (the fullest); the table says how many there were


# ---------------------------------------------------------------------------- charts

def rate_chart(timeline: dict[str, Any]) -> Chart | None:
    """Requests per second over time, stacked by answer; None when no request was recorded."""
    times = [float(t) for t in timeline.get("t") or []]
    if not times:
        return None
    bucket = float(timeline.get("bucket_s") or 1)
    series = {name: values(timeline, name, len(times)) for name in COLOURS}
    totals = [sum(series[name][i] for name in COLOURS) for i in range(len(times))]
    plot = Plot(times[-1] + bucket, max(totals), x_label="seconds since the first request", y_label="requests / s")
    plot.axes()
    width = plot.inner_w * bucket / plot.x_max
    for i, start in enumerate(times):
        low = 0.0
        for name, colour in COLOURS.items():
            value = series[name][i]
            if value:
                plot.rect(plot.x(start) + 0.5, low, low + value, width - 1, colour,
                          f"{number(start)}-{number(start + bucket)} s: {name} {value:g}/s")
            low += value
    return plot.chart("requests per second by answer", list(COLOURS.items()))


def window_chart(kind: str, entries: list[dict[str, Any]], limit: int, window_s: float, total: int) -> Chart:
    """Admitted requests per (key, window) of one limiter, against its limit."""
    shown = sorted(entries, key=lambda e: (-e["admitted"], e["key"], e["number"]))[:MAX_BARS]
    shown.sort(key=lambda e: (e["key"], e["number"]))
    top = max([limit] + [e["admitted"] for e in shown])
    plot = Plot(float(len(shown)), top * 1.08, x_label=f"limiter windows ({len(shown)} of {total} shown, fullest)",
                y_label="admitted")
    plot.axes(x_ticks=False)
    width = plot.inner_w / max(len(shown), 1)
    for i, entry in enumerate(shown):
        plot.rect(plot.x(i) + width * 0.15, 0, entry["admitted"], width * 0.7,
                  OVER if entry["admitted"] > limit else WITHIN,
                  f"{entry['subject']} window {entry['number']}: {entry['admitted']} admitted, "
                  f"{entry['refused']} refused (limit {limit})")
    plot.hline(limit, OVER, f"limit {limit} / {window_s:g} s")
    title = LIMITER_TITLES.get(kind, kind)
    return plot.chart(f"admitted per window, {title}", [("within the limit", WITHIN), ("over the limit", OVER)])


def latency_chart(series: dict[str, Any], threshold_ms: float | None) -> Chart | None:
    times = [float(t) for t in series.get("t") or []]
    if not times:
        return None
    peak = max(max(series.get(k) or [0]) for k in LATENCY_COLOURS)
    show_threshold = threshold_ms is not None and threshold_ms <= peak * 2
    plot = Plot(max(times) or 1.0, max(peak, threshold_ms if show_threshold and threshold_ms else 0) * 1.08 or 1,
                x_label="seconds since the first request", y_label="response time (ms)")
    plot.axes()
    for key, colour in LATENCY_COLOURS.items():
        plot.polyline(times, series.get(key) or [], colour, key.replace("_ms", ""))
    if show_threshold and threshold_ms is not None:
        plot.hline(threshold_ms, OVER, f"p95 threshold {threshold_ms:g} ms")
    return plot.chart("latency percentiles over time", [(k.replace("_ms", ""), c) for k, c in LATENCY_COLOURS.items()])


# ---------------------------------------------------------------------------- the section

def _served_text(served: dict[str, Any] | None) -> str:
    if not served:
        return ""
    text = f"; served reference: gunicorn {served['gunicorn_workers']} workers, {served['store']} store"
    return text + (f", faults {', '.join(served['faults'])}" if served.get("faults") else "")


def section_context(figures: dict[str, Any]) -> dict[str, Any]:
    """What ``partials/load_section.html.j2`` draws from the figures of one load run."""
    windows = figures.get("windows") or []
    limit_charts = []
    for kind, declared in (figures.get("limits") or {}).items():
        mine = [w for w in windows if w["kind"] == kind]
        if mine:
            limit_charts.append((LIMITER_TITLES.get(kind, kind),
                                 window_chart(kind, mine, int(declared["limit"]), float(declared["window_s"]),
                                              int(declared["windows"]))))
    threshold = next((t["limit"] for t in figures.get("thresholds", []) if t["field"] == "load.max_p95_ms"), None)
    over = figures.get("over_admission") or {}
    return {
        "figures": figures,
        "processes": processes_text(int(figures.get("workers") or 0), int(figures.get("remote_workers") or 0)),
        "served": _served_text(figures.get("served_reference")),
        "over_total": over.get("total", 0),
        "over_items": [(OVER_TITLES.get(name, name), count) for name, count in over.items() if name != "total"],
        "limits": [(LIMITER_TITLES.get(kind, kind), v) for kind, v in (figures.get("limits") or {}).items()],
        "rate_chart": rate_chart(figures.get("timeline") or {}),
        "limit_charts": limit_charts,
        "latency_chart": latency_chart(figures.get("latency_timeline") or {}, threshold),
        "p95": (figures.get("latency_ms") or {}).get("p95", 0),
    }


def section(figures: dict[str, Any] | None) -> str:
    """The load section alone (as report.html includes it); empty without figures."""
    if not figures:
        return ""
    return templating.render("partials/load_section.html.j2", load=section_context(figures))


# ---------------------------------------------------------------------------- the files

def render_page(report: dict[str, Any]) -> str:
    figures = report["load"]
    return templating.render("load_report.html.j2", report=report, run=report["run"],
                             breached=[t["name"] for t in figures["thresholds"] if not t["passed"]],
                             load=section_context(figures))


def render_junit(report: dict[str, Any]) -> str:
    """One test case per threshold, a failure for each breached one."""
    figures, run = report["load"], report["run"]
    thresholds = figures["thresholds"]
    failed = sum(not t["passed"] for t in thresholds)
    suites = ET.Element("testsuites", name=f"authconform load: {run['target']}", tests=str(len(thresholds)),
                        failures=str(failed), errors="0", skipped="0", time=f"{float(run['duration']):.3f}")
    suite = ET.SubElement(suites, "testsuite", {
        "name": f"authconform.load.{figures['scenario']}", "id": "0", "package": "authconform",
        "hostname": "localhost", "timestamp": run["started"][:19], "tests": str(len(thresholds)),
        "failures": str(failed), "errors": "0", "skipped": "0", "time": f"{float(run['duration']):.3f}"})
    props = ET.SubElement(suite, "properties")
    for name in ("target", "profile_name", "profile_hash", "authconform_version", "git_sha"):
        if run.get(name):
            ET.SubElement(props, "property", name=name, value=str(run[name]))
    for item in thresholds:
        case = ET.SubElement(suite, "testcase", name=item["name"],
                             classname=f"authconform.load.{figures['scenario']}", time="0.000")
        if not item["passed"]:
            failure = ET.SubElement(case, "failure", type="load threshold breached",
                                    message=f"{item['value']:g}{item['unit']} exceeds {item['limit']:g}{item['unit']}")
            failure.text = (f"expected: {item['name']} at most {item['limit']:g}{item['unit']} ({item['field']})\n"
                            f"actual: {item['value']:g}{item['unit']}\n"
                            f"over-admission: {figures['over_admission']}")
    ET.SubElement(suite, "system-out").text = ""
    ET.SubElement(suite, "system-err").text = ""
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def render_markdown(report: dict[str, Any]) -> str:
    figures, run = report["load"], report["run"]
    verdict = "✅ load thresholds hold" if figures["passed"] else "❌ load thresholds breached"
    lines = [f"## authconform load: {figures['scenario']} on {run['target']}", "", verdict, "",
             "| threshold | measured | limit | field |", "|---|---|---|---|"]
    for item in figures["thresholds"]:
        mark = "" if item["passed"] else " ❌"
        lines.append(f"| {item['name']}{mark} | {item['value']:g}{item['unit']} | {item['limit']:g}{item['unit']} | "
                     f"`{item['field']}` |")
    classes = ", ".join(f"{name} {count}" for name, count in figures["status_classes"].items())
    lines += ["", f"{figures['requests']} requests, {figures['rps']} req/s ({classes}); "
              f"p95 {figures['latency_ms']['p95']} ms; {figures['users']} users, {figures['run_time_s']} s.",
              "", "Charts: report.html; figures: report.json (`load`)."]
    return "\n".join(lines) + "\n"


def write_load_report(figures: dict[str, Any], profile: Any, target_name: str, directory: Path, *, started: float,
                      finished: float, faults: list[str], overrides: list[str]) -> list[Path]:
    """report.json, report.html, junit.xml and summary.md of a load run, in ``directory``."""
    from conformance.overrides import recorded_overrides
    from conformance.runner import RunResult
    from reports import json_report

    run = RunResult(profile=profile, target_name=target_name, checks=[], results=[], started=started,
                    finished=finished, meta={"kind": "load", "faults": faults,
                                             "overrides": recorded_overrides(overrides)})
    report = json_report.build(run)
    report["run"]["base_url"] = profile.target.base_url
    report["load"] = figures
    directory.mkdir(parents=True, exist_ok=True)
    paths = [json_report.write_report(report, directory)]
    for name, text in (("report.html", render_page(report)), ("junit.xml", render_junit(report)),
                       ("summary.md", render_markdown(report))):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
