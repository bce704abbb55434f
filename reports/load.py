"""The load run in the report format: ``report.json`` (with a ``load`` object of figures),
``report.html`` (the load section with its charts), ``junit.xml`` (one test case per threshold) and
``summary.md``.

The charts are inline SVG, drawn here: requests per second over time split by answer (2xx, 401,
429, 5xx, other), admitted requests per limiter window against the limit line, and locust's
latency percentiles over time. No script, no network: the page stays self-contained.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conformance.load.settings import processes_text
from reports.html import esc, page

COLOURS = {"2xx": "#1a7f37", "401": "#bf8700", "429": "#0969da", "5xx": "#cf222e", "other": "#8c959f"}
LATENCY_COLOURS = {"p50_ms": "#1a7f37", "p95_ms": "#bf8700", "p99_ms": "#cf222e"}
LIMITER_TITLES = {"api": "API, per user", "login-ip": "login, per client address",
                  "login-account": "login, per (client address, account)"}
OVER_TITLES = {"rate_limits": "admitted over a rate limit"}
WIDTH, HEIGHT = 860, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 14, 36
MAX_BARS = 80  # windows drawn per limiter chart (the fullest); the table says how many there were

LOAD_CSS = """
.chart { margin: 8px 0 18px; } .chart svg { max-width: 100%; height: auto; font: 11px system-ui, sans-serif; }
.legend span { display: inline-block; margin-right: 14px; font-size: 13px; }
.legend i { display: inline-block; width: 11px; height: 11px; margin-right: 5px; vertical-align: -1px; }
.held { color: #116329; font-weight: 600; } .breach { color: #a40e26; font-weight: 600; }
"""


# ---------------------------------------------------------------------------- SVG helpers

def nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` ticks over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)


def _fmt(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 1e-9 or abs(value) >= 100 else f"{value:g}"


class Plot:
    """One chart area: data coordinates to SVG coordinates, axes with round ticks."""

    def __init__(self, x_max: float, y_max: float, *, x_label: str, y_label: str) -> None:
        self.y_step = nice_step(y_max or 1.0)
        self.y_max = max(self.y_step, math.ceil((y_max or 1.0) / self.y_step) * self.y_step)
        self.x_max = x_max or 1.0
        self.x_label, self.y_label = x_label, y_label
        self.inner_w, self.inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
        self.parts: list[str] = []

    def x(self, value: float) -> float:
        return LEFT + self.inner_w * value / self.x_max

    def y(self, value: float) -> float:
        return TOP + self.inner_h * (1 - min(value, self.y_max) / self.y_max)

    def axes(self, *, x_ticks: bool = True) -> None:
        steps = round(self.y_max / self.y_step)
        for i in range(steps + 1):
            value = i * self.y_step
            y = self.y(value)
            self.parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eaeef2"/>'
                              f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#57606a">'
                              f"{_fmt(value)}</text>")
        if x_ticks:
            step = nice_step(self.x_max, 8)
            value = 0.0
            while value <= self.x_max + 1e-9:
                x = self.x(value)
                self.parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM + 4}" '
                                  f'stroke="#8c959f"/><text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                                  f'text-anchor="middle" fill="#57606a">{_fmt(value)}</text>')
                value += step
        self.parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{HEIGHT - BOTTOM}" y2="{HEIGHT - BOTTOM}" '
                          f'stroke="#8c959f"/><line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" '
                          'stroke="#8c959f"/>'
                          f'<text x="{LEFT + self.inner_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle" '
                          f'fill="#57606a">{esc(self.x_label)}</text>'
                          f'<text transform="translate(12 {TOP + self.inner_h / 2:.1f}) rotate(-90)" '
                          f'text-anchor="middle" fill="#57606a">{esc(self.y_label)}</text>')

    def rect(self, x: float, y_low: float, y_high: float, width: float, colour: str, title: str) -> None:
        top, bottom = self.y(y_high), self.y(y_low)
        self.parts.append(f'<rect x="{x:.1f}" y="{top:.1f}" width="{max(width, 0.6):.1f}" '
                          f'height="{max(bottom - top, 0.0):.1f}" fill="{colour}"><title>{esc(title)}</title></rect>')

    def hline(self, value: float, colour: str, label: str) -> None:
        y = self.y(value)
        self.parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" '
                          f'stroke-width="1.5" stroke-dasharray="6 4"/><text x="{LEFT + 6}" y="{y - 5:.1f}" '
                          f'fill="{colour}" stroke="#fff" stroke-width="3" paint-order="stroke" '
                          f'font-weight="600">{esc(label)}</text>')

    def polyline(self, xs: Sequence[float], ys: Sequence[float], colour: str, title: str) -> None:
        points = " ".join(f"{self.x(x):.1f},{self.y(y):.1f}" for x, y in zip(xs, ys, strict=False))
        self.parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8">'
                          f"<title>{esc(title)}</title></polyline>")

    def svg(self, label: str) -> str:
        return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
                f'height="{HEIGHT}" role="img" aria-label="{esc(label)}">' + "".join(self.parts) + "</svg>")


def _legend(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{esc(n)}</span>'
                                            for n, c in items) + "</div>"


# ---------------------------------------------------------------------------- charts

def rate_chart(timeline: dict[str, Any]) -> str:
    """Requests per second over time, stacked by answer."""
    times: list[float] = list(timeline.get("t") or [])
    if not times:
        return '<p class="note">No request was recorded.</p>'
    bucket = float(timeline.get("bucket_s") or 1)
    totals = [sum(float(timeline.get(name, [0] * len(times))[i]) for name in COLOURS) for i in range(len(times))]
    plot = Plot(times[-1] + bucket, max(totals), x_label="seconds since the first request",
                y_label="requests / s")
    plot.axes()
    width = plot.inner_w * bucket / plot.x_max
    for i, start in enumerate(times):
        low = 0.0
        for name, colour in COLOURS.items():
            value = float(timeline.get(name, [0] * len(times))[i])
            if value:
                plot.rect(plot.x(start) + 0.5, low, low + value, width - 1, colour,
                          f"{_fmt(start)}-{_fmt(start + bucket)} s: {name} {value:g}/s")
            low += value
    return (f'<div class="chart">{plot.svg("requests per second by answer")}'
            f"{_legend([(n, c) for n, c in COLOURS.items()])}</div>")


def window_chart(kind: str, entries: list[dict[str, Any]], limit: int, window_s: float, total: int) -> str:
    """Admitted requests per (key, window) of one limiter, against its limit."""
    shown = sorted(entries, key=lambda e: (-e["admitted"], e["key"], e["number"]))[:MAX_BARS]
    shown.sort(key=lambda e: (e["key"], e["number"]))
    top = max([limit] + [e["admitted"] for e in shown])
    plot = Plot(float(len(shown)), top * 1.08, x_label=f"limiter windows ({len(shown)} of {total} shown, fullest)",
                y_label="admitted")
    plot.axes(x_ticks=False)
    width = plot.inner_w / max(len(shown), 1)
    for i, entry in enumerate(shown):
        colour = "#cf222e" if entry["admitted"] > limit else "#1a7f37"
        plot.rect(plot.x(i) + width * 0.15, 0, entry["admitted"], width * 0.7, colour,
                  f"{entry['subject']} window {entry['number']}: {entry['admitted']} admitted, "
                  f"{entry['refused']} refused (limit {limit})")
    plot.hline(limit, "#cf222e", f"limit {limit} / {window_s:g} s")
    title = LIMITER_TITLES.get(kind, kind)
    return (f"<h4>{esc(title)}</h4><div class=\"chart\">{plot.svg(f'admitted per window, {title}')}"
            f"{_legend([('within the limit', '#1a7f37'), ('over the limit', '#cf222e')])}</div>")


def latency_chart(series: dict[str, list[float]], threshold_ms: float | None) -> str:
    times = series.get("t") or []
    if not times:
        return '<p class="note">locust wrote no latency history for this run.</p>'
    peak = max(max(series.get(k) or [0]) for k in LATENCY_COLOURS)
    show_threshold = threshold_ms is not None and threshold_ms <= peak * 2
    plot = Plot(max(times) or 1.0, max(peak, threshold_ms if show_threshold and threshold_ms else 0) * 1.08 or 1,
                x_label="seconds since the first request", y_label="response time (ms)")
    plot.axes()
    for key, colour in LATENCY_COLOURS.items():
        plot.polyline(times, series.get(key) or [], colour, key.replace("_ms", ""))
    if show_threshold and threshold_ms is not None:
        plot.hline(threshold_ms, "#cf222e", f"p95 threshold {threshold_ms:g} ms")
    return (f'<div class="chart">{plot.svg("latency percentiles over time")}'
            f"{_legend([(k.replace('_ms', ''), c) for k, c in LATENCY_COLOURS.items()])}</div>")


# ---------------------------------------------------------------------------- the section

def _threshold_rows(figures: dict[str, Any]) -> str:
    rows = []
    for item in figures.get("thresholds", []):
        mark = '<span class="held">holds</span>' if item["passed"] else '<span class="breach">breached</span>'
        rows.append(f"<tr><td>{esc(item['name'])}</td><td class=\"num\">{item['value']:g}{esc(item['unit'])}</td>"
                    f"<td class=\"num\">{item['limit']:g}{esc(item['unit'])}</td><td><code>{esc(item['field'])}</code>"
                    f"</td><td>{mark}</td></tr>")
    return ("<table><tr><th>threshold</th><th class=\"num\">measured</th><th class=\"num\">limit</th>"
            f"<th>profile field</th><th></th></tr>{''.join(rows)}</table>")


def _limits_table(figures: dict[str, Any]) -> str:
    limits = figures.get("limits") or {}
    if not limits:
        return '<p class="note">No request of this run counted against a declared limit.</p>'
    rows = "".join(f"<tr><td>{esc(LIMITER_TITLES.get(kind, kind))}</td><td class=\"num\">{v['limit']} / "
                   f"{v['window_s']:g} s</td><td class=\"num\">{v['keys']}</td><td class=\"num\">{v['windows']}</td>"
                   f"<td class=\"num\">{v['max_admitted']}</td><td class=\"num\">{v['over_admission']}</td></tr>"
                   for kind, v in limits.items())
    return ("<table><tr><th>limiter</th><th class=\"num\">declared</th><th class=\"num\">keys</th>"
            "<th class=\"num\">windows</th><th class=\"num\">most admitted in a window</th>"
            f"<th class=\"num\">over the limit</th></tr>{rows}</table>")


def _endpoint_table(figures: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{esc(e['method'])}</td><td>{esc(e['name'])}</td><td class=\"num\">{e['requests']}</td>"
        f"<td class=\"num\">{e['failures']}</td><td class=\"num\">{_ms(e['p50_ms'])}</td>"
        f"<td class=\"num\">{_ms(e['p95_ms'])}</td><td class=\"num\">{_ms(e['p99_ms'])}</td>"
        f"<td class=\"num\">{_ms(e['max_ms'])}</td><td class=\"num\">{e['rps']:g}</td></tr>"
        for e in figures.get("endpoints") or [])
    if not rows:
        return ""
    head = "".join(f'<th class="num">{name}</th>' for name in ("requests", "unexpected", "p50 ms", "p95 ms",
                                                                  "p99 ms", "max ms", "req/s"))
    return f"<h3>Per request name (locust)</h3><table><tr><th>method</th><th>name</th>{head}</tr>{rows}</table>"


def _ms(value: Any) -> str:
    return "—" if value is None else f"{float(value):.0f}"


def section(figures: dict[str, Any] | None) -> str:
    """The load section of report.html (``reports.html.LOAD_RENDERER``); empty without figures."""
    if not figures:
        return ""
    classes = figures.get("status_classes") or {}
    over = figures.get("over_admission") or {}
    latency = figures.get("latency_ms") or {}
    cards = "".join(f'<div class="card">{esc(name)}<b>{count}</b></div>' for name, count in classes.items())
    over_items = "".join(f"<li>{esc(OVER_TITLES.get(name, name))}: <b>{count}</b></li>"
                         for name, count in over.items() if name != "total")
    windows = figures.get("windows") or []
    limit_charts = []
    for kind, declared in (figures.get("limits") or {}).items():
        mine = [w for w in windows if w["kind"] == kind]
        if mine:
            limit_charts.append(window_chart(kind, mine, int(declared["limit"]), float(declared["window_s"]),
                                             int(declared["windows"])))
    threshold = next((t["limit"] for t in figures.get("thresholds", []) if t["field"] == "load.max_p95_ms"), None)
    notes = figures.get("notes") or {}
    notes_html = ("<h3>What the simulated users reported</h3><ul>" + "".join(
        f"<li>{esc(message)} (×{count})</li>" for message, count in notes.items()) + "</ul>") if notes else ""
    served = figures.get("served_reference")
    served_text = (f"; served reference: gunicorn {served['gunicorn_workers']} workers, {esc(served['store'])} store"
                   + (f", faults {esc(', '.join(served['faults']))}" if served.get("faults") else "")) if served else ""
    return (
        f"<style>{LOAD_CSS}</style>"
        f'<h2 id="load">Load: {esc(figures.get("scenario", ""))}</h2>'
        f'<p>{esc(figures.get("description", ""))}. {figures.get("users")} users (spawn rate '
        f'{figures.get("spawn_rate")}/s), {figures.get("run_time_s")} s, '
        + esc(processes_text(int(figures.get("workers") or 0), int(figures.get("remote_workers") or 0)))
        + f"{served_text}.</p>"
        + _threshold_rows(figures)
        + f'<div class="cards"><div class="card">requests<b>{figures.get("requests", 0)}</b></div>'
        f'<div class="card">req/s<b>{figures.get("rps", 0)}</b></div>{cards}'
        f'<div class="card">p95 ms<b>{latency.get("p95", 0)}</b></div></div>'
        f"<h3>Requests per second, by answer</h3>{rate_chart(figures.get('timeline') or {})}"
        f"<h3>Over-admission: {over.get('total', 0)}</h3>"
        "<p class=\"note\">Requests the contract says must be refused that the target admitted: over a rate limit "
        "(counted per limiter key and window, only where every placement of the server's windows agrees), with a "
        f"revoked token, with a refresh token already used, with a wrong password.</p><ul>{over_items}</ul>"
        + _limits_table(figures) + "".join(limit_charts)
        + "<h3>Latency percentiles over time (locust)</h3>"
        + latency_chart(figures.get("latency_timeline") or {}, threshold)
        + _endpoint_table(figures) + notes_html)


# ---------------------------------------------------------------------------- the files

def render_page(report: dict[str, Any]) -> str:
    figures = report["load"]
    run = report["run"]
    breached = [t["name"] for t in figures["thresholds"] if not t["passed"]]
    banner = ('<div class="banner ok">Load thresholds hold</div>' if not breached else
              f'<div class="banner bad">Load thresholds breached: {esc(", ".join(breached))}</div>')
    meta = [("target", run["target"]), ("base URL", run.get("base_url") or "—"),
            ("profile", f"{run['profile_name']} ({run['profile_hash']})"), ("profile file", run["profile"]),
            ("faults switched on", ", ".join(run.get("faults") or []) or "—"),
            ("authconform", run["authconform_version"]), ("git SHA", run.get("git_sha") or "—"),
            ("started", run["started"]), ("finished", run["finished"]), ("duration", f"{run['duration']} s")]
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta)
    body = (f"<h1>authconform load report</h1><p class=\"sub\">{esc(run['target'])} · {esc(run['started'])}</p>"
            f"{banner}<dl class=\"meta\">{items}</dl>{section(figures)}"
            f"<p class=\"note\">schema {esc(report['schema'])}; the same figures are in report.json "
            "(<code>load</code>); locust's own CSV files are beside it.</p>")
    return page(f"authconform load: {figures['scenario']} on {run['target']}", body)


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
