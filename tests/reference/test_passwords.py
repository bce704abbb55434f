"""Contract 7: passwords are stored as argon2id hashes, and a failed login does the same work for
an unknown user as for a wrong password (one argon2 verify each), so neither status, body nor
timing tells them apart."""

from __future__ import annotations

from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from reference_impl.passwords import Passwords
from reference_impl.users import User


def test_stored_passwords_are_argon2id_hashes_never_the_password(ref: Any) -> None:
    user_id, _username, _tenant = ref.user("viewer", password="a-long-enough-password")
    with Session(ref.services.engine) as session:
        stored = session.scalars(select(User.password_hash).where(User.id == user_id)).one()
    assert stored.startswith("$argon2id$")
    assert "a-long-enough-password" not in stored


def test_the_default_preset_uses_the_library_defaults_and_fast_is_still_argon2id() -> None:
    defaults = PasswordHasher()
    assert Passwords("default").hasher.time_cost == defaults.time_cost
    assert Passwords("default").hasher.memory_cost == defaults.memory_cost
    assert Passwords("fast").hash("whatever-password").startswith("$argon2id$")


@pytest.mark.parametrize("who", ["unknown user", "wrong password"])
def test_a_failed_login_runs_exactly_one_argon2_verify(ref: Any, monkeypatch: pytest.MonkeyPatch, who: str) -> None:
    _user_id, username, tenant = ref.user("viewer")
    real = ref.services.passwords.hasher
    calls: list[str] = []

    class CountingHasher:
        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return bool(real.verify(stored, password))

    monkeypatch.setattr(ref.services.passwords, "hasher", CountingHasher())
    name = "nobody-here" if who == "unknown user" else username
    answer = ref.client.post("/auth/login", json={"username": name, "password": "not-the-password",
                                                  "tenant": tenant})
    assert answer.status_code == 401
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")
