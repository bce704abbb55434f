"""report.html: one self-contained page a person can read in a minute.

No network, no JavaScript: inline CSS, and ``<details>`` for what is folded away. In order: the
run, the gate (when a baseline was used), the summary by contract area, every failure with its
rule, references, reason, a ``curl`` reproducer and the evidence, the matrices checks recorded
(role x route, tenant x object, any ``{row: {column: value}}`` detail), the self-test kill matrix
and the load figures when they are included, then every check in one table.

Evidence is redacted when it is recorded; the reproducer turns each redacted value into a shell
variable (``${REDACTED_TOKEN}``) for the reader to fill with a token of their own. An exchange that
sent a forged token starts with the ``authconform forge`` line rebuilding it from ``$TOKEN``, and
sends ``"${FORGED}"``.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conformance.attacks.forging import FORGED_VARIABLE, TOKEN_VARIABLE
from conformance.evidence import MASK
from conformance.registry import AREAS
from reports.json_report import checks_by_area

VERDICTS = ("pass", "fail", "error", "non-strict", "not-applicable")
BAD = ("fail", "error", "non-strict")
JWT_MASK = "[redacted-jwt]"
# A redacted value in evidence -> the shell variable a reproducer puts in its place.
FORGED_MASK = "[forged-token]"  # where the token the forge line rebuilt goes in a reproducer
PLACEHOLDERS = {JWT_MASK: "REDACTED_TOKEN", MASK: "REDACTED", FORGED_MASK: FORGED_VARIABLE}
IN_PROCESS_BASE = "${BASE_URL:-http://127.0.0.1:8000}"
# Detail keys with a known meaning; any other {row: {column: value}} detail is shown as well.
MATRIX_TITLES = {"role_matrix": "Role × route", "tenant_matrix": "Tenant × object"}
EVIDENCE_OPEN = 3  # a failure shows its last exchanges (they decided it); earlier ones are folded

CSS = """
:root { --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --na:#57606a; --err:#8250df; --line:#d0d7de;
        --soft:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color:#1f2328; margin:0; background:#fff; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 0; }
.sub { color: var(--na); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 5px 9px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.meta dt { color: var(--na); }
dl.meta dd { margin: 0; word-break: break-all; }
code, pre { font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px;
      overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 6px 0 10px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12.5px; font-weight: 600;
         color: #fff; white-space: nowrap; }
.v-pass { background: var(--ok); } .v-fail { background: var(--bad); } .v-error { background: var(--err); }
.v-non-strict { background: var(--warn); } .v-not-applicable { background: var(--na); }
.banner { padding: 12px 16px; border-radius: 8px; font-size: 17px; font-weight: 600; margin: 14px 0; }
.banner.ok { background: #dafbe1; color: #116329; border: 1px solid #8ddb9c; }
.banner.bad { background: #ffebe9; color: #a40e26; border: 1px solid #ff9492; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 22px; }
.failure { border: 1px solid var(--line); border-left: 5px solid var(--bad); border-radius: 6px;
           padding: 12px 16px; margin: 14px 0; }
.failure.error { border-left-color: var(--err); } .failure.non-strict { border-left-color: var(--warn); }
.failure p { margin: 6px 0; }
.label { color: var(--na); display: inline-block; min-width: 92px; }
.exchange { border-top: 1px dashed var(--line); padding-top: 6px; margin-top: 6px; }
details > summary { cursor: pointer; color: #0969da; margin: 4px 0; }
.cell-ok { background: #dafbe1; } .cell-refused { background: #eaeef2; } .cell-bad { background: #ffebe9; }
.note { color: var(--na); font-size: 13.5px; }
.stale { color: var(--warn); font-weight: 600; }
nav { margin: 8px 0 4px; font-size: 14px; } nav a { margin-right: 14px; color: #0969da; }
@media print { details { display: block; } details > summary { display: none; } }
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def badge(verdict: str | None) -> str:
    name = verdict or "absent"
    return f'<span class="badge v-{esc(name)}">{esc(name)}</span>'


def page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head>\n"
            f"<body><main>\n{body}\n</main></body></html>\n")


# ---------------------------------------------------------------------------- curl reproducer

def _shell_word(text: str) -> str:
    """``text`` as one shell word, each redacted value replaced by an unquoted ``${VARIABLE}``."""
    pattern = "(" + "|".join(re.escape(m) for m in PLACEHOLDERS) + ")"
    pieces = []
    for part in re.split(pattern, text):
        if not part:
            continue
        if part in PLACEHOLDERS:
            pieces.append('"${' + PLACEHOLDERS[part] + '}"')
        else:
            pieces.append(shlex.quote(part))
    return "".join(pieces) or "''"


def base_url(run: dict[str, Any]) -> str:
    url = str(run.get("base_url") or "")
    if str(run.get("target", "")).startswith("reference (in-process)") or not url:
        return IN_PROCESS_BASE
    return url.rstrip("/")


def curl(exchange: dict[str, Any], base: str) -> str:
    """A copy-pasteable curl command repeating ``exchange`` (secrets left as shell variables)."""
    request = exchange.get("request") or {}
    url = str(request.get("url", ""))
    if not re.match(r"https?://", url):
        url = base + ("" if url.startswith("/") else "/") + url
    if url.startswith(IN_PROCESS_BASE):  # leave ${BASE_URL:-...} for the shell to expand
        rest = url[len(IN_PROCESS_BASE):]
        target = '"' + IN_PROCESS_BASE + '"' + (_shell_word(rest) if rest else "")
    else:
        target = _shell_word(url)
    parts = ["curl -sS -i", "-X " + shlex.quote(str(request.get("method", "GET"))), target]
    headers = dict(request.get("headers") or {})
    body = str(request.get("body") or "")
    if body and not any(h.lower() == "content-type" for h in headers) and body.lstrip()[:1] in ("{", "["):
        headers["Content-Type"] = "application/json"
    forge_line = exchange.get("forge")
    for name, value in headers.items():
        if forge_line and name.lower() == "authorization":
            value = value.replace(JWT_MASK, FORGED_MASK).replace(MASK, FORGED_MASK)
        parts.append("-H " + _shell_word(f"{name}: {value}"))
    if body:
        parts.append("--data-raw " + _shell_word(body))
    command = " \\\n  ".join(parts)
    return f"{FORGED_VARIABLE}=$({forge_line})\n{command}" if forge_line else command


def _needs_secrets(command: str) -> list[str]:
    return [name for name in PLACEHOLDERS.values() if name != FORGED_VARIABLE and "${" + name + "}" in command]


# ---------------------------------------------------------------------------- sections

def _run_section(report: dict[str, Any]) -> str:
    run = report["run"]
    rows = [("target", run.get("target")), ("base URL", run.get("base_url") or "—"),
            ("profile", f"{run.get('profile_name')} ({run.get('profile_hash')})"),
            ("profile file", run.get("profile")),
            ("faults switched on", ", ".join(run.get("faults") or []) or "—"),
            ("authconform", run.get("authconform_version")), ("git SHA", run.get("git_sha") or "—"),
            ("hypothesis seed", run.get("hypothesis_seed") if run.get("hypothesis_seed") is not None else "—"),
            ("started", run.get("started")), ("finished", run.get("finished")),
            ("duration", f"{run.get('duration')} s")]
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    return f'<dl class="meta">{items}</dl>'


def _verdict_banner(report: dict[str, Any]) -> str:
    summary = report["summary"]
    gate = report.get("gate")
    failing = summary.get("fail", 0) + summary.get("error", 0)
    if gate is not None:
        unexpected = len(gate["unexpected_failures"])
        ok = gate["passed"]
        text = ("Gate passes: every failing check is in the baseline" if ok and failing else
                "Gate passes: no check failed" if ok else
                f"Gate fails: {unexpected} failing check(s) not in the baseline")
    else:
        ok = failing == 0
        text = "No check failed" if ok else f"{failing} check(s) failed"
    cards = "".join(f'<div class="card">{badge(v)}<b>{summary.get(v, 0)}</b></div>' for v in VERDICTS)
    return f'<div class="banner {"ok" if ok else "bad"}">{esc(text)}</div><div class="cards">{cards}</div>'


def _gate_section(report: dict[str, Any]) -> str:
    gate = report.get("gate")
    if gate is None:
        return ""
    out = [f"<h2 id=\"gate\">Baseline gate</h2><p>Baseline: <code>{esc(gate['baseline'])}</code></p>"]
    if gate["unexpected_failures"]:
        out.append("<p><b>Failing, not in the baseline:</b> " +
                   ", ".join(f"<code>{esc(c)}</code>" for c in gate["unexpected_failures"]) + "</p>")
    if gate["expected_failures"]:
        rows = "".join(f"<tr><td><code>{esc(e['check'])}</code></td><td>{esc(e['reason'])}</td>"
                       f"<td>{esc(e['expires'] or '—')}</td></tr>" for e in gate["expected_failures"])
        out.append("<table><tr><th>expected failure</th><th>reason</th><th>expires</th></tr>" + rows + "</table>")
    if gate["stale"]:
        rows = "".join(f"<tr><td><code>{esc(e['check'])}</code></td><td class=\"stale\">{esc(e['why'])}</td>"
                       f"<td>{esc(e['reason'])}</td></tr>" for e in gate["stale"])
        out.append("<p>Stale entries: remove them from the baseline.</p>"
                   "<table><tr><th>check</th><th>stale because</th><th>reason given</th></tr>" + rows + "</table>")
    return "\n".join(out)


def _summary_section(report: dict[str, Any]) -> str:
    head = "".join(f'<th class="num">{badge(v)}</th>' for v in VERDICTS)
    rows = []
    for area, entries in checks_by_area(report):
        counts = {v: sum(e["verdict"] == v for e in entries) for v in VERDICTS}
        section = AREAS.get(area, ("", "?"))[1]
        bad = ", ".join(f'<a href="#{esc(e["id"])}"><code>{esc(e["id"])}</code></a>'
                        for e in entries if e["verdict"] in BAD)
        cells = "".join(f'<td class="num">{counts[v] or ""}</td>' for v in VERDICTS)
        rows.append(f"<tr><td>{esc(area)}</td><td>§{esc(section)}</td>{cells}<td>{bad}</td></tr>")
    return (f'<h2 id="summary">Summary by area</h2><table><tr><th>area</th><th>contract</th>{head}'
            f"<th>failing checks</th></tr>{''.join(rows)}</table>")


def _exchange_html(exchange: dict[str, Any], base: str) -> str:
    request = exchange.get("request") or {}
    response = exchange.get("response")
    lines = [f"{request.get('method', '')} {request.get('url', '')}"]
    lines += [f"{k}: {v}" for k, v in (request.get("headers") or {}).items()]
    if request.get("body"):
        lines += ["", str(request["body"])]
    answer: list[str] = []
    if response is not None:
        answer = [f"HTTP {response.get('status')}"]
        answer += [f"{k}: {v}" for k, v in (response.get("headers") or {}).items()]
        if response.get("body"):
            answer += ["", str(response["body"])]
    elif exchange.get("error"):
        answer = [f"no answer: {exchange['error']}"]
    note = exchange.get("note") or ""
    number = exchange.get("n", "")
    return (f'<div class="exchange"><b>#{esc(number)}</b> {esc(note)}'
            f"<pre>{esc(chr(10).join(lines))}</pre><pre>{esc(chr(10).join(answer))}</pre>"
            f"<details><summary>curl</summary><pre>{esc(curl(exchange, base))}</pre></details></div>")


def _failure_html(entry: dict[str, Any], base: str) -> str:
    verdict = entry["verdict"]
    refs = ", ".join(entry.get("references") or []) or "—"
    parts = [f'<div class="failure {esc(verdict)}" id="{esc(entry["id"])}">',
             f"<h3>{badge(verdict)} <code>{esc(entry['id'])}</code> · {esc(entry['level'])} · "
             f"{esc(entry['severity'])} · {esc(entry['area'])} §{esc(entry.get('section', ''))}</h3>",
             f'<p><span class="label">rule</span>{esc(entry["rule"])}</p>',
             f'<p><span class="label">what it sent</span>{esc(entry.get("title", ""))}</p>',
             f'<p><span class="label">actual</span><b>{esc(entry["reason"])}</b></p>',
             f'<p><span class="label">references</span>{esc(refs)}</p>']
    if entry.get("baseline"):
        parts.append(f'<p><span class="label">baseline</span>expected failure: {esc(entry["baseline"]["reason"])}'
                     f" (expires {esc(entry['baseline']['expires'] or 'never')})</p>")
    if entry.get("hypothesis_seed") is not None:
        parts.append(f'<p><span class="label">seed</span><code>{esc(entry["hypothesis_seed"])}</code></p>')
    evidence = entry.get("evidence") or []
    if evidence:
        command = curl(evidence[-1], base)
        needs = _needs_secrets(command)
        hint = (" Set " + " and ".join(f"<code>{n}</code>" for n in needs) +
                " to values of your own (they were redacted)." if needs else "")
        if f'"${TOKEN_VARIABLE}"' in command:
            hint += (f" The first line forges the token again from <code>{TOKEN_VARIABLE}</code>: set it to an "
                     "access token of a test user of your own.")
        if '"$SECRET"' in command:
            hint += (" Set <code>SECRET</code> to the signing secret the run found in your own word list (it is "
                     "redacted here).")
        if base == IN_PROCESS_BASE:
            hint += (" The run used the in-process reference: serve it (<code>python -m reference_impl serve"
                     "</code>) and set <code>BASE_URL</code>.")
        parts.append(f'<p><span class="label">reproduce</span>the last exchange, which decided the verdict.'
                     f'<span class="note">{hint}</span></p><pre>{esc(command)}</pre>')
        earlier, deciding = evidence[:-EVIDENCE_OPEN], evidence[-EVIDENCE_OPEN:]
        folded = (f"<details><summary>{len(earlier)} earlier exchange(s) (set-up)</summary>"
                  + "".join(_exchange_html(x, base) for x in earlier) + "</details>") if earlier else ""
        body = folded + "".join(_exchange_html(x, base) for x in deciding)
        parts.append(f"<details open><summary>evidence: {len(evidence)} exchange(s), secrets redacted"
                     f"</summary>{body}</details>")
    details = {k: v for k, v in (entry.get("details") or {}).items() if not is_matrix(v)}
    if details:
        parts.append("<details><summary>details</summary><pre>" +
                     esc(json.dumps(details, indent=1, default=str)) + "</pre></details>")
    parts.append("</div>")
    return "\n".join(parts)


def _failures_section(report: dict[str, Any]) -> str:
    bad = [e for e in report["checks"] if e["verdict"] in BAD]
    if not bad:
        return '<h2 id="failures">Failures</h2><p>No check failed.</p>'
    base = base_url(report["run"])
    return f'<h2 id="failures">Failures ({len(bad)})</h2>' + "\n".join(_failure_html(e, base) for e in bad)


def is_matrix(value: Any) -> bool:
    """Whether ``value`` has the shape {row: {column: scalar}} (non-empty)."""
    if not isinstance(value, dict) or not value:
        return False
    for row in value.values():
        if not isinstance(row, dict) or not row:
            return False
        if any(isinstance(cell, dict | list) for cell in row.values()):
            return False
    return True


def _cell_class(value: Any) -> str:
    text = str(value).lower()
    if isinstance(value, bool):
        return "cell-ok" if value else "cell-bad"
    if isinstance(value, int) or text.isdigit():
        status = int(text)
        return "cell-ok" if 200 <= status < 300 else "cell-refused" if 400 <= status < 500 else "cell-bad"
    if any(word in text for word in ("fail", "leak", "unexpected", "wrong", "allowed!")):
        return "cell-bad"
    if any(word in text for word in ("ok", "pass", "allowed", "match")):
        return "cell-ok"
    if any(word in text for word in ("refused", "denied", "forbidden")):
        return "cell-refused"
    return ""


def matrix_table(matrix: dict[str, dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in matrix.values():
        for column in row:
            if column not in columns:
                columns.append(column)
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for name, row in matrix.items():
        cells = "".join(f'<td class="{_cell_class(row[c]) if c in row else ""}">{esc(row.get(c, ""))}</td>'
                        for c in columns)
        body.append(f"<tr><th>{esc(name)}</th>{cells}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(body)}</table>"


def _matrices_section(report: dict[str, Any]) -> str:
    known: list[tuple[int, str]] = []
    other: list[tuple[int, str]] = []
    for entry in report["checks"]:
        for key, value in (entry.get("details") or {}).items():
            if not is_matrix(value):
                continue
            title = MATRIX_TITLES.get(key, key.replace("_", " "))
            block = (f"<h3>{esc(title)} <span class=\"note\">from <a href=\"#{esc(entry['id'])}\">"
                     f"<code>{esc(entry['id'])}</code></a> {badge(entry['verdict'])}</span></h3>"
                     + matrix_table(value))
            (known if key in MATRIX_TITLES else other).append((list(MATRIX_TITLES).index(key)
                                                               if key in MATRIX_TITLES else 99, block))
    blocks = [b for _i, b in sorted(known, key=lambda x: x[0])] + [b for _i, b in other]
    if not blocks:
        return ('<h2 id="matrices">Matrices</h2><p class="note">No check in this run recorded a role × route '
                "or tenant × object matrix.</p>")
    return '<h2 id="matrices">Matrices</h2>' + "\n".join(blocks)


def selftest_section(summary: dict[str, Any] | None) -> str:
    if not summary:
        return ""
    rows = []
    for row in summary.get("matrix", []):
        named = " ".join(f"<code>{esc(c)}</code> {badge(v)}" for c, v in row.get("expected", {}).items())
        collateral = ", ".join(row.get("collateral") or []) or "—"
        killed = '<span class="badge v-pass">killed</span>' if row.get("killed") else \
            '<span class="badge v-fail">survived</span>'
        rows.append(f"<tr><td><code>{esc(row['fault'])}</code><br><span class=\"note\">{esc(row.get('imitates'))}"
                    f"</span></td><td>§{esc(row.get('section'))}</td><td>{killed}</td><td>{named}</td>"
                    f"<td>{esc(collateral)}</td></tr>")
    clean = "".join(f"<li><code>{esc(p['check'])}</code> {badge(p['verdict'])} {esc(p.get('config') or '')}: "
                    f"{esc(p['reason'])}</li>" for p in summary.get("clean_failures", []))
    rate = summary.get("kill_rate", 0.0)
    return (f'<h2 id="selftest">Self-test kill matrix</h2><p>{summary.get("killed")} of {summary.get("faults")} '
            f"faults killed ({rate:.0%}); {summary.get('checks')} checks; "
            f"{len(summary.get('clean_failures', []))} failures on the clean reference; "
            f"{esc(summary.get('seconds'))} s.</p>"
            + (f"<p>Clean reference problems:</p><ul>{clean}</ul>" if clean else "")
            + "<table><tr><th>fault</th><th>contract</th><th>result</th><th>named checks</th>"
              f"<th>collateral</th></tr>{''.join(rows)}</table>"
            + (f"<p class=\"note\">Checks no fault exercises: {esc(', '.join(summary['checks_without_fault']))}</p>"
               if summary.get("checks_without_fault") else ""))


def _load_charts(figures: dict[str, Any] | None) -> str:
    from reports.load import section  # imported late: reports.load builds on this module

    return section(figures)


# The load figures of `authconform load`, drawn with their charts (reports/load.py).
LOAD_RENDERER: Callable[[dict[str, Any] | None], str] = _load_charts


def _all_checks_section(report: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{esc(e['id'])}</code></td><td>{badge(e['verdict'])}</td><td>{esc(e['level'])}</td>"
        f"<td>{esc(e['severity'])}</td><td>{esc(e['rule'])}"
        + (f'<br><span class="note">{esc(e["reason"])}</span>' if e["verdict"] == "not-applicable" else "")
        + f"</td><td class=\"num\">{float(e.get('duration') or 0):.2f}</td></tr>"
        for e in report["checks"])
    return (f'<h2 id="checks">All checks ({len(report["checks"])})</h2><table><tr><th>check</th><th>verdict</th>'
            f"<th>level</th><th>severity</th><th>rule</th><th class=\"num\">s</th></tr>{rows}</table>")


def render(report: dict[str, Any], *, selftest: dict[str, Any] | None = None,
           load: dict[str, Any] | None = None) -> str:
    run = report["run"]
    sections = [("summary", "Summary"), ("failures", "Failures"), ("matrices", "Matrices")]
    sections += [("gate", "Baseline")] if report.get("gate") else []
    sections += [("selftest", "Kill matrix")] if selftest else []
    sections += [("load", "Load")] if load else []
    sections += [("checks", "All checks")]
    nav = "<nav>" + "".join(f'<a href="#{key}">{label}</a>' for key, label in sections) + "</nav>"
    body = [f"<h1>authconform report</h1><p class=\"sub\">{esc(run['target'])} · {esc(run['started'])}</p>",
            nav,
            _verdict_banner(report), _run_section(report), _gate_section(report), _summary_section(report),
            _failures_section(report), _matrices_section(report), selftest_section(selftest),
            LOAD_RENDERER(load), _all_checks_section(report),
            f"<p class=\"note\">schema {esc(report['schema'])}; the same data is in report.json.</p>"]
    return page(f"authconform: {run['target']}", "\n".join(part for part in body if part))


def write(report: dict[str, Any], directory: Path, *, selftest: dict[str, Any] | None = None,
          load: dict[str, Any] | None = None) -> Path:
    path = directory / "report.html"
    path.write_text(render(report, selftest=selftest, load=load), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- several targets

def compare_page(reports: list[tuple[str, dict[str, Any]]]) -> str:
    """One matrix, targets (columns) x checks (rows), from several reports."""
    order = {area: index for index, area in enumerate(AREAS)}
    rules: dict[str, tuple[str, str]] = {}
    for _name, report in reports:
        for entry in report["checks"]:
            rules.setdefault(entry["id"], (entry["area"], entry["rule"]))
    ids = sorted(rules, key=lambda c: (order.get(rules[c][0], len(order)), c))
    head = "".join(f"<th>{esc(name)}<br><span class=\"note\">{esc(r['run']['target'])}<br>{esc(r['run']['started'])}"
                   f"</span></th>" for name, r in reports)
    verdicts = [{e["id"]: e for e in r["checks"]} for _n, r in reports]
    rows = []
    for check_id in ids:
        cells = []
        for by_id in verdicts:
            entry = by_id.get(check_id)
            title = esc(entry["reason"]) if entry else "not in this report"
            cells.append(f'<td title="{title}">{badge(entry["verdict"]) if entry else "—"}</td>')
        rows.append(f"<tr><td><code>{esc(check_id)}</code><br><span class=\"note\">{esc(rules[check_id][1])}"
                    f"</span></td>{''.join(cells)}</tr>")
    totals = "".join("<td>" + " ".join(f"{badge(v)} {r['summary'].get(v, 0)}" for v in VERDICTS if
                                       r["summary"].get(v)) + "</td>" for _n, r in reports)
    body = (f"<h1>authconform: {len(reports)} targets side by side</h1>"
            f"<table><tr><th>check</th>{head}</tr><tr><th>totals</th>{totals}</tr>{''.join(rows)}</table>")
    return page("authconform: targets compared", body)
