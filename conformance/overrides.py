"""The ``--set FIELD=VALUE`` items of a run as its report records them: the value of a field that may
hold a secret (a key, a password, a token, the accounts) is written as ``HIDDEN``, so a report never
carries it and ``authconform replay`` asks for it again."""

from __future__ import annotations

from collections.abc import Iterable

SECRET_WORDS = ("key", "password", "secret", "token", "signing", "accounts")
HIDDEN = "[not recorded]"


def recorded_overrides(items: Iterable[str]) -> list[str]:
    recorded = []
    for item in items:
        field, _sep, _value = item.partition("=")
        if any(word in field.lower() for word in SECRET_WORDS):
            recorded.append(f"{field}={HIDDEN}")
        else:
            recorded.append(item)
    return recorded


def hidden_fields(recorded: Iterable[str]) -> list[str]:
    """The fields of recorded items whose value was not recorded."""
    return [item.split("=", 1)[0] for item in recorded if item.endswith("=" + HIDDEN)]


def kept_items(recorded: Iterable[str]) -> list[str]:
    """The recorded items whose value was recorded (and so can be given again as they are)."""
    return [item for item in recorded if not item.endswith("=" + HIDDEN)]
