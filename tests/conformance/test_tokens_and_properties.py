"""The token checks and the malformed-input properties pass on the clean reference and fail with
every fault of the catalog that names them; their helpers (attacker server, dictionary, hypothesis
profiles) do what the checks rely on."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from conformance import hypothesis_profiles, profile, registry
from conformance.attacker_server import AttackerServer
from conformance.attacks.cracking import bundled_secrets
from conformance.deployments import in_process_source, reference_config
from conformance.runner import Deployment, run_check
from conformance.verdict import Result, Verdict
from reference_impl.config import KNOWN_DEFAULT_SECRETS
from reference_impl.faults import CATALOG

PREFIXES = ("TOK-", "PROP-MALFORMED-")
CHECK_IDS = sorted(c.id for c in registry.all_checks() if c.id.startswith(PREFIXES))
FAULT_CASES = [(fault.name, check_id) for fault in CATALOG for check_id in fault.caught_by
               if check_id.startswith(PREFIXES)]
# Checks that only apply to a reference configured a certain way, clean or not.
CLEAN_CONFIG: dict[str, dict[str, Any]] = {"TOK-ALG-KEY-CONFUSION": {"jwt_algorithm": "RS256"}}


class ClockHidden:
    """The in-process target without its clock, as a remote target looks to a check."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.clock = None
        self.abilities = inner.abilities - {"clock"}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def run(check_id: str, faults: frozenset[str] = frozenset(), *, hide_clock: bool = False,
        minting: bool = True, **config: Any) -> Result:
    check = registry.get(check_id)
    source = in_process_source(profile.load(), reference_config(faults, **config))
    deployment = source(check)
    inner = deployment.target
    if hide_clock:
        deployment = Deployment(ClockHidden(inner), deployment.profile,
                                deployment.signing if minting else None, deployment.redactor)
    try:
        return run_check(check, deployment)
    finally:
        inner.close()


def test_every_assigned_check_is_registered() -> None:
    expected = {
        "TOK-SIG-BROKEN", "TOK-SIG-NULL", "TOK-ALG-NONE", "TOK-ALG-KEY-CONFUSION", "TOK-HDR-JWK", "TOK-HDR-JKU",
        "TOK-HDR-X5U", "TOK-KID-INJECTION", "TOK-ECDSA-PSYCHIC", "TOK-SECRET-BLANK", "TOK-SECRET-WEAK",
        "TOK-EXP-EXPIRED", "TOK-EXP-LEEWAY", "TOK-NBF-FUTURE", "TOK-IAT-FUTURE", "TOK-ISS-WRONG",
        "TOK-AUD-WRONG", "TOK-CLAIMS-MISSING", "TOK-TYPE-REFRESH-AS-ACCESS", "TOK-TYPE-ACCESS-AS-REFRESH",
        "TOK-CRIT-UNKNOWN", "TOK-CLAIMS-TAMPERED", "TOK-QUERY-STRING", "TOK-ACCESS-TTL", "TOK-REFRESH-FORM",
        "TOK-JWKS-PUBLIC-ONLY",
        "PROP-MALFORMED-AUTH-HEADER", "PROP-MALFORMED-TOKEN", "PROP-MALFORMED-BODY",
    }
    assert expected <= set(CHECK_IDS)


@pytest.mark.parametrize("check_id", CHECK_IDS)
def test_check_passes_on_the_clean_reference(check_id: str) -> None:
    result = run(check_id, **CLEAN_CONFIG.get(check_id, {}))
    assert result.verdict is Verdict.PASS, result.reason


@pytest.mark.parametrize(("fault", "check_id"), FAULT_CASES)
def test_check_fails_with_the_fault_that_names_it(fault: str, check_id: str) -> None:
    result = run(check_id, frozenset({fault}))
    assert result.verdict is Verdict.FAIL, f"{fault}: {result.verdict} {result.reason}"


def test_key_confusion_is_not_applicable_without_a_published_rsa_key() -> None:
    result = run("TOK-ALG-KEY-CONFUSION")  # HS256: the JWKS is empty
    assert result.verdict is Verdict.NOT_APPLICABLE
    assert "RSA" in result.reason


@pytest.mark.parametrize("check_id", ["TOK-ECDSA-PSYCHIC", "TOK-HDR-JWK", "TOK-KID-INJECTION", "TOK-NBF-FUTURE"])
def test_token_checks_pass_on_an_es256_reference(check_id: str) -> None:
    result = run(check_id, jwt_algorithm="ES256")
    assert result.verdict is Verdict.PASS, result.reason


@pytest.mark.parametrize(("check_id", "fault"), [
    ("TOK-EXP-EXPIRED", "ignore-exp"), ("TOK-EXP-LEEWAY", "ignore-exp"), ("TOK-EXP-LEEWAY", "leeway-minutes"),
])
def test_time_checks_mint_tokens_when_the_clock_cannot_move(check_id: str, fault: str) -> None:
    assert run(check_id, hide_clock=True).verdict is Verdict.PASS
    assert run(check_id, frozenset({fault}), hide_clock=True).verdict is Verdict.FAIL


def test_time_checks_without_clock_or_key_are_not_applicable() -> None:
    result = run("TOK-EXP-EXPIRED", hide_clock=True, minting=False)
    assert result.verdict is Verdict.NOT_APPLICABLE


def test_weak_secret_from_the_bundled_list_is_named_in_the_finding() -> None:
    result = run("TOK-SECRET-WEAK", frozenset({"default-secret"}))
    assert "'super-secret-key'" in result.reason and "bundled list" in result.reason
    assert isinstance(result.details["dictionary_entry"], int)


def test_property_failure_reports_the_minimal_example_and_the_seed() -> None:
    result = run("PROP-MALFORMED-AUTH-HEADER", frozenset({"crash-on-malformed-header"}))
    assert result.verdict is Verdict.FAIL
    assert "minimal failing example" in result.reason and "500" in result.reason
    assert result.details["hypothesis_seed"] == "derandomized"
    assert result.details["hypothesis_profile"] == "ci"


def test_weak_secret_dictionary_covers_tutorial_defaults() -> None:
    dictionary = bundled_secrets()
    assert len(dictionary) >= 100
    assert len(set(dictionary)) == len(dictionary)
    required = {"super-secret-key", "secret", "changeme", "your-secret-key", "jwt-secret", "SECRET_KEY", "dev"}
    assert required | set(KNOWN_DEFAULT_SECRETS) <= set(dictionary)


def test_attacker_server_serves_its_documents_and_records_every_fetch() -> None:
    with AttackerServer({"/jwks.json": ("application/json", b'{"keys": []}')}, host="127.0.0.1") as server:
        with urllib.request.urlopen(server.url("/jwks.json"), timeout=5) as answer:
            assert answer.read() == b'{"keys": []}'
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(server.url("/elsewhere"), timeout=5)
        assert server.hits == ["/jwks.json", "/elsewhere"]


def test_hypothesis_profile_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert hypothesis_profiles.active().derandomize and hypothesis_profiles.seed() is None
    monkeypatch.setenv(hypothesis_profiles.PROFILE_ENV, "thorough")
    monkeypatch.setenv(hypothesis_profiles.SEED_ENV, "1234")
    assert hypothesis_profiles.active().max_examples == 500
    assert hypothesis_profiles.seed() == 1234
    monkeypatch.setenv(hypothesis_profiles.PROFILE_ENV, "exhaustive")
    with pytest.raises(ValueError, match="ci, thorough"):
        hypothesis_profiles.active()


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_jwks_check_passes_on_every_asymmetric_key(algorithm: str) -> None:
    result = run("TOK-JWKS-PUBLIC-ONLY", jwt_algorithm=algorithm)
    assert result.verdict is Verdict.PASS, result.reason
    assert result.details["keys_published"] == 1


@pytest.mark.parametrize("fault", ["jwks-leaks-private", "jwks-publishes-secret"])
def test_leaked_key_material_is_redacted_from_the_evidence(fault: str) -> None:
    result = run("TOK-JWKS-PUBLIC-ONLY", frozenset({fault}))
    assert result.verdict is Verdict.FAIL
    fetch = next(x for x in result.evidence if "jwks" in x["request"]["url"])  # controls come after it
    published = json.loads(fetch["response"]["body"])["keys"][0]
    secret_members = {"d", "p", "q", "dp", "dq", "qi", "k"} & set(published)
    assert secret_members and all(published[member] == "[redacted]" for member in secret_members)
