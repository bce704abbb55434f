"""``authconform load``: its options, and the exit code of a run that broke."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from conformance import exitcodes
from conformance.extras import require as require_extra
from conformance.load.settings import LOCUST_MASTER_PORT, SCENARIOS

DEFAULT_REPORT_DIR = "authconform-load"


def add_parser(commands: Any) -> None:
    names = ", ".join(SCENARIOS)
    load = commands.add_parser(
        "load", help="run a load profile with locust: limits, revocation and latency under real concurrency",
        description="Run one of the load profiles (locustfiles in scenarios/load/) headless. Without --target or "
                    "--profile the bundled reference is served for the run (gunicorn + a throwaway Redis on "
                    "loopback). Thresholds of the profile's [load] section decide the exit code (4: breached).")
    load.add_argument("scenario", metavar="PROFILE_NAME", help=f"one of: {names}")
    load.add_argument("--target", help="base URL to load: loopback, or the target.base_url of --profile")
    load.add_argument("--profile", help="profile TOML describing the target (default: the bundled reference)")
    load.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                      help="override a profile field, e.g. --set load.max_p95_ms=500 --set rate_limits.api_limit=20")
    load.add_argument("--users", type=int, help="simulated users (default: load.users)")
    load.add_argument("--spawn-rate", type=float, help="users started per second (default: load.spawn_rate)")
    load.add_argument("--run-time", help="how long the load lasts: 30, 30s, 2m, 1m30s (default: load.run_time)")
    load.add_argument("--workers", type=int,
                      help="K local locust worker processes under a local master (default: load.workers; 0: one "
                           "process)")
    load.add_argument("--remote-workers", type=int, default=0, metavar="N",
                      help="also wait for N workers started on other machines (see docs/load.md)")
    load.add_argument("--master-bind", default="127.0.0.1", metavar="ADDRESS",
                      help="address the locust master listens on for --remote-workers (default 127.0.0.1)")
    load.add_argument("--master-port", type=int, metavar="PORT",
                      help=f"port of the locust master (default {LOCUST_MASTER_PORT} with --remote-workers, else a "
                           "free one)")
    load.add_argument("--fault", action="append", default=[],
                      help="served reference only: switch on a fault from the catalog (e.g. limiter-per-process)")
    load.add_argument("--reference-workers", type=int, default=4, metavar="N",
                      help="gunicorn workers of the served reference (default 4)")
    load.add_argument("--report-dir", default=DEFAULT_REPORT_DIR,
                      help=f"reports go to REPORT_DIR/PROFILE_NAME/ (default {DEFAULT_REPORT_DIR})")


def main(args: argparse.Namespace) -> int:
    require_extra("load", "authconform load")
    from conformance.load.runner import LoadRunError, command
    from reports.load import write_load_report

    try:
        return command(args, write_reports=write_load_report)
    except LoadRunError as exc:
        print(f"authconform load: {exc}", file=sys.stderr)
        return exc.exit_code if exc.exit_code is not None else exitcodes.INTERNAL_ERROR
