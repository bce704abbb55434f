"""The tenant admin's console: counts of the caller's tenant, for users with ``manage_users``.

A blueprint of its own, as such consoles usually are, which is where three common bugs live (the
fault catalog's ``admin-*`` faults): its own token decorator that skips verification, a view
registered for more methods than its guard covers, and a guard that compares the path as the
client wrote it while the router matches it case-insensitively.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, request
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from reference_impl.config import Config
from reference_impl.db import db
from reference_impl.openapi import INTEGER, obj
from reference_impl.operations import Operation, route
from reference_impl.role_access import authenticate, current, ensure_permission, require
from reference_impl.services import services

bp = Blueprint("admin", __name__)
PERMISSION = "manage_users"
PREFIX = "/admin/"
# Where fault admin-path-case keeps the path as the client sent it (its router lower-cases PATH_INFO).
ORIGINAL_PATH = "authconform.original_path"
# The methods fault admin-method-switch also answers on the stats route, guarded by nothing but a token.
SWITCHED_METHODS = ("PUT", "PATCH", "DELETE")

STATS = Operation("get", "/admin/stats", "Counts of the caller's tenant: users and documents", 200,
                  obj(["users", "documents"], users=INTEGER, documents=INTEGER), permission=PERMISSION,
                  permission_in_view=True)


def _counts(tenant: str) -> dict[str, int]:
    from reference_impl.documents import Document
    from reference_impl.users import User

    session = db()
    users = session.scalar(select(func.count()).select_from(User).where(User.tenant == tenant)) or 0
    documents = session.scalar(select(func.count()).select_from(Document).where(Document.tenant == tenant)) or 0
    return {"users": int(users), "documents": int(documents)}


@route(bp, STATS)
def stats() -> Any:
    principal = current()
    if not services().config.has_fault("admin-path-case"):
        ensure_permission(principal, PERMISSION)
    # With admin-path-case the guard is the blueprint's path rule (_path_guard), not this view.
    return _counts(principal.tenant)


@bp.before_request
def _path_guard() -> ResponseReturnValue | None:
    """Fault admin-path-case: the console is guarded by a rule on the path prefix, compared with the
    path as the client sent it, while the router matched it lower-cased: /Admin/stats slips past."""
    if services().config.has_fault("admin-path-case"):
        sent = str(request.environ.get(ORIGINAL_PATH, request.path))
        if sent.startswith(PREFIX):
            ensure_permission(authenticate(), PERMISSION)
    return None


@require(None)
def _stats_any_method() -> Any:
    """Fault admin-method-switch: `methods=["GET", "PUT", ...]` on the route, and the permission
    checked under `if request.method == "GET"` only."""
    return _counts(current().tenant)


class _CaseInsensitiveRouter:
    """Fault admin-path-case: the console's paths are routed case-insensitively (PATH_INFO lower-cased,
    as a router imitating IIS does), the path as sent kept for the guard."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if path.lower().startswith(PREFIX):
            environ[ORIGINAL_PATH] = path
            environ["PATH_INFO"] = path.lower()
        return self.app(environ, start_response)


def init_app(app: Flask, config: Config) -> None:
    app.register_blueprint(bp)
    if config.has_fault("admin-method-switch"):
        app.add_url_rule(STATS.flask_rule, "admin_stats_any_method", _stats_any_method, methods=list(SWITCHED_METHODS))
    if config.has_fault("admin-path-case"):
        app.wsgi_app = _CaseInsensitiveRouter(app.wsgi_app)  # type: ignore[method-assign]
