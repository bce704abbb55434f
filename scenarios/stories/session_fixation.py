"""An attacker plants a session id before the victim logs in; the login must not adopt it."""

from scenarios.steps import expect_accepted, expect_session_not, login, note, tenant

title = "Session fixation"
threat = """Mallory plants a session id of her choosing in Alice's browser (a crafted link, a
cookie set from a sibling subdomain), then waits for Alice to log in. If the server adopts the
planted id for the new session, Mallory knows the id of an authenticated session."""
contract = {
    "4": "a login creates a session with a fresh unpredictable id (never one the client supplied)",
}
checks = ("SES-FIXATION",)
needs = ("sessions",)
caught_by_faults = ("session-fixation",)

PLANTED = "fixated-by-mallory-0001"

steps = [
    tenant("acme", admin="alice"),
    note("Mallory plants a session id of her choosing in Alice's browser"),
    login("alice", as_="alice-browser", planted_session=PLANTED),
    expect_accepted("alice-browser"),
    expect_session_not("alice-browser", PLANTED),
]
