"""Schemathesis, through its Python API, finds nothing wrong with the reference's OpenAPI document.

Its default configuration: every check, and the coverage, fuzzing and stateful phases. It signs in
with an account of ours that signs up, and logs in again whenever the run has logged itself out or
deleted its own account (the stateful phase does both within seconds). The reference's rate limits
are out of reach, so no answer is a 429. The examples per operation are few, so the run stays under a
minute; ``nox -s schemathesis_deep`` sets SCHEMATHESIS_EXAMPLES for a longer one.

Once in-process (``from_wsgi``) and once served (gunicorn, two workers, Redis).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.engine import Status, StopReason, events, from_schema
from schemathesis.transport.wsgi import WSGITransport

from conformance.served import ServeError, reference_server
from reference_impl import Config, create_app

from .served_support import PASSWORD

pytestmark = pytest.mark.schemathesis

DOCUMENT_PATH = "/openapi.json"
EXAMPLES_VARIABLE = "SCHEMATHESIS_EXAMPLES"
QUICK_EXAMPLES = 5
OUT_OF_REACH = 1_000_000  # requests per window: no run of this test comes near
SERVED_WORKERS = 2
REQUEST_TIMEOUT = 10.0
# Checks whose passing is the point of the run: each must have judged some answers.
ESSENTIAL_CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance",
                    "positive_data_acceptance", "negative_data_rejection", "ignored_auth")
# Transport settings that only a network session has; see without_socket_settings.
SOCKET_SETTINGS = ("max_redirects", "verify", "cert", "proxies")

Post = Callable[[str, dict[str, str]], tuple[int, Any]]


def examples() -> int:
    return int(os.environ.get(EXAMPLES_VARIABLE, QUICK_EXAMPLES))


def account_provider(post: Post) -> type:
    """An auth provider class for Schemathesis that signs in as an admin of a tenant of its own.

    Schemathesis calls ``get`` at the start and again after any 401 (then replays the request):
    the account logs in again, or, when it no longer exists, a new one signs up.
    """

    class SignedInAccount:
        account: dict[str, str] | None = None

        def get(self, case: Any, context: Any) -> str:
            if self.account is not None:
                status, body = post("/auth/login", self.account)
                if status == 200:
                    return str(body["access_token"])
            self.account = {"username": "schemathesis", "password": PASSWORD,
                            "tenant": f"schemathesis-{secrets.token_hex(6)}"}
            status, body = post("/auth/register", self.account)
            if status != 201:
                raise RuntimeError(f"sign-up answered {status}: {body}")
            status, body = post("/auth/login", self.account)
            if status != 200:
                raise RuntimeError(f"login after sign-up answered {status}: {body}")
            return str(body["access_token"])

        def set(self, case: Any, token: str, context: Any) -> None:
            case.headers["Authorization"] = f"Bearer {token}"

    return SignedInAccount


@dataclass
class RunFigures:
    operations: set[str] = field(default_factory=set)
    requests: Counter[str] = field(default_factory=Counter)  # by phase
    judged: Counter[str] = field(default_factory=Counter)  # answers each check judged
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        phases = ", ".join(f"{phase} {count}" for phase, count in sorted(self.requests.items()))
        return (f"{len(self.operations)} operations, {sum(self.requests.values())} requests ({phases}), "
                f"{self.seconds:.1f} s, {len(self.failures)} failures, {len(self.errors)} errors")


def _record(figures: RunFigures, event: events.ScenarioFinished) -> None:
    recorder = event.recorder
    figures.requests[event.phase.value] += len(recorder.interactions)
    for node in recorder.cases.values():
        figures.operations.add(node.value.operation.label)
    for case_id, checks in recorder.checks.items():
        for check in checks:
            figures.judged[check.name] += 1
            if check.failure_info is not None:
                interaction = recorder.interactions.get(case_id)
                request = "" if interaction is None else f"{interaction.request.method} {interaction.request.uri}"
                status = "" if interaction is None or interaction.response is None \
                    else interaction.response.status_code
                figures.failures.append(f"[{event.phase.value}] {recorder.label}: {check.name}: "
                                        f"{check.failure_info.failure.title} ({request} -> {status})")
    if event.status == Status.ERROR:
        figures.errors.append(f"[{event.phase.value}] {recorder.label}: errored")
    # The examples phase skips every operation: the document gives no examples, it is not asked to.
    if event.status == Status.SKIP and event.phase.value != "examples":
        figures.errors.append(f"[{event.phase.value}] {recorder.label}: skipped ({event.skip_reason})")


def run(schema: Any) -> RunFigures:
    figures = RunFigures()
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _record(figures, event)
        elif isinstance(event, events.NonFatalError):
            figures.errors.append(f"[{event.phase}] {event.label}: {event.info.title}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            figures.errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            figures.failures += [str(failure) for failure in event.failures]
            if event.stop_reason is not StopReason.COMPLETED:
                figures.errors.append(f"the run stopped: {event.stop_reason}")
    figures.seconds = time.monotonic() - started
    return figures


def configuration() -> schemathesis.Config:
    """The default configuration, with fewer examples per operation."""
    # A body over the size limit is refused with 413, which is a rejection too.
    return schemathesis.Config.from_dict({
        "generation": {"max-examples": examples()},
        "checks": {"negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "406", "413",
                                                                     "422", "428", "5xx"]}},
    })


def assert_clean(figures: RunFigures, schema: Any, document: dict[str, Any]) -> None:
    declared = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    declared.discard(f"GET {DOCUMENT_PATH}")  # Schemathesis leaves out the operation serving the document it reads
    seed = schema.config.seed
    assert not figures.errors, f"seed {seed}: {figures.summary()}\n" + "\n".join(figures.errors)
    assert not figures.failures, f"seed {seed}: {figures.summary()}\n" + "\n".join(figures.failures)
    assert figures.operations == declared, f"not exercised: {sorted(declared - figures.operations)}"
    for phase in ("coverage", "fuzzing", "stateful"):
        assert figures.requests[phase] > 0, f"the {phase} phase sent nothing: {figures.summary()}"
    for check in ESSENTIAL_CHECKS:
        assert figures.judged[check] > 0, f"the {check} check judged nothing: {figures.summary()}"


# ---------------------------------------------------------------------------- in-process


@pytest.fixture
def without_socket_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schemathesis 4.32's ignored_auth probe, in-process, hands werkzeug's test client the network
    session's settings (max_redirects...), which it refuses with a TypeError; drop them there, as
    its transport already does when it is given a session."""
    send = WSGITransport.send

    def send_in_process(self: WSGITransport, case: Any, *, session: Any = None, **kwargs: Any) -> Any:
        if session is None:
            for name in SOCKET_SETTINGS:
                kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_in_process)


def test_schemathesis_finds_nothing_wrong_in_process(without_socket_settings: None,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(Config.for_tests(api_rate_limit=OUT_OF_REACH, login_limit_ip=OUT_OF_REACH,
                                      login_limit_account=OUT_OF_REACH))
    client = app.test_client(use_cookies=False)

    def post(path: str, body: dict[str, str]) -> tuple[int, Any]:
        answer = client.post(path, json=body)
        return answer.status_code, answer.json

    schema = schemathesis.openapi.from_wsgi(DOCUMENT_PATH, app, config=configuration())
    schema.auth()(account_provider(post))
    with caplog.at_level(logging.ERROR, logger="reference_impl"):
        figures = run(schema)
    print(f"in-process: {figures.summary()}")
    document: dict[str, Any] = client.get(DOCUMENT_PATH).json
    assert_clean(figures, schema, document)
    undeclared = [record.getMessage() for record in caplog.records if "undeclared answer" in record.getMessage()]
    assert not undeclared, undeclared


# ---------------------------------------------------------------------------- served


@pytest.fixture
def served(redis_server: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    settings = {"AUTHCONF_STORE": "redis", "AUTHCONF_REDIS_URL": redis_server,
                "AUTHCONF_API_RATE_LIMIT": str(OUT_OF_REACH), "AUTHCONF_LOGIN_LIMIT_IP": str(OUT_OF_REACH),
                "AUTHCONF_LOGIN_LIMIT_ACCOUNT": str(OUT_OF_REACH)}
    try:
        with reference_server(settings, tmp_path, workers=SERVED_WORKERS) as base:
            yield base, tmp_path / "reference.log"
    except ServeError as exc:
        pytest.fail(str(exc))


@pytest.mark.served
def test_schemathesis_finds_nothing_wrong_when_served(served: tuple[str, Path]) -> None:
    base, log = served

    def post(path: str, body: dict[str, str]) -> tuple[int, Any]:
        answer = requests.post(f"{base}{path}", json=body, timeout=REQUEST_TIMEOUT)
        return answer.status_code, answer.json()

    schema = schemathesis.openapi.from_url(f"{base}{DOCUMENT_PATH}", config=configuration())
    schema.auth()(account_provider(post))
    figures = run(schema)
    print(f"served ({SERVED_WORKERS} workers, Redis): {figures.summary()}")
    assert_clean(figures, schema, requests.get(f"{base}{DOCUMENT_PATH}", timeout=REQUEST_TIMEOUT).json())
    assert "undeclared answer" not in log.read_text(errors="replace")
