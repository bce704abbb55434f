"""However busy, a session ends at the absolute timeout."""

from scenarios.steps import expect_refused, keep_active, login, refresh, tenant

title = "Absolute session limit despite constant activity"
threat = """A script (or an attacker holding a stolen session) keeps a session busy around the clock,
refreshing well inside every timeout. Activity must not extend a session forever: it ends at the
absolute timeout after login, and the next refresh is refused."""
contract = {
    "4": "absolute timeout: a session ends this long after login, however active",
}
checks = ("SES-ABSOLUTE-TIMEOUT",)
needs = ("absolute_timeout", "refresh")
caught_by_faults = ("no-absolute-timeout",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="server-script"),
    keep_active("server-script", until_past="absolute_timeout"),
    expect_refused("server-script"),
    refresh("server-script", expect="refused"),
]
