"""Fixtures of the hostile-target tests: the recorder standing for another host, TLS files."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .certs import TlsFiles, self_signed
from .servers import MisbehavingServer, record

# Another host than the target's: another loopback address (Linux answers on all of 127/8).
OTHER_HOST = "127.0.0.2"


@pytest.fixture
def recorder() -> Iterator[MisbehavingServer]:
    """Must hear nothing: every redirect of the hostile targets points here."""
    with MisbehavingServer(record, host=OTHER_HOST) as server:
        yield server


@pytest.fixture(scope="session")
def tls_files() -> Iterator[TlsFiles]:
    # A directory of its own rather than pytest's numbered temporary directories (which every
    # pytest session of the machine's user shares and prunes).
    with tempfile.TemporaryDirectory(prefix="authconform-tls-") as directory:
        yield self_signed(Path(directory))
