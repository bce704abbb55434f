"""report.html: one self-contained page a person can read in a minute.

No network, no JavaScript: inline CSS, inline SVG, and ``<details>`` for what is folded away. In
order: the run, the gate (when a baseline was used), the summary by contract area, every failure
with its rule, references, reason, a ``curl`` reproducer and the evidence (the exchanges that
decided the verdict first), the partial judgements, the matrices checks recorded (role x route,
tenant x object, any ``{row: {column: value}}`` detail), the self-test kill matrix and the load
figures when they are included, then every check in one table.

This module turns a report (``json_report.build``) into what the templates of
``reports/templates/`` show; the templates hold the markup, escaped by Jinja2's autoescape.
Evidence is redacted when it is recorded; the reproducer turns each redacted value into a shell
variable (``${REDACTED_TOKEN}``) for the reader to fill with a token of their own. An exchange that
sent a forged token starts with the ``authconform forge`` line rebuilding it from ``$TOKEN``, and
sends ``"${FORGED}"``.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.attacks.forging import FORGED_VARIABLE, TOKEN_VARIABLE
from conformance.evidence import MASK
from conformance.registry import AREAS
from reports import load as load_report
from reports import templating
from reports.json_report import checks_by_area, not_run_checks, split_evidence

VERDICTS = ("pass", "fail", "error", "non-strict", "partial", "not-applicable")
BAD = ("fail", "error", "non-strict")
PARTIAL = "partial"
JWT_MASK = "[redacted-jwt]"
# A redacted value in evidence -> the shell variable a reproducer puts in its place.
FORGED_MASK = "[forged-token]"  # where the token the forge line rebuilt goes in a reproducer
PLACEHOLDERS = {JWT_MASK: "REDACTED_TOKEN", MASK: "REDACTED", FORGED_MASK: FORGED_VARIABLE}
IN_PROCESS_BASE = "${BASE_URL:-http://127.0.0.1:8000}"
# Detail keys with a known meaning; any other {row: {column: value}} detail is shown as well.
MATRIX_TITLES = {"role_matrix": "Role × route", "tenant_matrix": "Tenant × object"}


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


# ---------------------------------------------------------------------------- evidence

def exchange_view(exchange: dict[str, Any], base: str, *, decisive: bool) -> dict[str, Any]:
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
    return {"n": exchange.get("n", ""), "note": exchange.get("note") or "", "request": "\n".join(lines),
            "answer": "\n".join(answer), "curl": curl(exchange, base), "decisive": decisive}


@dataclass
class Card:
    """One failing (or partial) check as its card shows it."""

    entry: dict[str, Any]
    references: str
    controls: list[dict[str, Any]]
    decisive: list[dict[str, Any]] = field(default_factory=list)
    setup: list[dict[str, Any]] = field(default_factory=list)
    command: str = ""
    secrets: list[str] = field(default_factory=list)
    in_process: bool = False
    forged: bool = False  # the reproducer rebuilds a forged token from $TOKEN first
    own_secret: bool = False  # it needs the secret the run found in the user's own word list
    details: str = ""


def card(entry: dict[str, Any], base: str) -> Card:
    view = Card(entry, ", ".join(entry.get("references") or []) or "—", list(entry.get("controls") or []))
    decisive, setup = split_evidence(list(entry.get("evidence") or []))
    if decisive:
        view.command = curl(decisive[-1], base)
        view.secrets = _needs_secrets(view.command)
        view.in_process = base == IN_PROCESS_BASE
        view.forged = f'"${TOKEN_VARIABLE}"' in view.command
        view.own_secret = '"$SECRET"' in view.command
        view.decisive = [exchange_view(x, base, decisive=True) for x in decisive]
        view.setup = [exchange_view(x, base, decisive=False) for x in setup]
    details = {k: v for k, v in (entry.get("details") or {}).items() if not is_matrix(v)}
    if details:
        view.details = json.dumps(details, indent=1, default=str)
    return view


# ---------------------------------------------------------------------------- matrices

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


def matrix_view(matrix: dict[str, dict[str, Any]]) -> dict[str, Any]:
    columns: list[str] = []
    for row in matrix.values():
        for column in row:
            if column not in columns:
                columns.append(column)
    rows = [(name, [(_cell_class(row[c]) if c in row else "", row.get(c, "")) for c in columns])
            for name, row in matrix.items()]
    return {"columns": columns, "rows": rows}


def _matrices(report: dict[str, Any]) -> list[dict[str, Any]]:
    known: list[tuple[int, dict[str, Any]]] = []
    other: list[dict[str, Any]] = []
    for entry in report["checks"]:
        for key, value in (entry.get("details") or {}).items():
            if not is_matrix(value):
                continue
            block = {"title": MATRIX_TITLES.get(key, key.replace("_", " ")), "check": entry["id"],
                     "verdict": entry["verdict"], "matrix": matrix_view(value)}
            if key in MATRIX_TITLES:
                known.append((list(MATRIX_TITLES).index(key), block))
            else:
                other.append(block)
    return [b for _i, b in sorted(known, key=lambda x: x[0])] + other


# ---------------------------------------------------------------------------- the page

def _run_rows(run: dict[str, Any]) -> list[tuple[str, Any]]:
    seed = run.get("hypothesis_seed")
    return [("target", run.get("target")), ("base URL", run.get("base_url") or "—"),
            ("profile", f"{run.get('profile_name')} ({run.get('profile_hash')})"),
            ("profile file", run.get("profile")),
            ("faults switched on", ", ".join(run.get("faults") or []) or "—"),
            ("authconform", run.get("authconform_version")), ("git SHA", run.get("git_sha") or "—"),
            ("hypothesis seed", seed if seed is not None else "—"),
            ("started", run.get("started")), ("finished", run.get("finished")),
            ("duration", f"{run.get('duration')} s")]


def _banner(report: dict[str, Any]) -> dict[str, Any]:
    """The headline: a stopped run says so and why; else failures (or the gate's word on them);
    partial judgements are counted apart. Checks a stopped run did not run are not failures."""
    summary = report["summary"]
    gate = report.get("gate")
    not_run = not_run_checks(report)
    failing = summary.get("fail", 0) + summary.get("error", 0) - len(not_run)
    stopped = report["run"].get("stopped")
    if stopped:
        what = "target unreachable" if stopped.get("kind") == "unreachable" else "target refuses to serve the suite"
        after = stopped.get("after_check")
        when = f" after {after}" if after else " before the first check"
        return {"ok": False, "text": f"Run stopped, {what}{when}: {stopped.get('reason', '')}",
                "partial": summary.get(PARTIAL, 0), "not_run": not_run,
                "failing": failing}
    if gate is not None:
        ok = gate["passed"]
        text = ("Gate passes: every failing check is in the baseline" if ok and failing else
                "Gate passes: no check failed" if ok else
                f"Gate fails: {len(gate['unexpected_failures'])} failing check(s) not in the baseline")
    else:
        ok = failing == 0
        text = "No check failed" if ok else f"{failing} check(s) failed"
    return {"ok": ok, "text": text, "partial": summary.get(PARTIAL, 0), "not_run": [], "failing": failing}


def _areas(report: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for area, entries in checks_by_area(report):
        rows.append({"area": area, "section": AREAS.get(area, ("", "?"))[1],
                     "counts": [sum(e["verdict"] == v for e in entries) for v in VERDICTS],
                     "bad": [e["id"] for e in entries if e["verdict"] in BAD]})
    return rows


def render(report: dict[str, Any], *, selftest: dict[str, Any] | None = None,
           load: dict[str, Any] | None = None) -> str:
    run = report["run"]
    base = base_url(run)
    not_run = set(not_run_checks(report))
    failures = [card(e, base) for e in report["checks"] if e["verdict"] in BAD and e["id"] not in not_run]
    partials = [card(e, base) for e in report["checks"] if e["verdict"] == PARTIAL]
    nav = [("summary", "Summary"), ("failures", "Failures")]
    nav += [("partial", "Partial")] if partials else []
    nav += [("matrices", "Matrices")]
    nav += [("gate", "Baseline")] if report.get("gate") else []
    nav += [("selftest", "Kill matrix")] if selftest else []
    nav += [("load", "Load")] if load else []
    nav += [("checks", "All checks")]
    return templating.render(
        "report.html.j2", title=f"authconform: {run['target']}", report=report, run=run, nav=nav,
        banner=_banner(report), cards=[(v, report["summary"].get(v, 0)) for v in VERDICTS],
        coverages=[e for e in report["checks"] if e.get("coverage") and e["verdict"] == PARTIAL],
        run_rows=_run_rows(run), verdicts=VERDICTS, areas=_areas(report), failures=failures, partials=partials,
        matrices=_matrices(report), selftest=selftest or None,
        load=load_report.section_context(load) if load else None)


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
    by_id = [{e["id"]: e for e in r["checks"]} for _n, r in reports]
    rows = [{"id": check_id, "rule": rules[check_id][1], "entries": [found.get(check_id) for found in by_id]}
            for check_id in ids]
    return templating.render("compare.html.j2", title="authconform: targets compared", reports=reports, rows=rows,
                             verdicts=VERDICTS)
