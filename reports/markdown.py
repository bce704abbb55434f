"""A Markdown summary sized for a CI job summary or a pull-request comment.

Kept short on purpose (GitHub caps a comment at 65,536 characters): counts, the gate, at most
``MAX_ROWS`` failures with their rule and a shortened reason, the checks that judged less than
asked (partial) with what they judged, then how to fix each (and a stateful failure's sequence,
numbered); report.html has the rest. A stopped run says so once, at the top,
and lists the checks it did not run on one line instead of one row each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.breaker import Trip
from reports.json_report import control_text, coverage_text, not_run_checks

_ICON = {"pass": "✅", "fail": "❌", "error": "⚠️", "non-strict": "🟡", "partial": "🟠", "not-applicable": "➖"}
MAX_ROWS = 40
MAX_REASON = 240
MAX_FIX = 600
MAX_CHARS = 28_000  # the whole summary, well under GitHub's cap: the fixes stop where it is reached


def _cell(text: str, limit: int = MAX_REASON) -> str:
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def render(report: dict[str, Any]) -> str:
    run, summary = report["run"], report["summary"]
    lines = [
        f"## authconform: {run['target']}",
        "",
        " · ".join(f"{_ICON.get(k, '')} {k}: {v}" for k, v in summary.items()),
        "",
    ]
    stopped = run.get("stopped")
    not_run = not_run_checks(report)
    if stopped:
        lines += [f"**Run stopped: {_cell(Trip(**stopped).headline(), 1000)}**", ""]
        if not_run:
            lines += [f"Not run ({len(not_run)}, verdict error): " + ", ".join(f"`{c}`" for c in not_run), ""]
    gate = report.get("gate")
    if gate is not None:
        verdict = "passes" if gate["passed"] else "fails"
        lines.append(f"**Baseline gate {verdict}** (`{gate['baseline']}`): "
                     f"{len(gate['expected_failures'])} expected failure(s), "
                     f"{len(gate['unexpected_failures'])} not in the baseline, "
                     f"{len(gate.get('coverage_lost', []))} pass(es) lost, {len(gate['stale'])} stale entr"
                     f"{'y' if len(gate['stale']) == 1 else 'ies'}.")
        for lost in gate.get("coverage_lost", []):
            lines.append(f"- coverage lost: `{lost['check']}` passed in the baseline, now {lost['verdict']}")
        for stale in gate["stale"]:
            lines.append(f"- stale: `{stale['check']}`: {_cell(stale['why'])}")
        lines.append("")
    bad = [c for c in report["checks"] if c["verdict"] in ("fail", "error", "non-strict") and c["id"] not in not_run]
    if bad:
        lines += ["| check | verdict | rule | reason |", "|---|---|---|---|"]
        for entry in bad[:MAX_ROWS]:
            mark = " (baselined)" if entry.get("baseline") else ""
            lines.append(f"| `{entry['id']}` | {_ICON[entry['verdict']]} {entry['verdict']}{mark} | "
                         f"{_cell(entry['rule'])} | {_cell(_reason(entry))} |")
        if len(bad) > MAX_ROWS:
            lines.append(f"\n… and {len(bad) - MAX_ROWS} more: see report.html.")
        lines += _fixes(bad[:MAX_ROWS], MAX_CHARS - sum(len(line) + 1 for line in lines))
    elif not not_run:
        lines.append("No check failed.")
    partial = [c for c in report["checks"] if c["verdict"] == "partial"]
    if partial:
        lines += ["", f"**{_ICON['partial']} Judged less than asked** (partial: never a pass; `--strict` fails on it):"]
        for entry in partial[:MAX_ROWS]:
            judged = coverage_text(entry["coverage"]) if entry.get("coverage") else "coverage not recorded"
            reason = f": {_cell(entry['reason'])}" if entry["reason"] else ""
            lines.append(f"- `{entry['id']}`: {_cell(judged)}{reason}")
        if len(partial) > MAX_ROWS:
            lines.append(f"- … and {len(partial) - MAX_ROWS} more: see report.html.")
    seed = run.get("hypothesis_seed")
    tail = f"Profile `{run['profile_name']}` ({run['profile_hash']}), {run['duration']} s"
    tail += f", hypothesis seed `{seed}`." if seed is not None else "."
    lines += ["", tail,
              "Details, evidence and curl reproducers: report.html; machine-readable: report.json, junit.xml."]
    return "\n".join(lines) + "\n"


def _reason(entry: dict[str, Any]) -> str:
    """The reason, and the controls that did not hold (they say why the check could not judge)."""
    broken = [control_text(c) for c in entry.get("controls") or [] if not c.get("held")]
    return entry["reason"] + ("; control " + "; control ".join(broken) if broken else "")


def _fixes(entries: list[dict[str, Any]], budget: int) -> list[str]:
    """Under the table: per failure, how to fix it, and a stateful failure's steps as a numbered
    list; as many as ``budget`` characters hold."""
    lines = ["", "### How to fix"]
    for index, entry in enumerate(entries):
        fix = _cell(entry.get("remediation") or "see the rule", MAX_FIX)
        block = ["", f"**`{entry['id']}`** ({entry['verdict']}): {fix}"]
        steps = (entry.get("details") or {}).get("stateful_steps") or []
        if steps:
            seed = entry.get("hypothesis_seed")
            block += ["", f"Failing sequence ({len(steps)} steps" + (f", seed `{seed}`" if seed is not None else "")
                      + "):", ""]
            block += [f"{n}. {_cell(step, 300)}" for n, step in enumerate(steps, 1)]
        story = (entry.get("details") or {}).get("scenario_steps") or []
        if story:
            block += ["", f"Story ({len(story)} steps):", ""]
            block += [f"{n}. `{_cell(str(step.get('text', '')), 200)}` {_cell(str(step.get('verdict', '')), 20)}"
                      + (f": {_cell(str(step['reason']), 300)}" if step.get("reason") else "")
                      for n, step in enumerate(story, 1)]
        size = sum(len(line) + 1 for line in lines + block)
        if size > budget:
            lines += ["", f"… {len(entries) - index} more: see report.html."]
            break
        lines += block
    return lines


def write(report: dict[str, Any], directory: Path) -> Path:
    path = directory / "summary.md"
    path.write_text(render(report))
    return path
