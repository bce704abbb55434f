"""Credential stuffing from one client: the login limiter stops guessing per account and per IP."""

from scenarios.steps import advance, login, login_attempts, stuff_credentials, tenant

title = "Credential stuffing against the login limiter"
threat = """An attacker replays a list of leaked username/password pairs from one machine. Against
one account, the per-account limit must stop the guesses before the right password comes up; across
many accounts, the per-IP limit must stop the list. Even the correct password is then refused with
429 until the window passes."""
contract = {
    "6": "login is limited per (client IP, username) and per client IP; over the limit: 429",
}
checks = ("RL-LOGIN-ACCOUNT", "RL-LOGIN-IP")
needs = ("rate_limit_login",)
caught_by_faults = ("login-not-limited",)
side_effects = "the client's IP address is refused at login until the login window passes"
# A set-up login would count against the very limits the story measures.
no_controls = """the tenant's sign-up is its set-up; a login before the guesses would count against
the limits the story measures (a failure is weighed against a fresh witness login)"""

steps = [
    tenant("acme", admin="alice"),
    login_attempts("alice", count="login_account_limit", password="wrong", expect="refused"),
    login("alice", as_="attacker", password="current", expect="rate-limited"),
    advance(past="login_window"),
    stuff_credentials(count="login_ip_limit", tenant="acme", expect="refused"),
    login("alice", as_="attacker", password="current", expect="rate-limited"),
]
