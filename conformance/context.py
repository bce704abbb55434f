"""What a check body gets: the target, the profile, helpers, and the evidence it is recording."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from conformance.answers import Answer, Classifier, retry_after
from conformance.api import Api, Tokens
from conformance.evidence import Redactor, exchange_record
from conformance.leases import AccountPool, Budgets, ClientAddresses, MissingAccounts
from conformance.minting import Minter
from conformance.profile import Profile
from conformance.registry import Check
from conformance.targets.base import Clock, Response, Target
from conformance.users import Users
from conformance.verdict import CannotJudge, CheckFailed, ControlFailed, NotApplicable, TargetUnreachable

# Evidence kept per check: the first exchanges set the scene, the last ones decide the verdict.
EVIDENCE_HEAD, EVIDENCE_TAIL = 6, 14
# A rate-limited answer is waited out and the request sent again at most this often per request.
LIMIT_RESENDS = 2
# A 5xx is sent once more: a crash the same request repeats is one the target has, a single 503
# in between is not (evidence of neither a refusal nor an acceptance).
CRASH_RESENDS = 1


class _WatchedClock:
    """The target's clock, noting when a check moves it (see ``clock_sensitive`` on ``@check``)."""

    def __init__(self, clock: Clock, ctx: CheckContext) -> None:
        self._clock, self._ctx = clock, ctx

    def advance(self, seconds: float) -> None:
        self._ctx.clock_moved = True
        self._clock.advance(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._clock, name)


class CheckContext:
    def __init__(self, check: Check, target: Target, profile: Profile, redactor: Redactor,
                 minter: Minter | None = None, accounts: AccountPool | None = None,
                 budgets: Budgets | None = None, addresses: ClientAddresses | None = None) -> None:
        self.check = check
        self.target = target
        self.profile = profile
        self.redactor = redactor
        self.minter = minter
        self.evidence: list[dict[str, Any]] = []
        self.exchanges = 0
        self.details: dict[str, Any] = {}
        self.last_response: Response | None = None  # what the target last answered (diagnosis of errors)
        settings = profile.target
        self.classifier = Classifier(settings.refusal_statuses, settings.rate_limited_statuses)
        self.controls: list[dict[str, Any]] = []  # the controls run so far, in order
        self.live: list[tuple[Tokens | str, str]] = []  # credentials that must still work afterwards
        self.coverage: dict[str, Any] | None = None
        self.clock_moved = False  # the check moved the target's time itself (a clock or a real wait)
        self.limit_waits = 0.0  # seconds spent waiting out the target's rate limiter
        # The declared accounts this check leases from (shared by the checks of a run; the runner
        # releases this check's leases when it ends).
        self.accounts = accounts if accounts is not None else AccountPool(profile.users.accounts)
        self.short_of: MissingAccounts | None = None  # not applicable for want of declared accounts
        # The budget keepers of the run's identities (shared by threads), and this check's own client
        # address where the target is on loopback (None: the system's one address).
        self.budgets = budgets if budgets is not None else Budgets()
        self.addresses = addresses
        self.address = addresses.fresh() if addresses is not None else None
        self.used_addresses = [self.address] if self.address else []
        self.api = Api(self)
        self.users = Users(self)

    @property
    def clock(self) -> Clock:
        if self.target.clock is None:
            raise NotApplicable("needs a controllable clock")
        return _WatchedClock(self.target.clock, self)

    # -------------------------------------------------------------- talking to the target
    def send(self, method: str, path: str, *, note: str = "", headers: Mapping[str, str] | None = None,
             params: Mapping[str, str] | None = None, json_body: Any = None,
             form: Mapping[str, str] | None = None, raw_body: bytes | None = None,
             cookies: Mapping[str, str] | None = None, worker: int = 0) -> Response:
        """Send one request. Unless the check counts the limiter's answers itself, a rate-limited
        answer is waited out (Retry-After, else the longest declared window, bounded by
        target.max_wait) and the request sent again; when that is not possible the check ends in
        error, since the limiter's answer says nothing about the rule. A 5xx is sent once more."""
        def exchange(label: str) -> Response:
            return self._exchange(method, path, note=label, headers=headers, params=params, json_body=json_body,
                                  form=form, raw_body=raw_body, cookies=cookies, worker=worker)

        response = exchange(note)
        if not self.check.counts_limits:
            resends = 0
            while self.answer(response) is Answer.RATE_LIMITED:
                if resends >= LIMIT_RESENDS:
                    raise CannotJudge(f"rate-limited by the target: cannot judge ({method} {path} answered "
                                      f"{response.status} after {resends} wait(s) for the limit to pass)")
                self._wait_out_limit(response, f"{method} {path}")
                resends += 1
                response = exchange(f"{note} (sent again after the rate limit)")
        crashes = 0
        while self.answer(response) is Answer.CRASHED and crashes < CRASH_RESENDS:
            crashes += 1
            response = exchange(f"{note} (sent again after a {response.status})")
        return response

    def _wait_out_limit(self, response: Response, what: str) -> None:
        if self.check.clock_sensitive and self.clock_moved:
            raise CannotJudge(f"rate-limited by the target: cannot judge ({what} answered {response.status} "
                              "while the check was timing the target; waiting would move its timing)")
        seconds = retry_after(response)
        if seconds is None:
            limits = self.profile.rate_limits
            seconds = max(limits.api_window, limits.login_window) + 1
        clock = self.target.clock
        if clock is not None:
            clock.advance(seconds)
        elif seconds > self.profile.target.max_wait:
            raise CannotJudge(f"rate-limited by the target: cannot judge ({what} answered {response.status}; "
                              f"waiting {seconds:g} s is more than target.max_wait allows)")
        else:
            self.sleep(seconds, f"the rate limit on {what}")
        self.limit_waits += seconds

    def sleep(self, seconds: float, why: str) -> None:
        """A real wait for the target's clock (over HTTP), shown on the live progress line."""
        if seconds <= 0:
            return
        with self.budgets.waits.waiting(why, seconds):
            time.sleep(seconds)

    def fresh_address(self) -> bool:
        """Send from now on from a client address nobody used (a loopback target): every budget the
        target keeps per address is unspent. False where the check cannot change its address."""
        if self.addresses is None or not self.addresses.enabled:
            return False
        self.address = self.addresses.fresh()
        if self.address:
            self.used_addresses.append(self.address)
        return True

    def pace(self, operation: str, auth: Any, username: str = "") -> None:
        """Keep the suite inside the declared limits of the identity a request spends (one keeper per
        identity, shared by the checks in flight): over HTTP, a request that would go over waits until
        it fits. A check that counts the limiter's answers itself is counted, never held back."""
        if self.target.clock is not None:
            return
        profile, limits = self.profile, self.profile.rate_limits
        wait = not self.check.counts_limits
        max_wait = profile.target.max_wait
        where = self.address or "the suite's address"
        if operation == "login" and profile.declares("rate_limit_login"):
            self.budgets.take(f"login-ip:{where}", limits.login_ip_limit, limits.login_window, wait=wait,
                              max_wait=max_wait, what=f"the login budget of {where}")
            self.budgets.take(f"login-account:{where}|{username}", limits.login_account_limit,
                              limits.login_window, wait=wait, max_wait=max_wait,
                              what=f"the login budget of {username}")
        user = getattr(auth, "user", None)
        if user is not None and profile.declares("rate_limit_api") and profile.operation(operation).auth == "access":
            self.budgets.take(f"api:{user.tenant}/{user.username}", limits.api_limit, limits.api_window,
                              wait=wait, max_wait=max_wait, what=f"the API budget of {user.username}")

    def _exchange(self, method: str, path: str, *, note: str = "", headers: Mapping[str, str] | None = None,
                  params: Mapping[str, str] | None = None, json_body: Any = None,
                  form: Mapping[str, str] | None = None, raw_body: bytes | None = None,
                  cookies: Mapping[str, str] | None = None, worker: int = 0) -> Response:
        request_body: bytes | str | None = raw_body
        if form is not None:
            request_body = "&".join(f"{k}={v}" for k, v in form.items())
        elif json_body is not None:
            request_body = _json_text(json_body)
        shown_headers = dict(headers or {})
        if cookies:
            shown_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        source = {"source": self.address} if self.address else {}
        try:
            response = self.target.request(method, path, headers=headers, params=params,
                                           json_body=json_body, form=form, raw_body=raw_body,
                                           cookies=cookies, worker=worker, **source)
        except TargetUnreachable as exc:
            self._keep(exchange_record(self.redactor, note=note, method=method, url=path,
                                       request_headers=shown_headers, request_body=request_body,
                                       status=None, response_headers={}, response_body=None,
                                       error=str(exc)))
            raise
        self.last_response = response
        url = path + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
        self._keep(exchange_record(self.redactor, note=note, method=method, url=url,
                                   request_headers=shown_headers, request_body=request_body,
                                   status=response.status, response_headers=response.headers.as_dict(),
                                   response_body=response.body))
        return response

    def _keep(self, record: dict[str, Any]) -> None:
        self.exchanges += 1
        record["n"] = self.exchanges
        self.evidence.append(record)
        if len(self.evidence) > EVIDENCE_HEAD + EVIDENCE_TAIL:
            del self.evidence[EVIDENCE_HEAD]

    def redact(self, *secrets: str) -> None:
        """Register secrets learnt from an answer (a leaked private key, say) and mask them in the
        evidence already kept, which was recorded before anyone knew they were secrets."""
        self.redactor.add(*secrets)
        self.evidence = [_scrubbed(self.redactor, record) for record in self.evidence]

    # -------------------------------------------------------------- classifying answers
    def answer(self, response: Response) -> Answer:
        return self.classifier.classify(response.status)

    def refused(self, response: Response, *, also: Iterable[int] = ()) -> bool:
        """Did the target refuse, for its credentials or rights? ``also`` adds statuses the rule
        itself allows (a refresh endpoint's 400 invalid_grant). An acceptance is marked as the
        deciding exchange; any answer that is neither ends the check in error: a crash, a missing
        route or an odd status says nothing about the rule."""
        kind = self.answer(response)
        if kind is Answer.REFUSED or response.status in set(also):
            return True
        if kind is Answer.ACCEPTED:
            self.decisive()
            return False
        self.decisive()
        raise CannotJudge(_cannot_judge(kind, response, self.classifier.describe()))

    def rejected(self, response: Response) -> bool:
        """Was a request refused as invalid input (any 4xx that is neither the limiter nor a
        missing route)? A 2xx or a 5xx (sent twice) is not a rejection; a 404 or a rate-limited
        answer says nothing about the input, so the check ends in error."""
        kind = self.answer(response)
        if kind in (Answer.RATE_LIMITED, Answer.MISSING):
            self.decisive()
            raise CannotJudge(_cannot_judge(kind, response, self.classifier.describe()))
        if 400 <= response.status < 500:
            return True
        self.decisive()
        return False

    def accepted(self, response: Response) -> bool:
        """Did the target accept? A refusal is an answer; anything else ends the check in error."""
        kind = self.answer(response)
        if kind is Answer.ACCEPTED:
            return True
        if kind is Answer.REFUSED:
            return False
        raise CannotJudge(_cannot_judge(kind, response, self.classifier.describe()))

    def decisive(self) -> None:
        """Mark the last exchange as one that decided the verdict (reports show it first)."""
        if self.evidence:
            self.evidence[-1]["decisive"] = True

    # -------------------------------------------------------------- controls and coverage
    def record_control(self, name: str, held: bool, detail: str, phase: str = "before") -> None:
        self.controls.append({"name": name, "phase": phase, "held": held, "detail": detail})

    def keep_alive(self, credential: Tokens | str, what: str) -> None:
        """This credential must still work when the body is done (the runner checks it)."""
        self.live.append((credential, what))

    def cover(self, judged: int, asked: int, unit: str, missing: Iterable[str] = ()) -> None:
        """Say how much of what the rule asks was judged; less than all makes a pass partial."""
        self.coverage = {"judged": judged, "asked": asked, "unit": unit, "missing": list(missing)}

    # -------------------------------------------------------------- verdict helpers
    def control(self, condition: bool, reason: str) -> None:
        """A negative control: when it does not hold, the check cannot judge (verdict error)."""
        if not condition:
            raise ControlFailed(f"negative control failed: {reason}")

    def expect(self, condition: bool, reason: str) -> None:
        """The rule itself: when it does not hold, the check fails with ``reason``."""
        if not condition:
            raise CheckFailed(reason)

    def require(self, *abilities: str) -> None:
        missing = [a for a in abilities if a not in self.target.abilities]
        if missing:
            raise NotApplicable(f"needs target abilities {', '.join(missing)}")

    def require_minter(self) -> Minter:
        if self.minter is None:
            raise NotApplicable("needs the target's signing key ([signing] in the profile)")
        return self.minter

    def baseline(self, tokens: Any, *, alive_after: bool = True) -> None:
        """The two standard controls: the valid token is accepted, no token is refused. With
        ``alive_after`` the token must also still work after the body (the runner checks it); a
        check whose rule kills the token says False and keeps another credential alive instead."""
        me = self.api.me(tokens, note="control: valid token")
        held = 200 <= me.status < 300
        self.record_control("valid-token", held, f"the check's valid access token answered {me.status}")
        self.control(held, f"a valid access token was refused ({me.status})")
        anonymous = self.api.call("me", note="control: no token")
        held = self.answer(anonymous) is Answer.REFUSED
        self.record_control("no-token", held, f"the same request without a token answered {anonymous.status}")
        self.control(held, f"a request without a token answered {anonymous.status}")
        if alive_after and not self.check.ends_credential:
            self.keep_alive(tokens, "the check's valid access token")


def _cannot_judge(kind: Answer, response: Response, refusals: str) -> str:
    status = response.status
    if kind is Answer.RATE_LIMITED:
        return f"rate-limited by the target ({status}): cannot judge"
    if kind is Answer.CRASHED:
        return f"the target answered {status} (a crash, twice): cannot judge whether it refused"
    if kind is Answer.MISSING:
        return "the target answered 404: the operation seems missing (check its path in the profile)"
    return (f"the target answered {status}, which is neither an acceptance nor a declared refusal ({refusals}); "
            f"if the target refuses credentials with {status}, add it to target.refusal_statuses")


def _scrubbed(redactor: Redactor, value: Any) -> Any:
    if isinstance(value, str):
        return redactor.text(value)
    if isinstance(value, dict):
        return {key: _scrubbed(redactor, item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(redactor, item) for item in value]
    return value


def _json_text(value: Any) -> str:
    import json

    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
