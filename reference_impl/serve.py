"""Serve the reference under gunicorn: ``python -m reference_impl serve --workers N --bind HOST:PORT``.

The app is built once in the master (``preload_app``) so every worker shares the generated
asymmetric key; database connections are not carried across the fork. Several workers need a
shared store: with the memory store each worker would keep its own revocations and counters, so
that combination is refused.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask

from reference_impl.config import Config, ConfigError

EXIT_USAGE = 2
# ``serve --quick``: short numbers for trying the suite, the ones conformance/profiles/quick.toml
# declares (`authconform run --profile quick`), so a full run waits seconds where the defaults wait
# minutes. They win over the same AUTHCONF_* variables: the bundled profile must match them.
QUICK = {"AUTHCONF_ACCESS_TTL": "20", "AUTHCONF_REFRESH_TTL": "300", "AUTHCONF_IDLE_TIMEOUT": "20",
         "AUTHCONF_ABSOLUTE_TIMEOUT": "40", "AUTHCONF_API_RATE_WINDOW": "15", "AUTHCONF_LOGIN_RATE_WINDOW": "15",
         "AUTHCONF_HASH_PRESET": "fast"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reference_impl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the reference under gunicorn (AUTHCONF_* configure it)")
    serve.add_argument("--workers", type=int, default=1, help="gunicorn worker processes (default 1)")
    serve.add_argument("--threads", type=int, default=1, help="threads per worker (default 1)")
    serve.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT (default 127.0.0.1:8000)")
    serve.add_argument("--timeout", type=int, default=30, help="worker timeout in seconds (default 30)")
    serve.add_argument("--quick", action="store_true",
                       help="short test numbers (access TTL 20 s, idle 20 s, absolute 40 s, limiter windows "
                            "15 s) matching the bundled profile quick: authconform run --profile quick; a "
                            "random secret unless AUTHCONF_SECRET_KEY is set")
    return parser


def refusal(config: Config, workers: int) -> str | None:
    """Why this configuration cannot run with this many workers, or None."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers > 1 and config.store == "memory":
        return (f"--workers {workers} with AUTHCONF_STORE=memory would give every worker its own revocations, "
                "sessions and rate-limit counters; set AUTHCONF_STORE=redis and AUTHCONF_REDIS_URL, or use "
                "--workers 1")
    if workers > 1 and config.database_url in ("sqlite://", "sqlite:///:memory:"):
        return (f"--workers {workers} with an in-memory SQLite database would give every worker its own "
                "database; point AUTHCONF_DATABASE_URL at a file or a server")
    return None


def _without_password(url: str) -> str:
    """A store or database URL fit for a log line: any password replaced by ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def banner(config: Config, *, bind: str, workers: int, threads: int) -> str:
    """The line ``serve`` prints at start: where it listens, its store and database, its workers."""
    store = config.store + (f" at {_without_password(config.redis_url)}" if config.store == "redis" else
                            " (per process, lost on restart)")
    return (f"reference_impl: listening on http://{bind}; store {store}; database "
            f"{_without_password(config.database_url)}; {workers} worker(s) x {threads} thread(s); "
            f"{config.jwt_algorithm}" + (f"; faults on: {', '.join(sorted(config.faults))}" if config.faults else ""))


def run(app: Flask, *, bind: str, workers: int, threads: int, timeout: int) -> None:
    from gunicorn.app.base import BaseApplication

    engine = app.extensions["authconform"].engine

    def post_fork(_server: Any, _worker: Any) -> None:
        engine.dispose(close=False)  # each worker opens its own database connections

    class ReferenceServer(BaseApplication):
        def load_config(self) -> None:
            settings = {"bind": bind, "workers": workers, "threads": threads, "timeout": timeout,
                        "preload_app": True, "post_fork": post_fork, "accesslog": None,
                        "errorlog": "-", "loglevel": "warning"}
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return app

    ReferenceServer().run()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    environ = dict(os.environ)
    if args.quick:
        environ.update(QUICK)
        if not environ.get("AUTHCONF_SECRET_KEY"):
            environ["AUTHCONF_SECRET_KEY"] = secrets.token_urlsafe(48)
    try:
        config = Config.from_env(environ)
        problem = refusal(config, args.workers)
        if problem:
            print(f"reference_impl serve: {problem}", file=sys.stderr)
            return EXIT_USAGE
        from reference_impl.app import create_app

        app = create_app(config)
    except ConfigError as exc:
        print(f"reference_impl serve: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(banner(config, bind=args.bind, workers=args.workers, threads=args.threads), flush=True)
    run(app, bind=args.bind, workers=args.workers, threads=args.threads, timeout=args.timeout)
    return 0
