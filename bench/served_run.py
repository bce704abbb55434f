"""A full run against the served reference, serial and side by side (prints JSON; a bench, not a test).

The reference is served as a deployment would be (gunicorn, 4 workers, a throwaway Redis) with the
short numbers of ``serve --quick`` (access TTL 20 s, idle 20 s, absolute 40 s, limiter windows 15 s),
and the whole suite runs against it black box with the bundled profile ``quick`` (plus the
superadmin account a deployment creates on the command line): once with ``--jobs 1``, once with
the default concurrency. Printed: the wall time of each, the sum of the real waits, the longest
single wait and the longest any one check waited in all (the floor a concurrent run can reach),
the ratio wall / that floor, whether the verdicts are the same, and the goal (2 x the longest
declared wait + 30 s). Then the in-process full run's wall time, and the served reference with its
default numbers (default profile, no --set) under the default concurrency.

    .venv/bin/python -m bench.served_run [--skip-default] [--skip-serial]
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import GUNICORN_WORKERS, print_json, run_suite, verdicts
from conformance.served import redis_server, reference_environment, reference_server
from reference_impl.serve import QUICK

FLASK = str(Path(sys.executable).with_name("flask"))
RUN_TIMEOUT = 1800  # seconds: a run that takes longer than this is a hang
SUPERADMIN = ('[{role = "superadmin", tenant = "operations", username = "root", '
              'password = "${BENCH_SUPERADMIN_PASSWORD}"}]')


def _served(settings: dict[str, str], workdir: Path, runs: dict[str, list[str]],
            env: dict[str, str]) -> dict[str, tuple[float, dict[str, Any]]]:
    workdir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    server_env = {**reference_environment(settings, workdir), "SUPER_PW": password}
    created = subprocess.run([FLASK, "--app", "reference_impl", "create-user", "--username", "root", "--tenant",
                              "operations", "--role", "superadmin", "--password-env", "SUPER_PW"],
                             env=server_env, cwd=workdir, capture_output=True, text=True, timeout=60)
    if created.returncode != 0:
        raise SystemExit(f"could not create the superadmin: {created.stderr[-1000:]}")
    out = {}
    with reference_server(settings, workdir, workers=GUNICORN_WORKERS) as base:
        run_env = {**env, "BENCH_SUPERADMIN_PASSWORD": password}
        for name, args in runs.items():
            out[name] = run_suite([*args, "--target", base, "--set", f"users.accounts={SUPERADMIN}"],
                                  run_env, workdir / name, timeout=RUN_TIMEOUT)
    return out


def _figure(wall: float, report: dict[str, Any]) -> dict[str, Any]:
    waits = report["run"].get("waits") or {}
    return {"wall_seconds": round(wall, 1), "jobs": report["run"].get("jobs"), "summary": report["summary"],
            "waits": waits}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.served_run", description=__doc__.splitlines()[0])
    parser.add_argument("--skip-default", action="store_true", help="leave out the default-numbers figure")
    parser.add_argument("--skip-serial", action="store_true", help="leave out the --jobs 1 run")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHCONF_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    figures: dict[str, Any] = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="authconform-bench-") as tmp:
        workdir = Path(tmp)
        wall, report = run_suite([], env, workdir / "in-process", timeout=RUN_TIMEOUT)
        figures["in_process"] = {"wall_seconds": round(wall, 1), "summary": report["summary"]}
        with redis_server() as redis_url:
            settings = {**QUICK, "AUTHCONF_STORE": "redis", "AUTHCONF_REDIS_URL": redis_url}
            runs = {"quick_default": ["--profile", "quick"]}
            if not args.skip_serial:
                runs = {"quick_serial": ["--profile", "quick", "--jobs", "1"], **runs}
            quick = _served(settings, workdir / "quick", runs, env)
            declared = {name: int(QUICK[f"AUTHCONF_{name.upper()}"]) for name in
                        ("access_ttl", "idle_timeout", "absolute_timeout", "login_rate_window")}
            longest_declared = max(declared.values())
            concurrent_wall, concurrent = quick["quick_default"]
            entry: dict[str, Any] = {"declared": declared, "default": _figure(concurrent_wall, concurrent),
                                     "goal_seconds": 2 * longest_declared + 30}
            floor = (concurrent.get("run", {}).get("waits") or {}).get("longest_check_seconds") or 0
            entry["ratio_wall_to_longest_check_wait"] = round(concurrent_wall / floor, 2) if floor else None
            entry["ratio_wall_to_longest_declared_wait"] = round(concurrent_wall / longest_declared, 2)
            if "quick_serial" in quick:
                serial_wall, serial = quick["quick_serial"]
                entry["serial"] = _figure(serial_wall, serial)
                differ = {cid: (v, verdicts(concurrent).get(cid)) for cid, v in verdicts(serial).items()
                          if verdicts(concurrent).get(cid) != v}
                entry["same_verdicts"] = not differ
                entry["verdicts_differ"] = differ
            figures["served_quick"] = entry
            if not args.skip_default:
                default_settings = {"AUTHCONF_STORE": "redis", "AUTHCONF_REDIS_URL": redis_url.rsplit("/", 1)[0] + "/1"}
                default = _served(default_settings, workdir / "default", {"default_numbers": []}, env)
                wall, report = default["default_numbers"]
                figures["served_default_numbers"] = {**_figure(wall, report), "goal_seconds": 300}
    print_json(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
