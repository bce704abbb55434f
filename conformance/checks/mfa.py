"""Contract section 9: multi-factor authentication (TOTP, RFC 6238). The suite enrols its own
test user and so holds the secret: it computes codes for any instant of the target's clock (the
frozen clock in process, the ``Date`` header over HTTP), spends each step once, and judges the
two-step login, the challenge token, replay, the window, attempt limits, backup codes, disabling
and the audit trail."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import time
import weakref
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import pyotp

from conformance.api import Principal, Tokens, json_path
from conformance.checks._support import login, may_wait, ok, pass_time
from conformance.context import CheckContext
from conformance.leases import LeaseBusy
from conformance.minting import split
from conformance.profile import Account
from conformance.registry import Severity, check
from conformance.targets.base import Response, Target
from conformance.verdict import CannotJudge, NotApplicable

MFA_CONTROLS = ("valid-token", "no-token", "liveness")
DIGESTS = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}
# Over HTTP the target's time is known to about a second (Date has whole seconds): a code is sent
# only when the target is at least this far from a step boundary.
BOUNDARY_MARGIN = 3.0
# How far past the declared window the window probe reaches (steps).
BEYOND_WINDOW = 1


class Phone:
    """The suite's authenticator app for one enrolled secret: codes at the target's time, each
    step spent once (a target refuses a step at or below the last one it accepted).

    Over HTTP a code of a step not yet spent may be a real wait away: at most one step and a
    margin, by construction (the declared step bounds it, not target.max_wait). Every wait goes
    through ``pass_time``, and the sessions the check holds are used meanwhile, so that a declared
    idle timeout shorter than a step does not end them while the check waits."""

    def __init__(self, ctx: CheckContext, secret: str, sessions: tuple[Tokens, ...] = (),
                 spent: Spent | None = None) -> None:
        self.ctx = ctx
        spec = ctx.profile.mfa
        self.totp = pyotp.TOTP(secret, digits=spec.digits, digest=DIGESTS[spec.algorithm], interval=spec.step)
        self.step, self.window = spec.step, spec.window
        self.offset = 0.0 if ctx.target.clock is not None else _clock_offset(ctx)
        self.spent = spent if spent is not None else Spent(-1)
        if self.spent.step is None:  # a declared account: steps up to the window's edge may be spent already
            self.spent.step = self.current_step() + self.window
        self.sessions = list(sessions)  # kept in use while the phone waits

    @property
    def last_step(self) -> int:
        assert self.spent.step is not None
        return self.spent.step

    @last_step.setter
    def last_step(self, step: int) -> None:
        self.spent.step = step

    def keep_busy(self, tokens: Tokens) -> None:
        """Use this session too while the phone waits for a step (see the class)."""
        self.sessions.append(tokens)

    def now(self) -> float:
        clock = self.ctx.target.clock
        return clock.now() if clock is not None else time.time() + self.offset

    def current_step(self) -> int:
        return int(self.now() // self.step)

    def at_step(self, step: int) -> str:
        return str(self.totp.generate_otp(step))

    def settle(self) -> None:
        """Over HTTP, wait (a few seconds at most) until the target is clear of a step boundary."""
        if self.ctx.target.clock is not None:
            return
        into = self.now() % self.step
        if into < BOUNDARY_MARGIN or into > self.step - BOUNDARY_MARGIN:
            self.wait((BOUNDARY_MARGIN - into) % self.step + 0.2, "keeping clear of a TOTP step boundary")

    def wait(self, seconds: float, why: str, *, bound: float | None = None) -> None:
        """Let ``seconds`` pass on the target (the clock, or a real wait of at most a step and the
        margin, or ``bound``), using the check's sessions every half idle timeout meanwhile."""
        ctx = self.ctx
        bound = self.step + 2 * BOUNDARY_MARGIN if bound is None else bound
        may_wait(ctx, seconds, why, bound=bound)
        every = seconds
        if self.sessions and ctx.profile.declares("idle_timeout"):
            every = max(1.0, ctx.profile.sessions.idle_timeout / 2)
        while seconds > 0:
            chunk = min(seconds, every)
            pass_time(ctx, chunk, why, bound=bound)
            seconds -= chunk
            if seconds > 0:
                for tokens in self.sessions:
                    ctx.api.me(tokens, note="keep the session in use while waiting for a TOTP step")

    def _next_step(self) -> int:
        """The earliest step not used yet that the target's window takes (the window's past side
        first, so 2 * window + 1 codes are at hand without waiting), letting time pass (in process
        the clock moves; over HTTP a real wait of at most one step) when the window is used up."""
        self.settle()
        wanted = max(self.current_step() - self.window, self.last_step + 1)
        if wanted > self.current_step() + self.window:
            wait = (wanted - self.window) * self.step - self.now() + BOUNDARY_MARGIN
            self.wait(wait, "waiting for a TOTP step not used yet")  # at most a step and the margin
            self.settle()
        return max(self.current_step() - self.window, self.last_step + 1)

    def fresh(self) -> str:
        """A code of a step never used yet; the step counts as spent from now on."""
        self.last_step = self._next_step()
        return self.at_step(self.last_step)

    def unspent(self) -> str:
        """A valid, unused code for a probe that must be refused for another reason than the code
        (not counted as spent: a target that refuses the probe never looks at the code)."""
        return self.at_step(self._next_step())

    def wrong(self) -> str:
        """A code that is no step's code anywhere near now."""
        near = {self.at_step(self.current_step() + delta) for delta in range(-self.window - 3, self.window + 4)}
        while True:
            code = "".join(secrets.choice("0123456789") for _ in range(len(self.at_step(0))))
            if code not in near:
                return code


def _clock_offset(ctx: CheckContext) -> float:
    """Seconds the target's clock is ahead of ours, from the Date header of a fresh answer."""
    operation = "health" if "health" in ctx.profile.operations else "me"
    response = ctx.api.call(operation, note="read the target's clock (Date header)")
    received = time.time()
    date = response.headers.get("Date")
    if not date:
        raise CannotJudge("the target's answers carry no Date header, so its clock (which decides which TOTP "
                          "code is current) cannot be read")
    try:
        stamp = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        raise CannotJudge(f"the target's Date header {date!r} cannot be read as a date") from None
    return stamp + 0.5 - received  # Date has whole seconds


@dataclass
class Spent:
    """The last step the suite spent of one secret (``None``: not known yet), and for a declared
    account the session the MFA checks of this run share (each login of it costs a step)."""

    step: int | None
    session: Tokens | None = None


# Per target (one per HTTP run), per declared account: what the earlier checks of the run spent. A
# target refuses a step at or below the last it accepted, whichever check sent it.
_DECLARED: weakref.WeakKeyDictionary[Target, dict[tuple[str, str], Spent]] = weakref.WeakKeyDictionary()


@dataclass
class Enrolled:
    user: Principal
    tokens: Tokens  # the session that enrolled
    secret: str
    phone: Phone
    backup_codes: list[str] = field(default_factory=list)


def _body(response: Response) -> Any:
    return response.json()


def set_up(ctx: CheckContext, role: str = "viewer", *, baseline: bool = True) -> Enrolled:
    """A fresh user who has called setup (MFA not on yet): the suite holds the secret."""
    enrolling(ctx, "needs a user without MFA whom the suite enrols")
    user = ctx.users.create(role)
    tokens = login(ctx, user)
    if baseline:
        ctx.baseline(tokens)
    else:
        ctx.keep_alive(tokens, f"the {role}'s access token")
    spec = ctx.profile.mfa
    setup = ctx.api.call("mfa_setup", auth=tokens, body={}, note="MFA setup")
    ctx.control(ok(setup.status), f"MFA setup of a fresh user answered {setup.status}")
    secret = json_path(_body(setup), spec.secret_field)
    ctx.control(isinstance(secret, str) and _base32(secret),
                f"the MFA setup answer has no base32 secret at {spec.secret_field} (set mfa.secret_field)")
    assert isinstance(secret, str)
    ctx.redact(secret)
    return Enrolled(user, tokens, secret, Phone(ctx, secret, (tokens,)))


def confirm(ctx: CheckContext, enrolled: Enrolled) -> Enrolled:
    """Turn MFA on with a code the suite computed; keep the backup codes it answers."""
    answer = ctx.api.call("mfa_confirm", auth=enrolled.tokens, body={"code": enrolled.phone.fresh()},
                          note="MFA confirm")
    ctx.control(ok(answer.status), f"confirming MFA with a valid code answered {answer.status}")
    codes = json_path(_body(answer), ctx.profile.mfa.backup_codes_field)
    enrolled.backup_codes = [str(c) for c in codes] if isinstance(codes, list) else []
    ctx.redact(*enrolled.backup_codes)
    return enrolled


def enrol(ctx: CheckContext, role: str = "viewer", *, baseline: bool = True,
          besides: Enrolled | None = None) -> Enrolled:
    """A user with MFA on: a fresh one, set up and confirmed, or a declared account (see
    ``uses_accounts``), other than ``besides``."""
    if uses_accounts(ctx):
        return declared(ctx, baseline=baseline, besides=besides)
    return confirm(ctx, set_up(ctx, role, baseline=baseline))


def uses_accounts(ctx: CheckContext) -> bool:
    """Do the MFA checks use the declared accounts that carry a totp_secret (mfa.source)? Left out:
    only where the suite cannot enrol users of its own (no sign-up or no enrolment operations)."""
    source = ctx.profile.mfa.source
    if source:
        return source == "accounts"
    return ctx.profile.users.source == "accounts" or not all(
        ctx.profile.offers(operation) for operation in ("mfa_setup", "mfa_confirm"))


def enrolling(ctx: CheckContext, what: str) -> None:
    """Not applicable where the MFA checks use declared accounts: the check ``what``."""
    if uses_accounts(ctx):
        raise NotApplicable(f"{what}, and the MFA checks use the declared accounts with a totp_secret here "
                            "(mfa.source, or no sign-up and enrolment for the suite)")


def declared(ctx: CheckContext, *, baseline: bool = True, besides: Enrolled | None = None) -> Enrolled:
    """A declared account with MFA on, logged in with a code from its secret (the environment gave
    it). Of several, the one with the most steps at hand; its session is shared by the run's MFA
    checks while it works, since every login of it spends a step."""
    accounts = [a for a in ctx.profile.users.accounts if a.totp_secret and
                (besides is None or (a.username, a.tenant) != (besides.user.username, besides.user.tenant))]
    if not accounts:
        raise NotApplicable(("needs a second" if besides else "needs an") + " account with MFA on: add one to "
                            "[[users.accounts]] with totp_secret = \"${VAR}\"")
    known = _DECLARED.setdefault(ctx.target, {})

    def last_spent(account: Account) -> int:
        spent = known.get((account.username, account.tenant))
        if spent is not None and spent.step is not None:
            return spent.step
        now = ctx.target.clock.now() if ctx.target.clock is not None else time.time()
        return int(now // ctx.profile.mfa.step) + ctx.profile.mfa.window  # where a new Phone starts

    # Leased like every declared account (never to two running checks at once: the target takes
    # each account's steps in order only); of the free ones, the one with the most steps at hand.
    account = _lease(ctx, sorted(accounts, key=last_spent))
    ctx.redact(account.password, account.totp_secret)
    user = Principal(account.username, account.password, account.tenant, account.role, email=account.email)
    spent = known.setdefault((account.username, account.tenant), Spent(None))
    phone = Phone(ctx, account.totp_secret, spent=spent)
    if spent.session is None or not ok(ctx.api.me(spent.session, note="the account's session from an earlier "
                                                                          "check").status):
        token = challenge_of(ctx, ctx.api.login_response(user, retry_limited=True))
        spent.session = verified(ctx, token, phone.fresh(), "the declared account's login with a code")
    tokens = spent.session
    phone.keep_busy(tokens)
    if baseline:
        ctx.baseline(tokens)
    else:
        ctx.keep_alive(tokens, f"the session of {account.username}")
    return Enrolled(user, tokens, account.totp_secret, phone)


def _lease(ctx: CheckContext, preferred: list[Account]) -> Account:
    """The first of ``preferred`` that no other running check holds, else whichever comes free."""
    for account in preferred:
        def this_one(candidate: Account, wanted: Account = account) -> bool:
            return candidate == wanted

        try:
            return ctx.accounts.lease(ctx, this_one, key="mfa", wait=0)
        except LeaseBusy:
            continue
    return ctx.accounts.lease(ctx, lambda a: a in preferred, key="mfa")


def _base32(value: str) -> bool:
    try:
        base64.b32decode(value.upper() + "=" * (-len(value) % 8))
    except (binascii.Error, ValueError):
        return False
    return len(value) >= 16


def password_step(ctx: CheckContext, enrolled: Enrolled, note: str = "password step") -> Response:
    response = ctx.api.login_response(enrolled.user, retry_limited=True)
    ctx.control(ok(response.status), f"the {note} with the right password answered {response.status}")
    return response


def challenge_of(ctx: CheckContext, response: Response) -> str:
    spec = ctx.profile.mfa
    data = _body(response)
    token = json_path(data, spec.challenge_field)
    ctx.control(json_path(data, spec.required_field) is True and isinstance(token, str) and bool(token),
                f"the password step of a user with MFA on did not answer {spec.required_field}=true and a "
                f"challenge at {spec.challenge_field}")
    assert isinstance(token, str)
    ctx.redact(token)
    return token


def challenge(ctx: CheckContext, enrolled: Enrolled) -> str:
    return challenge_of(ctx, password_step(ctx, enrolled))


def verify(ctx: CheckContext, token: str, code: str, *, note: str, headers: dict[str, str] | None = None
           ) -> Response:
    return ctx.api.call("mfa_verify", body={"mfa_token": token, "code": code}, headers=headers, note=note)


def verified(ctx: CheckContext, token: str, code: str, what: str) -> Tokens:
    """A second step that must succeed (a negative control)."""
    response = verify(ctx, token, code, note=f"control: {what}")
    tokens = ctx.api.tokens_from(response)
    ctx.control(ok(response.status) and tokens.ok, f"{what} answered {response.status} without tokens")
    return tokens


def refused_or_limited(ctx: CheckContext, response: Response) -> bool:
    """For a second step that must not succeed: refused, rejected as a bad code, or rate-limited."""
    if response.status == 429 or response.status in ctx.profile.target.rate_limited_statuses:
        return True
    return ctx.rejected(response)


# ---------------------------------------------------------------------------- enrolment


@check(
    "MFA-ENROL",
    controls=MFA_CONTROLS,
    title="set up MFA, log in before and after confirming it, then set it up again without a code or password",
    rule="setup answers a fresh base32 secret and an otpauth:// URI; MFA is on only after confirmation with a "
         "valid code; setting it up again while it is on needs a current code or the password",
    severity=Severity.HIGH,
    references=("RFC 6238 §5.1", "ASVS 2.8.1", "ASVS 2.5.2", "API2:2023"),
    needs=("mfa",),
)
def enrolment(ctx: CheckContext) -> None:
    enrolling(ctx, "enrolment is judged on a user without MFA whom the suite enrols")
    spec = ctx.profile.mfa
    user = ctx.users.create("viewer")
    tokens = login(ctx, user)
    ctx.baseline(tokens)
    setup = ctx.api.call("mfa_setup", auth=tokens, body={}, note="MFA setup")
    ctx.control(ok(setup.status), f"MFA setup of a fresh user answered {setup.status}")
    data = _body(setup)
    secret, uri = json_path(data, spec.secret_field), json_path(data, spec.uri_field)
    ctx.expect(isinstance(secret, str) and _base32(secret),
               f"the setup answer has no base32 secret of 80 bits or more at {spec.secret_field}")
    assert isinstance(secret, str)
    ctx.redact(secret)
    ctx.expect(isinstance(uri, str) and uri.startswith("otpauth://totp/") and secret in uri,
               f"the setup answer has no otpauth://totp/ URI carrying the secret at {spec.uri_field}")
    before = ctx.api.login_response(user, retry_limited=True)
    ctx.expect(json_path(_body(before), spec.required_field) is not True and ctx.api.tokens_from(before).ok,
               "MFA is on before it was confirmed: the password step asks for a code")
    phone = Phone(ctx, secret, (tokens,))
    wrong = ctx.api.call("mfa_confirm", auth=tokens, body={"code": phone.wrong()}, note="confirm with a wrong code")
    ctx.expect(refused_or_limited(ctx, wrong), f"confirming MFA with a wrong code answered {wrong.status}")
    confirm = ctx.api.call("mfa_confirm", auth=tokens, body={"code": phone.fresh()}, note="confirm")
    ctx.control(ok(confirm.status), f"confirming MFA with a valid code answered {confirm.status}")
    ctx.redact(*[str(c) for c in json_path(_body(confirm), spec.backup_codes_field) or []])
    after = ctx.api.login_response(user, retry_limited=True)
    ctx.expect(json_path(_body(after), spec.required_field) is True,
               "MFA confirmed with a valid code, yet the password step does not ask for a second factor")
    again = ctx.api.call("mfa_setup", auth=tokens, body={}, note="setup again, without a code or the password")
    if ok(again.status):
        ctx.decisive()
        replaced = json_path(_body(again), spec.secret_field)
        ctx.redact(*([replaced] if isinstance(replaced, str) else []))
    ctx.expect(not ok(again.status), "with MFA on, setup ran again with neither a current code nor the "
                                     "password: a stolen access token can enrol its own second factor")
    ctx.expect(ctx.rejected(again), f"setup again without proof answered {again.status}")
    proved = ctx.api.call("mfa_setup", auth=tokens, body={"code": phone.fresh(), "password": user.password},
                          note="control: setup again with a current code and the password")
    ctx.control(ok(proved.status), f"setup again with a current code and the password answered {proved.status}")
    fresh = json_path(_body(proved), spec.secret_field)
    ctx.redact(*([fresh] if isinstance(fresh, str) else []))
    ctx.expect(fresh != secret, "setting up again answered the same secret: it is not fresh")


# ---------------------------------------------------------------------------- the two-step login


@check(
    "MFA-LOGIN-CHALLENGE",
    controls=MFA_CONTROLS,
    title="log in with MFA on: read the password step's answer and the challenge token, then verify a code",
    rule="with MFA on the password step answers mfa_required and a challenge token (type mfa, within the "
         "declared TTL) and no access or refresh token; verify with a valid code answers a working token pair",
    severity=Severity.CRITICAL,
    references=("ASVS 2.2.1", "ASVS 2.8.1", "RFC 8725 §3.11", "API2:2023"),
    needs=("mfa",),
)
def login_challenge(ctx: CheckContext) -> None:
    spec, tokens_spec = ctx.profile.mfa, ctx.profile.tokens
    enrolled = enrol(ctx)
    step = password_step(ctx, enrolled)
    data = _body(step)
    ctx.expect(json_path(data, spec.required_field) is True,
               f"the password step of a user with MFA on does not answer {spec.required_field}=true")
    leaked = [name for name, path in (("access", tokens_spec.access_field), ("refresh", tokens_spec.refresh_field))
              if path and isinstance(json_path(data, path), str) and json_path(data, path)]
    if tokens_spec.delivery == "cookie":
        leaked += [c.name for c in step.set_cookies()
                   if c.name in (tokens_spec.access_cookie, tokens_spec.refresh_cookie) and not c.clears]
    if leaked:
        ctx.redact(*[str(json_path(data, p)) for p in (tokens_spec.access_field, tokens_spec.refresh_field)
                     if isinstance(json_path(data, p), str)])
        ctx.decisive()
    ctx.details["tokens_in_password_step"] = leaked
    ctx.expect(not leaked, f"the password step alone already answers {' and '.join(leaked)} token(s): the "
                           "second factor protects nothing")
    token = challenge_of(ctx, step)
    try:
        _header, claims, _signature = split(token)
    except ValueError:
        claims = None
    if isinstance(claims, dict):
        lifetime = claims.get("exp", 0) - claims.get("iat", claims.get("nbf", 0)) \
            if isinstance(claims.get("exp"), (int, float)) else None
        ctx.details["challenge"] = {"type": claims.get("type"), "lifetime": lifetime}
        ctx.expect(claims.get("type") == "mfa", f"the challenge token's type is {claims.get('type')!r}, not 'mfa'")
        ctx.expect(lifetime is not None and lifetime <= spec.challenge_ttl + tokens_spec.leeway,
                   f"the challenge token lives {lifetime} s, longer than the declared {spec.challenge_ttl} s")
    pair = verified(ctx, token, enrolled.phone.fresh(), "verify with a valid code")
    me = ctx.api.me(pair, note="the verified login's access token")
    ctx.expect(ctx.accepted(me), f"the access token from verify was refused ({me.status})")


@check(
    "MFA-CHALLENGE-TYPE",
    controls=MFA_CONTROLS,
    title="present the challenge token as an access and a refresh token, and access and refresh tokens as a "
          "challenge",
    rule="the MFA challenge token is never accepted as an access or refresh token, nor the reverse",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §3.11", "RFC 8725 §2.8", "ASVS 3.5.3", "API2:2023"),
    needs=("mfa",),
)
def challenge_type(ctx: CheckContext) -> None:
    enrolled = enrol(ctx)
    token = challenge(ctx, enrolled)
    me = ctx.api.me(token, note="the challenge token as an access token")
    ctx.expect(ctx.refused(me), f"the MFA challenge token was accepted as an access token ({me.status})")
    judged = ["as access token"]
    if ctx.profile.offers("refresh"):
        refreshed = ctx.api.refresh_response(token)
        ctx.expect(ctx.refused(refreshed, also=(400,)),
                   f"the MFA challenge token was accepted as a refresh token ({refreshed.status})")
        judged.append("as refresh token")
    tokens = enrolled.tokens
    for kind, value in (("access", tokens.access), ("refresh", tokens.refresh)):
        if not value:
            continue
        answer = verify(ctx, value, enrolled.phone.unspent(), note=f"an {kind} token as the challenge")
        ctx.expect(refused_or_limited(ctx, answer) and not ok(answer.status),
                   f"an {kind} token was accepted as the MFA challenge ({answer.status})")
        judged.append(f"{kind} token as challenge")
    ctx.details["judged"] = judged
    verified(ctx, token, enrolled.phone.fresh(), "the real challenge with a valid code")


@check(
    "MFA-CHALLENGE-SINGLE-USE",
    controls=MFA_CONTROLS,
    title="verify a challenge with a valid code, then the same challenge again with the next valid code",
    rule="an MFA challenge token is single-use: a second verify with it is refused",
    severity=Severity.HIGH,
    references=("RFC 6238 §5.2", "ASVS 2.8.4", "API2:2023"),
    needs=("mfa",),
)
def challenge_single_use(ctx: CheckContext) -> None:
    enrolled = enrol(ctx)
    token = challenge(ctx, enrolled)
    verified(ctx, token, enrolled.phone.fresh(), "the first verify of the challenge")
    # A backup code, when there are some: another valid second factor without waiting for a step.
    second = enrolled.backup_codes[0] if enrolled.backup_codes else enrolled.phone.fresh()
    again = verify(ctx, token, second, note="the same challenge again, with another valid second factor")
    ctx.expect(refused_or_limited(ctx, again) and not ok(again.status),
               f"a spent MFA challenge verified again and answered {again.status}: whoever copies it logs in "
               "with any later code")


@check(
    "MFA-CHALLENGE-BOUND",
    controls=MFA_CONTROLS,
    title="verify one user's challenge with another user's valid code, with and without that user's token",
    rule="the challenge is bound to its login attempt: only a code of the challenge's own user completes it",
    severity=Severity.CRITICAL,
    references=("ASVS 2.8.1", "ASVS 3.5.1", "API2:2023"),
    needs=("mfa",),
)
def challenge_bound(ctx: CheckContext) -> None:
    victim = enrol(ctx)
    attacker = enrol(ctx, baseline=False, besides=victim)
    stolen = challenge(ctx, victim)
    plain = verify(ctx, stolen, attacker.phone.unspent(), note="the victim's challenge with the attacker's code")
    ctx.expect(refused_or_limited(ctx, plain) and not ok(plain.status),
               f"another user's code completed the victim's challenge ({plain.status})")
    with_token = verify(ctx, stolen, attacker.phone.unspent(), headers=ctx.api.bearer(attacker.tokens.access),
                        note="the victim's challenge with the attacker's code and the attacker's access token")
    ctx.expect(refused_or_limited(ctx, with_token) and not ok(with_token.status),
               f"the victim's challenge completed with the attacker's code when the attacker's token went along "
               f"({with_token.status}): the code is checked against the caller, not the challenge")
    verified(ctx, stolen, victim.phone.fresh(), "the victim's challenge with the victim's code")


# ---------------------------------------------------------------------------- codes


@check(
    "MFA-CODE-REPLAY",
    controls=MFA_CONTROLS,
    title="complete one login with a code, then a second login with the same code in the same step",
    rule="a TOTP code is accepted only once: a replayed code is refused",
    severity=Severity.HIGH,
    references=("RFC 6238 §5.2", "ASVS 2.8.4", "API2:2023"),
    needs=("mfa",),
)
def code_replay(ctx: CheckContext) -> None:
    enrolled = enrol(ctx)
    first, second = challenge(ctx, enrolled), challenge(ctx, enrolled)
    code = enrolled.phone.fresh()
    verified(ctx, first, code, "the first login with the code")
    replay = verify(ctx, second, code, note="a second login with the same code")
    ctx.expect(refused_or_limited(ctx, replay) and not ok(replay.status),
               f"a code that had just been used completed another login ({replay.status})")
    other_factor = enrolled.backup_codes[0] if enrolled.backup_codes else enrolled.phone.fresh()
    verified(ctx, second, other_factor, "the second login with another valid second factor")


@check(
    "MFA-CODE-WINDOW",
    controls=MFA_CONTROLS,
    title="confirm and verify with codes one step beyond the declared window, in the past and in the future",
    rule="a code is accepted only within the declared window of steps around the target's time (±1 step)",
    severity=Severity.MEDIUM,
    references=("RFC 6238 §5.2", "RFC 6238 §6", "ASVS 2.8.1"),
    needs=("mfa",),
)
def code_window(ctx: CheckContext) -> None:
    spec = ctx.profile.mfa
    beyond = spec.window + BEYOND_WINDOW
    accounts = uses_accounts(ctx)
    enrolled = declared(ctx) if accounts else set_up(ctx)
    phone = enrolled.phone

    def outside(side: str, where: str, send: Any) -> None:
        phone.settle()
        code = phone.at_step(phone.current_step() + (beyond if side == "future" else -beyond))
        answer = send(code)
        ctx.expect(refused_or_limited(ctx, answer) and not ok(answer.status),
                   f"{where}: a code {beyond} step(s) in the {side} was accepted, outside the declared window of "
                   f"{spec.window} step(s)")

    judged = []
    if not accounts:  # a declared account is confirmed already
        # Before confirmation no step is spent yet, so both sides are judged at once, clock or not.
        for side in ("past", "future"):
            outside(side, "confirm", lambda code, side=side: ctx.api.call(
                "mfa_confirm", auth=enrolled.tokens, body={"code": code},
                note=f"confirm with a code {beyond} steps in the {side}"))
        confirm(ctx, enrolled)
        judged += ["confirm: past", "confirm: future"]
    outside("future", "verify", lambda code: verify(ctx, challenge(ctx, enrolled), code,
                                                    note=f"verify with a code {beyond} steps in the future"))
    judged.append("verify: future")
    if ctx.target.clock is not None:
        # A past step at verify is judged only above the last step spent (refused anyway).
        ctx.clock.advance(max(beyond + 2, phone.last_step + beyond + 1 - phone.current_step()) * spec.step)
        outside("past", "verify", lambda code: verify(ctx, challenge(ctx, enrolled), code,
                                                      note=f"verify with a code {beyond} steps in the past"))
        judged.append("verify: past")
    ctx.details["judged"] = judged
    verified(ctx, challenge(ctx, enrolled), phone.fresh(), "a current code")
    if accounts:
        ctx.cover(len(judged), len(judged) + 2, "sides of the window", ["confirm: past", "confirm: future"])


@check(
    "MFA-ATTEMPT-LIMIT",
    controls=MFA_CONTROLS,
    counts_limits=True,
    title="send the declared number of wrong codes to one challenge, then the right code to it and to a new one",
    rule="verification attempts are limited per challenge and per account",
    severity=Severity.HIGH,
    references=("ASVS 2.2.1", "ASVS 2.8.1", "RFC 6238 §5.2", "API2:2023"),
    needs=("mfa",),
)
def attempt_limit(ctx: CheckContext) -> None:
    spec = ctx.profile.mfa
    if not uses_accounts(ctx):
        _attempt_limit(ctx, enrol(ctx))
        return
    # A declared account is shared by the MFA checks after this one: its lockout is let pass after.
    lockout = spec.attempt_window + 1
    may_wait(ctx, lockout, "letting a declared account's attempt limit pass after the check")
    enrolled = declared(ctx)
    try:
        _attempt_limit(ctx, enrolled)
    finally:
        enrolled.phone.wait(lockout, "letting the declared account's attempt limit pass",
                            bound=ctx.profile.target.max_wait)


def _attempt_limit(ctx: CheckContext, enrolled: Enrolled) -> None:
    spec = ctx.profile.mfa
    token = challenge(ctx, enrolled)
    statuses = []
    for n in range(spec.attempt_limit):
        answer = verify(ctx, token, enrolled.phone.wrong(), note=f"wrong code {n + 1}")
        statuses.append(answer.status)
        ctx.expect(not ok(answer.status), f"a wrong code was accepted ({answer.status})")
    ctx.details["wrong_code_statuses"] = statuses
    right = verify(ctx, token, enrolled.phone.unspent(), note="the right code, past the challenge's limit")
    ctx.expect(refused_or_limited(ctx, right) and not ok(right.status),
               f"after {spec.attempt_limit} wrong codes the same challenge still took the right one: guessing "
               f"is unlimited ({right.status})")
    fresh_challenge = challenge(ctx, enrolled)
    account = verify(ctx, fresh_challenge, enrolled.phone.unspent(), note="the right code on a new challenge")
    ctx.details["statuses_after_limit"] = {"same_challenge": right.status, "new_challenge": account.status}
    ctx.expect(refused_or_limited(ctx, account) and not ok(account.status),
               f"after {spec.attempt_limit} wrong codes a new login's challenge took a code at once: the limit "
               f"is per challenge only, so logging in again resets the guessing ({account.status})")


# ---------------------------------------------------------------------------- backup codes


def _backup_codes(ctx: CheckContext, enrolled: Enrolled) -> list[str]:
    declared = ctx.profile.mfa.backup_codes
    if declared == 0:
        raise NotApplicable("the profile declares no backup codes (mfa.backup_codes = 0)")
    ctx.expect(len(enrolled.backup_codes) == declared and len(set(enrolled.backup_codes)) == declared,
               f"confirmation answered {len(enrolled.backup_codes)} distinct backup codes at "
               f"{ctx.profile.mfa.backup_codes_field}, not the declared {declared}")
    return enrolled.backup_codes


@check(
    "MFA-BACKUP-SINGLE-USE",
    controls=MFA_CONTROLS,
    title="log in with a backup code twice; regenerate the codes and try an old one and a new one",
    rule="each backup code works once in place of a code; regenerating replaces the whole set",
    severity=Severity.HIGH,
    references=("ASVS 2.6.1", "ASVS 2.6.2", "API2:2023"),
    needs=("mfa",),
)
def backup_single_use(ctx: CheckContext) -> None:
    enrolling(ctx, "backup codes are shown once, at enrolment")
    enrolled = enrol(ctx)
    codes = _backup_codes(ctx, enrolled)
    verified(ctx, challenge(ctx, enrolled), codes[0], "a login with a backup code")
    again = verify(ctx, challenge(ctx, enrolled), codes[0], note="the same backup code again")
    ctx.expect(refused_or_limited(ctx, again) and not ok(again.status),
               f"a backup code that was already used completed another login ({again.status})")
    if not ctx.profile.offers("mfa_backup_codes"):
        ctx.cover(1, 2, "parts of the rule", ["regenerating (no mfa_backup_codes operation)"])
        return
    fresh = ctx.api.call("mfa_backup_codes", auth=enrolled.tokens, note="regenerate the backup codes",
                         body={"code": enrolled.phone.fresh(), "password": enrolled.user.password})
    ctx.control(ok(fresh.status), f"regenerating backup codes with a code and the password answered {fresh.status}")
    new_codes = json_path(_body(fresh), ctx.profile.mfa.backup_codes_field)
    ctx.control(isinstance(new_codes, list) and bool(new_codes),
                f"the regenerate answer has no list at {ctx.profile.mfa.backup_codes_field}")
    assert isinstance(new_codes, list)
    ctx.redact(*[str(c) for c in new_codes])
    old = verify(ctx, challenge(ctx, enrolled), codes[1], note="an unused code of the replaced set")
    ctx.expect(refused_or_limited(ctx, old) and not ok(old.status),
               f"a backup code of the replaced set still completed a login ({old.status})")
    verified(ctx, challenge(ctx, enrolled), str(new_codes[0]), "a login with a code of the new set")


def _variants(code: str) -> set[str]:
    bare = code.replace("-", "").replace(" ", "")
    return {code, code.lower(), code.upper(), bare, bare.lower(), bare.upper()}


@check(
    "MFA-BACKUP-NOT-EXPOSED",
    controls=MFA_CONTROLS,
    title="after enrolment, read every answer the user (and an admin) can reach for the backup codes and the "
          "secret",
    rule="backup codes and the TOTP secret are shown once, at enrolment, and never answered again (backup "
         "codes stored hashed)",
    severity=Severity.HIGH,
    references=("ASVS 2.6.3", "ASVS 2.8.3", "ASVS 8.3.4", "API3:2023"),
    needs=("mfa",),
)
def backup_not_exposed(ctx: CheckContext) -> None:
    enrolling(ctx, "backup codes are shown once, at enrolment")
    admin = ctx.profile.offers("users_list") and "admin" in ctx.profile.roles
    enrolled = enrol(ctx, "admin" if admin else "viewer")
    _backup_codes(ctx, enrolled)
    probes = [("me", enrolled.tokens)]
    probes += [(op, enrolled.tokens) for op in ("users_list", "sessions_list") if ctx.profile.offers(op)]
    secrets_shown = [("a backup code", v) for code in enrolled.backup_codes for v in _variants(code)]
    secrets_shown.append(("the TOTP secret", enrolled.secret))
    found = []
    for operation, auth in probes:
        answer = ctx.api.call(operation, auth=auth, note=f"{operation}: look for the secrets")
        ctx.control(ok(answer.status), f"{operation} answered {answer.status}")
        text = answer.text
        for what, value in secrets_shown:
            if value and value in text:
                ctx.decisive()
                found.append(f"{what} in the {operation} answer")
                break
    ctx.details["read"] = [operation for operation, _auth in probes]
    ctx.expect(not found, "; ".join(found) + ": stored in a form that comes back, not as a one-way hash")


# ---------------------------------------------------------------------------- disabling and audit


@check(
    "MFA-DISABLE",
    controls=MFA_CONTROLS,
    title="turn MFA off with the password alone, with a code alone, then with both; use another session after",
    rule="disabling MFA needs the password and a current code, and revokes every other session of the user",
    severity=Severity.HIGH,
    references=("ASVS 2.5.2", "ASVS 3.3.3", "API2:2023"),
    needs=("mfa",),
)
def disable(ctx: CheckContext) -> None:
    enrolling(ctx, "turning MFA off would leave a declared account without its second factor for the checks "
                   "after")
    enrolled = enrol(ctx)
    password_only = ctx.api.call("mfa_disable", auth=enrolled.tokens, body={"password": enrolled.user.password},
                                 note="disable with the password alone")
    ctx.expect(not ok(password_only.status), "MFA was turned off with the password alone: whoever has the "
                                             "password and a session removes the second factor")
    ctx.expect(ctx.rejected(password_only), f"disable with the password alone answered {password_only.status}")
    # A target may spend the code of a refused request (the reference does): the step counts as used.
    code_only = ctx.api.call("mfa_disable", auth=enrolled.tokens, body={"code": enrolled.phone.fresh()},
                             note="disable with a code alone")
    ctx.expect(not ok(code_only.status), "MFA was turned off with a code alone, without the password")
    ctx.expect(ctx.rejected(code_only), f"disable with a code alone answered {code_only.status}")
    # The other session is opened late and shown alive just before the disable, so that its refusal
    # after is the disable's doing, not a session timeout's (when a step is a wait away, the phone
    # keeps both sessions in use meanwhile).
    second_factor = enrolled.backup_codes[0] if enrolled.backup_codes else enrolled.phone.fresh()
    other = verified(ctx, challenge(ctx, enrolled), second_factor, "a second session's login")
    enrolled.phone.keep_busy(other)
    code = enrolled.phone.fresh()
    alive = ctx.api.me(other, note="control: the other session, just before MFA is turned off")
    ctx.control(ok(alive.status), f"the other session was refused ({alive.status}) before MFA was turned off")
    both = ctx.api.call("mfa_disable", auth=enrolled.tokens, note="disable with the password and a code",
                        body={"password": enrolled.user.password, "code": code})
    ctx.control(ok(both.status), f"disable with the password and a current code answered {both.status}")
    after = ctx.api.me(other, note="the other session after MFA was turned off")
    ctx.expect(ctx.refused(after), f"another session still works after MFA was turned off ({after.status})")
    relogin = ctx.api.login_response(enrolled.user, retry_limited=True)
    ctx.control(ok(relogin.status) and ctx.api.tokens_from(relogin).ok,
                f"after MFA was turned off the password step answered {relogin.status} without tokens")


def _audit_size(ctx: CheckContext, auditor: Tokens, note: str) -> int:
    answer = ctx.api.call("audit", auth=auditor, note=note)
    ctx.control(ok(answer.status), f"reading the audit log answered {answer.status}")
    data = _body(answer)
    entries = data if isinstance(data, list) else next(
        (value for value in (data or {}).values() if isinstance(value, list)), None) if isinstance(data, dict) \
        else None
    ctx.control(isinstance(entries, list), "the audit answer holds no list of events")
    assert isinstance(entries, list)
    return len(entries)


@check(
    "MFA-AUDIT",
    controls=MFA_CONTROLS,
    title="enrol, confirm, fail a verify, use a backup code and disable MFA, reading the audit log after each",
    rule="every MFA event (enrol, confirm, verify failure, backup code use, disable) is in the audit log",
    severity=Severity.MEDIUM,
    references=("ASVS 7.1.3", "ASVS 7.2.1", "API10:2023"),
    needs=("mfa", "audit"),
)
def audit_trail(ctx: CheckContext) -> None:
    enrolling(ctx, "the trail is read over enrolment and disabling, which a declared account must be spared")
    auditors = [role for role in ctx.profile.roles_by_level() if "audit" in ctx.profile.permissions.get(role, [])]
    if not auditors:
        raise NotApplicable("no role of the profile has the audit permission")
    auditor_user = ctx.users.create(auditors[0])
    auditor = login(ctx, auditor_user)
    user = ctx.users.create("viewer")  # in process both come from this check's tenant admin
    if ctx.profile.declares("tenants") and user.tenant != auditor_user.tenant:
        raise NotApplicable(f"needs a user with the audit permission in a tenant where the suite creates users; "
                            f"the {auditors[0]} account is in tenant {auditor_user.tenant!r}, the suite's fresh "
                            f"user in {user.tenant!r}")
    tokens = login(ctx, user)
    ctx.baseline(tokens)
    spec = ctx.profile.mfa
    missing: list[str] = []

    def logged(event: str, action: Any) -> Any:
        before = _audit_size(ctx, auditor, f"audit log before {event}")
        result = action()
        if _audit_size(ctx, auditor, f"audit log after {event}") <= before:
            ctx.decisive()
            missing.append(event)
        return result

    setup = logged("enrol", lambda: ctx.api.call("mfa_setup", auth=tokens, body={}, note="MFA setup"))
    ctx.control(ok(setup.status), f"MFA setup answered {setup.status}")
    secret = json_path(_body(setup), spec.secret_field)
    ctx.control(isinstance(secret, str), f"the setup answer has no secret at {spec.secret_field}")
    assert isinstance(secret, str)
    ctx.redact(secret)
    phone = Phone(ctx, secret, (tokens, auditor))
    confirm = logged("confirm", lambda: ctx.api.call("mfa_confirm", auth=tokens, body={"code": phone.fresh()},
                                                     note="MFA confirm"))
    ctx.control(ok(confirm.status), f"MFA confirm answered {confirm.status}")
    codes = json_path(_body(confirm), spec.backup_codes_field)
    codes = [str(c) for c in codes] if isinstance(codes, list) else []
    ctx.redact(*codes)
    enrolled = Enrolled(user, tokens, secret, phone, codes)
    token = challenge(ctx, enrolled)
    failed = logged("verify failure", lambda: verify(ctx, token, phone.wrong(), note="verify with a wrong code"))
    ctx.control(not ok(failed.status), f"a wrong code was accepted ({failed.status})")
    if codes:
        token = challenge(ctx, enrolled)
        logged("backup code use", lambda: verified(ctx, token, codes[0], "a login with a backup code"))
    done = logged("disable", lambda: ctx.api.call("mfa_disable", auth=tokens, note="disable MFA",
                                                  body={"password": user.password, "code": phone.fresh()}))
    ctx.control(ok(done.status), f"disabling MFA answered {done.status}")
    ctx.details["events_without_audit_entry"] = missing
    ctx.expect(not missing, "no audit entry for: " + ", ".join(missing))
