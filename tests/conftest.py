"""Shared fixtures about the reference implementation's infrastructure: a real redis-server, and
the reference served by gunicorn."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REDIS_BINARY = "redis-server"
REDIS_START_TIMEOUT = 10


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (no persistence); yields its URL."""
    binary = shutil.which(REDIS_BINARY)
    if binary is None:
        message = f"{REDIS_BINARY} not found on PATH: install it (apt-get install redis-server) to run these tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from mirakuru import TCPExecutor

    port = free_port()
    command = [binary, "--save", "", "--appendonly", "no", "--port", str(port), "--bind", "127.0.0.1"]
    executor = TCPExecutor(command, host="127.0.0.1", port=port, timeout=REDIS_START_TIMEOUT)
    executor.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        executor.stop()


SERVE_TIMEOUT = 30


@contextmanager
def served_reference(workdir: Path, settings: dict[str, str], workers: int = 3) -> Iterator[str]:
    """The reference under gunicorn on a free loopback port (fast hashing, SQLite in ``workdir``,
    ``settings`` as AUTHCONF_* variables); yields its base URL once /healthz answers."""
    from mirakuru import HTTPExecutor

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "AUTHCONF_HASH_PRESET": "fast",
           "AUTHCONF_DATABASE_URL": f"sqlite:///{workdir / 'reference.sqlite3'}", **settings}
    command = [sys.executable, "-m", "reference_impl", "serve", "--workers", str(workers),
               "--bind", f"127.0.0.1:{port}"]
    with (workdir / "server.log").open("wb") as log:
        executor = HTTPExecutor(command, url=f"{base}/healthz", method="GET", timeout=SERVE_TIMEOUT,
                                envvars=env, cwd=str(workdir), stdout=log, stderr=subprocess.STDOUT)
        executor.start()
        try:
            yield base
        finally:
            executor.stop()
