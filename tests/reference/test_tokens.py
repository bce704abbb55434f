"""Token verification: exactly the configured algorithm, our own key only, every required claim."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest

from reference_impl.keys import signing_material

from .conftest import Harness
from .tokens_helpers import b64, hs256, parts, resign, unsigned


def _secret(ref: Harness) -> str:
    return str(signing_material(ref.app).minting_key)


def _me(ref: Harness, token: str) -> Any:
    return ref.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})


def test_a_fresh_token_works_and_carries_every_claim(ref: Harness, clock: Any) -> None:
    login = ref.login()
    header, claims = parts(login.access)
    assert header["alg"] == "HS256" and "kid" not in header
    assert {"sub", "role", "tid", "jti", "type", "sid", "iat", "nbf", "exp", "iss", "aud"} <= set(claims)
    assert claims["type"] == "access" and claims["exp"] - claims["iat"] == 900
    assert _me(ref, login.access).status_code == 200
    _, refresh_claims = parts(login.refresh)
    assert refresh_claims["type"] == "refresh" and "role" not in refresh_claims
    assert refresh_claims["sid"] == claims["sid"] == login.session_id
    assert refresh_claims["jti"] and refresh_claims["jti"] != claims["jti"]
    assert refresh_claims["exp"] - refresh_claims["iat"] == 604800


@pytest.mark.parametrize("spelling", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused_in_any_casing(ref: Harness, clock: Any, spelling: str) -> None:
    header, claims = parts(ref.login().access)
    answer = _me(ref, unsigned({**header, "alg": spelling}, claims))
    assert answer.status_code == 401
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_other_algorithms_and_broken_signatures_are_refused(ref: Harness, clock: Any) -> None:
    login = ref.login()
    header, claims = parts(login.access)
    secret = _secret(ref)
    assert _me(ref, jwt.encode(claims, secret, algorithm="HS512")).status_code == 401
    head, body, signature = login.access.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert _me(ref, f"{head}.{body}.{flipped}").status_code == 401
    assert _me(ref, f"{head}.{body}.").status_code == 401
    other_key = "another-secret-of-enough-length-000000"
    assert _me(ref, resign(login.access, other_key, role="superadmin")).status_code == 401


def test_claims_changed_without_the_key_are_refused(ref: Harness, clock: Any) -> None:
    login = ref.login()
    head, _body, signature = login.access.split(".")
    _, claims = parts(login.access)
    tampered = f"{head}.{b64(json.dumps({**claims, 'role': 'superadmin'}))}.{signature}"
    assert _me(ref, tampered).status_code == 401


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat", "iss", "aud", "jti", "sub", "type", "tid", "sid", "role"])
def test_every_required_claim_must_be_present(ref: Harness, clock: Any, claim: str) -> None:
    login = ref.login()
    assert _me(ref, resign(login.access, _secret(ref))).status_code == 200
    assert _me(ref, resign(login.access, _secret(ref), **{claim: None})).status_code == 401


@pytest.mark.parametrize("changes", [{"iss": "someone-else"}, {"aud": "other-api"}, {"type": "refresh"},
                                     {"exp": "tomorrow"}, {"exp": True}, {"sub": "admin"}, {"jti": ""},
                                     {"exp": 1e400}, {"nbf": [1]}, {"tid": 7}])
def test_wrong_claim_values_are_refused(ref: Harness, clock: Any, changes: dict[str, Any]) -> None:
    login = ref.login()
    assert _me(ref, resign(login.access, _secret(ref), **changes)).status_code == 401


def test_nan_timestamps_are_refused(ref: Harness, clock: Any) -> None:
    login = ref.login()
    head, claims = parts(login.access)
    body = json.dumps(claims).replace(str(claims["exp"]), "NaN")
    signing_input = f"{b64(json.dumps(head))}.{b64(body)}"
    import hashlib
    import hmac

    signature = b64(hmac.new(_secret(ref).encode(), signing_input.encode(), hashlib.sha256).digest())
    assert _me(ref, f"{signing_input}.{signature}").status_code == 401


def test_expiry_with_and_without_leeway(make: Any, clock: Any) -> None:
    strict = make()
    login = strict.login()
    clock.advance(899)
    assert strict.me(login) == 200
    clock.advance(1)
    assert strict.me(login) == 401
    lenient = make(leeway=30, idle_timeout=100000)
    login = lenient.login()
    clock.advance(900 + 29)
    assert lenient.me(login) == 200
    clock.advance(2)
    assert lenient.me(login) == 401


def test_future_nbf_and_iat_are_refused_beyond_the_leeway(make: Any, clock: Any) -> None:
    ref = make(leeway=10)
    login = ref.login()
    _, claims = parts(login.access)
    secret = _secret(ref)
    assert _me(ref, resign(login.access, secret, nbf=claims["iat"] + 9)).status_code == 200
    assert _me(ref, resign(login.access, secret, nbf=claims["iat"] + 60)).status_code == 401
    assert _me(ref, resign(login.access, secret, iat=claims["iat"] + 60)).status_code == 401


def test_refresh_token_is_not_an_access_token_and_the_reverse(ref: Harness, clock: Any) -> None:
    login = ref.login()
    assert _me(ref, login.refresh).status_code == 401
    assert ref.client.post("/auth/refresh", json={"refresh_token": login.access}).status_code == 401


def test_unknown_crit_is_refused(ref: Harness, clock: Any) -> None:
    login = ref.login()
    head, _ = parts(login.access)
    assert _me(ref, resign(login.access, _secret(ref), header={**head, "crit": ["exp"], "exp": 1})).status_code == 401
    assert _me(ref, resign(login.access, _secret(ref), header={**head, "crit": "b64"})).status_code == 401


def test_kid_jku_x5u_jwk_never_choose_a_key(ref: Harness, clock: Any) -> None:
    login = ref.login()
    head, claims = parts(login.access)
    assert _me(ref, hs256({**head, "kid": "../../../../../../dev/null"}, claims, "")).status_code == 401
    injected = hs256({**head, "kid": "' UNION SELECT 'attacker-key' --"}, claims, "attacker-key")
    assert _me(ref, injected).status_code == 401
    jwk = {"kty": "oct", "k": b64(b"attacker-key-attacker-key-attacker")}
    assert _me(ref, hs256({**head, "jwk": jwk}, claims, b"attacker-key-attacker-key-attacker")).status_code == 401
    assert _me(ref, hs256({**head, "jku": "http://127.0.0.1:9/jwks"}, claims, "x")).status_code == 401
    # The server's own key with an unknown kid is refused too.
    assert _me(ref, hs256({**head, "kid": "other"}, claims, _secret(ref))).status_code == 401


def test_token_in_query_string_is_ignored(ref: Harness, clock: Any) -> None:
    login = ref.login()
    answer = ref.client.get("/users/me", query_string={"access_token": login.access})
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="authconform"'


@pytest.mark.parametrize("value", ["Bearer", "Bearer a b", "Basic dXNlcjpwYXNz", "Bearertoken", "", "Bearer ....",
                                   "Bearer e30.e30.", "Bearer " + "A" * 9000, "Bearer eyJ.eyJ.x",
                                   "Bearer " + b64("[" * 5000) + ".e30.", "Bearer \u00e9\u00e9.a.b"])
def test_malformed_authorization_is_401_never_500(ref: Harness, value: str) -> None:
    answer = ref.client.get("/users/me", headers={"Authorization": value})
    assert answer.status_code == 401
    assert answer.json["error"] == "invalid_token"


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_asymmetric_algorithms_sign_verify_and_publish_jwks(make: Any, clock: Any, alg: str) -> None:
    ref = make(jwt_algorithm=alg)
    login = ref.login()
    header, claims = parts(login.access)
    material = signing_material(ref.app)
    assert header["alg"] == alg and header["kid"] == material.kid
    keys = ref.client.get("/.well-known/jwks.json").json["keys"]
    assert [k["kid"] for k in keys] == [material.kid]
    assert all("d" not in k for k in keys)
    public = jwt.PyJWK(keys[0]).key
    decoded = jwt.decode(login.access, public, algorithms=[alg], audience="authconform-api")
    assert decoded["sub"] == claims["sub"]
    minted = jwt.encode({**claims, "jti": "minted"}, material.minting_key, algorithm=alg,
                        headers={"kid": material.kid})
    assert _me(ref, minted).status_code == 200
    # An HS256 token made with the public key as secret (key confusion) is refused.
    import hashlib
    import hmac

    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}))}.{b64(json.dumps(claims))}"
    forged = signing_input + "." + b64(hmac.new(material.public_pem, signing_input.encode(), hashlib.sha256).digest())
    assert _me(ref, forged).status_code == 401
    if alg == "ES256":
        head, body, _ = login.access.split(".")
        assert _me(ref, f"{head}.{body}.{b64(bytes(64))}").status_code == 401


def test_hs256_publishes_no_keys(ref: Harness) -> None:
    assert ref.client.get("/.well-known/jwks.json").json == {"keys": []}


def test_all_apps_from_one_config_share_a_generated_key(make: Any, clock: Any) -> None:
    from reference_impl import Config, create_app

    config = Config.for_tests(jwt_algorithm="RS256")
    first, second = create_app(config), create_app(config)
    assert signing_material(first).kid == signing_material(second).kid
    assert base64.b64encode(signing_material(first).public_pem) == base64.b64encode(signing_material(second).public_pem)
