"""The database: one declarative base for every table, one SQLAlchemy session per request."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import StaticPool

# Seconds a worker waits for another worker's write on a SQLite file before the request answers 503;
# a ``?timeout=SECONDS`` in the database URL chooses another wait.
SQLITE_BUSY_TIMEOUT = 15


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite") and (url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url):
        # One in-memory database shared by every thread of this process.
        return create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    if url.startswith("sqlite"):
        connect_args: dict[str, object] = {"check_same_thread": False}
        if "timeout" not in make_url(url).query:
            connect_args["timeout"] = SQLITE_BUSY_TIMEOUT
        return create_engine(url, connect_args=connect_args)
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    # Import the modules that declare tables so they are registered on Base.metadata.
    from reference_impl import audit, documents, mfa, notes, tenancy, users  # noqa: F401

    Base.metadata.create_all(engine)


def db() -> Session:
    """The request's database session (opened on first use, closed at teardown)."""
    session: Session | None = g.get("_authconform_db")
    if session is None:
        from reference_impl.services import services

        session = Session(services().engine, expire_on_commit=False)
        g._authconform_db = session
    return session


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("_authconform_db", None)
        if session is not None:
            session.close()
