"""A plain-Python model of the contract's state: users, roles, sessions, refresh families,
limiter windows and the clock. The stateful check drives the target and this model side by side
and compares; the model never talks to the target itself.

Where the contract leaves a boundary open (is a token that expires *at* this second still good?)
the model answers "either" inside a one-second margin, so a target is never failed on rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from conformance.profile import Profile

MARGIN = 1.0  # seconds around a time boundary in which either answer is accepted (frozen clock)
REAL_TIME_MARGIN = 2.0  # the same over HTTP, where the model's clock is real time read between requests


class Expect(Enum):
    YES = "yes"
    NO = "no"
    EITHER = "either"  # too close to a boundary, or an effect the contract does not pin down


def _before(now: float, deadline: float, margin: float = MARGIN) -> Expect:
    if now < deadline - margin:
        return Expect.YES
    if now > deadline + margin:
        return Expect.NO
    return Expect.EITHER


def both(*answers: Expect) -> Expect:
    """All must hold: NO wins, then EITHER."""
    if Expect.NO in answers:
        return Expect.NO
    if Expect.EITHER in answers:
        return Expect.EITHER
    return Expect.YES


@dataclass
class Window:
    """A fixed window that starts at its first admitted hit (the reference's limiter).

    Near a window's end the model cannot tell whether the target's window has rolled (its clock
    and ours differ by up to ``margin``). Rather than guess, the window keeps every state the
    target may be in, ``(start, count)``, follows each through later hits, and predicts an answer
    only when all of them agree. (Guessing once, then resetting a window's length later, left the
    model one window out of step with the target: a false "the contract says accepted, the
    target answered 429" in the thorough profile.)
    """

    limit: int
    length: float
    margin: float = MARGIN
    states: set[tuple[float | None, int]] = field(default_factory=lambda: {(None, 0)})
    last_hit: float | None = None

    @property
    def count(self) -> int:
        """The most hits the target may have counted in its current window."""
        return max(count for _start, count in self.states)

    def hit(self, now: float) -> Expect:
        if self.last_hit is not None and now >= self.last_hit + self.length + self.margin:
            self.states = {(None, 0)}  # a whole quiet window: every possible state has rolled
        self.last_hit = now
        outcomes: set[bool] = set()
        following: set[tuple[float | None, int]] = set()
        for start, count in self.states:
            rolled = start is None or now >= start + self.length + self.margin
            ambiguous = not rolled and start is not None and now >= start + self.length - self.margin
            branches = [(None, 0)] if rolled else [(start, count)] + ([(None, 0)] if ambiguous else [])
            for branch_start, branch_count in branches:
                if branch_start is None:
                    outcomes.add(True)
                    following.add((now, 1))
                elif branch_count >= self.limit:
                    outcomes.add(False)  # a refused hit does not count
                    following.add((branch_start, branch_count))
                else:
                    outcomes.add(True)
                    following.add((branch_start, branch_count + 1))
        self.states = following  # at most one state per (admitted hit, count): the set stays small
        if outcomes == {True}:
            return Expect.YES
        if outcomes == {False}:
            return Expect.NO
        return Expect.EITHER


@dataclass
class ModelUser:
    name: str
    password: str
    tenant: str
    role: str
    alive: bool = True
    uncertain: bool = False  # a step's effect on this user could not be predicted
    declared: bool = False  # a pre-provisioned account: the model never changes its password


@dataclass
class ModelSession:
    label: str
    user: ModelUser
    created: float
    last_seen: float
    access_exp: float
    live: bool = True
    refresh_generation: int = 0
    uncertain: bool = False


@dataclass
class ContractModel:
    profile: Profile
    now: float
    margin: float = MARGIN
    users: dict[str, ModelUser] = field(default_factory=dict)
    sessions: list[ModelSession] = field(default_factory=list)
    api_windows: dict[str, Window] = field(default_factory=dict)
    login_account: dict[str, Window] = field(default_factory=dict)
    login_ip: Window | None = None

    # ------------------------------------------------------------------ time
    def advance(self, seconds: float) -> None:
        self.now += seconds

    def session_alive(self, session: ModelSession) -> Expect:
        if not session.live or not session.user.alive:
            return Expect.NO
        if session.uncertain or session.user.uncertain:
            return Expect.EITHER
        sessions = self.profile.sessions
        idle = _before(self.now, session.last_seen + sessions.idle_timeout, self.margin)
        absolute = _before(self.now, session.created + sessions.absolute_timeout, self.margin)
        return both(idle, absolute)

    def access_valid(self, session: ModelSession) -> Expect:
        leeway = self.profile.tokens.leeway
        return both(self.session_alive(session), _before(self.now, session.access_exp + leeway, self.margin))

    def settle(self, session: ModelSession, answered_ok: bool) -> None:
        """After the target answered about a session, carry what it told us into the model."""
        if answered_ok:
            session.last_seen = self.now
        elif self.session_alive(session) is not Expect.YES:
            session.live = False

    # ------------------------------------------------------------------ limiter
    def api_hit(self, user: ModelUser) -> Expect:
        limits = self.profile.rate_limits
        window = self.api_windows.setdefault(user.name, Window(limits.api_limit, limits.api_window,
                                                                          margin=self.margin))
        return window.hit(self.now)

    def login_hit(self, user: ModelUser) -> Expect:
        limits = self.profile.rate_limits
        if self.login_ip is None:
            self.login_ip = Window(limits.login_ip_limit, limits.login_window, margin=self.margin)
        key = f"{user.tenant}/{user.name}".lower()
        account = self.login_account.setdefault(key, Window(limits.login_account_limit, limits.login_window,
                                                                margin=self.margin))
        # Both limits are consulted on every attempt; a refusal by either refuses the login.
        ip_answer = self.login_ip.hit(self.now)
        if ip_answer is Expect.NO:
            return Expect.NO
        return both(ip_answer, account.hit(self.now))

    # ------------------------------------------------------------------ lifecycle
    def live_sessions(self, user: ModelUser) -> list[ModelSession]:
        return [s for s in self.sessions if s.user is user and s.live]

    def open_session(self, user: ModelUser, label: str) -> ModelSession:
        session = ModelSession(label, user, self.now, self.now, self.now + self.profile.tokens.access_ttl)
        self.sessions.append(session)
        # Sessions that timed out do not count against the limit; be unsure when that is unclear.
        live = [s for s in self.live_sessions(user) if self.session_alive(s) is not Expect.NO]
        for s in self.live_sessions(user):
            if self.session_alive(s) is Expect.NO:
                s.live = False
        if any(self.session_alive(s) is Expect.EITHER for s in live):
            for s in live:
                s.uncertain = True
        excess = len(live) - self.profile.sessions.max_sessions
        for oldest in sorted(live, key=lambda s: s.created)[:max(0, excess)]:
            oldest.live = False
        return session

    def end_user_sessions(self, user: ModelUser, keep: ModelSession | None = None) -> None:
        for session in self.live_sessions(user):
            if session is not keep:
                session.live = False
