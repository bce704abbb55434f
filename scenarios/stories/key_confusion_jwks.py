"""The published RSA key used as an HMAC secret (RS256/HS256 key confusion)."""

from scenarios.steps import key_confusion_attack, login, tenant

title = "Key confusion with the published JWKS key"
threat = """The server signs with RS256 and publishes its public key at the JWKS endpoint, as it
should. An attacker re-signs a token with HS256, using that public key as the HMAC secret. A
verifier that takes the algorithm from the token header accepts it, and the attacker mints any
claims: here a viewer's token upgraded to admin."""
contract = {
    "1": "algorithm allow-list: exactly the configured one; an HS token verified with a public key is rejected",
}
checks = ("TOK-ALG-KEY-CONFUSION",)
needs = ("jwks",)
assumes = {"tokens.algorithm": ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")}
reference_config = {"jwt_algorithm": "RS256"}
caught_by_faults = ("hs-rs-key-confusion",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="alice-laptop"),
    key_confusion_attack("alice-laptop", role="superadmin"),
]
