"""Configuration from the environment, the start-up refusal, the create-user command and the
serve command's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from reference_impl import Config, ConfigError, create_app
from reference_impl.serve import main as serve_main

from .conftest import PASSWORD, Harness

GOOD_SECRET = "k" * 40


def test_from_env_reads_every_kind_of_field(tmp_path: Any) -> None:
    config = Config.from_env({
        "AUTHCONF_SECRET_KEY": GOOD_SECRET, "AUTHCONF_ACCESS_TTL": "60", "AUTHCONF_COOKIE_MODE": "true",
        "AUTHCONF_FAULTS": "ignore-exp, ignore-nbf", "AUTHCONF_ALLOW_FAULTS": "1", "AUTHCONF_STORE": "memory",
        "AUTHCONF_HASH_PRESET": "fast", "AUTHCONF_ISSUER": "me"})
    assert (config.access_ttl, config.cookie_mode, config.issuer) == (60, True, "me")
    assert config.faults == {"ignore-exp", "ignore-nbf"} and config.has_fault("ignore-exp")


@pytest.mark.parametrize("environ,fragment", [
    ({}, "AUTHCONF_SECRET_KEY is not set"),
    ({"AUTHCONF_SECRET_KEY": "short"}, "at least 32 bytes"),
    ({"AUTHCONF_SECRET_KEY": "super-secret-key"}, "well-known default"),
    ({"AUTHCONF_SECRET_KEY": GOOD_SECRET, "AUTHCONF_ACCESS_TTL": "soon"}, "AUTHCONF_ACCESS_TTL='soon'"),
    ({"AUTHCONF_SECRET_KEY": GOOD_SECRET, "AUTHCONF_COOKIE_MODE": "maybe"}, "AUTHCONF_COOKIE_MODE"),
    ({"AUTHCONF_SECRET_KEY": GOOD_SECRET, "AUTHCONF_FAULTS": "nonsense"}, "unknown fault"),
    ({"AUTHCONF_SECRET_KEY": GOOD_SECRET, "AUTHCONF_FAULTS": "ignore-exp"}, "AUTHCONF_ALLOW_FAULTS"),
    ({"AUTHCONF_SECRET_KEY": GOOD_SECRET, "AUTHCONF_STORE": "redis"}, "AUTHCONF_REDIS_URL"),
    ({"AUTHCONF_SECRET_KEY": GOOD_SECRET, "AUTHCONF_JWT_ALGORITHM": "HS512"}, "AUTHCONF_JWT_ALGORITHM"),
    ({"AUTHCONF_SECRET_KEY": GOOD_SECRET, "AUTHCONF_PRIVATE_KEY_FILE": "/nonexistent/key.pem"},
     "AUTHCONF_PRIVATE_KEY_FILE"),
])
def test_from_env_errors_name_the_variable(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(")):
        Config.from_env(environ)


def test_debug_allows_a_weak_secret_and_faults_can_weaken_it() -> None:
    assert Config.from_env({"AUTHCONF_DEBUG": "1"}).debug
    with pytest.raises(ConfigError):
        create_app(Config.for_tests(secret_key="changeme"))
    create_app(Config.for_tests(secret_key="changeme", faults={"default-secret"}))


def test_a_private_key_file_is_used(tmp_path: Any) -> None:
    from reference_impl.keys import generate_private_key_pem, signing_material

    pem = generate_private_key_pem("ES256")
    path = tmp_path / "key.pem"
    path.write_text(pem)
    config = Config.from_env({"AUTHCONF_JWT_ALGORITHM": "ES256", "AUTHCONF_PRIVATE_KEY_FILE": str(path),
                              "AUTHCONF_DEBUG": "1"})
    assert signing_material(create_app(config)).minting_key == pem
    with pytest.raises(ConfigError, match="cannot sign"):
        create_app(config.replace(jwt_algorithm="RS256"))


def test_create_user_command_makes_a_superadmin(ref: Harness, monkeypatch: Any) -> None:
    monkeypatch.setenv("NEW_PASSWORD", PASSWORD)
    runner = ref.app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--role", "superadmin", "--username", "root", "--tenant", "acme",
                                 "--password-env", "NEW_PASSWORD"])
    assert result.exit_code == 0, result.output
    assert "created superadmin root" in result.output
    again = runner.invoke(args=["create-user", "--role", "superadmin", "--username", "root", "--tenant", "acme",
                                "--password-env", "NEW_PASSWORD"])
    assert again.exit_code != 0 and "already exists" in again.output
    prompted = runner.invoke(args=["create-user", "--username", "ann", "--tenant", "acme"],
                             input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    boss = ref.login(username="root", tenant="acme")
    assert ref.get("/audit", boss).status_code == 200


def test_create_app_without_arguments_reads_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("AUTHCONF_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("AUTHCONF_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("AUTHCONF_ISSUER", "from-env")
    assert create_app().extensions["authconform"].config.issuer == "from-env"


def test_serve_refuses_several_workers_with_the_memory_store(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setenv("AUTHCONF_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("AUTHCONF_STORE", "memory")
    assert serve_main(["serve", "--workers", "3", "--bind", "127.0.0.1:1"]) == 2
    assert "AUTHCONF_STORE=redis" in capsys.readouterr().err
    monkeypatch.delenv("AUTHCONF_SECRET_KEY")
    assert serve_main(["serve", "--workers", "1"]) == 2
    assert "AUTHCONF_SECRET_KEY" in capsys.readouterr().err
