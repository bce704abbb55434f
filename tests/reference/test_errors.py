"""JSON errors everywhere, no 5xx for malformed input, fail closed when the store is down."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_impl import Config, create_app
from reference_impl.memory_store import MemoryStore
from reference_impl.store import StoreUnavailable

from .conftest import Harness

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                    max_leaves=10)
BODY_ROUTES = [("POST", "/auth/register"), ("POST", "/auth/login"), ("POST", "/auth/refresh")]
AUTHED_ROUTES = [("PATCH", "/users/me"), ("POST", "/users"), ("POST", "/documents"), ("PATCH", "/users/1/role")]


class DownStore:
    """A store whose every call fails."""

    def __getattr__(self, name: str) -> Any:
        def fail(*_args: Any, **_kwargs: Any) -> Any:
            raise StoreUnavailable("down for the test")

        return fail


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON, route=st.sampled_from(BODY_ROUTES + AUTHED_ROUTES))
def test_no_json_body_yields_a_5xx(ref: Harness, body: Any, route: tuple[str, str]) -> None:
    admin = getattr(ref, "_admin", None) or ref.login("admin")
    ref._admin = admin  # type: ignore[attr-defined]
    method, path = route
    answer = ref.call(method, path, admin if route in AUTHED_ROUTES else None, json=body)
    assert answer.status_code < 500
    if answer.status_code >= 400:
        assert set(answer.json) == {"error", "message"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=300) | st.binary(max_size=200).map(lambda b: b.hex()))
def test_no_token_text_yields_a_5xx(ref: Harness, token: str) -> None:
    try:
        answer = ref.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    except ValueError:  # werkzeug refuses header values with newlines before any request is made
        return
    assert answer.status_code == 401


def test_raw_malformed_bodies(ref: Harness) -> None:
    for raw in (b"{", b"\xff\xfe", b"[" * 100000 + b"]" * 100000, b"null", b'"x"'):
        answer = ref.client.post("/auth/login", data=raw, content_type="application/json")
        assert answer.status_code == 400, raw[:10]
    assert ref.client.post("/auth/login", data=b"a=b").status_code == 400
    assert ref.client.post("/auth/login", data=b"x" * (2 * 1024 * 1024), content_type="application/json")\
        .status_code == 413


def test_unknown_routes_and_methods_answer_json(ref: Harness) -> None:
    missing = ref.client.get("/nope")
    assert missing.status_code == 404 and set(missing.json) == {"error", "message"}
    wrong = ref.client.put("/auth/login")
    assert wrong.status_code == 405 and "Allow" in wrong.headers


def test_store_down_fails_closed_and_health_says_so(clock: Any) -> None:
    config = Config.for_tests()
    ref = Harness(create_app(config, store=MemoryStore()))
    login = ref.login()
    down = Harness(create_app(config, store=DownStore(), engine=ref.services.engine))
    answer = down.get("/users/me", login)
    assert answer.status_code == 503 and answer.json["error"] == "service_unavailable"
    assert down.client.get("/healthz").status_code == 503
    assert ref.client.get("/healthz").json == {"status": "ok"}


def test_unexpected_errors_are_json_500_without_traceback(ref: Harness) -> None:
    @ref.app.get("/boom")
    def boom() -> Any:
        raise RuntimeError("secret detail")

    answer = ref.client.get("/boom")
    assert answer.status_code == 500
    assert answer.json == {"error": "internal_error", "message": "the server failed to answer this request"}


def test_openapi_describes_every_route(ref: Harness) -> None:
    document = ref.client.get("/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    for rule in ref.app.url_map.iter_rules():
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (method, path) in documented, (method, path)
