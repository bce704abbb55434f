"""Secrets never reach evidence: known secrets and anything JWT-shaped are masked."""

from __future__ import annotations

from conformance.evidence import Redactor, exchange_record

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_registered_secret_and_jwt_shapes_are_masked() -> None:
    redactor = Redactor()
    redactor.add("Pw-correct-horse")
    record = exchange_record(
        redactor, note="login", method="POST", url=f"/x?access_token={TOKEN}",
        request_headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
        request_body='{"password": "Pw-correct-horse"}', status=200,
        response_headers={"Set-Cookie": f"access_token={TOKEN}; HttpOnly; Path=/"},
        response_body=f'{{"access_token": "{TOKEN}"}}'.encode(),
    )
    text = repr(record)
    assert TOKEN not in text and "Pw-correct-horse" not in text
    assert record["request"]["headers"]["Authorization"] == "Bearer [redacted]"
    assert "HttpOnly" in record["response"]["headers"]["Set-Cookie"]
    assert "Path=/" in record["response"]["headers"]["Set-Cookie"]


def test_short_strings_are_not_treated_as_secrets() -> None:
    redactor = Redactor()
    redactor.add("ab")
    assert redactor.text("abc") == "abc"


def test_body_excerpt_is_capped() -> None:
    record = exchange_record(Redactor(), note="", method="GET", url="/", request_headers={},
                             request_body=None, status=200, response_headers={},
                             response_body=b"x" * 50_000)
    assert len(record["response"]["body"]) < 3000
