"""report.json: the machine-readable record of one run (schema version in ``schema``).

The schema is documented field by field in ``docs/report-schema.md``; every other writer (JUnit,
HTML, Markdown) and every command that reads reports (baseline, diff, replay, compare) works from
the dictionary ``build`` returns, never from a RunResult, so what a report says is all they know.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance.registry import AREAS, Check
from conformance.runner import RunResult

SCHEMA_VERSION = "authconform.report/2"
# /1 lacks the partial verdict and the checks' coverage and controls; its readers treat them as absent.
READABLE_SCHEMAS = ("authconform.report/1", SCHEMA_VERSION)
SEED_DETAIL = "hypothesis_seed"  # a check's details may carry the seed its hypothesis run used


class ReportError(UsageError):
    """A file given as a report is missing, not JSON, or not an authconform report."""


def _git_sha() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                              cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _stamp(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def _run_seed(run: RunResult) -> Any:
    """The run's hypothesis seed: given in the run's metadata, else the first numeric seed a check
    recorded, else what a check said instead (``"derandomized"``), else None."""
    if run.meta.get(SEED_DETAIL) is not None:
        return run.meta[SEED_DETAIL]
    recorded = [r.details[SEED_DETAIL] for r in run.results if r.details.get(SEED_DETAIL) is not None]
    numeric = [s for s in recorded if isinstance(s, int)]
    return (numeric or recorded or [None])[0]


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
        entry[SEED_DETAIL] = result.details.get(SEED_DETAIL)
        entries.append(entry)
    meta = {"faults": [], "stopped": None, **run.meta}
    meta[SEED_DETAIL] = _run_seed(run)
    return {
        "schema": SCHEMA_VERSION,
        "run": {
            "target": run.target_name,
            # In-process there is no URL: reproducers then ask for one (BASE_URL).
            "base_url": "" if run.target_name.startswith("reference (in-process)") else run.profile.target.base_url,
            "profile": run.profile.source,
            "profile_name": run.profile.name,
            "profile_hash": run.profile.fingerprint(),
            "authconform_version": tool_version,
            "git_sha": _git_sha(),
            "started": _stamp(run.started),
            "finished": _stamp(run.finished),
            "duration": round(run.finished - run.started, 3),
            **meta,
        },
        "summary": run.counts(),
        "checks": entries,
    }


def write(run: RunResult, directory: Path) -> Path:
    return write_report(build(run), directory)


def write_report(report: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "report.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    return path


def load(path: str | Path) -> dict[str, Any]:
    """Read a report.json, refusing files that are not one (or of a schema this version cannot read)."""
    path = Path(path)
    try:
        report = json.loads(path.read_text())
    except OSError as exc:
        raise ReportError(f"{path}: cannot read it ({exc.strerror}); give the path of a report.json") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}: not JSON (line {exc.lineno}); give the path of a report.json") from None
    schema = report.get("schema") if isinstance(report, dict) else None
    if schema not in READABLE_SCHEMAS:
        raise ReportError(f"{path}: schema {schema!r} is not one of {', '.join(READABLE_SCHEMAS)}; "
                          "write the report again with this version of authconform")
    return report


def is_in_process(report: dict[str, Any]) -> bool:
    """Whether the report's target was the bundled reference run in-process."""
    return str(report["run"]["target"]).startswith("reference (in-process)")


def split_evidence(evidence: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the exchanges that decided the verdict, the set-up ones), each in recorded order. A check
    marks the deciding ones ``"decisive": true``; when it marked none, the last exchange decided."""
    marked = {i for i, x in enumerate(evidence) if x.get("decisive")}
    chosen = marked or ({len(evidence) - 1} if evidence else set())
    return ([x for i, x in enumerate(evidence) if i in chosen], [x for i, x in enumerate(evidence) if i not in chosen])


def coverage_text(coverage: dict[str, Any]) -> str:
    """What a check judged, in words: "2 of 4 roles (not judged: admin, superadmin)"."""
    text = f"{coverage.get('judged', '?')} of {coverage.get('asked', '?')} {coverage.get('unit', '')}".rstrip()
    missing = coverage.get("missing") or []
    return text + (f" (not judged: {', '.join(str(m) for m in missing)})" if missing else "")


def control_text(control: dict[str, Any]) -> str:
    """One control in words: "before: valid token accepted: held (200)"."""
    held = "held" if control.get("held") else "did not hold"
    detail = control.get("detail") or ""
    return f"{control.get('phase', '')}: {control.get('name', '')}: {held}" + (f" ({detail})" if detail else "")


NOT_RUN = "not run: "  # how conformance.breaker words a check it kept from running


def not_run_checks(report: dict[str, Any]) -> list[str]:
    """The ids of the checks a stopped run did not run (verdict error, the stop's reason)."""
    if not report["run"].get("stopped"):
        return []
    return [c["id"] for c in report["checks"] if c["verdict"] == "error" and str(c["reason"]).startswith(NOT_RUN)]


def checks_by_area(report: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """A report's check entries grouped by contract area, in the registry's area order."""
    order = {area: index for index, area in enumerate(AREAS)}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in report["checks"]:
        grouped.setdefault(entry["area"], []).append(entry)
    return sorted(grouped.items(), key=lambda item: order.get(item[0], len(order)))
