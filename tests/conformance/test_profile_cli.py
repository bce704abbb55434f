"""`authconform profile`: check validates without running (exit 0, or 2 with the dotted field and
the fix), and upgrade turns a profile that relied on the reference's routes into one that says
what it has: every example and bundled profile checks clean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance import exitcodes, profile
from conformance.cli import main
from conformance.profile_cli import upgrade

REPO = Path(__file__).parents[2]

OLD_FOREIGN = """# a service described before extends existed
name = "old"
capabilities = ["refresh", "logout", "user_admin"]  # what it has
[users]
source = "accounts"
[[users.accounts]]
username = "ann"
password = "pw-ann-12345"
[operations.login]
method = "POST"
path = "/api/login"
[operations.users_list]
path = "/api/users"
"""


def test_check_accepts_every_bundled_and_example_profile(capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    files = [REPO / "conformance" / "profiles" / "reference.toml",
             *sorted((REPO / "examples" / "profiles").glob("*.toml"))]
    for file in files:
        for name in set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", file.read_text())):
            monkeypatch.setenv(name, "http://127.0.0.1:9" if name.endswith("_URL") else "value")
        assert main(["profile", "check", str(file)]) == exitcodes.OK, file
        assert "valid profile" in capsys.readouterr().out


def test_check_exits_2_naming_the_dotted_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.toml"
    path.write_text('extends = "reference"\n[operations.logout]\nsesion_header = "X-Session-ID"\n')
    assert main(["profile", "check", str(path)]) == exitcodes.USAGE_OR_PROFILE
    err = capsys.readouterr().err
    assert "operations.logout.sesion_header: unknown field" in err and "did you mean 'session_header'?" in err
    assert "Traceback" not in err


def test_check_names_a_bad_set_option(capsys: pytest.CaptureFixture[str]) -> None:
    reference = str(REPO / "conformance" / "profiles" / "reference.toml")
    assert main(["profile", "check", reference, "--set", "target.refusal_statuses=[401, 999]"]) == 2
    err = capsys.readouterr().err
    assert "--set target.refusal_statuses" in err and "999 is not an HTTP status" in err


def test_an_old_foreign_profile_fails_with_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text(OLD_FOREIGN)
    with pytest.raises(profile.ProfileError) as caught:
        profile.load(path)
    assert caught.value.field_path == "operations.me" and "profile upgrade" in caught.value.fix


def test_upgrade_writes_what_was_inherited_and_comments_out_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "old.toml"
    path.write_text(OLD_FOREIGN)
    text, notes = upgrade(path)
    assert text.startswith("# a service described before extends existed")  # comments are kept
    assert "# what it has" in text
    upgraded = tmp_path / "new.toml"
    upgraded.write_text(text)
    loaded = profile.load(upgraded)
    reference = profile.load()
    # The required route and the routes of capabilities that mapped none of their own are kept...
    assert loaded.operation("me").path == reference.operation("me").path
    assert loaded.offers("refresh") and loaded.offers("logout")
    # ...while user_admin's other operations are only suggested, commented out.
    assert not loaded.offers("user_create") and "# [operations.user_create]" in text
    assert any("user_create" in note for note in notes) and any("issuer" in note for note in notes)


def test_upgrade_for_the_reference_adds_extends(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "staging.toml"
    path.write_text("# staging\n[tokens]\naccess_ttl = 60\n")
    assert main(["profile", "upgrade", str(path), "--reference", "--write"]) == exitcodes.OK
    assert 'extends = "reference"' in path.read_text() and "# staging" in path.read_text()
    loaded = profile.load(path)
    assert loaded.tokens.access_ttl == 60 and loaded.offers("user_create")
    assert "extends" in capsys.readouterr().err


def test_upgrade_drops_inherit_false(tmp_path: Path) -> None:
    path = tmp_path / "alone.toml"
    path.write_text("inherit = false\n" + OLD_FOREIGN.replace('capabilities = ["refresh", "logout", "user_admin"]',
                                                              "capabilities = []") + '[operations.me]\npath = "/me"\n')
    text, _notes = upgrade(path)
    assert "inherit" not in text and "[operations.me]" in text
