"""Shared fixtures about the reference implementation's infrastructure: a real redis-server."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from conformance.targets.inprocess import settle_cryptography_datetime

# Before any test freezes a clock (see settle_cryptography_datetime).
settle_cryptography_datetime()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port (no persistence); yields its URL."""
    from conformance import served

    if served.redis_binary() is None:
        message = (f"{served.REDIS_BINARY} not found on PATH: install it (apt-get install redis-server) to run "
                   "these tests")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with served.redis_server() as url:
        yield url
