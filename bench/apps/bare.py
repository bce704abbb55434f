"""A bare Flask route: the ceiling of Flask under gunicorn on this machine, no checks at all."""

from __future__ import annotations

from flask import Flask


def create_app() -> Flask:
    app = Flask("bench-bare")

    @app.get("/users/me")
    def me() -> dict[str, object]:
        return {"id": 1, "username": "ann", "role": "viewer", "tenant": "acme"}

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
