"""The ``authconform`` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from conformance import exitcodes, registry
from conformance.profile import ProfileError, load, parse_override
from conformance.registry import Check
from conformance.verdict import Result, TargetUnreachable, Verdict

if TYPE_CHECKING:
    from conformance.targets.base import Target

DEFAULT_REPORT_DIR = "authconform-report"


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="authconform", description="Conformance suite for JWT-authenticated HTTP APIs.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging to stderr")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run the suite (no --target: against the bundled reference)")
    run.add_argument("--target", help="base URL of the target (default: the bundled reference, in-process)")
    run.add_argument("--profile", help="profile TOML describing the target")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                     help="override a profile field, e.g. --set tokens.access_ttl=60")
    run.add_argument("--area", action="append", default=[], help="run only this contract area")
    run.add_argument("--check", action="append", default=[], help="run only this check id")
    run.add_argument("--fault", action="append", default=[],
                     help="bundled reference only: switch on a fault from the catalog")
    run.add_argument("--strict", action="store_true", help="SHOULD rules fail the run too")
    run.add_argument("--report-dir", default=DEFAULT_REPORT_DIR, help="where reports are written")
    run.add_argument("--dry-run", action="store_true", help="list what would run and what is not applicable")
    run.add_argument("--baseline", metavar="FILE",
                     help="expected failures (TOML/JSON): exit 0 when only these fail; stale entries reported")
    run.add_argument("--wordlist", action="append", default=[], metavar="PATH",
                     help="your own list of candidate HS secrets (repeatable, any size, read as a stream): "
                          "TOK-SECRET-WEAK cracks the captured token with it offline; a find is redacted")

    checks = commands.add_parser("checks", help="list the checks")
    checks.add_argument("--json", action="store_true")
    checks.add_argument("--area", action="append", default=[])

    selftest = commands.add_parser("selftest", help="prove every check fails against its faults")
    selftest.add_argument("--fault", action="append", default=[], help="only this fault (repeatable)")
    selftest.add_argument("--full", action="store_true", help="run every check per fault (collateral)")
    selftest.add_argument("--workers", type=int, default=0, help="processes (default: up to 2)")
    selftest.add_argument("--report-dir", default=DEFAULT_REPORT_DIR)

    faults = commands.add_parser("faults", help="list the reference's fault catalog")
    faults.add_argument("--json", action="store_true")

    baseline = commands.add_parser("baseline", help="manage a baseline of expected failures")
    baseline_commands = baseline.add_subparsers(dest="baseline_command", required=True, parser_class=_Parser)
    baseline_write = baseline_commands.add_parser("write", help="a baseline accepting every failure of a report")
    baseline_write.add_argument("report", metavar="REPORT.json")
    baseline_write.add_argument("-o", "--output", default="authconform-baseline.toml", metavar="FILE")
    baseline_write.add_argument("--days", type=int, default=90, help="expiry, days from today (default 90)")
    baseline_write.add_argument("--force", action="store_true", help="write over an existing file")

    diff = commands.add_parser("diff", help="regressions, fixes, new and removed checks between two reports")
    diff.add_argument("old", metavar="OLD.json")
    diff.add_argument("new", metavar="NEW.json")
    diff.add_argument("--strict", action="store_true", help="count non-strict (SHOULD) failures too")
    diff.add_argument("--json", action="store_true")

    replay = commands.add_parser("replay", help="re-run one check of a report with its recorded seed and target")
    replay.add_argument("report", metavar="REPORT.json")
    replay.add_argument("--check", required=True, help="the check id to run again")
    replay.add_argument("--target", help="base URL to replay against (default: the recorded target)")
    replay.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE")
    replay.add_argument("--report-dir", help="also write the replay's reports here")

    compare = commands.add_parser("compare", help="one HTML matrix, targets x checks, from several reports")
    compare.add_argument("reports", nargs="+", metavar="REPORT.json")
    compare.add_argument("-o", "--output", default="compare.html", metavar="FILE")

    from scenarios.cli import add_parser as add_scenario_parser

    add_scenario_parser(commands)
    from conformance.load.cli import add_parser as add_load_parser

    add_load_parser(commands)
    from conformance.wizard import add_parser as add_init_parser

    add_init_parser(commands)
    from conformance.attacks.command import add_parser as add_forge_parser

    add_forge_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return exitcodes.USAGE_OR_PROFILE
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(COMMANDS[args.command](args))
    except ProfileError as exc:
        print(f"profile error: {exc}", file=sys.stderr)
        return exitcodes.USAGE_OR_PROFILE
    except (UsageError, KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"authconform: {message}", file=sys.stderr)
        return exitcodes.USAGE_OR_PROFILE
    except TargetUnreachable as exc:
        print(f"target unreachable: {exc}", file=sys.stderr)
        return exitcodes.TARGET_UNREACHABLE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # no traceback reaches a user; -v shows it
        logging.getLogger("authconform").debug("internal error", exc_info=True)
        print(f"authconform: internal error: {type(exc).__name__}: {exc} (run with -v for details)",
              file=sys.stderr)
        return exitcodes.INTERNAL_ERROR


# ---------------------------------------------------------------------------- run

def cmd_run(args: argparse.Namespace) -> int:
    from conformance.attacks.wordlists import with_wordlists
    from conformance.deployments import guarded_http_source, in_process_source, reference_config
    from conformance.runner import run, unmet_needs
    from reports.commands import finish_run, prepare_run

    overrides = dict(parse_override(item) for item in args.overrides)
    if args.target:
        overrides["target.base_url"] = args.target
    profile = with_wordlists(load(args.profile, overrides=overrides), args.wordlist)
    checks = registry.select(args.area, args.check)
    if args.target or args.profile:
        if args.fault:
            raise UsageError("--fault switches faults on in the bundled reference; drop --target/--profile")
        source = guarded_http_source(profile) if not args.dry_run else None
        target_name = profile.target.base_url
    else:
        from reference_impl.faults import parse_fault_list

        config = reference_config(parse_fault_list(",".join(args.fault)))
        source = in_process_source(profile, config)
        target_name = "reference (in-process)" + (f" with faults {', '.join(args.fault)}" if args.fault else "")
    if args.dry_run:
        return _dry_run(checks, profile, source, unmet_needs)
    assert source is not None
    prepared = prepare_run(args)  # reads the baseline before any check runs; records faults and seed
    progress = Progress(len(checks), checks)
    result = run(checks, source, strict=args.strict, profile=profile, target_name=target_name,
                 progress=progress)
    progress.done()
    return finish_run(result, args, prepared)  # writes all four reports, applies the baseline


def _dry_run(checks: list[Check], profile: Any, source: Any, unmet_needs: Any) -> int:
    from conformance.profile_docs import capability_summary
    from conformance.runner import Deployment

    print(f"profile {profile.source}: capabilities by contract section")
    print(capability_summary(profile))
    print()
    runs = 0
    for check in checks:
        if source is not None:
            deployment = source(check)
        else:
            deployment = Deployment(cast("Target", _NoTarget()), profile, None)
        missing = unmet_needs(check, deployment)
        runs += not missing
        state = "run" if not missing else "not applicable: needs " + "; ".join(missing)
        print(f"{check.id:32} {state}")
    print(f"{runs} of {len(checks)} checks would run; {len(checks) - runs} are not applicable (never a pass)")
    return exitcodes.OK


class _NoTarget:
    abilities: frozenset[str] = frozenset()


class Progress:
    """A live line on a terminal; plain lines in CI logs (failures, one line per area finished)."""

    def __init__(self, total: int, checks: Sequence[Check] = ()) -> None:
        self.total = total
        self.tty = sys.stdout.isatty()
        self.failures = 0
        self.area_left = {c.area: sum(1 for o in checks if o.area == c.area) for c in checks}

    def __call__(self, check: Check, result: Result, index: int, total: int) -> None:
        if result.verdict in (Verdict.FAIL, Verdict.ERROR, Verdict.NON_STRICT):
            self.failures += 1
            if self.tty:
                sys.stdout.write("\r\x1b[K")
            print(f"{result.verdict.upper():10} {check.id}: {result.reason}")
        if self.tty:
            sys.stdout.write(f"\r\x1b[K[{index}/{total}] {check.area}: {check.id}"
                             f"  ({self.failures} failing)")
            sys.stdout.flush()
        elif check.area in self.area_left:
            self.area_left[check.area] -= 1
            if self.area_left[check.area] == 0:
                print(f"[{index}/{total}] area {check.area} done, {self.failures} failing so far", flush=True)

    def done(self) -> None:
        if self.tty:
            sys.stdout.write("\r\x1b[K")
            sys.stdout.flush()


def _print_summary(counts: dict[str, int], directory: Path, seconds: float) -> None:
    parts = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    print(f"authconform: {parts} in {seconds:.1f} s; reports in {directory}/")


# ---------------------------------------------------------------------------- listings

def cmd_checks(args: argparse.Namespace) -> int:
    checks = registry.select(args.area)
    if args.json:
        print(json.dumps([c.describe() for c in checks], indent=2))
        return exitcodes.OK
    for check in checks:
        refs = ", ".join(check.references)
        print(f"{check.id:30} {check.level:6} {check.severity:8} {check.rule}" + (f"  [{refs}]" if refs else ""))
    print(f"{len(checks)} checks")
    return exitcodes.OK


def cmd_faults(args: argparse.Namespace) -> int:
    from reference_impl.faults import CATALOG

    if args.json:
        print(json.dumps([{"name": f.name, "section": f.section, "imitates": f.imitates,
                           "caught_by": list(f.caught_by), "config": dict(f.config)} for f in CATALOG],
                         indent=2))
        return exitcodes.OK
    for fault in CATALOG:
        print(f"{fault.name:32} §{fault.section}  {fault.imitates}  -> {', '.join(fault.caught_by)}")
    print(f"{len(CATALOG)} faults")
    return exitcodes.OK


def cmd_selftest(args: argparse.Namespace) -> int:
    from conformance import selftest
    from reference_impl.faults import parse_fault_list

    names = sorted(parse_fault_list(",".join(args.fault)))
    tasks = selftest.plan(names or None, full=args.full)
    tty = sys.stdout.isatty()

    def progress(outcome: selftest.Outcome, index: int, total: int) -> None:
        label = outcome.fault or "clean " + (str(outcome.config) if outcome.config else "default config")
        line = f"[{index}/{total}] {label} ({outcome.seconds:.1f} s)"
        if tty:
            sys.stdout.write("\r\x1b[K" + line)
            sys.stdout.flush()

    matrix = selftest.run(tasks, workers=args.workers or None, progress=progress)
    if tty:
        sys.stdout.write("\r\x1b[K")
    summary = matrix.build()
    directory = Path(args.report_dir)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "selftest.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(render_kill_matrix(summary))
    print(f"report: {directory / 'selftest.json'}")
    return exitcodes.OK if selftest.passed(summary, complete=not names) else exitcodes.CONFORMANCE_FAILURE


def render_kill_matrix(summary: dict[str, Any]) -> str:
    lines = [f"{'fault':32} {'killed':7} named checks (verdict)  | collateral"]
    for row in summary["matrix"]:
        named = ", ".join(f"{c}={v}" for c, v in row["expected"].items())
        collateral = ", ".join(row["collateral"]) or "-"
        lines.append(f"{row['fault']:32} {'yes' if row['killed'] else 'NO':7} {named}  | {collateral}")
    for problem in summary["clean_failures"]:
        lines.append(f"CLEAN REFERENCE {problem['verdict'].upper()}: {problem['check']} "
                     f"{problem['config'] or ''}: {problem['reason']}")
    if summary["checks_without_fault"]:
        lines.append("checks no fault exercises: " + ", ".join(summary["checks_without_fault"]))
    if summary["faults_naming_unknown_checks"]:
        lines.append("faults name unknown checks: " + ", ".join(summary["faults_naming_unknown_checks"]))
    lines.append(f"{summary['checks']} checks, {summary['faults']} faults, kill rate "
                 f"{summary['kill_rate']:.0%} ({summary['killed']}/{summary['faults']}), "
                 f"{len(summary['clean_failures'])} clean failures, {summary['seconds']} s")
    return "\n".join(lines)


def _report_command(name: str) -> Any:
    def command(args: argparse.Namespace) -> int:
        from reports import commands

        return int(getattr(commands, name)(args))

    return command


def _init_main(args: argparse.Namespace) -> int:
    from conformance.wizard import cmd_init

    return cmd_init(args)


def _scenario_main(args: argparse.Namespace) -> int:
    from scenarios.cli import main as scenario_main

    return scenario_main(args)


def _forge_main(args: argparse.Namespace) -> int:
    from conformance.attacks.command import main as forge_main

    return forge_main(args)


def _load_main(args: argparse.Namespace) -> int:
    from conformance.load.cli import main as load_main

    return load_main(args)


COMMANDS = {"run": cmd_run, "checks": cmd_checks, "faults": cmd_faults, "selftest": cmd_selftest,
            "baseline": _report_command("cmd_baseline_write"), "diff": _report_command("cmd_diff"),
            "replay": _report_command("cmd_replay"), "compare": _report_command("cmd_compare"),
            "scenario": _scenario_main, "load": _load_main, "init": _init_main, "forge": _forge_main}

if __name__ == "__main__":
    raise SystemExit(main())
