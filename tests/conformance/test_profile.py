"""Profiles: defaults, merging, env expansion, overrides, and errors that name field and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import profile
from conformance.profile import ProfileError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text)
    return path


def test_bundled_profile_describes_the_reference() -> None:
    loaded = profile.load()
    assert loaded.tokens.algorithm == "HS256"
    assert loaded.sessions.max_sessions == 5
    assert loaded.operation("login").path == "/auth/login"
    assert loaded.declares("refresh") and not loaded.declares("cookies")


def test_user_profile_is_read_over_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[tokens]\naccess_ttl = 60\n[operations.login]\npath = "/api/login"\n')
    loaded = profile.load(path)
    assert loaded.tokens.access_ttl == 60
    assert loaded.operation("login").path == "/api/login"
    assert loaded.operation("login").method == "POST"  # kept from the default
    assert loaded.tokens.refresh_ttl == 604800


def test_environment_variables_are_expanded(tmp_path: Path) -> None:
    path = write(tmp_path, '[signing]\nkey = "${SIGNING_KEY}"\n')
    assert profile.load(path, environ={"SIGNING_KEY": "k" * 40}).signing.key == "k" * 40


def test_missing_environment_variable_names_field_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, '[signing]\nkey = "${NOT_SET_ANYWHERE}"\n')
    with pytest.raises(ProfileError) as caught:
        profile.load(path, environ={})
    message = str(caught.value)
    assert "signing.key" in message and "NOT_SET_ANYWHERE" in message and str(path) in message


def test_command_line_override_wins() -> None:
    key, value = profile.parse_override("tokens.access_ttl=42")
    assert profile.load(overrides={key: value}).tokens.access_ttl == 42


@pytest.mark.parametrize(
    ("text", "field_path", "fix_hint"),
    [
        ("[tokens]\nacess_ttl = 5\n", "tokens.acess_ttl", "access_ttl"),
        ('[tokens]\naccess_ttl = "soon"\n', "tokens.access_ttl", "whole number"),
        ('[tokens]\ndelivery = "carrier-pigeon"\n', "tokens.delivery", '"json" or "cookie"'),
        ("[tokens]\nleeway = 300\n", "tokens.leeway", "30"),
        ('capabilities = ["refesh"]\n', "capabilities", "refresh"),
        ("[sessions]\nmax_sessions = 0\n", "sessions.max_sessions", "above 0"),
        ('[target]\nbase_url = "ftp://x"\n', "target.base_url", "http://"),
        ("tokens = 3\n", "tokens", "table"),
        ("[tokens\n", "", "TOML"),
    ],
)
def test_wrong_profile_names_the_field_and_the_fix(tmp_path: Path, text: str, field_path: str,
                                                   fix_hint: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ProfileError) as caught:
        profile.load(path)
    error = caught.value
    assert error.field_path == field_path
    assert fix_hint in str(error)
    assert str(path) in str(error)


def test_missing_file_is_a_profile_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="does not exist"):
        profile.load(tmp_path / "nope.toml")


def test_verify_is_another_name_for_verify_tls(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[target]\nverify = false\n")
    assert profile.load(path).target.verify_tls is False
    assert profile.load(None, overrides={"target.verify": False}).target.verify_tls is False
    assert profile.load(None).target.verify_tls is True
