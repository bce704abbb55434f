"""A Markdown summary sized for a CI job summary or a pull-request comment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

_ICON = {"pass": "✅", "fail": "❌", "error": "⚠️", "non-strict": "🟡", "not-applicable": "➖"}


def render(report: dict[str, Any]) -> str:
    run, summary = report["run"], report["summary"]
    lines = [
        f"## authconform: {run['target']}",
        "",
        " · ".join(f"{_ICON[k]} {k}: {v}" for k, v in summary.items()),
        "",
    ]
    bad = [c for c in report["checks"] if c["verdict"] in ("fail", "error", "non-strict")]
    if bad:
        lines += ["| check | verdict | rule | reason |", "|---|---|---|---|"]
        for entry in bad:
            reason = entry["reason"].replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{entry['id']}` | {_ICON[entry['verdict']]} {entry['verdict']} | "
                         f"{entry['rule']} | {reason} |")
    else:
        lines.append("No check failed.")
    lines += ["", f"Profile `{run['profile_name']}` ({run['profile_hash']}), {run['duration']} s."]
    return "\n".join(lines) + "\n"


def write(report: dict[str, Any], directory: Path) -> Path:
    path = directory / "summary.md"
    path.write_text(render(report))
    return path
