"""What ``authconform run`` does around its checks: settle the report's metadata and the baseline
before any check runs, and afterwards write the four reports, apply the baseline and choose the
exit code."""

from __future__ import annotations

import argparse
import os
import sys
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


def prepare_run(args: argparse.Namespace) -> Prepared:
    path = getattr(args, "baseline", None)
    entries = baseline_mod.load(path) if path else None
    in_process = not (args.target or args.profile)
    meta: dict[str, Any] = {
        "faults": sorted(args.fault) if in_process else [],
        "overrides": recorded_overrides(args.overrides),
        "strict": bool(args.strict),
        "hypothesis_profile": os.environ.get(HYPOTHESIS_PROFILE_ENV, DEFAULT_HYPOTHESIS_PROFILE),
        "hypothesis_seed": os.environ.get(SEED_ENV) or None,
    }
    return Prepared(path, entries, meta)


def finish_run(result: RunResult, args: argparse.Namespace, prepared: Prepared) -> int:
    """Write report.json, junit.xml, report.html and summary.md; print the outcome; the exit code."""
    result.meta.update(prepared.meta)
    report = json_report.build(result)
    code = result.exit_code(strict=args.strict)
    if prepared.baseline is not None:
        gate = baseline_mod.evaluate(report, prepared.baseline, path=str(prepared.baseline_path),
                                     strict=args.strict)
        baseline_mod.annotate(report, gate)
        for line in gate.lines():
            print(line)
        code = exitcodes.OK if gate.passed else exitcodes.CONFORMANCE_FAILURE
    if result.stopped is not None:  # the target went away: no baseline makes that a pass
        code = exitcodes.TARGET_UNREACHABLE
        print(f"{result.stopped.headline()}; the checks left were not run (verdict error)", file=sys.stderr)
    directory = Path(args.report_dir)
    write_all(report, directory)
    print_summary(result.counts(), directory, result.finished - result.started)
    return code


def print_summary(counts: dict[str, int], directory: Path, seconds: float) -> None:
    parts = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    print(f"authconform: {parts} in {seconds:.1f} s; reports in {directory}/")
