"""The app factory: ``create_app(config, *, store=None, engine=None)``.

A store or engine passed in is shared (several app instances over one store and database are how
the in-process target imitates workers and restarts). Everything the app needs hangs on
``app.extensions["authconform"]``.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import click
from flask import Blueprint, Flask
from flask.typing import ResponseReturnValue
from sqlalchemy import Engine, select
from werkzeug.routing import Rule

from reference_impl import (
    admin,
    audit,
    cli,
    db,
    documents,
    errors,
    mfa,
    notes,
    openapi,
    operations,
    rate_limiting,
    session_management,
    users,
)
from reference_impl.bodies import MAX_BODY_BYTES
from reference_impl.config import Config, ConfigError
from reference_impl.errors import RETRY_AFTER_UNAVAILABLE, database_reason, error_response
from reference_impl.keys import load_keys
from reference_impl.memory_store import MemoryStore
from reference_impl.operations import Access, Operation, route
from reference_impl.passwords import Passwords
from reference_impl.services import EXTENSION, ProcessLocal, Services, services
from reference_impl.store import Store, StoreUnavailable
from reference_impl.tenancy import Tenant
from reference_impl.token_validation import TokenVerifier
from reference_impl.tokens import TokenIssuer

log = logging.getLogger("reference_impl")


class LazyBuildRule(Rule):
    """A route whose URL builders are compiled when a URL is first built, not when the route is
    added. Werkzeug compiles two builders per route up front, about half the cost of an app; the
    in-process target makes two apps per check and hardly ever builds a URL."""

    def _compile_builder(self, append_unknown: bool = True) -> Any:
        compiled: Any = None

        def build(rule: Rule, *args: Any, **kwargs: Any) -> Any:
            nonlocal compiled
            if compiled is None:
                compiled = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            return compiled(*args, **kwargs)

        return build
meta = Blueprint("meta", __name__)
UNAVAILABLE = {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)}


@route(meta, Operation("get", "/.well-known/jwks.json", "The public signing keys", 200,
                       openapi.listing("keys", {"type": "object"}), access=Access.PUBLIC, uses_storage=False))
def jwks() -> Any:
    svc = services()
    if svc.config.has_fault("jwks-publishes-secret") or svc.config.has_fault("jwks-leaks-private"):
        return svc.keys.leaky_jwks()
    return svc.keys.jwks()


@route(meta, Operation("get", "/healthz", "Liveness, including the store and the database", 200,
                       openapi.obj(["status"], status=openapi.STRING), access=Access.PUBLIC))
def healthz() -> Any:
    svc = services()
    try:
        svc.store.ping()
    except StoreUnavailable:
        return error_response(503, "service_unavailable", "the session store is unreachable", UNAVAILABLE)
    try:
        with svc.engine.connect() as connection:  # a real table: a locked SQLite file answers "locked"
            connection.execute(select(Tenant.id).limit(1))
    except Exception as exc:  # whatever the driver raises, health says "unavailable", in one log line
        log.warning("health: database unavailable: %s", database_reason(exc))
        return error_response(503, "service_unavailable", "the database is unreachable", UNAVAILABLE)
    return {"status": "ok"}


def build_store(config: Config) -> Store:
    if config.store == "redis":
        from reference_impl.redis_store import RedisStore

        return RedisStore(config.redis_url)
    return MemoryStore()


def _apply_conditions(app: Flask, config: Config) -> None:
    """The awkward-but-correct behaviours of conditions.py that act on every request."""
    import itertools

    from reference_impl.conditions import FLAKY_EVERY, SLOW_SECONDS

    requests_seen = itertools.count(1)

    @app.before_request
    def awkward() -> ResponseReturnValue | None:
        if config.has_condition("slow-answers"):
            time.sleep(SLOW_SECONDS)
        if config.has_condition("flaky-5xx") and next(requests_seen) % FLAKY_EVERY == 0:
            return {"error": "unavailable", "message": "temporarily unavailable (condition flaky-5xx)"}, 503
        return None


class EnvironmentConfigError(ConfigError, click.ClickException):
    """A bad ``AUTHCONF_*`` environment under ``flask --app reference_impl ...``: click prints it as one
    line (``Error: ...``, exit 1) instead of a traceback; still a ConfigError for other callers."""

    def __init__(self, message: str) -> None:
        ConfigError.__init__(self, message)
        click.ClickException.__init__(self, message)


# What a command-line step needs to act on the same data as the server it belongs to.
SHARED_SETTINGS = ("AUTHCONF_SECRET_KEY", "AUTHCONF_DATABASE_URL", "AUTHCONF_STORE", "AUTHCONF_REDIS_URL")


def _config_from_environment() -> Config:
    try:
        config = Config.from_env(os.environ)
        config.validate()
    except ConfigError as exc:
        raise EnvironmentConfigError(
            f"{exc}. The reference reads its configuration from the environment: export "
            f"{', '.join(SHARED_SETTINGS)} with the values the server runs with") from None
    return config


def create_app(config: Config | None = None, *, store: Store | None = None, engine: Engine | None = None) -> Flask:
    """A fresh app. With no config, read ``AUTHCONF_*`` from the environment (``flask --app reference_impl``)."""
    if config is None:
        config = _config_from_environment()
    config.validate()
    # A configuration built by hand with an asymmetric algorithm and no key gets one for this app
    # only; Config.from_env / for_tests generate it once so every app made from them shares it.
    config = config.with_generated_key()
    app = Flask("reference_impl", static_folder=None)
    if hasattr(Rule, "_compile_builder"):  # werkzeug's own hook; without it, routes compile eagerly
        app.url_rule_class = LazyBuildRule
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, DEBUG=config.debug)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if engine is None:
        engine = db.make_engine(config.database_url)
    db.create_schema(engine)
    keys = load_keys(config)
    local = ProcessLocal()
    app.extensions[EXTENSION] = Services(
        config=config, store=store if store is not None else build_store(config), engine=engine, keys=keys,
        passwords=Passwords(config.hash_preset), verifier=TokenVerifier(config, keys, local),
        issuer=TokenIssuer(config, keys), local=local)
    errors.init_app(app)
    db.init_app(app)
    rate_limiting.init_app(app)
    operations.init_app(app)
    for blueprint in (meta, openapi.bp, session_management.bp, mfa.bp, users.bp, documents.bp, notes.bp,
                      audit.bp):
        app.register_blueprint(blueprint)
    admin.init_app(app, config)
    if config.has_fault("test-token-route"):
        app.add_url_rule("/debug/token", "debug_token", session_management.debug_token)
    cli.init_app(app)

    if config.conditions:
        _apply_conditions(app, config)

    @app.after_request
    def security_headers(response: ResponseReturnValue) -> ResponseReturnValue:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")  # type: ignore[union-attr]
        response.headers.setdefault("Cache-Control", "no-store")  # type: ignore[union-attr]
        return response

    if config.faults:
        log.warning("faults switched on (deliberately vulnerable): %s", ", ".join(sorted(config.faults)))
    return app
