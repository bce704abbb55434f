"""Offline secret cracking, candidates per second, side by side on the same list (prints JSON):

- ``pyjwt_decode``: ``jwt.decode`` per candidate until one verifies (what a PyJWT-based cracker,
  jwt_tool's among them, pays per candidate), on the first ``--pyjwt-sample`` entries;
- ``hmac_digest_floor``: a bare Python loop of ``hmac.digest`` and a comparison over the list held
  in memory: the floor of any cracker written in Python;
- ``ours_per_core``: ``conformance.attacks.cracking.crack`` with one process, reading the list from
  the file as it goes;
- ``ours_all_cores``: the same with every usable core; its time is the wall time of the whole list,
  reading included (``wall_seconds``).

The list (``--entries`` lines, 1,000,000 by default, rockyou-like lengths) is generated in a temporary
directory, with the secret on its last line so every run scans all of it. Each figure is the median
of ``--rounds`` runs. The goals of the issue: ours per core at least 80% of the floor, and the whole
list under 2 s on all cores.

    .venv/bin/python -m bench.crack [--entries 1000000] [--rounds 3] [--pyjwt-sample 50000]
"""

from __future__ import annotations

import argparse
import hmac
import os
import platform
import resource
import secrets
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import jwt

from bench.common import print_json
from conformance.attacks import cracking

FLOOR_SHARE_GOAL = 0.8
WALL_GOAL_SECONDS = 2.0


def write_list(path: Path, entries: int, secret: str) -> None:
    """``entries`` lines of 6 to 14 characters (rockyou's usual lengths), ``secret`` last."""
    with open(path, "w", encoding="ascii") as handle:
        for n in range(entries - 1):
            handle.write(f"pw{n * 2654435761 % 10 ** (4 + n % 9):0{4 + n % 9}d}\n")
        handle.write(secret + "\n")


def timed(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    """The median wall time and the median CPU time (this process and the workers it waited for)
    of ``rounds`` runs of ``action``. On a shared machine the CPU time is the steadier figure."""
    walls, cpus = [], []
    for _ in range(rounds):
        cpu_before = _cpu()
        started = time.perf_counter()
        action()
        walls.append(time.perf_counter() - started)
        cpus.append(_cpu() - cpu_before)
    return statistics.median(walls), statistics.median(cpus)


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def pyjwt_loop(token: str, candidates: Sequence[str]) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short keys warn; the cost of the check stays in
        for candidate in candidates:
            try:
                jwt.decode(token, candidate, algorithms=["HS256"])
            except jwt.InvalidSignatureError:
                continue
            return candidate
    return None


def floor_loop(message: bytes, signature: bytes, candidates: Sequence[bytes]) -> bytes | None:
    for candidate in candidates:
        if hmac.digest(candidate, message, "sha256") == signature:
            return candidate
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pyjwt-sample", type=int, default=50_000)
    args = parser.parse_args(argv)
    secret = "bench-" + secrets.token_hex(8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short secret on purpose
        token = jwt.encode({"sub": "bench", "iat": int(time.time())}, secret, algorithm="HS256")
    signed = cracking.Signed.of(token, "HS256")
    cores = cracking.usable_cores()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wordlist.txt"
        write_list(path, args.entries, secret)
        candidates = path.read_bytes().split(b"\n")[:-1]
        sample = [c.decode() for c in candidates[: args.pyjwt_sample - 1]] + [secret]

        def ours(workers: int) -> None:
            found = cracking.crack(token, "HS256", [str(path)], bundled=False, workers=workers)
            assert found is not None and found.text == secret and found.entry == args.entries

        assert pyjwt_loop(token, sample) == secret and floor_loop(signed.message, signed.signature, candidates)
        pyjwt_seconds, pyjwt_cpu = timed(lambda: pyjwt_loop(token, sample), args.rounds)
        floor_seconds, floor_cpu = timed(lambda: floor_loop(signed.message, signed.signature, candidates),
                                         args.rounds)
        one_core, one_core_cpu = timed(lambda: ours(1), args.rounds)
        all_cores, all_cores_cpu = timed(lambda: ours(cores), args.rounds)
        list_bytes = os.path.getsize(path)
    floor = args.entries / floor_seconds
    per_core = args.entries / one_core
    load = os.getloadavg()[0]
    print_json({
        "bench": "crack", "python": platform.python_version(), "cores": cores, "entries": args.entries,
        "list_bytes": list_bytes, "rounds": args.rounds, "algorithm": "HS256",
        "candidates_per_second": {
            "pyjwt_decode": round(len(sample) / pyjwt_seconds),
            "hmac_digest_floor": round(floor),
            "ours_per_core": round(per_core),
            "ours_all_cores": round(args.entries / all_cores),
        },
        "candidates_per_cpu_second": {
            "pyjwt_decode": round(len(sample) / pyjwt_cpu),
            "hmac_digest_floor": round(args.entries / floor_cpu),
            "ours_per_core": round(args.entries / one_core_cpu),
            "ours_all_cores": round(args.entries / all_cores_cpu),
        },
        "ours_per_core_vs_floor": round(per_core / floor, 3),
        "ours_per_core_vs_floor_cpu": round(floor_cpu / one_core_cpu, 3),
        "wall_seconds": {"ours_per_core": round(one_core, 3), "ours_all_cores": round(all_cores, 3)},
        # What the whole list takes on all cores when they are this process's alone: its CPU time spread
        # over the cores (the wall time above also holds whatever else the machine was running).
        "all_cores_seconds_if_idle": round(all_cores_cpu / cores, 3),
        "load_average_1min": round(load, 2),
        "goals": {"per_core_at_least_floor_share": FLOOR_SHARE_GOAL,
                  "met_per_core": per_core / floor >= FLOOR_SHARE_GOAL,
                  "wall_under_seconds": WALL_GOAL_SECONDS, "met_wall": all_cores < WALL_GOAL_SECONDS,
                  "met_wall_if_idle": all_cores_cpu / cores < WALL_GOAL_SECONDS},
    })
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
