"""rate_limit_probe: users hammer one authenticated route (``load.route``) without pause.

Contract section 6: the per-user limit is exact under concurrency and across workers, never more
than the limit admitted in a window. ``load.users_per_account`` users share each account, so one
limiter key sees concurrent requests. Every answer is recorded with the account's limiter key;
after the run, the admitted requests of each account are counted per window and compared with
``rate_limits.api_limit``: anything above it is over-admission. 2xx and 429 are the expected
answers; anything else counts as an error.
"""

from __future__ import annotations

from locust import task

from scenarios.load.support import LIMITED, OK, LoadUser, SetupFailed


class RateLimitProbe(LoadUser):
    @task
    def hammer(self) -> None:
        try:
            tokens = self.team_session()
        except SetupFailed as exc:
            self.pause_after_failure(exc)
            return
        route = self.profile.load.route
        self.ctx.expect(OK | LIMITED, keys=[self.team.api_key], name=route).call(route, auth=tokens)
