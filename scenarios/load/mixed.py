"""mixed: a realistic mix of reads, writes, refreshes and logouts, with short pauses.

Each simulated user has a session of its own on its team's account (so a team must fit within
``sessions.max_sessions``). Reads and writes count against the account's API limit and are judged
per window like ``rate_limit_probe``; a refresh of the user's own token must succeed; after a
logout the old token is tried once more and must be refused ("revoked token accepted" otherwise),
then the user logs in again.
"""

from __future__ import annotations

import secrets
import time

from locust import between, task

from conformance.api import Tokens
from conformance.load.samples import REVOKED_TOKEN_ACCEPTED
from scenarios.load.support import LIMITED, OK, UNAUTHORIZED, Judge, LoadUser, SetupFailed, is_ok

READS = ("documents_list", "me")


def _refused_after(logged_out: float) -> Judge:
    def judge(status: int, sent: float) -> str:
        return REVOKED_TOKEN_ACCEPTED if is_ok(status) and sent > logged_out else ""

    return judge


class Mixed(LoadUser):
    wait_time = between(0.05, 0.3)
    tokens: Tokens | None = None

    def session(self) -> Tokens | None:
        if self.tokens is None:
            try:
                self.tokens = self.fresh_session()
            except SetupFailed as exc:
                self.pause_after_failure(exc)
        return self.tokens

    def can(self, permission: str) -> bool:
        account = self.team.account
        return account is not None and permission in self.profile.permissions.get(account.role, [])

    @task(6)
    def read(self) -> None:
        tokens = self.session()
        if tokens is None:
            return
        operation = READS[self.state.sent % len(READS)] if "documents_list" in self.profile.operations else "me"
        self.ctx.expect(OK | LIMITED, keys=[self.team.api_key], name=operation).call(operation, auth=tokens)

    @task(3)
    def write(self) -> None:
        tokens = self.session()
        if tokens is None or not self.can("write") or "document_create" not in self.profile.operations:
            return
        body = {"title": f"load {secrets.token_hex(3)}", "body": "written under load"}
        self.ctx.expect(OK | LIMITED, keys=[self.team.api_key], name="document_create").call(
            "document_create", auth=tokens, body=body)

    @task(2)
    def refresh(self) -> None:
        tokens = self.session()
        if tokens is None:
            return
        response = self.ctx.expect(OK | LIMITED, name="refresh").refresh_response(tokens)
        if is_ok(response.status):
            self.tokens = self.api.tokens_from(response, previous=tokens)

    @task(1)
    def logout_and_back(self) -> None:
        tokens = self.session()
        if tokens is None:
            return
        response = self.ctx.expect(OK | LIMITED, keys=[self.team.api_key], name="logout").call("logout", auth=tokens)
        if not is_ok(response.status):
            return
        logged_out = time.time()
        self.tokens = None
        self.ctx.expect(UNAUTHORIZED | LIMITED, keys=[self.team.api_key], judge=_refused_after(logged_out),
                        name="me (after logout)").call("me", auth=tokens)
