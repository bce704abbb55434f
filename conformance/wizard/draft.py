"""The profile ``init`` is drafting: every value with how it was learned, rendered as TOML.

A value is "observed" (the target showed it: an answer, a token, a header), "openapi" (its
OpenAPI document says so) or a guess. Guesses are written with the marker ``# GUESS:`` and a
reason, so a reader finds every line to review with one search; a capability init could not
observe is written commented out, marked the same way, ready to be switched on.

The TOML is written by tomlkit, which quotes and escapes every key and value and attaches the
comments, so whatever a target answers (quotes, backslashes, newlines, any character) the draft
parses back to the values it observed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import Array, Item, Table

from conformance.profile import CAPABILITIES, CAPABILITY_SECTIONS, SECTION_TITLES

GUESS = "GUESS"


@dataclass
class Value:
    value: Any
    note: str = ""
    guess: bool = False

    def comment(self) -> str:
        """The text of this value's comment ("" for none)."""
        return _marked(self.note, self.guess)


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


COMMENT_GAP = "  "  # between a value and its comment, as a person would write it
# A comment holds one line: TOML allows no control character in it but tab.
_NOT_IN_COMMENT = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")


def _one_line(text: str) -> str:
    return _NOT_IN_COMMENT.sub(" ", text).strip()


def _marked(note: str, guess: bool) -> str:
    note = _one_line(note)
    if guess:
        return f"{GUESS}: {note}" if note else GUESS
    return note


def _item(value: Value) -> Item:
    written = tomlkit.item(value.value)
    if value.comment():
        written.comment(value.comment())
        written.trivia.comment_ws = COMMENT_GAP
    return written


def _table(values: dict[str, Value]) -> Table:
    table = tomlkit.table()
    for key, value in values.items():
        table.add(key, _item(value))
    return table


def _capabilities(draft: Draft) -> Array:
    """Declared capabilities, one a line, by contract section; the undeclared ones commented out."""
    written = tomlkit.array()
    for section in sorted({CAPABILITY_SECTIONS[c] for c in CAPABILITIES}):
        names = [c for c in CAPABILITIES if CAPABILITY_SECTIONS[c] == section]
        if not any(c in draft.capabilities or c in draft.undeclared for c in names):
            continue
        written.add_line(comment=f"§{section} {SECTION_TITLES[section]}")
        for name in names:
            if name in draft.capabilities:
                written.add_line(name, comment=draft.capabilities[name].comment() or None)
            elif name in draft.undeclared:
                # Capability names are plain identifiers, so this line switches on by uncommenting.
                written.add_line(comment=f'"{name}",  # {_marked(draft.undeclared[name], True)}')
    written.add_line(indent="")
    return written


def _operation(op: DraftOperation) -> Table:
    table = tomlkit.table()
    if op.guess or op.note:
        table.comment(_marked(op.note, op.guess))
        table.trivia.comment_ws = COMMENT_GAP
    table.add("method", op.method)
    table.add("path", op.path)
    if op.body != "json":
        table.add("body", op.body)
    if op.auth != "access":
        table.add("auth", op.auth)
    if op.refresh_in:
        table.add("refresh_in", op.refresh_in)
    if op.send:
        table.add("send", list(op.send))
    for name, mapping in (("fields", op.fields), ("extra", op.extra)):
        if mapping:
            inline = tomlkit.inline_table()
            inline.update(mapping)
            table.add(name, inline)
    if op.access_token_path:
        table.add("access_token_path", op.access_token_path)
    if op.session_header:
        table.add("session_header", op.session_header)
    return table


def _add_table(document: tomlkit.TOMLDocument, title: str, table: Table) -> None:
    document.add(tomlkit.nl())
    document.add(title, table)


HEADER = (
    "Review every line marked \"# {guess}:\" (search for {guess}); the other values were observed on",
    "the target or read from its OpenAPI document. A capability left commented out makes its",
    "checks \"not applicable\" (never a pass): switch it on only if the target really has it.",
    "Check the result with:  authconform run --dry-run --profile THIS_FILE",
)
SIGNING_FOOTER = (
    "The target's signing key lets the suite mint tokens (exp, nbf, iat, iss, aud checks)",
    "instead of reporting those checks not applicable. Read it from the environment:",
    "[signing]",
    'key = "${TARGET_SIGNING_KEY}"      # an HS secret, or',
    'key_file = "${TARGET_KEY_FILE}"  # a PEM private key',
)


def render(draft: Draft) -> str:
    document = tomlkit.document()
    document.add(tomlkit.comment(_one_line(f"Starter profile for {draft.base_url}, written by `authconform init`.")))
    document.add(tomlkit.comment(""))
    for line in HEADER:
        document.add(tomlkit.comment(line.format(guess=GUESS)))
    if draft.environment:
        document.add(tomlkit.comment(_one_line("Variables this profile reads: " + ", ".join(draft.environment))))
    for note in draft.notes:
        document.add(tomlkit.comment(_one_line(note)))
    document.add("name", draft.name or draft.base_url)
    document.add("capabilities", _capabilities(draft))
    for title, values in (("target", draft.target), ("tokens", draft.tokens), ("sessions", draft.sessions),
                          ("rate_limits", draft.rate_limits), ("passwords", draft.passwords)):
        if values:
            _add_table(document, title, _table(values))
    if draft.users or draft.accounts:
        users = _table(draft.users)
        if draft.accounts:
            accounts = tomlkit.aot()
            for account in draft.accounts:
                accounts.append(_table(account))
            users.add("accounts", accounts)
        _add_table(document, "users", users)
    if draft.client:
        _add_table(document, "client", _table(draft.client))
    if draft.operations:
        operations = tomlkit.table(is_super_table=True)
        for name, op in draft.operations.items():
            operations.add(name, _operation(op))
        _add_table(document, "operations", operations)
    document.add(tomlkit.nl())
    for line in SIGNING_FOOTER:
        document.add(tomlkit.comment(line))
    return tomlkit.dumps(document)
