"""The model-based stateful check: random sequences of contract operations, each answer compared
with what the plain model in ``conformance.model`` predicts. A failure shrinks to the shortest
sequence that breaks the target and is reported as a readable, numbered scenario."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky, FlakyStrategyDefinition
from hypothesis.stateful import Bundle, RuleBasedStateMachine, get_state_machine_test, initialize, invariant, rule

from conformance import hypothesis_profiles
from conformance.api import Principal, Tokens
from conformance.context import CheckContext
from conformance.model import REAL_TIME_MARGIN, ContractModel, Expect, ModelSession, ModelUser
from conformance.registry import Severity, check
from conformance.verdict import CannotJudge, CheckFailed, ControlFailed

STEPS = {"ci": 15, "thorough": 50}
DEFAULT_SEED = 2
EXAMPLES = {"ci": 30, "thorough": 300}
# Over HTTP every login may wait out a real login window: fewer, equally long sequences.
HTTP_EXAMPLES = {"ci": 6, "thorough": 100}
# Whether the check shrinks a failure (see ``without_shrinking``): a context variable, so a caller
# that needs no shortest sequence says so for its own block, never for the rest of its process.
_SHRINK: ContextVar[bool] = ContextVar("authconform_stateful_shrink", default=True)
# Seconds hypothesis may spend shrinking a failure: a short sequence is worth a little time, not
# the five minutes hypothesis allows itself by default.
SHRINK_SECONDS = {"ci": 20, "thorough": 300}


@contextmanager
def without_shrinking() -> Iterator[None]:
    """In this block the stateful check drops hypothesis' shrink phase (the public ``phases``
    setting): the self-test needs to know that a fault is caught, not its shortest sequence."""
    token = _SHRINK.set(False)
    try:
        yield
    finally:
        _SHRINK.reset(token)


@contextmanager
def shrink_budget(seconds: int) -> Iterator[None]:
    """Bound the time hypothesis spends shrinking a failure, for this one test.

    Nothing public bounds it (checked against hypothesis 6.170's settings). ``max_examples``
    counts generated examples only, ``deadline`` limits each example (not the search),
    ``stateful_step_count`` limits a sequence's length, and ``phases`` can drop ``Phase.shrink``
    altogether (done for the self-test, ``without_shrinking``), but a person wants the shortest
    sequence, so the shrink phase has to run. The old ``timeout`` setting is gone, and a
    ``shrink_timeout`` never existed; the maintainers keep the shrinker's limits out of the
    settings on purpose (HypothesisWorks/hypothesis PR #3400, issue #3243: the shrinker is an
    implementation detail). It stops only at two constants of
    ``hypothesis.internal.conjecture.engine``: ``MAX_SHRINKS`` (500 successful shrinks) and
    ``MAX_SHRINKING_SECONDS`` (300 s, read when shrinking starts), and over HTTP 300 s of real
    logins is more than a CI job should spend. A budget the test enforces itself would not do:
    an example that stops failing once time is up is a flaky failure to hypothesis, not the end
    of the shrink. So the constant is set around the test and restored after; a hypothesis
    without it keeps its own limit. (The in-process target's frozen clock does not reach it:
    freezegun ignores hypothesis.)
    """
    from hypothesis.internal.conjecture import engine

    saved = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if saved is None:
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = saved


class Mismatch(AssertionError):
    """The target answered what the model says the contract forbids."""


def _ok(status: int) -> bool:
    return 200 <= status < 300


def build_machine(ctx: CheckContext, transcript: list[list[str]],
                  records: list[list[dict[str, Any]]] | None = None) -> type[RuleBasedStateMachine]:
    """A state machine class bound to this check's context (hypothesis instantiates it per example).
    ``records`` gets, per example, one structured record per step (op and arguments, with the
    model's expectation): what ``scenarios/from_model.py`` turns into a replayable scenario."""
    profile = ctx.profile
    api = ctx.api
    has_clock = ctx.target.clock is not None
    roles = profile.roles_by_level()

    class ContractMachine(RuleBasedStateMachine):
        users = Bundle("users")
        sessions = Bundle("sessions")

        def __init__(self) -> None:
            super().__init__()
            if has_clock:
                # Start every example in fresh limiter windows.
                ctx.clock.advance(max(profile.rate_limits.login_window, profile.rate_limits.api_window) + 5)
            if has_clock:
                self.model = ContractModel(profile, ctx.clock.now())
            else:
                # Over HTTP the model's clock is real time, read between steps, with wider margins.
                self.model = ContractModel(profile, time.monotonic(), margin=REAL_TIME_MARGIN)
            self.steps: list[str] = []
            transcript.append(self.steps)
            self.records: list[dict[str, Any]] = []
            if records is not None:
                records.append(self.records)
            self.admin: ModelUser | None = None
            self.admin_tokens: Tokens | None = None
            self.ids: dict[str, str] = {}
            self.tokens: dict[str, Tokens] = {}
            self.counter = 0

        # -------------------------------------------------------------- helpers
        def say(self, line: str) -> None:
            self.steps.append(line)

        def record(self, op: str, **args: Any) -> None:
            self.records.append({"op": op, **args})

        def live_labels(self) -> set[str]:
            return {s.label for s in self.model.sessions if s.live}

        def probe_ended(self, before: set[str]) -> None:
            """Sessions the step just ended must be refused at once: try each one."""
            for session in self.model.sessions:
                if session.label in before and not session.live and session.label in self.tokens:
                    self.use(session)

        def judge(self, expect: Expect, status: int, what: str) -> None:
            if expect is Expect.EITHER:
                return
            got = _ok(status)
            if expect is Expect.YES and status in profile.target.rate_limited_statuses:
                # Fewer admitted than declared is the profile's mistake, not a hole in the target.
                raise CannotJudge(f"{what}: the target answered {status} where the declared limits admit the "
                                  "request: its real limits are lower than the profile's [rate_limits]")
            if got != (expect is Expect.YES):
                wanted = "accepted" if expect is Expect.YES else "refused"
                raise Mismatch(f"{what}: the contract says {wanted}, the target answered {status}")

        def authed(self, user: ModelUser, status: int, auth_expect: Expect) -> Expect:
            """Combine an authentication expectation with the per-user limiter."""
            if auth_expect is Expect.NO:
                return Expect.NO
            limit = self.model.api_hit(user) if auth_expect is Expect.YES else Expect.EITHER
            if status == 429 and limit is not Expect.YES:
                return Expect.EITHER
            if limit is Expect.NO:
                return Expect.NO
            return Expect.EITHER if Expect.EITHER in (limit, auth_expect) else Expect.YES

        # -------------------------------------------------------------- set-up
        @initialize(target=users)
        def sign_up(self) -> ModelUser:
            principal = ctx.users.tenant_admin()
            # A declared account outlives the run: later examples and checks log in with its password.
            declared = any(account.username == principal.username for account in profile.users.accounts)
            user = ModelUser(principal.username, principal.password, principal.tenant, "admin", declared=declared)
            self.admin = user
            self.model.users[user.name] = user
            self.admin_tokens = api.login(principal)
            self.model.login_hit(user)
            self.model.open_session(user, "admin-console")
            self.say(f"{user.name} signs up tenant {user.tenant} and is its admin")
            self.record("sign_up", user=user.name)
            return user

        @rule(target=users, role=st.sampled_from(["viewer", "editor"]))
        def create_user(self, role: str) -> ModelUser:
            assert self.admin is not None and self.admin_tokens is not None
            self.counter += 1
            name = f"u{self.counter}-{secrets.token_hex(3)}"
            password = ctx.users.password()
            response = api.call("user_create", auth=self.admin_tokens,
                                body={"username": name, "password": password, "role": role})
            expect = self.authed(self.admin, response.status, self.model.access_valid(self._admin_session()))
            self.record("create_user", user=name, role=role, expect=expect.value)
            if expect is Expect.NO or not _ok(response.status):
                self.judge(expect, response.status, f"admin creates {role} {name}")
                return ModelUser(name, password, self.admin.tenant, role, alive=False)
            self.model.settle(self._admin_session(), True)
            user = ModelUser(name, password, self.admin.tenant, role)
            self.model.users[name] = user
            data = response.json() or {}
            self.ids[name] = str((data.get("user") or data).get("id", ""))
            self.say(f"the admin creates {role} {name}")
            return user

        def _admin_session(self) -> ModelSession:
            return next(s for s in self.model.sessions if s.label == "admin-console")

        # -------------------------------------------------------------- sessions
        @rule(target=sessions, user=users)
        def login(self, user: ModelUser) -> ModelSession | None:
            limits = profile.rate_limits
            account = self.model.login_account.get(f"{user.tenant}/{user.name}".lower())
            ip = self.model.login_ip
            if has_clock and ((account is not None and account.count >= limits.login_account_limit)
                              or (ip is not None and ip.count >= limits.login_ip_limit)):
                # People log in at a human pace: let the login window pass rather than be limited.
                self.advance_clock(limits.login_window + 2)
            self.counter += 1
            label = f"s{self.counter}"
            limit = self.model.login_hit(user)
            if not has_clock:
                # The per-IP budget is shared with every earlier example and check, which the model
                # does not see: leave login limits to the RL checks, and wait out a 429 (bounded).
                # Where the check may take a client address nobody used, each login has one: its
                # budgets are unspent, so no login waits out a window (the model judges no limit here).
                limit = Expect.EITHER
                ctx.fresh_address()
            response = api.login_response(Principal(user.name, user.password, user.tenant, user.role),
                                          retry_limited=not has_clock)
            self.follow_real_time()
            expect = Expect.NO if not user.alive else limit
            if response.status == 429 and limit is not Expect.YES:
                expect = Expect.EITHER
            self.say(f"{user.name} logs in as session {label} -> {response.status}")
            self.record("login", user=user.name, session=label, expect=expect.value)
            self.judge(expect, response.status, f"login of {user.name}")
            if not _ok(response.status):
                return None
            tokens = api.tokens_from(response)
            before = self.live_labels()
            session = self.model.open_session(user, label)
            self.tokens[label] = tokens
            self.probe_ended(before)
            return session

        @rule(user=users, devices=st.integers(min_value=2, max_value=8))
        def login_on_devices(self, user: ModelUser, devices: int) -> None:
            for _ in range(min(devices, profile.sessions.max_sessions + 1)):
                if self.login(user) is None:
                    return

        @rule(session=sessions)
        def use(self, session: ModelSession | None) -> None:
            if session is None:
                return
            response = api.me(self.tokens[session.label], note=f"{session.label} reads /me")
            expect = self.authed(session.user, response.status, self.model.access_valid(session))
            self.say(f"{session.user.name} uses session {session.label} -> {response.status}")
            self.record("use", session=session.label, expect=expect.value,
                        role=None if session.user.uncertain else session.user.role)
            self.judge(expect, response.status, f"request with session {session.label}")
            if response.status != 429:
                self.model.settle(session, _ok(response.status))
            if _ok(response.status):
                role = response.field("role")
                if role is not None and role != session.user.role and not session.user.uncertain:
                    raise Mismatch(f"{session.user.name}'s token acts as {role}, the current role is "
                                   f"{session.user.role}")

        @rule(session=sessions)
        def refresh(self, session: ModelSession | None) -> None:
            if session is None or not profile.declares("refresh"):
                return
            tokens = self.tokens[session.label]
            response = api.refresh_response(tokens)
            expect = self.model.session_alive(session)
            if response.status == 429:
                expect = Expect.EITHER
            self.say(f"session {session.label} refreshes -> {response.status}")
            self.record("refresh", session=session.label, expect=expect.value)
            self.judge(expect, response.status, f"refresh of session {session.label}")
            if _ok(response.status):
                fresh = api.tokens_from(response, previous=tokens)
                self.tokens[session.label + f"~{session.refresh_generation}"] = tokens
                session.refresh_generation += 1
                self.tokens[session.label] = fresh
                session.access_exp = self.model.now + profile.tokens.access_ttl
                session.last_seen = self.model.now
            elif response.status != 429:
                session.live = False

        @rule(session=sessions)
        def reuse_old_refresh(self, session: ModelSession | None) -> None:
            if session is None or not profile.declares("refresh"):
                return
            if session.refresh_generation == 0:
                # The token is stolen now; the victim refreshes before the thief replays it.
                self.refresh(session)
                if session.refresh_generation == 0:
                    return
            old = self.tokens[session.label + f"~{session.refresh_generation - 1}"]
            response = api.refresh_response(old)
            self.say(f"an attacker replays session {session.label}'s rotated refresh token -> {response.status}")
            self.record("reuse_old_refresh", session=session.label, generation=session.refresh_generation - 1,
                        expect="either" if response.status == 429 else "no")
            if response.status != 429:
                self.judge(Expect.NO, response.status, f"reuse of {session.label}'s rotated refresh token")
            # Reuse revokes the whole family: the session and all its tokens.
            before = self.live_labels()
            session.live = False
            self.probe_ended(before)

        @rule(session=sessions)
        def logout(self, session: ModelSession | None) -> None:
            if session is None or not profile.declares("logout"):
                return
            response = api.call("logout", auth=self.tokens[session.label])
            self.say(f"session {session.label} logs out -> {response.status}")
            self.record("logout", session=session.label)
            before = self.live_labels()
            session.live = False
            self.probe_ended(before)

        @rule(session=sessions)
        def logout_all(self, session: ModelSession | None) -> None:
            if session is None or not profile.declares("logout_all"):
                return
            expect = self.model.access_valid(session)
            response = api.call("logout_all", auth=self.tokens[session.label])
            self.say(f"{session.user.name} logs out everywhere from {session.label} -> {response.status}")
            self.record("logout_all", session=session.label, expect=expect.value)
            if _ok(response.status):
                before = self.live_labels()
                self.model.end_user_sessions(session.user)
                self.probe_ended(before)
            elif expect is Expect.YES and response.status != 429:
                raise Mismatch(f"logout-all from a live session answered {response.status}")

        @rule(session=sessions)
        def change_password(self, session: ModelSession | None) -> None:
            if session is None or not profile.declares("password_change") or session.user.declared:
                return
            new_password = ctx.users.password()
            response = api.call("me_update", auth=self.tokens[session.label],
                                body={"current_password": session.user.password, "new_password": new_password})
            self.say(f"{session.user.name} changes the password from {session.label} -> {response.status}")
            self.record("change_password", session=session.label)
            if _ok(response.status):
                session.user.password = new_password
                before = self.live_labels()
                self.model.end_user_sessions(session.user, keep=session)
                self.model.settle(session, True)
                self.probe_ended(before)

        # -------------------------------------------------------------- roles and users
        @rule(user=users, up=st.booleans())
        def change_role(self, user: ModelUser, up: bool) -> None:
            if self.admin is None or user is self.admin or not user.alive or user.name not in self.ids:
                return
            level = roles.index(user.role) + (1 if up else -1)
            if level < 0 or roles[level] not in ("viewer", "editor"):
                return
            new_role = roles[level]
            response = api.call("user_role", auth=self.admin_tokens, ids={"id": self.ids[user.name]},
                                body={"role": new_role})
            self.say(f"the admin makes {user.name} {new_role} -> {response.status}")
            self.record("change_role", user=user.name, role=new_role,
                        expect=self.model.access_valid(self._admin_session()).value)
            if _ok(response.status):
                user.role = new_role
                # The change applies to tokens already issued: try the user's live sessions.
                for session in [s for s in self.model.live_sessions(user) if s.label in self.tokens][:1]:
                    self.write_document(session)
            elif response.status != 429 and self.model.access_valid(self._admin_session()) is Expect.YES:
                raise Mismatch(f"a one-level role change by the tenant admin answered {response.status}")

        @rule(user=users)
        def delete_user(self, user: ModelUser) -> None:
            if self.admin is None or user is self.admin or not user.alive or user.name not in self.ids:
                return
            response = api.call("user_delete", auth=self.admin_tokens, ids={"id": self.ids[user.name]})
            self.say(f"the admin deletes {user.name} -> {response.status}")
            self.record("delete_user", user=user.name)
            if _ok(response.status):
                before = self.live_labels()
                user.alive = False
                self.model.end_user_sessions(user)
                self.probe_ended(before)

        @rule(session=sessions)
        def write_document(self, session: ModelSession | None) -> None:
            if session is None or not profile.offers("document_create"):
                return
            response = api.call("document_create", auth=self.tokens[session.label],
                                body={"title": "model", "body": "written by the stateful check"})
            may_write = "write" in profile.permissions.get(session.user.role, [])
            auth = self.model.access_valid(session)
            expect = self.authed(session.user, response.status, auth)
            if not may_write and expect is not Expect.NO:
                expect = Expect.NO if not session.user.uncertain else Expect.EITHER
            self.say(f"{session.user.name} ({session.user.role}) writes a document with {session.label} "
                     f"-> {response.status}")
            self.record("write_document", session=session.label, expect=expect.value)
            self.judge(expect, response.status, f"document write by a {session.user.role}")
            if response.status not in (429, 403):
                self.model.settle(session, _ok(response.status))

        # -------------------------------------------------------------- time
        @rule(seconds=st.sampled_from([30, 240, 600, 1500, 1900, 3600, 7200]))
        def wait(self, seconds: int) -> None:
            self.advance_clock(seconds)

        def advance_clock(self, seconds: int) -> None:
            if not has_clock:
                return
            ctx.clock.advance(seconds)
            self.model.advance(seconds)
            self.say(f"{seconds} s pass")
            self.record("advance_clock", seconds=seconds)

        def follow_real_time(self) -> None:
            if not has_clock:
                self.model.now = time.monotonic()

        @invariant()
        def clocks_agree(self) -> None:
            if has_clock:
                assert abs(ctx.clock.now() - self.model.now) < 1.0
            self.follow_real_time()

    return ContractMachine


@check(
    "PROP-STATEFUL-MODEL",
    waits_on_clock=True,
    counts_limits=True,
    no_controls="the model is its own control: every answer is compared with what the contract predicts, and "
                "the first step of each run logs in a fresh user and uses its token",
    title="random sequences of login, refresh, reuse, logout, password and role changes, deletions, "
          "document writes and clock moves, each answer compared with a model of the contract",
    rule="the target's answers over any sequence of operations match the contract's state model",
    severity=Severity.HIGH,
    references=("RFC 9700 §4.14.2", "ASVS 3.3.1", "ASVS 3.5.2", "API1:2023", "API5:2023"),
    needs=("signup", "user_admin", "roles"),
)
def stateful_model(ctx: CheckContext) -> None:
    profile_name = os.environ.get("AUTHCONF_HYPOTHESIS_PROFILE", "ci")
    transcript: list[list[str]] = []
    records: list[list[dict[str, Any]]] = []
    machine = build_machine(ctx, transcript, records)
    machine.TestCase.settings = settings(
        max_examples=hypothesis_profiles.max_examples()
        or (EXAMPLES if ctx.target.clock is not None else HTTP_EXAMPLES).get(profile_name, 10),
        stateful_step_count=STEPS.get(profile_name, STEPS["ci"]),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        print_blob=False,
        # The report says what hypothesis found; its own notices (a shrink cut short by our budget,
        # worded as "five minutes") would only be noise on the run's output.
        verbosity=Verbosity.quiet,
        # The self-test only needs to know that a fault is caught; shrinking is for people.
        phases=tuple(Phase) if _SHRINK.get() else tuple(p for p in Phase if p is not Phase.shrink),
    )
    # A fixed seed makes a run repeatable (AUTHCONF_HYPOTHESIS_SEED picks another). Hypothesis keeps
    # its own generator, so the seed goes on the test itself: the test run_state_machine_as_test
    # would build, built here so that hypothesis.seed can be put on it.
    # Randomized profiles share the run's one seed with the property checks (the report header's).
    seed = hypothesis_profiles.seed()
    if seed is None:
        seed = int(os.environ.get(hypothesis_profiles.SEED_ENV) or DEFAULT_SEED)
    ctx.details["hypothesis_seed"] = seed
    test = get_state_machine_test(machine, settings=machine.TestCase.settings,
                                  _flaky_state={"selecting_rule": False})
    fixed_seed(seed)(test)
    try:
        with shrink_budget(SHRINK_SECONDS.get(profile_name, SHRINK_SECONDS["ci"])):
            test()
    except (ControlFailed, CheckFailed, CannotJudge):
        raise
    except FlakyStrategyDefinition as exc:
        # The same draws led to different steps on replay: the target's answers depend on state
        # outside the model (a shared limiter, another client), so the sequence cannot be trusted.
        raise ControlFailed("the target answered a replayed sequence differently, so the model "
                            f"cannot judge it: {_first_line(exc)}") from None
    except (Mismatch, Flaky) as exc:
        steps = transcript[-1] if transcript else []  # hypothesis replays the shrunk example last
        ctx.details["stateful_steps"] = steps
        ctx.details["stateful_records"] = records[-1] if records else []
        ctx.details["stateful_examples"] = len(transcript)
        shrunk = "shortest sequence found" if _SHRINK.get() else "sequence (not shrunk)"
        raise CheckFailed(f"{_first_line(exc)} — {shrunk}: {len(steps)} step(s), seed {seed} "
                          "(numbered in the report: stateful_steps)") from None
    ctx.details["stateful_examples"] = len(transcript)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def transcript_as_scenario(steps: list[str]) -> dict[str, Any]:
    """A failing sequence in the shape scenario files use (see scenarios/)."""
    return {"title": "found by the stateful model", "steps": steps}
