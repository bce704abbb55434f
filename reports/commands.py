"""What the report-side commands of ``authconform`` do: the end of ``run`` (write the four reports,
apply a baseline, choose the exit code), and ``baseline write``, ``diff``, ``replay``, ``compare``.

``conformance/cli.py`` owns the argument parsing and the exit codes for bad usage; errors raised
here are ``ValueError`` subclasses with a message naming the file and the fix, which the CLI turns
into exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import exitcodes
from conformance.errors import UsageError
from conformance.hypothesis_profiles import DEFAULT_PROFILE as DEFAULT_HYPOTHESIS_PROFILE
from conformance.hypothesis_profiles import PROFILE_ENV as HYPOTHESIS_PROFILE_ENV
from conformance.hypothesis_profiles import SEED_ENV
from conformance.runner import RunResult
from reports import baseline as baseline_mod
from reports import json_report, write_all

# --set fields whose values are never written into a report (replay asks for them again).
_SECRET_WORDS = ("key", "password", "secret", "token", "signing", "accounts")
HIDDEN = "[not recorded]"


@dataclass
class Prepared:
    """What ``run`` settles before any check runs, so a bad baseline fails fast (exit 2)."""

    baseline_path: str | None
    baseline: list[baseline_mod.Entry] | None
    meta: dict[str, Any]
    covered: tuple[str, ...] = ()  # the checks the baseline recorded as passing


def _recorded_overrides(items: list[str]) -> list[str]:
    recorded = []
    for item in items:
        field, _sep, _value = item.partition("=")
        if any(word in field.lower() for word in _SECRET_WORDS):
            recorded.append(f"{field}={HIDDEN}")
        else:
            recorded.append(item)
    return recorded


def prepare_run(args: argparse.Namespace) -> Prepared:
    path = getattr(args, "baseline", None)
    loaded = baseline_mod.load_baseline(path) if path else None
    in_process = not (args.target or args.profile)
    meta: dict[str, Any] = {
        "faults": sorted(args.fault) if in_process else [],
        "overrides": _recorded_overrides(list(args.overrides)),
        "strict": bool(args.strict),
        "hypothesis_profile": os.environ.get(HYPOTHESIS_PROFILE_ENV, DEFAULT_HYPOTHESIS_PROFILE),
        "hypothesis_seed": os.environ.get(SEED_ENV) or None,
    }
    return Prepared(path, loaded.entries if loaded else None, meta, loaded.covered if loaded else ())


def finish_run(result: RunResult, args: argparse.Namespace, prepared: Prepared) -> int:
    """Write report.json, junit.xml, report.html and summary.md; print the outcome; the exit code."""
    from conformance.cli import _print_summary

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
    _print_summary(report, directory)
    return code


# ---------------------------------------------------------------------------- baseline write

def cmd_baseline_write(args: argparse.Namespace) -> int:
    report = json_report.load(args.report)
    out = Path(args.output)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists; a baseline holds reasons people wrote: edit it, "
                         "or pass --force to write over it")
    text = baseline_mod.from_report(report, days=args.days)
    out.write_text(text)
    count = text.count("[[expected]]")
    print(f"wrote {out}: {count} expected failure(s), expiring in {args.days} days; fill in each reason")
    return exitcodes.OK


# ---------------------------------------------------------------------------- diff

def cmd_diff(args: argparse.Namespace) -> int:
    from reports.diff import compare

    old, new = json_report.load(args.old), json_report.load(args.new)
    diff = compare(old, new, strict=args.strict)
    if args.json:
        print(json.dumps(diff.to_dict(), indent=2))
    else:
        print(f"old: {args.old} ({old['run']['target']}, {old['run']['started']})")
        print(f"new: {args.new} ({new['run']['target']}, {new['run']['started']})")
        print(diff.render())
    return exitcodes.CONFORMANCE_FAILURE if diff.failed(strict=args.strict) else exitcodes.OK


# ---------------------------------------------------------------------------- replay

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
    from conformance import registry
    from conformance.deployments import http_source, in_process_source, reference_config
    from conformance.profile import DEFAULT_PROFILE, load, parse_override
    from conformance.runner import run

    report = json_report.load(args.report)
    recorded = {c["id"]: c for c in report["checks"]}
    if args.check not in recorded:
        raise UsageError(f"{args.report} has no result for {args.check}; it has: {', '.join(recorded) or 'none'}")
    entry = recorded[args.check]
    check = registry.get(args.check)
    meta = report["run"]

    kept = [item for item in meta.get("overrides", []) if not item.endswith("=" + HIDDEN)]
    hidden = [item.split("=", 1)[0] for item in meta.get("overrides", []) if item.endswith("=" + HIDDEN)]
    overrides = dict(parse_override(item) for item in kept + list(args.overrides))
    missing = [name for name in hidden if name not in overrides]
    if missing:
        print(f"note: the run set {', '.join(missing)} (not recorded); pass --set again if the check needs it",
              file=sys.stderr)
    in_process = json_report.is_in_process(report) and not args.target
    profile_file = None if meta.get("profile") == str(DEFAULT_PROFILE) else meta.get("profile")
    if in_process:
        from reference_impl.faults import parse_fault_list

        profile = load(None, overrides=overrides)
        faults = list(meta.get("faults") or [])
        source = in_process_source(profile, reference_config(parse_fault_list(",".join(faults))))
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
                        "overrides": _recorded_overrides(kept + list(args.overrides)),
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


# ---------------------------------------------------------------------------- compare

def _label(path: Path, taken: set[str]) -> str:
    name = path.parent.name if path.stem == "report" and path.parent.name else path.stem
    label, n = name or str(path), 2
    while label in taken:
        label, n = f"{name} ({n})", n + 1
    taken.add(label)
    return label


def cmd_compare(args: argparse.Namespace) -> int:
    from reports.html import compare_page

    if len(args.reports) < 2:
        raise UsageError("compare needs at least two reports (authconform compare A.json B.json ...)")
    taken: set[str] = set()
    loaded = [(_label(Path(p), taken), json_report.load(p)) for p in args.reports]
    if getattr(args, "only_differences", False):
        from reports.diff import only_differences

        kept = only_differences([report for _name, report in loaded])
        loaded = [(name, report) for (name, _old), report in zip(loaded, kept, strict=True)]
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(compare_page(loaded), encoding="utf-8")
    for name, report in loaded:
        counts = ", ".join(f"{n} {v}" for v, n in report["summary"].items() if n)
        print(f"{name:24} {report['run']['target']}: {counts}")
    ids = {c["id"] for _n, r in loaded for c in r["checks"]}
    shown = " that differ" if getattr(args, "only_differences", False) else ""
    print(f"{len(loaded)} targets x {len(ids)} checks{shown}: {out}")
    return exitcodes.OK
