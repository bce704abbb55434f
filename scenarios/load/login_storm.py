"""login_storm: many users logging in without pause, with wrong passwords and unknown users.

Contract sections 6 and 7: login is limited per (client address, username) and per client address;
a wrong password is never accepted. Users of a team share an account and a client address. Each
attempt is, by the profile's shares, a wrong password (``load.wrong_password_ratio``), an unknown
username in the account's tenant (``load.unknown_user_ratio``), or the right password. Every answer
is recorded with both login limiter keys; after the run, the attempts that got past the limiter
(anything but 429) are counted per key and window against ``rate_limits.login_account_limit`` and
``rate_limits.login_ip_limit``. A 2xx for a wrong password or an unknown user is a violation.
"""

from __future__ import annotations

import dataclasses
import random
import secrets

from locust import task

from conformance.load.samples import WRONG_PASSWORD_ACCEPTED, opaque
from scenarios.load.support import LIMITED, OK, UNAUTHORIZED, LoadUser, SetupFailed, is_ok


def _never_accepted(status: int, _sent: float) -> str:
    return WRONG_PASSWORD_ACCEPTED if is_ok(status) else ""


class LoginStorm(LoadUser):
    @task
    def attempt(self) -> None:
        try:
            account = self.ensure_account()
        except SetupFailed as exc:
            self.pause_after_failure(exc)
            return
        shares = self.profile.load
        roll = random.random()
        if roll < shares.unknown_user_ratio:
            principal = dataclasses.replace(account, username=f"nobody-{secrets.token_hex(4)}")
            kind = "unknown user"
        elif roll < shares.unknown_user_ratio + shares.wrong_password_ratio:
            principal = dataclasses.replace(account, password=account.password + "-wrong")
            kind = "wrong password"
        else:
            principal, kind = account, "valid"
        keys = self.login_keys(opaque(principal.tenant, principal.username))
        if kind == "valid":
            self.ctx.expect(OK | LIMITED, keys=keys, name="login (valid)").login_response(principal)
        else:
            self.ctx.expect(UNAUTHORIZED | LIMITED, keys=keys, judge=_never_accepted,
                            name=f"login ({kind})").login_response(principal)
