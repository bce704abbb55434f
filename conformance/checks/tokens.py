"""Contract section 1: tokens. Each check attacks token verification one way."""

from __future__ import annotations

from conformance.api import Tokens
from conformance.context import CheckContext
from conformance.minting import forge, split
from conformance.registry import Severity, check


def _session(ctx: CheckContext) -> Tokens:
    """A fresh viewer logged in, with the standard controls run on its token."""
    user = ctx.users.create("viewer")
    tokens = ctx.api.login(user)
    ctx.baseline(tokens)
    return tokens


def _refused(ctx: CheckContext, token: str, note: str) -> bool:
    # A 5xx is not a refusal: the property checks report those on their own.
    status = ctx.api.me(token, note=note).status
    return 400 <= status < 500


@check(
    "TOK-SIG-BROKEN",
    title="flip one character of a valid token's signature",
    rule="an access token whose signature does not verify is rejected",
    severity=Severity.CRITICAL,
    references=("RFC 7519 §7.2", "RFC 8725 §3.1", "ASVS 3.5.3", "API2:2023"),
)
def signature_broken(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    head, body, signature = tokens.access.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    ctx.expect(_refused(ctx, f"{head}.{body}.{flipped}", "token with a broken signature"),
               "a token with a corrupted signature was accepted")


@check(
    "TOK-ALG-NONE",
    title='send the token re-encoded with alg "none" in four casings and no signature',
    rule="the algorithm allow-list is exactly the configured one; alg none is rejected in any casing",
    severity=Severity.CRITICAL,
    references=("RFC 8725 §2.1", "RFC 8725 §3.1", "ASVS 3.5.3", "API2:2023"),
)
def alg_none(ctx: CheckContext) -> None:
    tokens = _session(ctx)
    header, claims, _signature = split(tokens.access)
    accepted = []
    for spelling in ("none", "None", "NONE", "nOnE"):
        forged = forge({**header, "alg": spelling}, claims)
        if not _refused(ctx, forged, f'alg "{spelling}", empty signature'):
            accepted.append(spelling)
    ctx.expect(not accepted, f"unsigned tokens accepted with alg {', '.join(accepted)}")
