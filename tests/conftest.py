"""Shared fixtures about the reference implementation's infrastructure: a real redis-server."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator

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
