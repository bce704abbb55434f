"""Profiles: the bundled default, extending it, env expansion, overrides, and errors that name the
dotted field and the fix (also for a --set value)."""

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


def test_a_profile_extending_the_reference_is_read_over_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "reference"\n[tokens]\naccess_ttl = 60\n'
                           '[operations.login]\npath = "/api/login"\n')
    loaded = profile.load(path)
    assert loaded.tokens.access_ttl == 60
    assert loaded.operation("login").path == "/api/login"
    assert loaded.operation("login").method == "POST"  # kept from the default
    assert loaded.tokens.refresh_ttl == 604800


def test_environment_variables_are_expanded(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "reference"\n[signing]\nkey = "${SIGNING_KEY}"\n')
    assert profile.load(path, environ={"SIGNING_KEY": "k" * 40}).signing.key == "k" * 40


def test_missing_environment_variable_names_field_and_variable(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "reference"\n[signing]\nkey = "${NOT_SET_ANYWHERE}"\n')
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
    path.write_text('extends = "reference"\n[target]\nverify = false\n')
    assert profile.load(path).target.verify_tls is False
    assert profile.load(None, overrides={"target.verify": False}).target.verify_tls is False
    assert profile.load(None).target.verify_tls is True


@pytest.mark.parametrize(
    ("override", "field_path", "fix_hint"),
    [
        ("tokens.access_ttl=soon", "tokens.access_ttl", "whole number"),
        ("tokens.acess_ttl=60", "tokens.acess_ttl", "access_ttl"),
        ('tokens.delivery="pigeon"', "tokens.delivery", '"json" or "cookie"'),
        ("target.verify=maybe", "target.verify_tls", "true or false"),
    ],
)
def test_a_bad_set_value_names_the_set_option(override: str, field_path: str, fix_hint: str) -> None:
    key, value = profile.parse_override(override)
    with pytest.raises(ProfileError) as caught:
        profile.load(overrides={key: value})
    assert caught.value.field_path == field_path
    assert f"--set {key}" in str(caught.value) and fix_hint in str(caught.value)


def test_an_operation_error_names_the_operation_not_its_position(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "reference"\n[operations.login]\nbody = "xml"\n')
    with pytest.raises(ProfileError) as caught:
        profile.load(path)
    assert caught.value.field_path == "operations.login.body"
    assert '"json" or "form"' in caught.value.fix


def test_roles_of_a_profile_replace_the_contracts_four(tmp_path: Path) -> None:
    text = 'extends = "reference"\n[roles]\nuser = 10\nadmin = 20\n[permissions]\nuser = ["read"]\n' \
           'admin = ["read", "write", "manage_users"]\n'
    loaded = profile.load(write(tmp_path, text))
    assert loaded.roles_by_level() == ["user", "admin"]
    assert set(loaded.permissions) == {"user", "admin"}
    assert profile.load().roles_by_level() == ["viewer", "editor", "admin", "superadmin"]


def test_roles_without_permissions_have_none_of_the_reference(tmp_path: Path) -> None:
    loaded = profile.load(write(tmp_path, 'extends = "reference"\n[roles]\nuser = 10\n'))
    assert loaded.roles == {"user": 10} and loaded.permissions == {}


def test_a_permission_for_an_unknown_role_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as caught:
        profile.load(write(tmp_path, 'extends = "reference"\n[roles]\nuser = 10\n[permissions]\nadmin = ["read"]\n'))
    assert caught.value.field_path == "permissions.admin" and "user" in caught.value.fix


def test_no_maximum_password_length_is_zero_or_left_out(tmp_path: Path) -> None:
    assert profile.load().passwords.max_length == 128  # the reference declares one
    base = 'capabilities = []\n[operations.login]\nmethod = "POST"\npath = "/login"\n[operations.me]\npath = "/me"\n' \
           '[[users.accounts]]\nusername = "a"\npassword = "b"\n'
    assert not profile.load(write(tmp_path, base)).passwords.has_maximum
    assert profile.load(write(tmp_path, base + "[credentials]\npassword_max = 64\n")).passwords.max_length == 64
    assert not profile.load(write(tmp_path, base + "[passwords]\nmax_length = 0\n")).passwords.has_maximum


def test_the_old_inherit_switch_is_read_or_explained(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as caught:
        profile.load(write(tmp_path, "inherit = true\n"))
    assert caught.value.field_path == "inherit" and 'extends = "reference"' in caught.value.fix


def test_the_coordinators_fields_have_their_defaults() -> None:
    loaded = profile.load()
    assert loaded.target.refusal_statuses == [401, 403] and loaded.target.rate_limited_statuses == [429]
    assert (loaded.attacker.bind, loaded.attacker.public_url) == ("127.0.0.1", "")
    assert loaded.waive == {}
    waived = profile.load(overrides={"waive": {"jti": "tokens are single-use by design"}})
    assert waived.waive["jti"] == "tokens are single-use by design"


def test_one_error_names_the_other_fields_to_fix_too(tmp_path: Path) -> None:
    path = write(tmp_path, 'extends = "reference"\n[tokens]\naccess_ttl = "soon"\nleeway = 99\n[target]\nverfy = 1\n')
    with pytest.raises(ProfileError) as caught:
        profile.load(path)
    assert caught.value.field_path == "target.verfy" and "did you mean 'verify_tls'?" in caught.value.fix
    assert "also to fix: tokens.access_ttl, tokens.leeway" in caught.value.fix
