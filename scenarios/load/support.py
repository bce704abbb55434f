"""What the load profiles share: options, the profile, accounts, recording, master/worker plumbing.

The locustfiles in this directory are plain locust; ``authconform load NAME`` starts them, and
locust can too (one machine, or a master and workers on several)::

    locust -f scenarios/load/rate_limit_probe.py --headless -u 50 -r 10 -t 30s \\
        --host http://127.0.0.1:8000 --authconform-profile my-target.toml

Every simulated user speaks the contract through ``conformance.api.Api`` (so the profile's paths,
field names and token delivery apply), over locust's own HTTP client. Users come in teams:
``load.users_per_account`` users share one account, one client address and, depending on the
profile, one session or one refresh family, which is where concurrency on a single limiter key,
token or family comes from. Every request becomes a ``Sample`` (times, status, limiter keys, what
the contract forbade if the target admitted it); workers send theirs to the master with locust's
``report_to_master`` event, and the master (or the one local process) writes them to
``samples.json`` in ``--authconform-out`` when locust quits.
"""

from __future__ import annotations

import json
import math
import random
import secrets
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import gevent
from gevent.lock import RLock
from locust import FastHttpUser, constant, events
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from conformance.api import Api, Principal, Tokens
from conformance.load.samples import (
    API,
    LOGIN_ACCOUNT,
    LOGIN_IP,
    Sample,
    opaque,
    status_class,
)
from conformance.load.settings import check_target, profile_from_options
from conformance.profile import Profile, ProfileError
from conformance.profile import load as load_profile
from conformance.targets.base import Headers, Response

PROGRESS_PREFIX = "AUTHCONF-PROGRESS "
PROGRESS_INTERVAL = 2.0  # seconds between progress lines
FINAL_WAIT = 15.0  # seconds the master waits for every worker's last samples after stopping them
SAMPLES_FILE = "samples.json"
SETUP_RETRY_PAUSE = 1.0  # seconds a user pauses after its set-up failed, before trying again
MAX_LIMITED_WAIT = 65.0  # longest a user waits for the login limiter (Retry-After) before trying anew
PASSWORD_BYTES = 12

OK = frozenset(range(200, 300))
UNAUTHORIZED = frozenset({401})
LIMITED = frozenset({429})

Judge = Callable[[int, float], str]  # (status, sent) -> what the contract forbade, or ""
G = TypeVar("G", bound="Team")


class SetupFailed(Exception):
    """A step a simulated user needs (sign-up, login) did not work; the user tries again later."""


# ---------------------------------------------------------------------------- options

@events.init_command_line_parser.add_listener
def _options(parser: Any, **_kwargs: Any) -> None:
    options = parser.add_argument_group("authconform")
    options.add_argument("--authconform-profile", default="", env_var="AUTHCONF_PROFILE",
                       help="profile TOML of the target (default: the bundled reference profile)")
    options.add_argument("--authconform-overrides", default="{}", env_var="AUTHCONF_PROFILE_OVERRIDES",
                       help="JSON object of profile overrides, e.g. {\"rate_limits.api_limit\": 20}")
    options.add_argument("--authconform-out", default="", help="directory for samples.json (master or local)")
    options.add_argument("--authconform-processes", type=int, default=1,
                       help="load-generating processes, to share load.max_requests between them")
    options.add_argument("--authconform-run-time", type=int, default=0,
                       help="master: stop the workers after this many seconds and collect their samples")


def _option(environment: Environment, name: str, default: Any) -> Any:
    options = environment.parsed_options
    return getattr(options, name, default) if options is not None else default


def read_profile(environment: Environment) -> Profile:
    return profile_from_options(_option(environment, "authconform_profile", ""),
                                _option(environment, "authconform_overrides", "{}"))


# ---------------------------------------------------------------------------- the run of one process

@dataclass
class RunState:
    """One locust process's share of the run (every process has one; only some parts are used)."""

    profile: Profile
    out: str
    budget: int  # requests this process may send
    label: str  # this host: without a client address of their own, its users share the host's limits
    sent: int = 0
    pending: list[list[Any]] = field(default_factory=list)  # worker: rows not yet sent to the master
    rows: list[list[Any]] = field(default_factory=list)  # master or local: every row of the run
    counts: Counter[str] = field(default_factory=Counter)  # master or local: status classes so far
    violations: int = 0
    notes: Counter[str] = field(default_factory=Counter)  # set-up problems, counted by message
    seen_workers: set[str] = field(default_factory=set)
    final_workers: set[str] = field(default_factory=set)
    stopped: bool = False
    budget_spent: bool = False
    started: float = field(default_factory=time.time)
    next_user: int = 0
    next_address: int = 0
    address_prefix: str = field(default_factory=lambda: f"10.{random.randrange(1, 255)}")
    name_prefix: str = field(default_factory=lambda: secrets.token_hex(3))
    teams: dict[int, Team] = field(default_factory=dict)

    def ingest(self, rows: Iterable[list[Any]]) -> None:
        for row in rows:
            self.rows.append(row)
            self.counts[status_class(int(row[2]))] += 1
            self.violations += bool(row[5])

    def record(self, sample: Sample, *, collecting: bool) -> None:
        row = sample.row()
        if collecting:
            self.ingest([row])
        else:
            self.pending.append(row)

    def new_address(self) -> str | None:
        """A client address of its own (sent as X-Forwarded-For) when the target trusts a proxy."""
        if self.profile.rate_limits.trusted_proxies < 1:
            return None
        number = self.next_address
        self.next_address += 1
        return f"{self.address_prefix}.{(number // 256) % 256}.{number % 256}"

    def team(self, index: int, kind: type[G]) -> G:
        if index not in self.teams:
            self.teams[index] = kind(index, self.new_address())
        return cast(G, self.teams[index])


# The run state lives on locust's Environment, under this attribute: one per Environment, gone
# with it, and no table of this module to keep in step.
STATE_ATTRIBUTE = "authconform_run"


def state_of(environment: Environment) -> RunState | None:
    state = getattr(environment, STATE_ATTRIBUTE, None)
    return state if isinstance(state, RunState) else None


def attach_state(environment: Environment, state: RunState) -> None:
    setattr(environment, STATE_ATTRIBUTE, state)


def _collects(environment: Environment) -> bool:
    return not isinstance(environment.runner, WorkerRunner)


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_kwargs: Any) -> None:
    try:
        profile = read_profile(environment)
        file_profile = load_profile(_option(environment, "authconform_profile", "") or None)
        check_target(environment.host or "", file_profile.target.base_url)
    except (ProfileError, ValueError) as exc:
        print(f"authconform load: {exc}", file=sys.stderr, flush=True)
        if environment.runner is not None:
            gevent.spawn(environment.runner.quit)
        return
    processes = max(1, int(_option(environment, "authconform_processes", 1)))
    label = socket.gethostname()  # the processes of one host share its address as the target sees it
    state = RunState(profile=profile, out=_option(environment, "authconform_out", ""),
                     budget=math.ceil(profile.load.max_requests / processes), label=label)
    attach_state(environment, state)
    LoadUser.network_timeout = profile.target.read_timeout
    LoadUser.connection_timeout = profile.target.connect_timeout
    LoadUser.insecure = not profile.target.verify_tls
    if _collects(environment):
        gevent.spawn(_progress, environment, state)
    run_time = int(_option(environment, "authconform_run_time", 0))
    if isinstance(environment.runner, MasterRunner) and run_time > 0:
        gevent.spawn(_stop_workers_after, environment, state, run_time)


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_kwargs: Any) -> None:
    state = state_of(environment)
    if state is not None:
        state.stopped = True


@events.init.add_listener
def _on_init(environment: Environment, **_kwargs: Any) -> None:
    """Bind the master/worker exchange to this environment: locust's report_to_master and
    worker_report events do not say which environment they belong to."""

    def report_to_master(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
        state = state_of(environment)
        if state is not None:
            send_to_master(state, data)

    def worker_report(client_id: str, data: dict[str, Any], **_kwargs: Any) -> None:
        state = state_of(environment)
        if state is not None:
            receive_from_worker(state, client_id, data)

    environment.events.report_to_master.add_listener(report_to_master)
    environment.events.worker_report.add_listener(worker_report)


def send_to_master(state: RunState, data: dict[str, Any]) -> None:
    """Worker: move the samples and notes gathered since the last report into locust's report."""
    rows, state.pending = state.pending, []
    notes, state.notes = dict(state.notes), Counter()
    data["authconform"] = {"rows": rows, "final": state.stopped, "notes": notes}


def receive_from_worker(state: RunState, client_id: str, data: dict[str, Any]) -> None:
    """Master: take in one worker's report."""
    report = data.get("authconform")
    if not isinstance(report, dict):
        return
    state.seen_workers.add(client_id)
    state.ingest(report.get("rows", []))
    state.notes.update(report.get("notes", {}))
    if report.get("final"):
        state.final_workers.add(client_id)


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_kwargs: Any) -> None:
    state = state_of(environment)
    if state is None or not state.out or not _collects(environment):
        return
    path = Path(state.out) / SAMPLES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "rows": state.rows,
        "workers": len(state.seen_workers),
        "workers_final": len(state.final_workers),
        "notes": dict(state.notes),
    }))


def _progress(environment: Environment, state: RunState) -> None:
    """A line of figures every few seconds on stdout, for ``authconform load`` to show."""
    while not state.stopped:
        gevent.sleep(PROGRESS_INTERVAL)
        runner = environment.runner
        if runner is None:
            return
        total = runner.stats.total
        line = {"elapsed": round(time.time() - state.started, 1), "users": runner.user_count,
                "requests": len(state.rows), "rps": round(total.current_rps, 1),
                "p95_ms": total.get_current_response_time_percentile(0.95) or 0,
                "violations": state.violations, **{name: state.counts[name] for name in
                                                   ("2xx", "401", "429", "5xx", "other")}}
        print(PROGRESS_PREFIX + json.dumps(line), flush=True)


def _stop_workers_after(environment: Environment, state: RunState, seconds: int) -> None:
    """Master: stop the workers at the end of the run time, then wait for their last samples."""
    gevent.sleep(seconds)
    runner = environment.runner
    if runner is None:
        return
    runner.stop()
    deadline = time.monotonic() + FINAL_WAIT
    while not state.seen_workers <= state.final_workers and time.monotonic() < deadline:
        gevent.sleep(0.25)
    missing = len(state.seen_workers - state.final_workers)
    if missing:
        state.notes[f"{missing} worker(s) did not send their last samples within {FINAL_WAIT:g} s"] += 1
    runner.quit()


# ---------------------------------------------------------------------------- talking to the target

@dataclass
class Expectation:
    accept: frozenset[int]
    keys: tuple[str, ...] = ()
    judge: Judge | None = None
    name: str = ""


class _Discard:
    """Api registers every token it sees with a redactor; a load run prints none, so it keeps none."""

    def add(self, *_secrets: str | None) -> None:
        return None


class _NoClock:
    clock = None
    abilities: frozenset[str] = frozenset()


class LoadContext:
    """What ``conformance.api.Api`` needs from a check context, over locust's HTTP client."""

    def __init__(self, user: LoadUser) -> None:
        self.user = user
        self.profile = user.state.profile
        self.redactor = _Discard()
        self.target = _NoClock()
        self._next = Expectation(OK)

    def expect(self, accept: Iterable[int], *, keys: Iterable[str] = (), judge: Judge | None = None,
               name: str = "") -> Api:
        """The next request: which statuses are fine, what it counts against, what it must never get."""
        self._next = Expectation(frozenset(accept), tuple(keys), judge, name)
        return self.user.api

    def control(self, condition: bool, reason: str) -> None:
        if not condition:
            raise SetupFailed(reason)

    def pace(self, operation: str, auth: Any, username: str = "") -> None:
        """A load profile measures the limiter: its requests are never held back."""

    def send(self, method: str, path: str, *, note: str = "", headers: Mapping[str, str] | None = None,
             params: Mapping[str, str] | None = None, json_body: Any = None,
             form: Mapping[str, str] | None = None, raw_body: bytes | None = None,
             cookies: Mapping[str, str] | None = None, worker: int = 0) -> Response:
        expectation, self._next = self._next, Expectation(OK)
        user = self.user
        state = user.state
        if state.sent >= state.budget:
            if not state.budget_spent:
                state.budget_spent = True
                state.notes[f"this process sent its share ({state.budget}) of load.max_requests and stopped"] += 1
                _spent(user.environment)
            raise StopUser()
        state.sent += 1
        request_headers = dict(headers or {})
        if user.address is not None:
            proxies = self.profile.rate_limits.trusted_proxies
            request_headers["X-Forwarded-For"] = ", ".join([user.address] + ["127.0.0.1"] * (proxies - 1))
        if cookies:
            request_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        if params:
            path = path + "?" + "&".join(f"{k}={v}" for k, v in params.items())
        name = expectation.name or note or path
        data: Any = raw_body if raw_body is not None else (dict(form) if form is not None else None)
        user.client.cookiejar.clear()  # the profile's token delivery says which cookies go; no jar adds any
        sent = time.time()
        with user.client.request(method, path, name=name, headers=request_headers, data=data, json=json_body,
                                 catch_response=True, allow_redirects=False) as answer:
            received = time.time()
            status = int(answer.status_code or 0)
            violation = expectation.judge(status, sent) if expectation.judge is not None else ""
            unexpected = bool(violation) or status not in expectation.accept
            if violation:
                answer.failure(violation)
            elif unexpected:
                answer.failure(f"unexpected status {status}" if status else "no answer")
            else:
                answer.success()
            raw_headers = answer.headers
            body = (answer.content or b"") if status else b""
        pairs = [(str(k), str(v)) for k, v in raw_headers.items()] if raw_headers is not None else []
        state.record(Sample(sent, received, status, name, expectation.keys, violation, unexpected),
                     collecting=_collects(user.environment))
        return Response(status=status, headers=Headers(pairs), body=body, elapsed=received - sent, url=path)


def _spent(environment: Environment) -> None:
    """The process's request budget is spent: a local run ends; a worker's users stop."""
    if environment.runner is not None and not isinstance(environment.runner, WorkerRunner | MasterRunner):
        gevent.spawn(environment.runner.quit)


# ---------------------------------------------------------------------------- accounts and teams

@dataclass
class Team:
    """Users sharing an account and a client address (and whatever a profile adds)."""

    index: int
    address: str | None
    account: Principal | None = None
    tokens: Tokens | None = None
    lock: RLock = field(default_factory=RLock)  # re-entrant: a new session may need a new account

    @property
    def account_id(self) -> str:
        assert self.account is not None
        return opaque(self.account.tenant, self.account.username)

    @property
    def api_key(self) -> str:
        return f"{API}:{self.account_id}"


class LoadUser(FastHttpUser):
    """A simulated user: on start it joins its team; tasks speak the contract through ``self.api``."""

    abstract = True
    wait_time = constant(0)
    team_kind: type[Team] = Team
    state: RunState
    team: Team

    def on_start(self) -> None:
        state = state_of(self.environment)
        if state is None:  # the profile or the target was refused; test_start said why
            raise StopUser()
        self.state = state
        number = state.next_user
        state.next_user += 1
        per_team = state.profile.load.users_per_account
        self.team = state.team(number // per_team, self.team_kind)
        self.member = number % per_team
        self.ctx = LoadContext(self)
        self.api = Api(cast(Any, self.ctx))

    @property
    def profile(self) -> Profile:
        return self.state.profile

    @property
    def address(self) -> str | None:
        return self.team.address

    def note(self, message: str) -> None:
        self.state.notes[message] += 1

    def pause_after_failure(self, exc: SetupFailed) -> None:
        self.note(str(exc))
        gevent.sleep(SETUP_RETRY_PAUSE)

    # -------------------------------------------------------------- accounts
    def login_keys(self, account_id: str) -> tuple[str, str]:
        client = self.address or f"peer@{self.state.label}"
        return f"{LOGIN_IP}:{client}", f"{LOGIN_ACCOUNT}:{client}|{account_id}"

    def new_account(self) -> Principal:
        """A fresh tenant admin (sign-up), or a configured account with read access."""
        profile = self.profile
        if profile.users.source == "accounts":
            readers = [a for a in profile.users.accounts
                       if "read" in profile.permissions.get(a.role, ["read"])]
            if not readers:
                raise SetupFailed("the profile lists no [[users.accounts]] with read access")
            account = readers[self.team.index % len(readers)]
            return Principal(account.username, account.password, account.tenant, account.role)
        state = self.state
        name = f"load-{state.name_prefix}-{state.next_user}-{secrets.token_hex(2)}"
        principal = Principal(name, "Pw-" + secrets.token_urlsafe(PASSWORD_BYTES), name, "admin")
        response = self.ctx.expect(OK, name="signup").signup(principal)
        self.ctx.control(200 <= response.status < 300, f"sign-up answered {response.status}")
        return principal

    def ensure_account(self) -> Principal:
        team = self.team
        if team.account is None:
            with team.lock:
                if team.account is None:
                    team.account = self.new_account()
        return team.account

    def try_login(self, principal: Principal) -> Tokens | None:
        """Log in; None when the login limiter refused (429); SetupFailed on anything else."""
        keys = self.login_keys(opaque(principal.tenant, principal.username))
        response = self.ctx.expect(OK | LIMITED, keys=keys, name="login").login_response(principal)
        if response.status == 429:
            self._limited_until = time.monotonic() + _retry_after(response)
            return None
        tokens = self.api.tokens_from(response)
        self.ctx.control(200 <= response.status < 300 and tokens.ok, f"login answered {response.status}")
        return tokens

    def fresh_session(self) -> Tokens:
        """Tokens of a new login of the team's account. When the login limiter refuses, the team
        moves to a new client address (when the target trusts a proxy) or a new account (sign-up),
        else waits out the limiter's Retry-After."""
        for _attempt in range(3):
            tokens = self.try_login(self.ensure_account())
            if tokens is not None:
                return tokens
            if self.team.address is not None:
                self.team.address = self.state.new_address()
            elif self.profile.users.source == "signup":
                self.team.account = self.new_account()
            else:
                gevent.sleep(min(MAX_LIMITED_WAIT, max(0.0, self._limited_until - time.monotonic())))
        raise SetupFailed("the login limiter kept refusing the team's logins")

    def team_session(self) -> Tokens:
        """The team's shared session: the first member to need it logs in, the others wait."""
        team = self.team
        if team.tokens is None:
            with team.lock:
                if team.tokens is None:
                    team.tokens = self.fresh_session()
        return team.tokens

    _limited_until = 0.0


def _retry_after(response: Response) -> float:
    try:
        return max(1.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def is_ok(status: int) -> bool:
    return 200 <= status < 300
