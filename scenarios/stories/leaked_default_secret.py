"""Tokens minted with a secret from a tutorial or a sample .env file."""

from scenarios.steps import leaked_secret_attack, login, tenant, user

title = "A token minted with a leaked default secret"
threat = """The service was deployed with the signing secret from a framework tutorial or a sample
.env file. Those secrets are public; anyone can mint a token for any user and role. The attacker
takes a viewer's token and re-signs it, as admin, with every well-known default."""
contract = {
    "1": "signing secret: at least 256 bits of entropy; startup refuses a known default or short secret",
}
checks = ("TOK-SECRET-WEAK",)
needs = ("user_admin",)
assumes = {"tokens.algorithm": ("HS256", "HS384", "HS512")}
caught_by_faults = ("default-secret",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="alice-laptop"),
    user("victor", role="viewer", by="alice-laptop"),
    login("victor", as_="victor-phone"),
    leaked_secret_attack("victor-phone", role="admin"),
]
