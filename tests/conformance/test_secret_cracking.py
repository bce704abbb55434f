"""The secret cracker finds an HMAC secret in the bundled list and in the person's own word lists
(streamed, cut into ranges for several processes), and TOK-SECRET-WEAK names a public secret and
redacts one from the person's list."""

from __future__ import annotations

import json
import multiprocessing
import secrets
from pathlib import Path

import jwt
import pytest

from conformance import profile, registry
from conformance.attacks import cracking
from conformance.attacks.wordlists import with_wordlists
from conformance.cli import main
from conformance.deployments import in_process_source, reference_config
from conformance.profile import ProfileError
from conformance.runner import run_check
from conformance.verdict import Result, Verdict
from reference_impl.config import COPIED_TUTORIAL_SECRET, KNOWN_DEFAULT_SECRETS

# Short secrets are what these tests crack.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def token_signed_with(secret: str, algorithm: str = "HS256") -> str:
    return jwt.encode({"sub": "42"}, secret, algorithm=algorithm)


def word_list(path: Path, secret: str, *, at: int, total: int, newline: str = "\n") -> Path:
    words = [f"candidate-{n:07d}" for n in range(total)]
    words[at - 1] = secret
    path.write_text(newline.join(words) + newline)
    return path


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_a_bundled_secret_is_found_with_its_entry_number(algorithm: str) -> None:
    found = cracking.crack(token_signed_with("a-string-secret-at-least-256-bits-long", algorithm), algorithm)
    assert found is not None and found.wordlist.public
    assert cracking.bundled_secrets()[found.entry - 1] == found.text == "a-string-secret-at-least-256-bits-long"


def test_a_random_secret_is_not_found() -> None:
    assert cracking.crack(token_signed_with(secrets.token_urlsafe(32)), "HS256") is None


def test_a_non_hmac_token_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="not an HMAC algorithm"):
        cracking.crack("e30.e30.", "RS256")


@pytest.mark.parametrize("start_method", ["fork", "spawn"])  # spawn: when other threads run
def test_a_secret_is_found_at_its_line_in_a_list_scanned_by_several_processes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_method: str) -> None:
    monkeypatch.setattr(cracking, "_pool_context", lambda: multiprocessing.get_context(start_method))
    # Small ranges, so that a 40,000-line list is cut in many and the secret sits in a later one.
    monkeypatch.setattr(cracking, "PARALLEL_FROM", 1)
    monkeypatch.setattr(cracking, "MIN_RANGE", 4096)
    monkeypatch.setattr(cracking, "BLOCK_BYTES", 1000)
    secret = secrets.token_hex(8)
    path = word_list(tmp_path / "words.txt", secret, at=31_337, total=40_000, newline="\r\n")
    found = cracking.crack(token_signed_with(secret), "HS256", [str(path)], bundled=False, workers=2)
    assert found is not None and not found.wordlist.public
    assert (found.text, found.entry) == (secret, 31_337)


def test_lines_on_either_side_of_every_range_edge_are_found_at_their_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cracking, "PARALLEL_FROM", 1)
    monkeypatch.setattr(cracking, "MIN_RANGE", 256)
    monkeypatch.setattr(cracking, "BLOCK_BYTES", 100)
    words = [f"w{n * 7919 % 100_003}" for n in range(400)]  # lines of varied length
    path = tmp_path / "w.txt"
    path.write_text("\n".join(words))  # no final newline: the last line counts too
    starts, offset = [], 0
    for word in words:
        starts.append(offset)
        offset += len(word) + 1
    probes = {0, len(words) - 1}
    for edge, _end in cracking.split_ranges(path.stat().st_size, 3):
        line = max(i for i, start in enumerate(starts) if start <= edge)  # the line holding the edge byte
        probes |= {max(line - 1, 0), line, min(line + 1, len(words) - 1)}
    for index in sorted(probes):
        found = cracking.crack(token_signed_with(words[index]), "HS256", [str(path)], bundled=False, workers=3)
        assert found is not None and (found.text, found.entry) == (words[index], index + 1)


def test_the_bundled_list_holds_the_published_defaults_the_old_one_missed() -> None:
    bundled = set(cracking.bundled_secrets())
    assert len(bundled) >= 400 and len(bundled) == len(cracking.bundled_secrets())
    assert {COPIED_TUTORIAL_SECRET, "reallyreallyreallyreallyverysafe",
            "super-secret-jwt-token-with-at-least-32-characters-long"} <= bundled
    assert set(KNOWN_DEFAULT_SECRETS) <= bundled


def run_secret_check(secret: str, wordlists: list[str]) -> Result:
    check = registry.get("TOK-SECRET-WEAK")
    base = with_wordlists(profile.load(), wordlists)
    deployment = in_process_source(base, reference_config(secret_key=secret))(check)
    try:
        return run_check(check, deployment)
    finally:
        deployment.target.close()


def test_a_secret_from_your_own_list_fails_the_check_and_stays_out_of_the_report(tmp_path: Path) -> None:
    secret = "our-own-" + secrets.token_hex(16)
    path = word_list(tmp_path / "ours.txt", secret, at=777, total=1000)
    result = run_secret_check(secret, [str(path)])
    assert result.verdict is Verdict.FAIL, result.reason
    assert "your word list ours.txt" in result.reason and "entry 777" in result.reason
    assert secret not in json.dumps(result.to_dict())
    assert result.details["own_wordlists"] == 1


def test_a_strong_secret_passes_with_your_own_list_too(tmp_path: Path) -> None:
    path = word_list(tmp_path / "ours.txt", "not-it", at=1, total=100)
    result = run_secret_check(secrets.token_urlsafe(48), [str(path)])
    assert result.verdict is Verdict.PASS, result.reason


def test_a_missing_wordlist_is_a_usage_error_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ProfileError, match="--wordlist"):
        with_wordlists(profile.load(), ["/nonexistent/rockyou.txt"])
    assert main(["run", "--check", "TOK-SECRET-WEAK", "--wordlist", "/nonexistent/rockyou.txt"]) == 2
    assert "--wordlist" in capsys.readouterr().err


class _Options:
    """A pytest config as ``suite_profile`` reads it: only ``getoption``."""

    def __init__(self, **options: object) -> None:
        self.options = options

    def getoption(self, name: str, default: object = None) -> object:
        return self.options.get(name, default)


def test_the_pytest_option_adds_word_lists_to_the_suites_profile(tmp_path: Path) -> None:
    from conformance.suite_support import suite_profile

    path = word_list(tmp_path / "ours.txt", "x", at=1, total=3)
    config = _Options(authconform_set=[], authconform_target=None, authconform_profile=None,
                      authconform_wordlist=[str(path)])
    assert suite_profile(config).signing.wordlists == [str(path)]  # type: ignore[arg-type]
