"""The ``authconform`` command."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from unittest import mock

from conformance import exitcodes, hypothesis_profiles, registry
from conformance.errors import UsageError
from conformance.extras import MissingExtra
from conformance.profile import ProfileError, load, parse_override
from conformance.registry import Check
from conformance.verdict import Result, TargetUnreachable, Verdict

if TYPE_CHECKING:
    from conformance.breaker import Breaker
    from conformance.leases import WaitBoard
    from conformance.targets.base import Target

DEFAULT_REPORT_DIR = "authconform-report"


# In CI logs (not a terminal), the pending waits are printed at most this often (s), when they changed.
PLAIN_WAITS_EVERY = 10.0

# The shell's code for a process ended by SIGPIPE (128 + 13): what `cmd | head -1` leaves behind.
BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _add_verbose(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # Accepted before and after the subcommand; SUPPRESS keeps a subcommand's absent -v from
    # overwriting the one given before it.
    parser.add_argument("-v", "--verbose", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="debug logging to stderr, tracebacks and the reference's own log")


def _add_verbose_everywhere(parser: argparse.ArgumentParser) -> None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if "-v" not in sub._option_string_actions:
                    _add_verbose(sub, top=False)
                _add_verbose_everywhere(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="authconform", description="Conformance suite for JWT-authenticated HTTP APIs.")
    _add_verbose(parser, top=True)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = commands.add_parser("run", help="run the suite (no --target: against the bundled reference)",
                              epilog=registry.SELECTION_RULES)
    run.add_argument("--target", help="base URL of the target (default: the bundled reference, in-process)")
    run.add_argument("--profile", help="profile TOML describing the target")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                     help="override a profile field, e.g. --set tokens.access_ttl=60")
    run.add_argument("--area", action="append", default=[],
                     help="only checks of this contract area (repeat for several areas)")
    run.add_argument("--check", action="append", default=[],
                     help="only this check id (repeat for several); with --area, only ids in those areas")
    run.add_argument("--fault", action="append", default=[],
                     help="bundled reference only: switch on a fault from the catalog")
    run.add_argument("--strict", action="store_true", help="SHOULD rules fail the run too")
    run.add_argument("--report-dir", default=DEFAULT_REPORT_DIR, help="where reports are written")
    run.add_argument("--dry-run", action="store_true", help="list what would run and what is not applicable")
    run.add_argument("--baseline", metavar="FILE",
                     help="expected failures (TOML/JSON): exit 0 when only these fail and no pass the "
                          "baseline recorded was lost; stale entries reported")
    run.add_argument("--seed", type=_seed, metavar="N",
                     help="seed of the randomized draws (the stateful check; every property check under "
                          "--hypothesis-profile thorough), recorded in the report for replay")
    run.add_argument("--hypothesis-profile", choices=sorted(hypothesis_profiles.PROFILES),
                     help=f"ci: small and repeatable (default); thorough: many more examples, seeded "
                          f"(also {hypothesis_profiles.PROFILE_ENV})")
    run.add_argument("--max-examples", type=_positive_int, metavar="N",
                     help="examples per property or stateful check, instead of the profile's number")
    run.add_argument("-x", "--exitfirst", action="store_true",
                     help="stop after the first failure or error; the checks after it are not run (one "
                          "check at a time)")
    run.add_argument("-j", "--jobs", type=_positive_int, metavar="N",
                     help="checks run side by side against an HTTP target (default: [target] "
                          "max_concurrency of the profile, 8); --jobs 1 runs them one after another, "
                          "reproducibly. In-process runs are always serial")
    run.add_argument("-q", "--quiet", action="store_true",
                     help="no progress lines: only what the run ends with (the summary, a baseline's verdict)")
    run.add_argument("--wordlist", action="append", default=[], metavar="PATH",
                     help="your own list of candidate HS secrets (repeatable, any size, read as a stream): "
                          "TOK-SECRET-WEAK cracks the captured token with it offline; a find is redacted")
    run.add_argument("--openapi", metavar="URL_OR_FILE",
                     help="the target's OpenAPI document (a path such as /openapi.json is fetched from the "
                          "target): the route matrix and the forged-token checks judge every operation it "
                          "describes (sets [openapi] document; needs authconform[openapi])")

    checks = commands.add_parser("checks", help="list the checks")
    checks.add_argument("--json", action="store_true")
    checks.add_argument("--area", action="append", default=[])
    checks.add_argument("--kind", choices=(*registry.KINDS, "all"), default=registry.CHECK,
                        help="check: the contract's rules one by one (default); scenario: the stories "
                             "that play several rules out (`authconform scenario`); all: both")

    selftest = commands.add_parser("selftest", help="prove every check fails against its faults")
    selftest.add_argument("--fault", action="append", default=[], help="only this fault (repeatable)")
    selftest.add_argument("--full", action="store_true", help="run every check per fault (collateral)")
    selftest.add_argument("--workers", type=int, default=0, help="processes (default: up to 2)")
    selftest.add_argument("--report-dir", default=DEFAULT_REPORT_DIR)
    selftest.add_argument("--conditions", action="store_true",
                          help="the no-false-pass matrix: every fault under each condition of the reference "
                               "(tiny-api-limit, single-use-access-tokens, flaky-5xx, slow-answers)")
    selftest.add_argument("--condition", action="append", default=[],
                          help="with --conditions: only this condition (repeatable)")

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
    diff.add_argument("--strict", action="store_true",
                      help="count non-strict (SHOULD) failures too, and fail on lost coverage (a pass "
                           "that became not applicable, error or partial)")
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
    compare.add_argument("--only-differences", action="store_true",
                         help="only the checks whose verdict is not the same in every report")

    from scenarios.cli import add_parser as add_scenario_parser

    add_scenario_parser(commands)
    from conformance.load.cli import add_parser as add_load_parser

    add_load_parser(commands)
    from conformance.wizard import add_parser as add_init_parser

    add_init_parser(commands)
    _add_verbose_everywhere(parser)
    from conformance.profile_cli import add_parser as add_profile_parser

    add_profile_parser(commands)
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
        code = int(COMMANDS[args.command](args))
        sys.stdout.flush()  # a reader that left shows here, not in the interpreter's last flush
        return code
    except BrokenPipeError:
        return _pipe_closed()
    except ProfileError as exc:
        print(f"profile error: {exc}", file=sys.stderr)
        return exitcodes.USAGE_OR_PROFILE
    except MissingExtra as exc:
        print(f"authconform: {exc}", file=sys.stderr)
        return exitcodes.USAGE_OR_PROFILE
    except _usage_errors() as exc:
        print(f"authconform: {exc}", file=sys.stderr)
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


def _usage_errors() -> tuple[type[Exception], ...]:
    """The errors that mean "asked wrongly" (exit 2); any other exception is a bug (exit 70)."""
    from conformance.deployments import unknown_fault_error
    from scenarios.catalog import ScenarioFileError

    return UsageError, unknown_fault_error(), ScenarioFileError


def _pipe_closed() -> int:
    # The reader went away (`authconform checks | head -1`): stop quietly. Whatever is still
    # buffered goes to /dev/null, so the flush at exit does not fail a second time.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return BROKEN_PIPE


# ---------------------------------------------------------------------------- run

def _hypothesis_environment(args: argparse.Namespace) -> dict[str, str]:
    """The run's hypothesis options as the environment the checks read (see hypothesis_profiles)."""
    values = {}
    if args.hypothesis_profile:
        values[hypothesis_profiles.PROFILE_ENV] = args.hypothesis_profile
    if args.seed is not None:
        values[hypothesis_profiles.SEED_ENV] = str(args.seed)
    if args.max_examples is not None:
        values[hypothesis_profiles.MAX_EXAMPLES_ENV] = str(args.max_examples)
    return values


@contextlib.contextmanager
def _quiet_reference(verbose: bool) -> Iterator[None]:
    """In-process, the reference's own warnings are the suite's doing (a store it switched off, a
    fault it switched on, a 500 a check provoked and judges): shown with -v only."""
    logger = logging.getLogger("reference_impl")
    saved = logger.level
    if not verbose:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(saved)


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.runner import real_time

    started = real_time()  # the pre-flight probe is part of the run: a dead target costs ready_timeout
    with mock.patch.dict(os.environ, _hypothesis_environment(args)), _quiet_reference(args.verbose):
        return _run(args, started)


def _run(args: argparse.Namespace, started: float) -> int:
    from conformance.attacks.wordlists import with_wordlists
    from conformance.commands.run_end import finish_run, prepare_run
    from conformance.deployments import guarded_http_source, in_process_source, parse_faults, reference_config
    from conformance.runner import run, unmet_needs

    hypothesis_profiles.active_name()  # a bad AUTHCONF_HYPOTHESIS_PROFILE is a usage error before any check
    overrides = dict(parse_override(item) for item in args.overrides)
    if args.target:
        overrides["target.base_url"] = args.target
    if args.openapi:
        overrides["openapi.document"] = args.openapi
    profile = with_wordlists(load(args.profile, overrides=overrides), args.wordlist)
    checks = registry.select(args.area, args.check)
    if args.target or args.profile:
        if args.fault:
            raise UsageError("--fault switches faults on in the bundled reference; drop --target/--profile")
        source = guarded_http_source(profile) if not args.dry_run else None
        target_name = profile.target.base_url
    else:
        config = reference_config(parse_faults(args.fault))
        source = in_process_source(profile, config)
        target_name = "reference (in-process)" + (f" with faults {', '.join(args.fault)}" if args.fault else "")
        if args.fault and not args.dry_run:
            print(f"faults switched on in the bundled reference (deliberately vulnerable): {', '.join(args.fault)}")
    if args.dry_run:
        return _dry_run(checks, profile, source, unmet_needs)
    assert source is not None
    prepared = prepare_run(args)  # reads the baseline before any check runs; records faults and seed
    deployment = getattr(source, "deployment", None)  # an HTTP target: its waits are real
    progress = Progress(len(checks), checks, breaker=getattr(source, "breaker", None),
                        waits=deployment.budgets.waits if deployment is not None else None, quiet=args.quiet)
    try:
        result = run(checks, source, strict=args.strict, profile=profile, target_name=target_name,
                     progress=progress, exitfirst=args.exitfirst, jobs=args.jobs)
    finally:
        progress.done()
    result.started = min(result.started, started)
    if len(result.results) < len(checks):
        print(f"stopped after the first failure (-x): {len(checks) - len(result.results)} check(s) not run")
    return finish_run(result, args, prepared)  # writes all four reports, applies the baseline


def _dry_run(checks: list[Check], profile: Any, source: Any, unmet_needs: Any) -> int:
    from conformance.deployments import signing_from_profile
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
            # The key the run would use, so minting checks read "run" when the profile has one.
            deployment = Deployment(cast("Target", _NoTarget()), profile, signing_from_profile(profile))
        missing = unmet_needs(check, deployment)
        runs += not missing
        state = "run" if not missing else "not applicable: needs " + "; ".join(missing)
        print(f"{check.id:32} {state}")
    print(f"{runs} of {len(checks)} checks would run; {len(checks) - runs} are not applicable (never a pass)")
    return exitcodes.OK


class _NoTarget:
    abilities: frozenset[str] = frozenset()


class Progress:
    """What a run shows while it runs: a line per finished check (its verdict, and the reason when
    it did not pass) and, on a terminal, a live line below them that says how far the run is and
    what is waiting for the target's clock until when; in CI logs (not a terminal) the pending waits
    are a plain line now and then instead. Nothing at all under --quiet. Once the run's circuit
    breaker opens, one banner says why and the checks it kept from running are gathered into one
    line at the end, instead of one identical error line each."""

    def __init__(self, total: int, checks: Sequence[Check] = (), breaker: Breaker | None = None,
                 waits: WaitBoard | None = None, *, quiet: bool = False) -> None:
        self.total = total
        self.tty = sys.stdout.isatty()
        self.quiet = quiet
        self.failures = 0
        self.finished = 0
        self.breaker = breaker
        self.waits = waits
        self.not_run: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._shown_waits: tuple[str, ...] = ()
        self._waits_printed = 0.0
        self._ticker: threading.Thread | None = None
        if waits is not None and not quiet:
            self._ticker = threading.Thread(target=self._tick, name="authconform-progress", daemon=True)
            self._ticker.start()

    def _blocked(self, check: Check, result: Result) -> bool:
        return (self.breaker is not None and self.breaker.trip is not None and result.verdict is Verdict.ERROR
                and result.reason == self.breaker.blocked(check).reason)

    def __call__(self, check: Check, result: Result, index: int, total: int) -> None:
        with self._lock:
            self.finished = index
            if self.quiet:
                return
            self._clear()
            if self._blocked(check, result):
                if not self.not_run and self.breaker is not None and self.breaker.trip is not None:
                    print(f"RUN STOPPED {self.breaker.trip.headline()}")
                self.not_run.append(check.id)
            else:
                failing = result.verdict in (Verdict.FAIL, Verdict.ERROR, Verdict.NON_STRICT, Verdict.PARTIAL)
                self.failures += failing
                reason = f": {result.reason}" if failing or result.verdict is Verdict.NOT_APPLICABLE else ""
                print(f"[{index}/{total}] {result.verdict.upper():14} {check.id} ({result.duration:.1f} s){reason}")
                for number, step in enumerate(result.details.get("stateful_steps") or [], 1):
                    print(f"{'':10} {number}. {step}")
            self._live()
            sys.stdout.flush()

    # -------------------------------------------------------------- the waits
    def _pending(self) -> list[str]:
        if self.waits is None:
            return []
        return [f"{w.owner or 'a check'}: {w.what} until {time.strftime('%H:%M:%S', time.localtime(w.until))}"
                for w in self.waits.pending()]

    def _clear(self) -> None:
        if self.tty:
            sys.stdout.write("\r\x1b[K")

    def _live(self) -> None:
        if not self.tty:
            return
        pending = self._pending()
        line = f"[{self.finished}/{self.total}] {self.failures} failing"
        if pending:
            line += f" | waiting: {pending[0]}" + (f" (+{len(pending) - 1} more)" if len(pending) > 1 else "")
        width = shutil.get_terminal_size((120, 20)).columns - 1
        sys.stdout.write(line[:width])

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                if self.tty:
                    self._clear()
                    self._live()
                    sys.stdout.flush()
                    continue
                pending = tuple(self._pending())
                now = time.monotonic()
                if pending and pending != self._shown_waits and now - self._waits_printed >= PLAIN_WAITS_EVERY:
                    print(f"waiting ({len(pending)}): " + "; ".join(pending), flush=True)
                    self._shown_waits, self._waits_printed = pending, now

    def done(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        with self._lock:
            if self.quiet:
                return
            self._clear()
            sys.stdout.flush()
            if self.not_run:
                print(f"not run ({len(self.not_run)}, verdict error): {', '.join(self.not_run)}")


# ---------------------------------------------------------------------------- listings

def cmd_checks(args: argparse.Namespace) -> int:
    if args.kind != registry.CHECK:
        from scenarios.runner import register_all

        register_all()
    checks = registry.select(args.area, kind=None if args.kind == "all" else args.kind)
    if args.json:
        print(json.dumps([c.describe() for c in checks], indent=2))
        return exitcodes.OK
    width = max([30, *(len(check.id) for check in checks)])
    for check in checks:
        refs = ", ".join(check.references)
        print(f"{check.id:{width}} {check.level:6} {check.severity:8} {check.rule}" + (f"  [{refs}]" if refs else ""))
    print(f"{len(checks)} " + ("checks" if args.kind == registry.CHECK else f"entries of kind {args.kind}"))
    return exitcodes.OK


def cmd_faults(args: argparse.Namespace) -> int:
    from conformance.deployments import fault_catalog

    catalog = fault_catalog()
    if args.json:
        print(json.dumps([{"name": f.name, "section": f.section, "imitates": f.imitates,
                           "caught_by": list(f.caught_by), "config": dict(f.config)} for f in catalog],
                         indent=2))
        return exitcodes.OK
    for fault in catalog:
        print(f"{fault.name:32} §{fault.section}  {fault.imitates}  -> {', '.join(fault.caught_by)}")
    print(f"{len(catalog)} faults")
    return exitcodes.OK


def cmd_selftest(args: argparse.Namespace) -> int:
    from conformance import selftest
    from conformance.deployments import parse_faults

    names = sorted(parse_faults(args.fault))
    if args.conditions:
        return _no_false_pass(args, names)
    tasks = selftest.plan(names or None, full=args.full)
    tty = sys.stdout.isatty()

    def progress(outcome: selftest.Outcome, index: int, total: int) -> None:
        line = f"[{index}/{total}] {outcome.headline()} ({outcome.seconds:.1f} s)"
        if tty:
            sys.stdout.write("\r\x1b[K" + line)
            sys.stdout.flush()
        else:
            print(line, flush=True)

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


def _no_false_pass(args: argparse.Namespace, faults: list[str]) -> int:
    from conformance import no_false_pass, selftest
    from conformance.deployments import parse_conditions

    conditions = sorted(parse_conditions(args.condition))
    tasks = no_false_pass.plan(conditions or None, faults or None)

    def progress(outcome: selftest.Outcome, index: int, total: int) -> None:
        print(f"[{index}/{total}] {outcome.condition}: {outcome.fault or 'clean'} ({outcome.seconds:.1f} s)",
              file=sys.stderr, flush=True)

    summary = no_false_pass.build(selftest.run(tasks, workers=args.workers or None, progress=progress))
    directory = Path(args.report_dir)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "no-false-pass.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(render_no_false_pass(summary))
    print(f"report: {directory / 'no-false-pass.json'}")
    return exitcodes.OK if no_false_pass.passed(summary) else exitcodes.CONFORMANCE_FAILURE


def render_no_false_pass(summary: dict[str, Any]) -> str:
    lines = [f"{'condition':26} {'fault checks':>12} {'false passes':>13} {'clean checks':>13} {'false fails':>12}"]
    for condition, row in summary["conditions"].items():
        lines.append(f"{condition:26} {row['fault_checks']:>12} {row['false_passes']:>13} "
                     f"{row['clean_checks']:>13} {row['false_failures']:>12}")
    for entry in summary["false_passes"]:
        lines.append(f"FALSE PASS under {entry['condition']}: {entry['check']} with fault {entry['fault']}")
    for entry in summary["false_failures"]:
        lines.append(f"FALSE FAIL under {entry['condition']}: {entry['check']} on the clean reference: "
                     f"{entry['reason']}")
    lines.append(f"{len(summary['false_passes'])} false passes, {len(summary['false_failures'])} false "
                 f"failures, {summary['seconds']} s")
    return "\n".join(lines)


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
        from conformance import commands

        return int(getattr(commands, name)(args))

    return command


def _init_main(args: argparse.Namespace) -> int:
    from conformance.wizard import cmd_init

    return cmd_init(args)


def _profile_main(args: argparse.Namespace) -> int:
    from conformance.profile_cli import main as profile_main

    return profile_main(args)


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
            "scenario": _scenario_main, "load": _load_main, "init": _init_main, "profile": _profile_main,
            "forge": _forge_main}

if __name__ == "__main__":
    raise SystemExit(main())
