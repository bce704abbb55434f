"""What the bench scripts share: serving a WSGI app under gunicorn like the reference is served, and
measuring a GET with locust (one headless process, FastHttpUser, no pause between requests).

Everything listens on loopback, every run is bounded in time, and tokens travel only in the
environment of the locust process: nothing here prints them.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conformance.deployments import wait_until_ready
from conformance.served import LOOPBACK, READY_TIMEOUT, free_port, stop
from conformance.targets.http import HttpTarget

REPO = Path(__file__).resolve().parents[1]
GET_LOCUSTFILE = Path(__file__).with_name("get_locustfile.py")
GUNICORN_WORKERS = 4  # as the reference is served by `authconform load`
LOCUST_GRACE = 30  # seconds past the run time before a locust run counts as hung
STEADY_AFTER = 2.0  # seconds after starting locust when its CPU use is steady (imports and ramp-up done)
STEADY_SHARE = 0.7  # share of the run time after that over which its CPU use is read


@contextmanager
def gunicorn(app: str, env: Mapping[str, str], *, workers: int = GUNICORN_WORKERS) -> Iterator[str]:
    """``gunicorn APP`` with the reference's server settings (sync workers, preloaded app, no access
    log) on a free loopback port; yields the base URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", "1", "--preload",
               "--bind", f"{LOOPBACK}:{port}", "--log-level", "warning", "--chdir", str(REPO), app]
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    base = f"http://{LOOPBACK}:{port}"
    try:
        target = HttpTarget(base, connect_timeout=1.0, read_timeout=5.0)
        try:
            wait_until_ready(target, "/healthz", READY_TIMEOUT)
        finally:
            target.close()
        yield base
    finally:
        stop(process)
        if process.stderr is not None:
            process.stderr.close()


def locust_get(base: str, path: str, *, users: int, seconds: int, authorization: str = "",
               cpu: int | None = None) -> dict[str, Any]:
    """Hammer ``GET base+path`` with locust for ``seconds``; its figures and its own CPU use."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stats.json"  # locust adds ".json" to the name it is given
        env = {**os.environ, "BENCH_PATH": path, "BENCH_AUTHORIZATION": authorization}
        command = [sys.executable, "-m", "locust", "-f", str(GET_LOCUSTFILE), "--headless", "--users", str(users),
                   "--spawn-rate", str(users), "--run-time", f"{seconds}s", "--host", base, "--only-summary",
                   "--loglevel", "ERROR", "--json-file", str(out.with_suffix("")), "--stop-timeout", "0",
                   "--exit-code-on-error", "0"]
        log = Path(tmp) / "locust.log"
        with log.open("w") as errors:
            started = time.monotonic()
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors,
                                       preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None
                                       else None)
            cpu_share = _sample_cpu(process, started, seconds)
        if not out.is_file():
            raise RuntimeError(f"locust wrote no figures: {log.read_text(errors='replace')[-800:]}")
        entries = json.loads(out.read_text())
    requests = sum(e["num_requests"] for e in entries)
    failures = sum(e["num_failures"] for e in entries)
    span = max((e["last_request_timestamp"] or 0) for e in entries) - min(e["start_time"] for e in entries)
    times: dict[float, int] = {}
    for entry in entries:
        for value, count in entry["response_times"].items():
            times[float(value)] = times.get(float(value), 0) + count
    return {"rps": round(requests / span, 1) if span > 0 else 0.0, "requests": requests, "failures": failures,
            "p50_ms": _percentile(times, 0.5), "p95_ms": _percentile(times, 0.95),
            "locust_cpu_share": cpu_share}


def _sample_cpu(process: subprocess.Popen[Any], started: float, seconds: int) -> float | None:
    """Wait for locust to end; its CPU share (0-1 of a core) over the steady part of the run (past
    start-up and ramp-up, before the stop), read from /proc; None where /proc is not there."""
    stat = Path(f"/proc/{process.pid}/stat")
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    steady_from, steady_to = STEADY_AFTER, STEADY_AFTER + seconds * STEADY_SHARE
    first: tuple[float, int] | None = None
    last: tuple[float, int] | None = None
    deadline = started + seconds + LOCUST_GRACE
    while process.poll() is None:
        if time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"locust did not stop within {seconds + LOCUST_GRACE} s")
        elapsed = time.monotonic() - started
        if steady_from <= elapsed <= steady_to:
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                fields = []
            if fields:
                point = (time.monotonic(), int(fields[11]) + int(fields[12]))  # utime + stime, in ticks
                first = first or point
                last = point
        time.sleep(0.1)
    if first is None or last is None or last[0] - first[0] < 0.5:
        return None
    return round((last[1] - first[1]) / hz / (last[0] - first[0]), 2)


def _percentile(histogram: Mapping[float, int], share: float) -> float:
    total = sum(histogram.values())
    if not total:
        return 0.0
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= share * total:
            return value
    return max(histogram)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1) if values else 0.0


AUTHCONFORM = [sys.executable, "-m", "conformance.cli"]


def run_suite(args: Sequence[str], env: Mapping[str, str], report_dir: Path, *,
              timeout: float) -> tuple[float, dict[str, Any]]:
    """``authconform run --quiet ARGS`` as a user runs it: (its wall time, the report.json it wrote)."""
    started = time.monotonic()
    done = subprocess.run([*AUTHCONFORM, "run", "--quiet", "--report-dir", str(report_dir), *args], env=dict(env),
                          capture_output=True, text=True, timeout=timeout)
    wall = time.monotonic() - started
    report_path = report_dir / "report.json"
    if not report_path.is_file():
        raise SystemExit(f"the run wrote no report (exit {done.returncode}): {done.stderr[-2000:]}")
    return wall, json.loads(report_path.read_text())


def verdicts(report: Mapping[str, Any]) -> dict[str, str]:
    """Check id -> verdict of a report.json."""
    return {entry["id"]: entry["verdict"] for entry in report["checks"]}


def print_json(data: Mapping[str, Any]) -> None:
    print(json.dumps(data, indent=2))
