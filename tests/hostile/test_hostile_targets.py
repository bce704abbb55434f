"""The suite run against broken and hostile targets, as a user runs it (``authconform run`` in a
subprocess, the default profile, short timeouts): the run ends within the bound derived from the
profile's timeouts, no check passes, every error says why, the exit code is the documented one,
no traceback reaches the output, bodies are read up to the cap only, and nothing (no password,
token or cookie) ever reaches a host other than the target's."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance import exitcodes, registry
from conformance.breaker import run_time_bound
from conformance.profile import load, parse_override

from .certs import TlsFiles
from .servers import (
    Behaviour,
    Connection,
    MisbehavingServer,
    Request,
    close_mid_body,
    endless_chunks,
    fixed,
    hang,
    huge_bodies,
    not_http,
    not_listening,
    redirect,
    serve_requests,
    trickle,
)

pytestmark = pytest.mark.hostile

# Short timeouts keep the cases quick; the bound below is derived from them.
SETTINGS = ("target.connect_timeout=1", "target.read_timeout=1", "target.ready_timeout=2")
# The run must end within this many times the derived bound (a correctness bound on a noisy
# machine, not a performance figure).
MARGIN = 3
TEN_MB = 10 * 1024 * 1024
# What the endless body may have pushed into socket buffers before the suite hung up.
ENDLESS_SENT_LIMIT = 64 * 1024 * 1024

Started = tuple[str, MisbehavingServer | None]
Start = Callable[[MisbehavingServer, TlsFiles], AbstractContextManager[Started]]


@dataclass(frozen=True)
class Case:
    name: str
    start: Start
    exit_code: int
    says: str  # every error's reason says this (case-insensitive)
    settings: tuple[str, ...] = ()


def serve(make: Callable[[MisbehavingServer], Behaviour], *, tls: bool = False, scheme: str = "") -> Start:
    @contextmanager
    def start(recorder: MisbehavingServer, tls_files: TlsFiles) -> Iterator[Started]:
        context = tls_files.server_context() if tls else None
        with MisbehavingServer(make(recorder), tls=context) as server:
            yield server.url(scheme), server

    return start


@contextmanager
def nothing_listens(_recorder: MisbehavingServer, _tls: TlsFiles) -> Iterator[Started]:
    with not_listening() as url:
        yield url, None


def same(behaviour: Behaviour) -> Callable[[MisbehavingServer], Behaviour]:
    return lambda _recorder: behaviour


def to_recorder(status: int, scheme: str) -> Callable[[MisbehavingServer], Behaviour]:
    return lambda recorder: redirect(status, lambda request: f"{recorder.url(scheme)}{request.path}")


def redirect_loop(_recorder: MisbehavingServer) -> Behaviour:
    return redirect(302, lambda request: request.path)


def health_only(otherwise: Behaviour | Callable[[Connection, Request], bool]) -> Behaviour:
    """The ready path answers 200; every other route gets ``otherwise`` (an answer function)."""

    def answer(connection: Connection, request: Request) -> bool:
        if request.path.startswith("/healthz"):
            connection.answer(200, b'{"status": "ok"}', {"Content-Type": "application/json"})
            return True
        return bool(otherwise(connection, request))  # type: ignore[call-arg]

    return serve_requests(answer)


def hang_here(connection: Connection, _request: Request) -> bool:
    hang(connection)
    return False


def limited_here(connection: Connection, _request: Request) -> bool:
    connection.answer(429, b'{"error": "rate_limited", "message": "slow down"}',
                      {"Content-Type": "application/json", "Retry-After": "3600"})
    return True


GARBAGE = bytes(random.Random(10).getrandbits(8) for _ in range(4096))
NESTED = b"[" * 1000 + b"]" * 1000
RATE_LIMITED = {"Retry-After": "3600"}

CASES = [
    Case("not-listening", nothing_listens, exitcodes.TARGET_UNREACHABLE, "connection refused"),
    Case("never-answers", serve(same(hang)), exitcodes.TARGET_UNREACHABLE, "did not answer"),
    # read_timeout 2 s: each byte comes in time, only the exchange's time limit ends it.
    Case("one-byte-per-second", serve(same(trickle)), exitcodes.TARGET_UNREACHABLE,
         "did not answer within 5 s", ("target.read_timeout=2",)),
    Case("closes-mid-body", serve(same(close_mid_body)), exitcodes.TARGET_UNREACHABLE, "broke off its answer"),
    Case("not-http", serve(same(not_http)), exitcodes.TARGET_UNREACHABLE, "not HTTP"),
    Case("html-everywhere", serve(same(fixed(200, b"<!doctype html><h1>Welcome</h1>", "text/html"))),
         exitcodes.CONFORMANCE_FAILURE, "text/html, not JSON"),
    Case("garbage-everywhere", serve(same(fixed(200, GARBAGE, "application/octet-stream"))),
         exitcodes.CONFORMANCE_FAILURE, "not JSON"),
    Case("500-everywhere", serve(same(fixed(500, b'{"error": "internal"}'))),
         exitcodes.CONFORMANCE_FAILURE, "500"),
    Case("10mb-bodies", serve(same(huge_bodies(TEN_MB))), exitcodes.CONFORMANCE_FAILURE, "byte cap"),
    Case("endless-chunked-body", serve(same(endless_chunks)), exitcodes.CONFORMANCE_FAILURE, "byte cap"),
    Case("invalid-json", serve(same(fixed(200, b'{"access_token": "abc", "refresh'))),
         exitcodes.CONFORMANCE_FAILURE, "does not parse"),
    Case("json-list", serve(same(fixed(200, b'[{"access_token": "abc"}]'))),
         exitcodes.CONFORMANCE_FAILURE, "JSON, but a list"),
    Case("json-nested-1000-deep", serve(same(fixed(200, NESTED))), exitcodes.CONFORMANCE_FAILURE, "JSON"),
    Case("301-to-another-host", serve(to_recorder(301, "http")), exitcodes.CONFORMANCE_FAILURE, "redirect"),
    Case("302-to-another-host-and-scheme", serve(to_recorder(302, "https")), exitcodes.CONFORMANCE_FAILURE,
         "redirect"),
    Case("307-to-another-host", serve(to_recorder(307, "http")), exitcodes.CONFORMANCE_FAILURE, "redirect"),
    Case("308-to-another-host-and-scheme", serve(to_recorder(308, "https")), exitcodes.CONFORMANCE_FAILURE,
         "redirect"),
    Case("redirect-loop", serve(redirect_loop), exitcodes.CONFORMANCE_FAILURE, "redirect"),
    # Terminal escape sequences in what the target sends must not reach the user's terminal.
    Case("escape-sequences-in-headers", serve(same(redirect(302, lambda _r: "/\x1b]0;owned\x07\x1b[2J"))),
         exitcodes.CONFORMANCE_FAILURE, "redirect"),
    Case("tls-on-an-http-profile", serve(same(fixed(200, b"{}")), tls=True, scheme="http"),
         exitcodes.TARGET_UNREACHABLE, "https://"),
    Case("plain-http-on-an-https-profile", serve(same(fixed(200, b"{}")), scheme="https"),
         exitcodes.TARGET_UNREACHABLE, "does not speak TLS"),
    Case("tls-handshake-never-answered", serve(same(hang), scheme="https"), exitcodes.TARGET_UNREACHABLE,
         "did not answer"),
    Case("self-signed-certificate", serve(same(fixed(200, b"{}")), tls=True),
         exitcodes.TARGET_UNREACHABLE, "not trusted"),
    Case("429-everywhere", serve(same(fixed(429, b'{"error": "rate_limited"}', headers=RATE_LIMITED))),
         exitcodes.TARGET_UNREACHABLE, "429"),
    # Health answers, the API does not: the breaker opens after a few checks, not after all of them.
    Case("api-hangs-health-answers", serve(same(health_only(hang_here))), exitcodes.TARGET_UNREACHABLE,
         "answer"),
    Case("api-429-health-answers", serve(same(health_only(limited_here))), exitcodes.TARGET_UNREACHABLE, "429"),
]


@dataclass
class Outcome:
    code: int
    output: str
    seconds: float
    report: dict[str, Any]


def authconform() -> list[str]:
    script = Path(sys.executable).with_name("authconform")
    return [str(script)] if script.exists() else [sys.executable, "-m", "conformance.cli"]


def run_suite(url: str, report_dir: Path, settings: tuple[str, ...], timeout: float,
              extra_args: tuple[str, ...] = ()) -> Outcome:
    command = [*authconform(), "run", "--target", url, "--report-dir", str(report_dir), *extra_args]
    for item in settings:
        command += ["--set", item]
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")}
    started = time.monotonic()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    seconds = time.monotonic() - started
    report_file = report_dir / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    return Outcome(finished.returncode, finished.stdout + finished.stderr, seconds, report)


def bound_for(settings: tuple[str, ...]) -> float:
    profile = load(None, overrides=dict(parse_override(item) for item in settings))
    return run_time_bound(profile.target, len(registry.all_checks()))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_suite_survives_a_hostile_target(case: Case, recorder: MisbehavingServer, tls_files: TlsFiles,
                                             tmp_path: Path) -> None:
    settings = SETTINGS + case.settings
    bound = bound_for(settings)
    with case.start(recorder, tls_files) as (url, server):
        outcome = run_suite(url, tmp_path / "report", settings, timeout=MARGIN * bound + 30)
    print(f"\nhostile case {case.name}: {outcome.seconds:.1f} s (bound {bound:.0f} s), exit {outcome.code}")

    assert outcome.seconds < MARGIN * bound, f"the run took {outcome.seconds:.1f} s; bound {bound:.1f} s"
    assert outcome.code == case.exit_code, outcome.output[-3000:]
    assert "Traceback" not in outcome.output, outcome.output[-3000:]
    assert "\x1b" not in outcome.output, "an escape sequence of the target reached the output"
    results = outcome.report["checks"]
    assert len(results) == len(registry.all_checks())
    assert {r["verdict"] for r in results} <= {"error", "not-applicable"}, "a check passed against a hostile target"
    errors = [r for r in results if r["verdict"] == "error"]
    assert errors, "no check noticed the target was broken"
    print(f"  e.g. {errors[0]['id']}: {errors[0]['reason']}\n  last: {errors[-1]['id']}: {errors[-1]['reason']}")
    for result in results:
        assert result["reason"] and "Traceback" not in result["reason"], result
    unexplained = [f"{r['id']}: {r['reason']}" for r in errors if case.says.lower() not in r["reason"].lower()]
    assert not unexplained, f"{len(unexplained)} reasons do not say {case.says!r}:\n" + "\n".join(unexplained[:5])
    if case.exit_code == exitcodes.TARGET_UNREACHABLE:
        assert outcome.report["run"]["stopped"], "exit 3 without the reason in the report"
    assert recorder.stats.connections == 0, f"another host was contacted: {recorder.stats.received!r}"
    if case.name == "10mb-bodies":
        assert server is not None and server.stats.answers_started > 0
        assert server.stats.answers_completed == 0, "a 10 MB body was read to its end"
    if case.name == "endless-chunked-body":
        assert server is not None and server.stats.answers_started > 0
        assert server.stats.answers_cut_by_client == server.stats.answers_started
        assert server.stats.largest_answer_sent < ENDLESS_SENT_LIMIT
