"""report.json: the machine-readable record of one run (schema version in ``schema``)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

from conformance.registry import Check
from conformance.runner import RunResult

SCHEMA_VERSION = "authconform.report/1"


def _git_sha() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def build(run: RunResult) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        tool_version = version("authconform")
    except PackageNotFoundError:
        tool_version = "unknown"
    by_id: dict[str, Check] = {c.id: c for c in run.checks}
    entries = []
    for result in run.results:
        check = by_id[result.check_id]
        entry = check.describe()
        entry.update(result.to_dict())
        entry.pop("check_id")
        entries.append(entry)
    return {
        "schema": SCHEMA_VERSION,
        "run": {
            "target": run.target_name,
            "profile": run.profile.source,
            "profile_name": run.profile.name,
            "profile_hash": run.profile.fingerprint(),
            "authconform_version": tool_version,
            "git_sha": _git_sha(),
            "started": _stamp(run.started),
            "finished": _stamp(run.finished),
            "duration": round(run.finished - run.started, 3),
            **run.meta,
        },
        "summary": run.counts(),
        "checks": entries,
    }


def write(run: RunResult, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.json"
    path.write_text(json.dumps(build(run), indent=2) + "\n")
    return path
