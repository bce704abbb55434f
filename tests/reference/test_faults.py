"""Every fault of the catalog starts, and the subtle ones behave like the bug they imitate.

The real proof that each fault is caught is the conformance self-test; these are smoke tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from reference_impl import Config, ConfigError, create_app
from reference_impl.config import COPIED_TUTORIAL_SECRET
from reference_impl.faults import CATALOG
from reference_impl.keys import signing_material
from reference_impl.memory_store import MemoryStore

from .conftest import PASSWORD, Harness
from .tokens_helpers import b64, hs256, parts, unsigned


def _faulty(make: Any, name: str, **extra: Any) -> Harness:
    fault = next(f for f in CATALOG if f.name == name)
    return make(faults={name}, **{**dict(fault.config), **extra})  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", [fault.name for fault in CATALOG])
def test_every_fault_starts_and_the_happy_path_still_works(make: Any, clock: Any, name: str) -> None:
    ref = _faulty(make, name)
    _, username, tenant = ref.user("editor")
    answer = ref.client.post("/auth/login", json={"username": username, "password": PASSWORD, "tenant": tenant})
    assert answer.status_code == 200
    if not ref.services.config.cookie_mode:
        headers = {"Authorization": f"Bearer {answer.json['access_token']}"}
        assert ref.client.get("/users/me", headers=headers).status_code == 200


def test_faults_are_refused_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="AUTHCONF_ALLOW_FAULTS"):
        create_app(Config.for_tests(faults={"ignore-exp"}, allow_faults=False))


def test_alg_none_faults(make: Any, clock: Any) -> None:
    exact = _faulty(make, "accept-alg-none")
    header, claims = parts(exact.login().access)
    ok = lambda ref, alg: ref.client.get("/users/me", headers={  # noqa: E731
        "Authorization": f"Bearer {unsigned({**header, 'alg': alg}, claims)}"}).status_code
    assert ok(exact, "none") == 200 and ok(exact, "None") == 401
    casing = _faulty(make, "accept-alg-none-casing")
    header, claims = parts(casing.login().access)
    assert [ok(casing, alg) for alg in ("none", "None", "NONE", "nOnE")] == [200] * 4


def test_key_confusion_fault(make: Any, clock: Any) -> None:
    ref = _faulty(make, "hs-rs-key-confusion")
    _, claims = parts(ref.login().access)
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}))
    body = b64(json.dumps({**claims, "role": "superadmin"}))
    sig = hmac.new(signing_material(ref.app).public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {head}.{body}.{b64(sig)}"}).status_code == 200


@pytest.mark.parametrize("name,kid,key", [("kid-file-lookup", "../../../../../../dev/null", ""),
                                          ("kid-sql-lookup", "' UNION SELECT 'attacker-key' --", "attacker-key")])
def test_kid_injection_faults(make: Any, clock: Any, name: str, kid: str, key: str) -> None:
    ref = _faulty(make, name)
    header, claims = parts(ref.login().access)
    forged = hs256({**header, "kid": kid}, claims, key)
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 200


# r = s = 0 as 64 raw zero bytes, as a shorter raw form, and in DER (SEQUENCE of two INTEGER 0).
ZERO_SIGNATURES = {"raw 64": bytes(64), "raw 2": bytes(2),
                   "der": bytes([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00])}


@pytest.mark.parametrize("encoding", sorted(ZERO_SIGNATURES))
def test_psychic_ecdsa_fault_takes_a_zero_signature_in_any_encoding(make: Any, clock: Any, encoding: str) -> None:
    ref = _faulty(make, "psychic-ecdsa")
    login = ref.login()
    head, body, _ = login.access.split(".")
    forged = f"{head}.{body}.{b64(ZERO_SIGNATURES[encoding])}"
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 200
    # A real signature still verifies, and a non-zero DER signature of the wrong key does not.
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {login.access}"}).status_code == 200
    other = f"{head}.{body}.{b64(bytes([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]))}"
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {other}"}).status_code == 401


@pytest.mark.parametrize("encoding", sorted(ZERO_SIGNATURES))
def test_the_clean_es256_reference_refuses_every_zero_signature(make: Any, clock: Any, encoding: str) -> None:
    ref = make(jwt_algorithm="ES256")
    head, body, _ = ref.login().access.split(".")
    forged = f"{head}.{body}.{b64(ZERO_SIGNATURES[encoding])}"
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_ignore_crit_fault_accepts_an_unknown_critical_parameter(make: Any, clock: Any) -> None:
    ref = _faulty(make, "ignore-crit")
    header, claims = parts(ref.login().access)
    secret = str(signing_material(ref.app).minting_key)
    token = hs256({**header, "crit": ["x-unknown"], "x-unknown": True}, claims, secret)
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert make().client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize("name,change", [("ignore-aud", {"aud": "another-api"}),
                                         ("leeway-minutes", {"exp": -120}), ("optional-claims", {"exp": None})])
def test_claim_faults_accept_what_the_clean_reference_refuses(make: Any, clock: Any, name: str,
                                                              change: dict[str, Any]) -> None:
    for faulty, expected in ((_faulty(make, name), 200), (make(), 401)):
        header, claims = parts(faulty.login().access)
        if "exp" in change:
            claims.pop("exp")
            if change["exp"] is not None:
                claims["exp"] = claims["iat"] + change["exp"]  # two minutes ago
        else:
            claims.update(change)
        token = hs256(header, claims, str(signing_material(faulty.app).minting_key))
        assert faulty.client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == expected


def test_embedded_jwk_and_jku_faults(make: Any, clock: Any) -> None:
    secret = b"attacker-secret-attacker-secret-0123"
    jwks = {"keys": [{"kty": "oct", "k": b64(secret), "kid": "evil"}]}
    ref = _faulty(make, "trust-embedded-jwk")
    header, claims = parts(ref.login().access)
    forged = hs256({**header, "jwk": jwks["keys"][0]}, claims, secret)
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 200

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            data = json.dumps(jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ref = _faulty(make, "fetch-jku")
        header, claims = parts(ref.login().access)
        url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
        for name in ("jku", "x5u"):
            forged = hs256({**header, name: url, "kid": "evil"}, claims, secret)
            assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 200
    finally:
        server.shutdown()
        server.server_close()


def test_revocations_in_process_fault_forgets_on_another_instance(clock: Any) -> None:
    config = Config.for_tests(faults={"revocations-in-process"})
    store = MemoryStore()
    one = Harness(create_app(config, store=store))
    two = Harness(create_app(config, store=store, engine=one.services.engine))
    login = one.login()
    assert one.call("POST", "/auth/logout", login).status_code == 204
    assert one.me(login) == 401 and two.me(login) == 200


def test_limiter_per_process_fault_counts_per_instance(clock: Any) -> None:
    config = Config.for_tests(faults={"limiter-per-process"}, api_rate_limit=2)
    store = MemoryStore()
    one = Harness(create_app(config, store=store))
    two = Harness(create_app(config, store=store, engine=one.services.engine))
    login = one.login()
    assert [one.me(login), one.me(login), two.me(login), two.me(login), one.me(login)] == [200, 200, 200, 200, 429]


def test_limiter_race_fault_admits_a_burst(make: Any, clock: Any) -> None:
    ref = _faulty(make, "limiter-race", api_rate_limit=3)
    login = ref.login()
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def hit() -> None:
        client = ref.app.test_client()
        barrier.wait()
        statuses.append(client.get("/users/me", headers=login.auth).status_code)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) > 3


def test_deleted_user_token_valid_fault(make: Any, clock: Any) -> None:
    ref = _faulty(make, "deleted-user-token-valid")
    login = ref.login()
    assert ref.call("DELETE", "/users/me", login).status_code == 204
    assert ref.me(login) == 200


def test_session_id_faults(make: Any, clock: Any) -> None:
    fixation = _faulty(make, "session-fixation")
    _, username, tenant = fixation.user()
    answer = fixation.client.post("/auth/login", json={"username": username, "password": PASSWORD, "tenant": tenant,
                                                       "session_id": "chosen-by-attacker"})
    assert answer.json["session_id"] == "chosen-by-attacker"
    counter = _faulty(make, "predictable-session-id")
    assert [counter.login().session_id for _ in range(2)] == ["session-1", "session-2"]


def test_role_faults(make: Any, clock: Any) -> None:
    ref = _faulty(make, "self-promotion")
    viewer = ref.login("viewer")
    answer = ref.call("PATCH", f"/users/{viewer.user_id}/role", viewer, json={"role": "editor"})
    assert answer.status_code == 200 and ref.get("/users/me", viewer).json["role"] == "editor"
    ref = _faulty(make, "role-mass-assignment")
    viewer = ref.login("viewer")
    assert ref.call("PATCH", "/users/me", viewer, json={"role": "admin"}).status_code == 204
    assert ref.get("/users/me", viewer).json["role"] == "admin"


def test_test_token_route_fault(make: Any, clock: Any) -> None:
    assert make().client.get("/debug/token", query_string={"user_id": "1"}).status_code == 404
    ref = _faulty(make, "test-token-route")
    user_id, _, _ = ref.user()
    minted = ref.client.get("/debug/token", query_string={"user_id": str(user_id)}).json["access_token"]
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {minted}"}).status_code == 200


@pytest.mark.parametrize("name,request_kwargs", [
    ("crash-on-malformed-token", {"path": "/users/me", "headers": {"Authorization": "Bearer %%%.e30.x"}}),
    ("crash-on-malformed-header", {"path": "/users/me", "headers": {"Authorization": "Bearer"}}),
    ("crash-on-malformed-body", {"path": "/auth/login", "method": "POST", "json": [1, 2]}),
])
def test_crash_faults_answer_500(make: Any, name: str, request_kwargs: dict[str, Any]) -> None:
    ref = _faulty(make, name)
    answer = ref.client.open(**request_kwargs)
    assert answer.status_code == 500 and answer.json["error"] == "internal_error"
    assert make().client.open(**request_kwargs).status_code in (400, 401)


def test_secret_faults_bypass_the_startup_refusal(make: Any) -> None:
    blank = _faulty(make, "blank-secret", debug=False)
    assert signing_material(blank.app).minting_key == ""
    default = _faulty(make, "default-secret")
    assert signing_material(default.app).minting_key == "super-secret-key"
    copied = _faulty(make, "copied-tutorial-secret", debug=False)
    assert signing_material(copied.app).minting_key == COPIED_TUTORIAL_SECRET


def test_the_copied_tutorial_secret_is_long_enough_yet_refused_at_start_up() -> None:
    assert len(COPIED_TUTORIAL_SECRET.encode()) >= 32  # a length check alone lets it through
    with pytest.raises(ConfigError, match="well-known default"):
        Config.for_tests(secret_key=COPIED_TUTORIAL_SECRET, debug=False, faults=frozenset()).validate()


def test_sign_up_faults(make: Any, clock: Any) -> None:
    ref = _faulty(make, "signup-role-accepted")
    answer = ref.client.post("/auth/register", json={"username": "boss", "password": PASSWORD, "tenant": "acme",
                                                     "role": "superadmin"})
    assert answer.status_code == 201 and answer.json["user"]["role"] == "superadmin"
    ref = _faulty(make, "signup-joins-existing-tenant")
    _, _, tenant = ref.user("admin")
    answer = ref.client.post("/auth/register", json={"username": "joiner", "password": PASSWORD, "tenant": tenant})
    assert answer.status_code == 201 and answer.json["user"]["tenant"] == tenant
    assert answer.json["user"]["role"] == "admin"


def test_password_change_without_the_current_password_fault(make: Any, clock: Any) -> None:
    ref = _faulty(make, "password-change-no-current")
    login = ref.login()
    new = {"new_password": "another-long-password"}
    assert ref.call("PATCH", "/users/me", login, json={**new, "current_password": "wrong-password"}).status_code == 403
    assert ref.call("PATCH", "/users/me", login, json=new).status_code == 204


def test_duplicate_usernames_fault_overwrites_the_user(make: Any, clock: Any) -> None:
    ref = _faulty(make, "duplicate-usernames")
    admin = ref.login("admin")
    body = {"username": "dana", "password": PASSWORD, "role": "viewer"}
    first = ref.call("POST", "/users", admin, json=body)
    second = ref.call("POST", "/users", admin, json={**body, "password": "another-long-password"})
    assert first.status_code == second.status_code == 201
    assert first.json["user"]["id"] == second.json["user"]["id"]
    assert ref.client.post("/auth/login", json={"username": "dana", "password": PASSWORD,
                                                "tenant": admin.tenant}).status_code == 401


def test_refresh_token_faults(make: Any, clock: Any) -> None:
    long_lived = _faulty(make, "refresh-token-long-lived").login()
    _, claims = parts(long_lived.refresh)
    assert claims["exp"] - claims["iat"] == 365 * 86400
    shared = _faulty(make, "refresh-token-shared-jti").login()
    assert parts(shared.refresh)[1]["jti"] == parts(shared.access)[1]["jti"]


@pytest.mark.parametrize("name,members", [("jwks-publishes-secret", {"k"}),
                                          ("jwks-leaks-private", {"d", "p", "q", "dp", "dq", "qi"})])
def test_jwks_faults_publish_secret_key_material(make: Any, name: str, members: set[str]) -> None:
    assert not make().client.get("/.well-known/jwks.json").json["keys"]
    ref = _faulty(make, name)
    (key,) = ref.client.get("/.well-known/jwks.json").json["keys"]
    assert members <= set(key)


def test_skip_signature_check_fault_takes_any_signature_but_still_checks_the_claims(make: Any, clock: Any) -> None:
    ref = _faulty(make, "skip-signature-check")
    header, claims = parts(ref.login().access)
    forged = hs256(header, {**claims, "role": "superadmin"}, "not-the-key")
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 200
    expired = hs256(header, {**claims, "exp": claims["iat"] - 1}, "not-the-key")
    assert ref.client.get("/users/me", headers={"Authorization": f"Bearer {expired}"}).status_code == 401
    assert make().client.get("/users/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
