"""``authconform replay``: one check of a report run again, with the report's target, faults,
overrides and hypothesis seed."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from conformance import registry
from conformance.deployments import http_source, in_process_source, parse_faults, reference_config
from conformance.errors import UsageError
from conformance.hypothesis_profiles import DEFAULT_PROFILE as DEFAULT_HYPOTHESIS_PROFILE
from conformance.hypothesis_profiles import PROFILE_ENV as HYPOTHESIS_PROFILE_ENV
from conformance.hypothesis_profiles import SEED_ENV
from conformance.overrides import hidden_fields, kept_items, recorded_overrides
from conformance.profile import DEFAULT_PROFILE, load, parse_override
from conformance.runner import run
from reports import json_report, write_all


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def cmd_replay(args: argparse.Namespace) -> int:
    report = json_report.load(args.report)
    recorded = {c["id"]: c for c in report["checks"]}
    if args.check not in recorded:
        raise UsageError(f"{args.report} has no result for {args.check}; it has: {', '.join(recorded) or 'none'}")
    entry = recorded[args.check]
    check = registry.get(args.check)
    meta = report["run"]

    kept = kept_items(meta.get("overrides", []))
    overrides = dict(parse_override(item) for item in kept + list(args.overrides))
    missing = [name for name in hidden_fields(meta.get("overrides", [])) if name not in overrides]
    if missing:
        print(f"note: the run set {', '.join(missing)} (not recorded); pass --set again if the check needs it",
              file=sys.stderr)
    in_process = json_report.is_in_process(report) and not args.target
    profile_file = None if meta.get("profile") == str(DEFAULT_PROFILE) else meta.get("profile")
    if in_process:
        profile = load(None, overrides=overrides)
        faults = list(meta.get("faults") or [])
        source = in_process_source(profile, reference_config(parse_faults(faults)))
        target_name = "reference (in-process)" + (f" with faults {', '.join(faults)}" if faults else "")
    else:
        url = args.target or meta.get("base_url")
        if not url:
            raise UsageError(f"{args.report} records no base URL; pass --target URL")
        overrides["target.base_url"] = url
        profile = load(None if args.target and json_report.is_in_process(report) else profile_file,
                       overrides=overrides)
        source = http_source(profile)
        target_name = profile.target.base_url
    if profile.fingerprint() != meta.get("profile_hash") and in_process:
        print(f"note: the profile differs from the run's ({profile.fingerprint()} vs {meta.get('profile_hash')})",
              file=sys.stderr)

    seed = entry.get("hypothesis_seed")
    if seed is None:
        seed = meta.get("hypothesis_seed")
    environment = {HYPOTHESIS_PROFILE_ENV: str(meta.get("hypothesis_profile") or DEFAULT_HYPOTHESIS_PROFILE)}
    if isinstance(seed, int) or (isinstance(seed, str) and seed.isdigit()):  # not "derandomized"
        environment[SEED_ENV] = str(seed)
    with _environment(environment):
        result = run([check], source, profile=profile, target_name=target_name, strict=bool(meta.get("strict")))
    result.meta.update({"faults": list(meta.get("faults") or []) if in_process else [],
                        "overrides": recorded_overrides(kept + list(args.overrides)),
                        "strict": bool(meta.get("strict")), "hypothesis_seed": seed,
                        "hypothesis_profile": environment[HYPOTHESIS_PROFILE_ENV], "replay_of": str(args.report)})
    outcome = result.results[0]
    same = str(outcome.verdict) == entry["verdict"]
    print(f"recorded: {entry['verdict']:14} {entry['reason']}")
    print(f"replay:   {str(outcome.verdict):14} {outcome.reason}")
    print(f"{args.check} against {target_name}" + (f", seed {seed}" if seed is not None else "") + ": " +
          ("reproduced" if same else "verdict differs from the recorded one"))
    if args.report_dir:
        write_all(json_report.build(result), Path(args.report_dir))
        print(f"reports in {args.report_dir}/")
    return result.exit_code(strict=bool(meta.get("strict")))
