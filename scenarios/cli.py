"""``authconform scenario``: list the scenarios, run one (or several) and print the transcript,
or save a failing stateful-model run as a new scenario file.

The scenarios are entries of the one registry (kind "scenario") and run through the one runner
(``scenarios.runner``); ``--report-dir`` writes the same reports ``authconform run`` writes.

Exit codes (conformance/exitcodes.py): 0 every scenario passed or is not applicable, 1 a scenario
failed or could not judge, 2 usage or profile error, 3 the target is unreachable.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conformance import exitcodes
from conformance.errors import UsageError
from conformance.verdict import Verdict


def add_parser(commands: Any) -> None:
    """Add the ``scenario`` command to the main parser's subcommands."""
    scenario = commands.add_parser("scenario", help="readable attack and lifecycle stories (list, run, record)")
    actions = scenario.add_subparsers(dest="scenario_command", required=True, parser_class=type(scenario))
    listing = actions.add_parser("list", help="list the bundled scenarios")
    listing.add_argument("--json", action="store_true")
    run = actions.add_parser("run", help="run scenarios and print their step-by-step transcripts")
    run.add_argument("names", nargs="+", metavar="NAME",
                     help="scenario name (see `scenario list`), a scenario .py file, or 'all'")
    run.add_argument("--target", help="base URL of the target (default: the bundled reference, in-process)")
    run.add_argument("--profile", help="profile TOML describing the target")
    run.add_argument("--fault", action="append", default=[],
                     help="bundled reference only: switch on a fault from the catalog")
    run.add_argument("--report-dir", metavar="DIR",
                     help="also write report.json, junit.xml, report.html and summary.md here")
    record = actions.add_parser("record", help="run the stateful model; save a failing run as a scenario file")
    record.add_argument("output", help="where to write the scenario file (.py)")
    record.add_argument("--fault", action="append", default=[],
                        help="bundled reference only: switch on a fault from the catalog")
    record.add_argument("--title", default="", help="title of the saved scenario")


def main(args: argparse.Namespace) -> int:
    if args.scenario_command == "list":
        return cmd_list(args)
    if args.scenario_command == "record":
        return cmd_record(args)
    return cmd_run(args)


def cmd_list(args: argparse.Namespace) -> int:
    import json

    from scenarios.runner import register_all, scenario_of

    scenarios = sorted((scenario_of(entry) for entry in register_all()), key=lambda s: s.name)
    if args.json:
        print(json.dumps([s.describe() for s in scenarios], indent=2))
        return exitcodes.OK
    width = max(len(s.name) for s in scenarios)
    for scenario in scenarios:
        sections = ",".join(f"§{n}" for n in scenario.contract)
        print(f"{scenario.name:{width}}  {sections:8} {scenario.title}")
    print(f"{len(scenarios)} scenarios; run one with `authconform scenario run NAME`")
    return exitcodes.OK


def _chosen(names: list[str]) -> list[Any]:
    from scenarios.catalog import ScenarioFileError, all_scenarios, get

    if names == ["all"]:
        # Stories that leave something behind on a shared target (a locked-out IP) go last.
        return sorted(all_scenarios(), key=lambda s: bool(s.side_effects))
    try:
        return [get(name) for name in names]
    except ScenarioFileError as exc:
        raise UsageError(str(exc)) from None


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.profile import load
    from conformance.runner import real_time
    from scenarios.runner import run_on_reference, run_scenario

    started = real_time()
    scenarios = _chosen(args.names)
    overrides = {"target.base_url": args.target} if args.target else {}
    profile = load(args.profile, overrides=overrides)
    results = []
    if args.target or args.profile:
        if args.fault:
            raise UsageError("--fault switches faults on in the bundled reference; drop --target/--profile")
        from conformance.deployments import http_source
        from scenarios.runner import scenario_check

        source = http_source(profile)
        try:
            for scenario in scenarios:
                results.append(run_scenario(scenario, source(scenario_check(scenario))))
                _show(results[-1], len(scenarios))
        finally:
            source(scenario_check(scenarios[0])).target.close()
    else:
        from conformance.deployments import parse_faults

        faults = parse_faults(args.fault)
        for scenario in scenarios:
            results.append(run_on_reference(scenario, profile, faults))
            _show(results[-1], len(scenarios))
    if len(results) > 1:
        counts: dict[str, int] = {}
        for result in results:
            counts[str(result.verdict)] = counts.get(str(result.verdict), 0) + 1
        print("scenarios: " + ", ".join(f"{n} {verdict}" for verdict, n in counts.items()))
    if args.report_dir:
        _write_reports(results, profile, args, started)
    if any(r.unreachable for r in results):
        return exitcodes.TARGET_UNREACHABLE
    if any(r.verdict.is_failure or r.verdict is Verdict.NON_STRICT for r in results):
        return exitcodes.CONFORMANCE_FAILURE
    return exitcodes.OK


def _write_reports(results: list[Any], profile: Any, args: argparse.Namespace, started: float) -> None:
    """The reports of ``authconform run``, from the runner's results of the scenarios."""
    from pathlib import Path

    from conformance.runner import RunResult, real_time
    from reports import json_report, write_all
    from scenarios.runner import scenario_check

    run = RunResult(profile, results[0].target_name, [scenario_check(r.scenario) for r in results],
                    [r.result for r in results], started, real_time(), {"faults": sorted(args.fault)})
    directory = Path(args.report_dir)
    write_all(json_report.build(run), directory)
    print(f"reports in {directory}/")


def _show(result: Any, total: int) -> None:
    print(result.transcript())
    if total > 1:
        print()
    sys.stdout.flush()


def cmd_record(args: argparse.Namespace) -> int:
    from pathlib import Path

    from conformance.deployments import parse_faults
    from conformance.profile import load
    from scenarios.from_model import record_on_reference

    faults = parse_faults(args.fault)
    outcome = record_on_reference(load(None), faults, Path(args.output), title=args.title)
    print(outcome.message)
    if outcome.path is None:
        return exitcodes.OK if outcome.verdict is Verdict.PASS else exitcodes.CONFORMANCE_FAILURE
    fault_options = "".join(f" --fault {name}" for name in sorted(faults))
    print(f"replay it with `authconform scenario run {outcome.path}{fault_options}`")
    return exitcodes.CONFORMANCE_FAILURE
