"""Rotating X-Forwarded-For to look like many clients must not reset the login limiter."""

from scenarios.steps import login, login_attempts, tenant

title = "Rate limit escape via rotating X-Forwarded-For"
threat = """The attacker guessing Alice's password sends a new X-Forwarded-For address with every
attempt. With no trusted proxy in front, that header is the client's own claim; if the limiter
believes it, every guess looks like a new client and the per-account limit never trips."""
contract = {
    "6": "X-Forwarded-For is trusted only from a configured number of proxies (default 0)",
}
checks = ("RL-XFF-SPOOF",)
needs = ("rate_limit_login",)
assumes = {"rate_limits.trusted_proxies": 0}
caught_by_faults = ("trust-forwarded-for",)
no_controls = """the tenant's sign-up is its set-up; a login before the guesses would count against
the limit the story measures (a failure is weighed against a fresh witness login)"""

steps = [
    tenant("acme", admin="alice"),
    login_attempts("alice", count="login_account_limit", password="wrong", forwarded_for="rotate"),
    login("alice", as_="attacker", password="wrong", headers={"X-Forwarded-For": "198.51.100.77"},
          expect="rate-limited"),
]
