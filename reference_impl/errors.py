"""JSON errors: ``{"error", "message"}`` everywhere, the Bearer challenge on 401 (RFC 6750), and a
JSON 500 without a traceback for anything unexpected (which malformed input must never reach)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from reference_impl.store import StoreUnavailable

REALM = "authconform"
# Seconds a client is asked to wait when a part of the service (store, database) is unavailable.
RETRY_AFTER_UNAVAILABLE = 1
log = logging.getLogger("reference_impl")


class ApiError(Exception):
    status = 400
    error = "bad_request"

    def __init__(self, message: str, *, error: str | None = None, status: int | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    status, error = 400, "bad_request"


class Unauthorized(ApiError):
    """401; ``token_sent`` adds error="invalid_token" to the challenge."""

    status, error = 401, "unauthorized"

    def __init__(self, message: str, *, token_sent: bool, error: str | None = None) -> None:
        super().__init__(message, error=error or ("invalid_token" if token_sent else "unauthorized"))
        self.token_sent = token_sent


class Forbidden(ApiError):
    status, error = 403, "forbidden"


class NotFound(ApiError):
    status, error = 404, "not_found"


class Conflict(ApiError):
    status, error = 409, "conflict"


class Unprocessable(ApiError):
    status, error = 422, "unprocessable"


class TooManyRequests(ApiError):
    status, error = 429, "rate_limited"


def error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> Any:
    response = jsonify({"error": error, "message": message})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def database_reason(exc: Exception) -> str:
    """The driver's own words (``database is locked``), without SQLAlchemy's SQL and parameters."""
    original = getattr(exc, "orig", None)
    return f"{type(original or exc).__name__}: {original or exc}".splitlines()[0]


def challenge(token_sent: bool, *, error_attribute: bool = True) -> str:
    value = f'Bearer realm="{REALM}"'
    if token_sent and error_attribute:
        value += ', error="invalid_token", error_description="the access token is invalid"'
    return value


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> ResponseReturnValue:
        headers = dict(exc.headers)
        if isinstance(exc, Unauthorized) and not current_app.extensions["authconform"].config.has_fault(
                "no-www-authenticate"):
            headers["WWW-Authenticate"] = challenge(exc.token_sent, error_attribute=not current_app.extensions[
                "authconform"].config.has_fault("www-authenticate-no-error"))
        return error_response(exc.status, exc.error, exc.message, headers)

    @app.errorhandler(StoreUnavailable)
    def store_down(exc: StoreUnavailable) -> ResponseReturnValue:
        log.warning("store unavailable: %s", exc)
        return error_response(503, "service_unavailable", "the session store is unavailable; try again later",
                              {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})

    # The database locked (SQLite busy past its timeout), read-only, out of space or unreachable,
    # or no pooled connection free in time: the request cannot be served, nothing is wrong with it.
    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_down(exc: Exception) -> ResponseReturnValue:
        log.warning("database unavailable: %s", database_reason(exc))
        return error_response(503, "service_unavailable", "the database is unavailable; try again later",
                              {"Retry-After": str(RETRY_AFTER_UNAVAILABLE)})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        name = (exc.name or "error").lower().replace(" ", "_")
        headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
        if code == 401:
            headers["WWW-Authenticate"] = challenge(False)
        return error_response(code, name, exc.description or name, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "the server failed to answer this request")
