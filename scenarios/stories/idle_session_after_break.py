"""A session left alone longer than the idle timeout must end, refresh token included."""

from scenarios.steps import advance, expect_refused, login, note, refresh, tenant

title = "Idle session after a long break"
threat = """Alice leaves her laptop unlocked and goes to a long meeting. Anyone who sits down after
the idle timeout must find the session over: the refresh token must not bring it back to life,
even though the refresh token itself is far from expiring."""
contract = {
    "4": "idle timeout: a session unused this long ends, with its tokens",
}
checks = ("SES-IDLE-TIMEOUT",)
needs = ("idle_timeout", "refresh")
caught_by_faults = ("no-idle-timeout",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="laptop"),
    advance(under="idle_timeout"),
    refresh("laptop", expect="accepted"),
    note("Alice leaves for a long meeting with the laptop unlocked"),
    advance(past="idle_timeout"),
    expect_refused("laptop"),
    refresh("laptop", expect="refused"),
]
