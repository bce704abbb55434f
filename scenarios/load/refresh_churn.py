"""refresh_churn: refresh rotation under concurrency.

Contract section 2: each refresh returns a new refresh token and revokes the one used; reuse of a
rotated token revokes its whole family. The users of a team share one refresh family and all
refresh with its current token, so several present the same token at once: at most one of them
may get a new pair; for the others the presentation is a reuse, refused, and the family ends (the
team then logs in again). Now and then a user deliberately replays a token already rotated away.
A second 2xx for one refresh token, or a 2xx for a replayed one, is a violation ("refresh token
accepted twice").
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from locust import task

from conformance.api import Tokens
from conformance.load.samples import REFRESH_TOKEN_REUSED
from scenarios.load.support import LIMITED, OK, UNAUTHORIZED, Judge, LoadUser, SetupFailed, Team, is_ok

KEPT_ROTATED = 4  # rotated-away refresh tokens a team keeps for deliberate replays


@dataclass
class FamilyTeam(Team):
    family: int = 0  # the number of the team's current login (one login, one refresh family)
    generation: int = 0  # refreshes of the current family so far
    ended: bool = False  # the target ended the current family (a reuse was detected)
    successes: Counter[tuple[int, int]] = field(default_factory=Counter)  # (family, generation) -> 2xx answers
    rotated: list[Tokens] = field(default_factory=list)


def _once(team: FamilyTeam, family: int, generation: int) -> Judge:
    def judge(status: int, _sent: float) -> str:
        if not is_ok(status):
            return ""
        team.successes[(family, generation)] += 1
        return REFRESH_TOKEN_REUSED if team.successes[(family, generation)] > 1 else ""

    return judge


def _never(status: int, _sent: float) -> str:
    return REFRESH_TOKEN_REUSED if is_ok(status) else ""


class RefreshChurn(LoadUser):
    team_kind = FamilyTeam
    team: FamilyTeam

    def family_tokens(self) -> Tokens:
        team = self.team
        if team.tokens is None or team.ended:
            with team.lock:
                if team.tokens is None or team.ended:
                    team.tokens = self.fresh_session()
                    team.family += 1
                    team.generation = 0
                    team.ended = False
        return team.tokens

    @task(8)
    def rotate(self) -> None:
        team = self.team
        try:
            tokens = self.family_tokens()
        except SetupFailed as exc:
            self.pause_after_failure(exc)
            return
        family, generation = team.family, team.generation
        response = self.ctx.expect(OK | UNAUTHORIZED | LIMITED, judge=_once(team, family, generation),
                                   name="refresh").refresh_response(tokens)
        if team.family != family:
            return  # the team has moved on to a new login meanwhile
        if is_ok(response.status) and team.generation == generation:
            team.rotated = ([tokens] + team.rotated)[:KEPT_ROTATED]
            team.tokens = self.api.tokens_from(response, previous=tokens)
            team.generation += 1
        elif response.status == 401:
            team.ended = True  # a concurrent presentation made this one a reuse: the family is gone

    @task(1)
    def replay(self) -> None:
        team = self.team
        if not team.rotated:
            return
        old = random.choice(team.rotated)
        family = team.family
        response = self.ctx.expect(UNAUTHORIZED | LIMITED, judge=_never, name="refresh (replay)").refresh_response(old)
        if response.status == 401 and team.family == family:
            team.ended = True  # the contract ends the family of a replayed token
