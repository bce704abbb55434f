"""What ``authconform run`` does around its checks: settle the report's metadata and the baseline
before any check runs, and afterwards write the four reports, apply the baseline and choose the
exit code."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import exitcodes
from conformance.hypothesis_profiles import DEFAULT_PROFILE as DEFAULT_HYPOTHESIS_PROFILE
from conformance.hypothesis_profiles import PROFILE_ENV as HYPOTHESIS_PROFILE_ENV
from conformance.hypothesis_profiles import SEED_ENV
from conformance.overrides import recorded_overrides
from conformance.runner import RunResult
from reports import baseline as baseline_mod
from reports import json_report, write_all


@dataclass
class Prepared:
    """What ``run`` settles before any check runs, so a bad baseline fails fast (exit 2)."""

    baseline_path: str | None
    baseline: list[baseline_mod.Entry] | None
    meta: dict[str, Any]
    covered: tuple[str, ...] = ()  # the checks the baseline recorded as passing


def prepare_run(args: argparse.Namespace) -> Prepared:
    path = getattr(args, "baseline", None)
    loaded = baseline_mod.load_baseline(path) if path else None
    in_process = not (args.target or args.profile)
    meta: dict[str, Any] = {
        "faults": sorted(args.fault) if in_process else [],
        "overrides": recorded_overrides(args.overrides),
        "strict": bool(args.strict),
        "hypothesis_profile": os.environ.get(HYPOTHESIS_PROFILE_ENV, DEFAULT_HYPOTHESIS_PROFILE),
        "hypothesis_seed": os.environ.get(SEED_ENV) or None,
    }
    return Prepared(path, loaded.entries if loaded else None, meta, loaded.covered if loaded else ())


def finish_run(result: RunResult, args: argparse.Namespace, prepared: Prepared) -> int:
    """Write report.json, junit.xml, report.html and summary.md; print the outcome; the exit code."""
    result.meta.update(prepared.meta)
    report = json_report.build(result)
    code = result.exit_code(strict=args.strict)
    if prepared.baseline is not None:
        gate = baseline_mod.evaluate(report, prepared.baseline, path=str(prepared.baseline_path),
                                     strict=args.strict, covered=prepared.covered)
        baseline_mod.annotate(report, gate)
        for line in gate.lines():
            print(line)
        code = exitcodes.OK if gate.passed else exitcodes.CONFORMANCE_FAILURE
    if result.stopped is not None:  # the target went away: no baseline makes that a pass
        code = exitcodes.TARGET_UNREACHABLE
    directory = Path(args.report_dir)
    write_all(report, directory)
    print_summary(report, directory)
    return code


def print_summary(report: dict[str, Any], directory: Path) -> None:
    """The run's last line: the counts (checks a stopped run did not run apart), the wall time."""
    counts = dict(report["summary"])
    not_run = len(json_report.not_run_checks(report))
    counts["error"] = counts.get("error", 0) - not_run
    parts = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    if not_run:
        parts = ", ".join(p for p in (parts, f"{not_run} not run") if p)
    for shortfall in report["run"].get("accounts_needed") or []:
        print(f"authconform: {shortfall['advice']}")
    stopped = report["run"].get("stopped")
    head = "run stopped, " + _stop_kind(stopped) + ": " if stopped else ""
    print(f"authconform: {head}{parts} in {float(report['run']['duration']):.1f} s; reports in {directory}/")


def _stop_kind(stopped: dict[str, Any]) -> str:
    what = "target unreachable" if stopped.get("kind") == "unreachable" else "target refuses to serve the suite"
    after = stopped.get("after_check")
    return what + (f" after {after}" if after else " before the first check")
