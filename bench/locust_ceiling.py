"""The load generator's own ceiling: requests per second one locust process (FastHttpUser, no
pause) reaches on one core, against a server that does nothing (bench/null_server.py) pinned to
the other core. Prints JSON; ``locust_cpu_share`` near 1.0 means the generator, not the server,
was the limit. Figures below this ceiling in a load run are the target's; near it, the generator's
(add ``--workers``).

    .venv/bin/python -m bench.locust_ceiling [--seconds 5] [--users 50]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence

from bench.common import locust_get, median, print_json
from conformance.served import LOOPBACK, free_port, stop

GENERATOR_CPU, SERVER_CPU = 0, 1
START_WAIT = 5.0  # seconds for the null server to listen


def _wait_listening(port: int) -> None:
    import socket

    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((LOOPBACK, port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"the null server did not listen on port {port} within {START_WAIT:g} s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.locust_ceiling", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one measurement (default 5)")
    parser.add_argument("--users", type=int, default=50, help="locust users, no pause (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements (default 3)")
    args = parser.parse_args(argv)
    if not (0 < args.seconds <= 60 and 0 < args.users <= 1000 and 0 < args.rounds <= 10):
        parser.error("keep it bounded: --seconds 1-60, --users 1-1000, --rounds 1-10")
    pinned = (os.cpu_count() or 1) > 1
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.null_server", str(port)],
                              preexec_fn=(lambda: os.sched_setaffinity(0, {SERVER_CPU})) if pinned else None)
    try:
        _wait_listening(port)
        runs = [locust_get(f"http://{LOOPBACK}:{port}", "/", users=args.users, seconds=args.seconds,
                           cpu=GENERATOR_CPU if pinned else None) for _ in range(args.rounds)]
    finally:
        stop(server)
    rps = median([r["rps"] for r in runs])
    share = median([r["locust_cpu_share"] for r in runs if r["locust_cpu_share"] is not None])
    print_json({
        "benchmark": "locust generator ceiling: one process, FastHttpUser, GET without pause, against a null server",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "pinned": f"locust on cpu {GENERATOR_CPU}, server on cpu {SERVER_CPU}" if pinned else "no"},
        "users": args.users, "seconds_per_measurement": args.seconds, "rounds": args.rounds,
        "rps": rps, "locust_cpu_share": share,
        "rps_per_core": round(rps / share, 1) if share else None,
        "failures": sum(r["failures"] for r in runs),
        "rounds_rps": [r["rps"] for r in runs],
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
