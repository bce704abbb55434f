"""Authenticated GET, requests per second, side by side in one run (prints JSON):

- ``reference``: ``GET /users/me`` on the reference (gunicorn, 4 sync workers, Redis store): token
  verified, revocation + session + user state + per-user limit in one Redis round trip;
- ``bare``: the same route on a bare Flask app, same gunicorn settings: no checks at all;
- ``peer``: a Flask-JWT-Extended + Flask-Limiter app doing the same checks (bench/apps/peer.py).

The per-user limits are set out of reach (counted, never refusing) so every answer is a 200. The
three servers run at once; rounds interleave them (in a rotating order) and each figure is the
median of its rounds, so the machine's noise falls on all three alike. The ratios are the point;
the absolute numbers belong to this machine, with the generator on the same cores.

    .venv/bin/python -m bench.authenticated_get [--seconds 5] [--users 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

from bench.common import GUNICORN_WORKERS, gunicorn, locust_get, median, print_json
from conformance.served import redis_server, reference_server

PATH = "/users/me"
OUT_OF_REACH = 10**9  # requests per window: the limiter counts every request and never refuses one


def _reference_token(base: str) -> str:
    body = {"username": "bench", "password": "Pw-" + secrets.token_urlsafe(12), "tenant": "t-" + secrets.token_hex(4)}
    requests.post(f"{base}/auth/register", json=body, timeout=10).raise_for_status()
    answer = requests.post(f"{base}/auth/login", json=body, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.authenticated_get", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one measurement (default 5)")
    parser.add_argument("--users", type=int, default=32, help="locust users, no pause (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per server (default 3)")
    args = parser.parse_args(argv)
    if not (0 < args.seconds <= 60 and 0 < args.users <= 500 and 0 < args.rounds <= 10):
        parser.error("keep it bounded: --seconds 1-60, --users 1-500, --rounds 1-10")
    runs: dict[str, list[dict[str, Any]]] = {"reference": [], "bare": [], "peer": []}
    with redis_server() as redis_url, tempfile.TemporaryDirectory() as tmp:
        reference_settings = {"AUTHCONF_STORE": "redis", "AUTHCONF_REDIS_URL": redis_url,
                              "AUTHCONF_API_RATE_LIMIT": str(OUT_OF_REACH)}
        peer_env = {"BENCH_SECRET": secrets.token_urlsafe(48), "BENCH_REDIS_URL": redis_url.replace("/0", "/1"),
                    "BENCH_API_LIMIT": str(OUT_OF_REACH)}
        with reference_server(reference_settings, Path(tmp) / "reference", workers=GUNICORN_WORKERS) as reference, \
                gunicorn("bench.apps.bare:create_app()", {}) as bare, \
                gunicorn("bench.apps.peer:create_app()", peer_env) as peer:
            os.environ.update(peer_env)
            from bench.apps import peer as peer_app

            peer_app.seed(peer_env["BENCH_REDIS_URL"], 1, "bench-session")
            peer_token = peer_app.token(peer_app.create_app(), 1, "bench-session")
            targets = [("bare", bare, ""), ("peer", peer, f"Bearer {peer_token}"),
                       ("reference", reference, f"Bearer {_reference_token(reference)}")]
            for round_number in range(args.rounds):
                shift = round_number % len(targets)
                for name, base, authorization in targets[shift:] + targets[:shift]:
                    runs[name].append(locust_get(base, PATH, users=args.users, seconds=args.seconds,
                                                 authorization=authorization))
    rps = {name: median([r["rps"] for r in results]) for name, results in runs.items()}
    print_json({
        "benchmark": "authenticated GET /users/me, requests per second (median of rounds)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "server": f"gunicorn, {GUNICORN_WORKERS} sync workers, preloaded app, loopback",
        "generator": f"locust FastHttpUser, {args.users} users without pause, one process, same machine",
        "seconds_per_measurement": args.seconds, "rounds": args.rounds,
        "rps": rps,
        "ratio_reference_to_bare": round(rps["reference"] / rps["bare"], 3) if rps["bare"] else None,
        "ratio_reference_to_peer": round(rps["reference"] / rps["peer"], 3) if rps["peer"] else None,
        "p50_ms": {name: median([r["p50_ms"] for r in results]) for name, results in runs.items()},
        "failures": {name: sum(r["failures"] for r in results) for name, results in runs.items()},
        "locust_cpu_share": {name: median([r["locust_cpu_share"] for r in results if r["locust_cpu_share"] is not None])
                             for name, results in runs.items()},
        "rounds_rps": {name: [r["rps"] for r in results] for name, results in runs.items()},
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
