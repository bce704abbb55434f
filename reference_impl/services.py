"""Everything one app instance needs, on ``app.extensions["authconform"]``: no module-level state."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import Engine

from reference_impl.config import Config
from reference_impl.keys import KeySet
from reference_impl.memory_store import MemoryStore
from reference_impl.passwords import Passwords
from reference_impl.store import Store

if TYPE_CHECKING:
    from reference_impl.token_validation import TokenVerifier
    from reference_impl.tokens import TokenIssuer

EXTENSION = "authconform"


@dataclass
class ProcessLocal:
    """State kept in this app instance only. The reference never uses it for a decision; only the
    faults that imitate per-process state do (it is what breaks under several workers)."""

    revoked_jtis: set[str] = field(default_factory=set)
    ended_sessions: set[str] = field(default_factory=set)
    session_counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    limiter: MemoryStore = field(default_factory=MemoryStore)
    lock: threading.Lock = field(default_factory=threading.Lock)
    kid_db: sqlite3.Connection | None = None


@dataclass
class Services:
    config: Config
    store: Store
    engine: Engine
    keys: KeySet
    passwords: Passwords
    verifier: TokenVerifier
    issuer: TokenIssuer
    local: ProcessLocal = field(default_factory=ProcessLocal)


def services() -> Services:
    svc: Services = current_app.extensions[EXTENSION]
    return svc
