"""What each route declares: the body it accepts, who may call it, and every status it can answer.

The declaration is the one place these are written. ``route`` registers the view behind the guard
the declaration names; the app logs any answer a route gives that its declaration does not list
(``init_app``); and /openapi.json is written from the declarations of the app's own routes
(reference_impl/openapi.py). A route's answers cannot drift from its document without a log line,
and the project's Schemathesis test reads that log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from flask import Blueprint, Flask, request
from flask.typing import ResponseReturnValue

from reference_impl.bodies import MAX_BODY_BYTES
from reference_impl.config import Config
from reference_impl.role_access import STATE_CHANGING, require
from reference_impl.services import services

Schema = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "authconform_operation"
# Requests Flask answers by itself for any route, without running its view.
UNCHECKED_METHODS = frozenset({"OPTIONS"})
log = logging.getLogger("reference_impl")


class Access(StrEnum):
    PUBLIC = "public"
    SIGNED_IN = "signed-in"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI form: /documents/{document_id}
    summary: str
    success: int
    returns: Schema | None = None  # the success body's schema (None: no body)
    access: Access = Access.SIGNED_IN
    permission: str = ""  # the permission the caller's role needs ("" for any signed-in user)
    # The view checks the permission itself, after steps of its own (the self-promotion fault's).
    permission_in_view: bool = False
    body: Schema | None = None
    body_required: bool = True
    path_parameters: Mapping[str, Schema] = field(default_factory=dict)
    query_parameters: Mapping[str, Schema] = field(default_factory=dict)
    # Statuses particular to this route, each with when it is answered.
    answers: Mapping[int, str] = field(default_factory=dict)
    # Statuses a configuration adds (sign-up switched off...).
    configured_answers: Callable[[Config], Mapping[int, str]] | None = None
    uses_storage: bool = True  # reads the session store or the database, so it can answer 503
    # OpenAPI links from the success answer: name -> (the target's endpoint, its parameters as
    # runtime expressions), so a stateful client knows where the ids it gets back are used.
    links: Mapping[str, tuple[str, Mapping[str, str]]] = field(default_factory=dict)

    def error_answers(self, config: Config) -> dict[int, str]:
        """Every status but the success one this route can answer under ``config``, with when."""
        found: dict[int, list[str]] = {}

        def add(status: int, when: str) -> None:
            found.setdefault(status, []).append(when)

        if self.body is not None:
            add(400, "the body is not a JSON object of the documented shape")
            add(413, f"the body is larger than {MAX_BODY_BYTES // 1024 // 1024} MiB")
        if self.access is Access.SIGNED_IN:
            add(401, "no access token, or one that is invalid, expired or revoked (its session ended, its "
                     "account deleted, even while this request was being answered)")
            add(429, "the caller's per-user rate limit is spent (see Retry-After)")
            if self.permission:
                add(403, f"the caller's role lacks the {self.permission} permission")
            if config.cookie_mode and self.method.upper() in STATE_CHANGING:
                add(403, "a change authenticated by the access cookie without the X-CSRF-Token header")
        for status, when in self.answers.items():
            add(status, when)
        if self.configured_answers is not None:
            for status, when in self.configured_answers(config).items():
                add(status, when)
        if self.uses_storage:
            add(503, "the session store or the database is unavailable (see Retry-After)")
        return {status: "; ".join(whens) for status, whens in sorted(found.items())}

    def statuses(self, config: Config) -> frozenset[int]:
        return frozenset({self.success, *self.error_answers(config)})

    @property
    def flask_rule(self) -> str:
        return self.path.replace("{", "<").replace("}", ">")


def route(bp: Blueprint, operation: Operation) -> Callable[[F], F]:
    """Register the view for ``operation``, behind the guard its access and permission name."""

    def decorate(view: F) -> F:
        registered: Any = view
        if operation.access is Access.SIGNED_IN:
            permission = None if operation.permission_in_view else operation.permission or None
            registered = require(permission)(view)
        setattr(registered, ATTRIBUTE, operation)
        bp.add_url_rule(operation.flask_rule, view.__name__, registered, methods=[operation.method.upper()])
        return registered

    return decorate


def declared(app: Flask) -> list[tuple[str, Operation]]:
    """(endpoint, declaration) of the app's routes, in the order they were registered."""
    found = []
    for rule in app.url_map.iter_rules():
        operation = getattr(app.view_functions.get(rule.endpoint), ATTRIBUTE, None)
        if isinstance(operation, Operation):
            found.append((rule.endpoint, operation))
    return found


def operation_of_request(app: Flask) -> Operation | None:
    if request.endpoint is None:
        return None
    operation = getattr(app.view_functions.get(request.endpoint), ATTRIBUTE, None)
    return operation if isinstance(operation, Operation) else None


def init_app(app: Flask) -> None:
    @app.after_request
    def check_declared(response: ResponseReturnValue) -> ResponseReturnValue:
        operation = operation_of_request(app)
        config = services().config
        status = response.status_code  # type: ignore[union-attr]
        # Faults make the server deliberately wrong; the document describes the server without them.
        if operation is None or config.faults or config.conditions or request.method in UNCHECKED_METHODS:
            return response
        if status not in operation.statuses(config):
            log.error("undeclared answer: %s %s answered %d, which its declaration does not list",
                      operation.method.upper(), operation.path, status)
        return response
