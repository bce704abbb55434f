"""Probing a live target for ``authconform init``: the discovery steps, in order, feeding one
``Draft`` (``wizard/draft.py``).

The probe reads the OpenAPI document where there is one (``discover_openapi``), then confirms
what it can by using the target the way a client would: it logs in (``discover_login``) with an
account from the environment or as one throwaway user it signs up (``discover_signup``, when there
is a sign-up route and it may), learns from the answers where tokens come back, what they say and
how they are presented (``discover_tokens``), which refresh (``discover_refresh``) and logout
(``discover_logout``) routes work, and what else the target has (``discover_capabilities``:
sessions, keys, rate limits, what only the document shows). It never changes a password, deletes
an account or touches another user; what it cannot confirm safely it writes as a guess.

Every use of a contract operation goes through ``conformance.api.Api`` (see ``probing``), so a
draft describes what the suite can really send. No secret is ever printed.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from conformance.wizard import (
    discover_capabilities,
    discover_login,
    discover_logout,
    discover_openapi,
    discover_refresh,
    discover_tokens,
)
from conformance.wizard.draft import Draft, Value
from conformance.wizard.probing import Options, ProbeContext

__all__ = ["Options", "Prober"]


class Prober:
    """Runs the discovery steps against a target; ``run`` returns the filled ``Draft``."""

    def __init__(self, options: Options, say: Callable[[str], None]) -> None:
        self.ctx = ProbeContext(options, say)

    @property
    def draft(self) -> Draft:
        return self.ctx.draft

    def run(self) -> Draft:
        ctx = self.ctx
        self._reach()
        discover_openapi.read_openapi(ctx)
        self._defaults()
        tokens = discover_login.log_in(ctx)
        if tokens is None:
            discover_login.without_login(ctx)
            return ctx.draft
        discover_tokens.learn_tokens(ctx, tokens)
        discover_tokens.find_me(ctx, tokens)
        discover_capabilities.find_public_routes(ctx)
        discover_capabilities.find_sessions(ctx, tokens)
        tokens = discover_refresh.find_refresh(ctx, tokens)
        discover_capabilities.find_session_delete(ctx, tokens)
        discover_logout.find_logout(ctx, tokens)
        discover_logout.find_logout_all(ctx)
        discover_capabilities.from_openapi_only(ctx)
        discover_capabilities.roles_and_tenants(ctx, tokens)
        discover_capabilities.rate_limits(ctx)
        discover_tokens.write_tokens_section(ctx)
        discover_capabilities.write_client(ctx)
        return ctx.draft

    def _reach(self) -> None:
        ctx = self.ctx
        answer = ctx.send("GET", "/")  # TargetUnreachable here is the caller's exit 3
        ctx.say(f"target: {ctx.http.base_url} answers ({answer.status})")
        ctx.draft.target["base_url"] = Value(ctx.http.base_url)

    def _defaults(self) -> None:
        draft = self.ctx.draft
        draft.name = draft.name or urlsplit(self.ctx.http.base_url).netloc
        draft.passwords["min_length"] = Value(8, "the contract's minimum; set your service's", guess=True)
        draft.passwords["max_length"] = Value(128, "the contract's maximum; set your service's", guess=True)
        draft.target["max_wait"] = Value(120.0, "longest real wait a check may do (login windows, timeouts)",
                                         guess=True)
