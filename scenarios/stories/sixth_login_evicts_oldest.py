"""One login more than the session limit: the oldest device is signed out, the others are not."""

from scenarios.steps import expect_accepted, expect_refused, fill_sessions, login, tenant, user

title = "A login beyond the session limit evicts the oldest session"
threat = """Carol uses as many devices as the session limit allows, then logs in on one more.
The limit keeps a stolen password from silently piling up sessions; the oldest session must be
the one that ends, and with it every token of that session, while the newest login works."""
contract = {
    "4": "at most N active sessions per user; login N+1 evicts the oldest, whose tokens stop working",
}
checks = ("SES-EVICT-OLDEST",)
needs = ("session_limit",)
caught_by_faults = ("evict-newest", "no-session-limit", "sessions-not-bound")

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="alice-laptop"),
    user("carol", role="viewer", by="alice-laptop"),
    fill_sessions("carol", prefix="device"),
    expect_accepted("device1"),
    login("carol", as_="new-device"),
    expect_refused("device1"),
    expect_accepted("device2"),
    expect_accepted("new-device"),
]
