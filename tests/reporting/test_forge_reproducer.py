"""A failure found with a forged token is reproduced by the ``authconform forge`` line that rebuilds
it from the reader's own token, then the curl sending ``$FORGED``; not by a blanked token."""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from conformance.cli import main
from reference_impl import Config, create_app
from reference_impl.users import provision_user
from reports.html import curl

CHECK = "TOK-ALG-NONE"  # what the faulty_dir run failed (tests/reporting/conftest.py)
PASSWORD = "a-long-enough-password-1"
EXCHANGE = {
    "note": 'alg "nOnE", empty signature', "n": 10, "error": None,
    "request": {"method": "GET", "url": "/users/me", "headers": {"Authorization": "Bearer [redacted]"}, "body": ""},
    "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": '{"id": "1"}'},
}


def read_report(directory: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((directory / "report.json").read_text())
    return report


def test_the_curl_of_a_forged_exchange_starts_with_the_forge_line() -> None:
    exchange = copy.deepcopy(EXCHANGE)
    exchange["forge"] = 'authconform forge alg-none --token "$TOKEN" --alg nOnE'
    command = curl(exchange, "http://127.0.0.1:8000")
    first, *rest = command.split("\n")
    assert first == 'FORGED=$(authconform forge alg-none --token "$TOKEN" --alg nOnE)'
    assert "'Authorization: Bearer '\"${FORGED}\"" in "\n".join(rest)
    assert "REDACTED" not in command


def test_an_exchange_without_a_forgery_keeps_its_redacted_placeholder() -> None:
    command = curl(copy.deepcopy(EXCHANGE), "http://127.0.0.1:8000")
    assert "FORGED" not in command and '"${REDACTED}"' in command


def test_the_report_of_a_fault_run_carries_the_forge_line_in_json_and_html(faulty_dir: Path) -> None:
    check = next(c for c in read_report(faulty_dir)["checks"] if c["id"] == CHECK)
    forged = [x for x in check["evidence"] if x.get("forge")]
    assert [x["forge"].rsplit(" ", 1)[1] for x in forged] == ["none", "None", "NONE", "nOnE"]
    page = (faulty_dir / "report.html").read_text()
    assert "FORGED=$(authconform forge alg-none --token &#34;$TOKEN&#34; --alg" in page
    assert "set it to an access token of a test user of your own" in page


def _reference(*faults: str) -> tuple[FlaskClient, str]:
    """A reference app with ``faults`` on, and an access token of a fresh viewer of it."""
    app = create_app(Config.for_tests(faults=frozenset(faults)))
    provision_user(app, username="reader", password=PASSWORD, tenant="acme", role="viewer")
    client = app.test_client()
    answer = client.post("/auth/login", json={"username": "reader", "password": PASSWORD, "tenant": "acme"})
    assert answer.status_code == 200 and answer.json is not None, answer.json
    return client, str(answer.json["access_token"])


def test_the_reported_forge_line_reproduces_the_finding_with_the_readers_own_token(
        faulty_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check = next(c for c in read_report(faulty_dir)["checks"] if c["id"] == CHECK)
    line = next(x["forge"] for x in check["evidence"] if x.get("forge"))
    for faults, expected in ((("accept-alg-none",), 200), ((), 401)):
        client, token = _reference(*faults)
        words = shlex.split(line.replace('"$TOKEN"', shlex.quote(token)))
        assert main(words[1:]) == 0
        forged = capsys.readouterr().out.strip()
        answer = client.get("/users/me", headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == expected, (faults, json.dumps(answer.json))
