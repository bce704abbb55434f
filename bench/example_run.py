"""The whole suite against example targets, serial and side by side (prints JSON; a bench, not a test).

Each example service (tests/targets: services that were not written for this suite) is served as its
tests serve it, and ``authconform run --profile examples/profiles/<name>.toml`` runs against it the way
a user runs it: once with ``--jobs 1``, once with the default concurrency (``[target]
max_concurrency``), on the same server one after the other. Printed per target: the wall time of
each run, the ratio serial / side by side, the real waits the run reports, and whether the verdicts
are the same.

    .venv/bin/python -m bench.example_run [--targets notes,members,tracker | all]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench.common import REPO, print_json, run_suite, verdicts
from conformance.served import redis_server

sys.path.insert(0, str(REPO / "tests" / "targets"))  # the example services and how they are served
import services  # noqa: E402
from example_targets import Served  # noqa: E402

RUN_TIMEOUT = 900  # seconds: a run that takes longer than this is a hang
DEFAULT_TARGETS = ("notes", "members", "tracker")
SERVERS: dict[str, Callable[..., Iterator[Served]]] = {
    "notes": services.serve_notes, "shop": services.serve_shop, "portal": services.serve_portal,
    "members": services.serve_members, "tracker": services.serve_tracker, "ledger": services.serve_ledger,
    "vault": services.serve_vault,
}


def _run(served: Served, jobs: list[str], report_dir: Path) -> tuple[float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHCONF_")}
    env |= {**served.environ, "PYTHONPATH": str(REPO)}
    return run_suite(["--profile", str(served.profile), *jobs], env, report_dir, timeout=RUN_TIMEOUT)


@contextmanager
def _serve(name: str, workdir: Path, stack: ExitStack) -> Iterator[Served]:
    server = SERVERS[name]
    if name == "notes":  # its token blocklist lives in Redis
        yield from server(workdir, stack.enter_context(redis_server()))
    else:
        yield from server(workdir)


def measure(name: str, workdir: Path) -> dict[str, Any]:
    workdir.mkdir(parents=True)
    with ExitStack() as stack:
        served = stack.enter_context(_serve(name, workdir, stack))
        serial_wall, serial = _run(served, ["--jobs", "1"], workdir / "serial")
        side_wall, side = _run(served, [], workdir / "side-by-side")
    reasons = {run: {entry["id"]: entry["reason"] for entry in report["checks"]}
               for run, report in (("serial", serial), ("side_by_side", side))}
    found = {"serial": verdicts(serial), "side_by_side": verdicts(side)}
    differ = {check_id: {run: [found[run].get(check_id), reasons[run].get(check_id, "")] for run in found}
              for check_id, verdict in found["serial"].items() if found["side_by_side"].get(check_id) != verdict}
    return {
        "profile": served.profile.name,
        "serial": {"wall_seconds": round(serial_wall, 1), "summary": serial["summary"],
                   "waits": serial["run"].get("waits")},
        "side_by_side": {"wall_seconds": round(side_wall, 1), "jobs": side["run"].get("jobs"),
                         "summary": side["summary"], "waits": side["run"].get("waits")},
        "ratio_serial_to_side_by_side": round(serial_wall / side_wall, 2) if side_wall else None,
        "same_verdicts": not differ,
        "verdicts_differ": differ,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.example_run", description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(DEFAULT_TARGETS),
                        help=f"comma-separated, of {', '.join(SERVERS)}; or all (default: %(default)s)")
    args = parser.parse_args(argv)
    names = list(SERVERS) if args.targets == "all" else [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = [n for n in names if n not in SERVERS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}: choose from {', '.join(SERVERS)}")
    figures: dict[str, Any] = {"cores": os.cpu_count(), "targets": {}}
    with tempfile.TemporaryDirectory(prefix="authconform-bench-") as tmp:
        for name in names:
            figures["targets"][name] = measure(name, Path(tmp) / name)
    print_json(figures)
    return 0 if all(entry["same_verdicts"] for entry in figures["targets"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
