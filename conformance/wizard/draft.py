"""The profile ``init`` is drafting: every value with how it was learned, rendered as TOML.

A value is "observed" (the target showed it: an answer, a token, a header), "openapi" (its
OpenAPI document says so) or a guess. Guesses are written with the marker ``# GUESS:`` and a
reason, so a reader finds every line to review with one search; a capability init could not
observe is written commented out, marked the same way, ready to be switched on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from conformance.profile import CAPABILITIES, CAPABILITY_SECTIONS, SECTION_TITLES

GUESS = "GUESS"


@dataclass
class Value:
    value: Any
    note: str = ""
    guess: bool = False

    def comment(self) -> str:
        if self.guess:
            return f"  # {GUESS}: {self.note}" if self.note else f"  # {GUESS}"
        return f"  # {self.note}" if self.note else ""


@dataclass
class DraftOperation:
    method: str
    path: str
    body: str = "json"
    fields: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    auth: str = "access"
    refresh_in: str = ""
    send: list[str] = field(default_factory=list)  # tokens the body also carries
    access_token_path: str = ""  # where this operation's answer holds the access token, when not tokens'
    session_header: str = ""
    note: str = ""
    guess: bool = False


@dataclass
class Draft:
    base_url: str
    name: str = ""
    notes: list[str] = field(default_factory=list)
    capabilities: dict[str, Value] = field(default_factory=dict)  # declared
    undeclared: dict[str, str] = field(default_factory=dict)  # capability -> why it is not declared
    target: dict[str, Value] = field(default_factory=dict)
    tokens: dict[str, Value] = field(default_factory=dict)
    sessions: dict[str, Value] = field(default_factory=dict)
    rate_limits: dict[str, Value] = field(default_factory=dict)
    passwords: dict[str, Value] = field(default_factory=dict)
    operations: dict[str, DraftOperation] = field(default_factory=dict)
    users: dict[str, Value] = field(default_factory=dict)
    accounts: list[dict[str, Value]] = field(default_factory=list)
    client: dict[str, Value] = field(default_factory=dict)
    environment: list[str] = field(default_factory=list)  # variables the profile reads

    def declare(self, capability: str, note: str, *, guess: bool = False) -> None:
        self.capabilities[capability] = Value(True, note, guess)
        self.undeclared.pop(capability, None)

    def leave_out(self, capability: str, why: str) -> None:
        if capability not in self.capabilities:
            self.undeclared[capability] = why


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)


def _table(title: str, values: dict[str, Value]) -> list[str]:
    if not values:
        return []
    lines = ["", f"[{title}]"]
    for key, value in values.items():
        lines.append(f"{_key(key)} = {toml_value(value.value)}{value.comment()}")
    return lines


def render(draft: Draft) -> str:
    lines = [f"# Starter profile for {draft.base_url}, written by `authconform init`.",
             "#",
             f"# Review every line marked \"# {GUESS}:\" (search for {GUESS}); the other values were observed on",
             "# the target or read from its OpenAPI document. A capability left commented out makes its",
             "# checks \"not applicable\" (never a pass): switch it on only if the target really has it.",
             "# Check the result with:  authconform run --dry-run --profile THIS_FILE"]
    if draft.environment:
        lines.append("# Variables this profile reads: " + ", ".join(draft.environment))
    lines += [f"# {note}" for note in draft.notes]
    lines.append(f"name = {toml_value(draft.name or draft.base_url)}")
    lines.append("capabilities = [")
    sections = sorted({CAPABILITY_SECTIONS[c] for c in CAPABILITIES})
    for section in sections:
        names = [c for c in CAPABILITIES if CAPABILITY_SECTIONS[c] == section]
        if not any(c in draft.capabilities or c in draft.undeclared for c in names):
            continue
        lines.append(f"    # §{section} {SECTION_TITLES[section]}")
        for name in names:
            if name in draft.capabilities:
                value = draft.capabilities[name]
                lines.append(f"    {toml_value(name)},{value.comment()}")
            elif name in draft.undeclared:
                lines.append(f"    # {toml_value(name)},  # {GUESS}: {draft.undeclared[name]}")
    lines.append("]")
    lines += _table("target", draft.target)
    lines += _table("tokens", draft.tokens)
    lines += _table("sessions", draft.sessions)
    lines += _table("rate_limits", draft.rate_limits)
    lines += _table("passwords", draft.passwords)
    lines += _table("users", draft.users)
    for account in draft.accounts:
        lines += ["", "[[users.accounts]]"]
        lines += [f"{key} = {toml_value(value.value)}{value.comment()}" for key, value in account.items()]
    lines += _table("client", draft.client)
    for name, op in draft.operations.items():
        lines += ["", f"[operations.{name}]" + (f"  # {GUESS}: {op.note}" if op.guess else
                                                 f"  # {op.note}" if op.note else "")]
        lines.append(f"method = {toml_value(op.method)}")
        lines.append(f"path = {toml_value(op.path)}")
        if op.body != "json":
            lines.append(f"body = {toml_value(op.body)}")
        if op.auth != "access":
            lines.append(f"auth = {toml_value(op.auth)}")
        if op.refresh_in:
            lines.append(f"refresh_in = {toml_value(op.refresh_in)}")
        if op.send:
            lines.append(f"send = {toml_value(op.send)}")
        if op.fields:
            lines.append(f"fields = {toml_value(op.fields)}")
        if op.extra:
            lines.append(f"extra = {toml_value(op.extra)}")
        if op.access_token_path:
            lines.append(f"access_token_path = {toml_value(op.access_token_path)}")
        if op.session_header:
            lines.append(f"session_header = {toml_value(op.session_header)}")
    lines += ["", "# The target's signing key lets the suite mint tokens (exp, nbf, iat, iss, aud checks)",
              "# instead of reporting those checks not applicable. Read it from the environment:",
              "# [signing]",
              '# key = "${TARGET_SIGNING_KEY}"      # an HS secret, or',
              '# key_file = "${TARGET_KEY_FILE}"  # a PEM private key']
    return "\n".join(lines) + "\n"
