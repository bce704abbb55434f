"""The bundled reference served for real: a throwaway redis-server and gunicorn on loopback.

``authconform load`` (without ``--target``), the bench scripts and the project's tests use these,
so there is one way to start them: a redis-server on a free loopback port with no persistence
(never one already running), and ``python -m reference_impl serve`` with ``AUTHCONF_*`` settings,
ready when ``/healthz`` answers. Both stop when their ``with`` block ends.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conformance.deployments import wait_until_ready
from conformance.targets.http import HttpTarget
from conformance.verdict import TargetUnreachable

REDIS_BINARY = "redis-server"
REDIS_START_TIMEOUT = 10.0  # seconds
READY_TIMEOUT = 30.0  # seconds for gunicorn and its workers to answer /healthz
STOP_TIMEOUT = 10.0  # seconds to wait after SIGTERM before SIGKILL
LOOPBACK = "127.0.0.1"


class ServeError(RuntimeError):
    """Something needed to serve the reference is missing or would not start; the message says what to do."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def redis_binary() -> str | None:
    return shutil.which(REDIS_BINARY)


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (no persistence); yields its URL."""
    binary = redis_binary()
    if binary is None:
        raise ServeError(f"{REDIS_BINARY} not found on PATH: install it (Debian: apt-get install redis-server), "
                         "or pass --target URL to load a server you run yourself")
    from mirakuru import TCPExecutor

    port = free_port()
    command = [binary, "--save", "", "--appendonly", "no", "--port", str(port), "--bind", LOOPBACK]
    executor = TCPExecutor(command, host=LOOPBACK, port=port, timeout=REDIS_START_TIMEOUT)
    executor.start()
    try:
        yield f"redis://{LOOPBACK}:{port}/0"
    finally:
        executor.stop()


def reference_environment(settings: Mapping[str, str], directory: Path) -> dict[str, str]:
    """``AUTHCONF_*`` for a served reference: a fresh secret, a SQLite file in ``directory``, the fast
    hash preset, then ``settings`` over them."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTHCONF_")}
    env.update({"AUTHCONF_SECRET_KEY": secrets.token_urlsafe(48),
                "AUTHCONF_DATABASE_URL": f"sqlite:///{directory.resolve() / 'reference.sqlite3'}",
                "AUTHCONF_HASH_PRESET": "fast"})
    env.update(settings)
    return env


@contextmanager
def reference_server(settings: Mapping[str, str], directory: Path, *, workers: int = 1) -> Iterator[str]:
    """``python -m reference_impl serve --workers N`` on a free loopback port; yields its base URL.

    ``settings`` are ``AUTHCONF_*`` variables (see docs/design.md); the server's output goes to
    ``directory/reference.log``.
    """
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = reference_environment(settings, directory)
    log_path = directory / "reference.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "reference_impl", "serve", "--workers", str(workers),
             "--bind", f"{LOOPBACK}:{port}"],
            env=env, cwd=directory, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://{LOOPBACK}:{port}"
        try:
            _wait_for_server(process, base, log_path)
            yield base
        finally:
            stop(process)


def _wait_for_server(process: subprocess.Popen[Any], base: str, log_path: Path) -> None:
    """Until /healthz answers; a server that exits or stays silent is a ServeError saying why."""
    target = HttpTarget(base, connect_timeout=1.0, read_timeout=5.0)
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while process.poll() is None and time.monotonic() < deadline:
            try:
                wait_until_ready(target, "/healthz", 0)
                return
            except TargetUnreachable:
                time.sleep(0.2)
    finally:
        target.close()
    code = process.poll()
    state = f"exited with {code}" if code is not None else f"did not answer within {READY_TIMEOUT:g} s"
    raise ServeError(f"the reference server {state}: {last_error_line(log_path)} (its log: {log_path})")


def last_error_line(log_path: Path) -> str:
    """The line of a log that says what went wrong (not the traceback before it)."""
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return "no output"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[\w.]+(Error|Exception)\b|^reference_impl serve:|^authconform load:", line):
            return line[:400]
    return lines[-1][:400] if lines else "no output"


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT: the one process we started, nothing else."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
