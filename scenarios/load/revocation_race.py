"""revocation_race: one user logs out while the others of its team keep using the same token.

Contract section 2: logout revokes the presented access token at once, across every worker of the
server. The users of a team share one login. After a few uses one of them logs out; the others
keep going with the same token for a moment, then the team logs in again and the cycle repeats.
A request sent after the logout answer came back and answered 2xx is a violation ("revoked token
accepted"). Requests in flight while the logout is decided may go either way.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from locust import task

from conformance.load.samples import REVOKED_TOKEN_ACCEPTED
from scenarios.load.support import LIMITED, OK, UNAUTHORIZED, Judge, LoadUser, SetupFailed, Team, is_ok

USES_BEFORE_LOGOUT = (3, 10)  # uses of a fresh session by the team before one of them logs out
USES_AFTER_LOGOUT = 8  # uses of the revoked token by the team before it logs in again


@dataclass
class RaceTeam(Team):
    session: int = 0  # the number of the team's current login
    uses: int = 0
    logout_after: int = field(default_factory=lambda: random.randint(*USES_BEFORE_LOGOUT))
    logging_out: bool = False
    logged_out_at: dict[int, float] = field(default_factory=dict)  # session -> logout answer received
    uses_after: int = 0
    limited: bool = False  # the account met the API limit during this session


def _revoked_after(team: RaceTeam, session: int) -> Judge:
    def judge(status: int, sent: float) -> str:
        logged_out = team.logged_out_at.get(session)
        return REVOKED_TOKEN_ACCEPTED if is_ok(status) and logged_out is not None and sent > logged_out else ""

    return judge


class RevocationRace(LoadUser):
    team_kind = RaceTeam
    team: RaceTeam

    @task
    def race(self) -> None:
        team = self.team
        try:
            tokens = self.team_session()
        except SetupFailed as exc:
            self.pause_after_failure(exc)
            return
        session = team.session
        if session in team.logged_out_at and team.uses_after >= USES_AFTER_LOGOUT:
            self._next_session(session)
            return
        if team.uses >= team.logout_after and session not in team.logged_out_at and not team.logging_out:
            team.logging_out = True
            try:
                response = self.ctx.expect(OK | LIMITED, keys=[team.api_key], name="logout").call(
                    "logout", auth=tokens)
                if is_ok(response.status):
                    team.logged_out_at[session] = time.time()
            finally:
                team.logging_out = False
            return
        route = self.profile.load.route
        response = self.ctx.expect(OK | UNAUTHORIZED | LIMITED, keys=[team.api_key],
                                   judge=_revoked_after(team, session), name=route).call(route, auth=tokens)
        team.limited |= response.status == 429
        if session in team.logged_out_at:
            team.uses_after += 1
        else:
            team.uses += 1

    def _next_session(self, session: int) -> None:
        team = self.team
        with team.lock:
            if team.session != session:
                return
            if team.limited and self.profile.users.source == "signup":
                team.account = None  # the API limit of this account is spent for its window: a new one
            try:
                team.tokens = self.fresh_session()
            except SetupFailed as exc:
                self.note(str(exc))
                return
            team.session += 1
            team.uses = team.uses_after = 0
            team.limited = False
            team.logout_after = random.randint(*USES_BEFORE_LOGOUT)
