"""A stolen phone: logging out everywhere from the laptop must end the phone's session too."""

from scenarios.steps import expect_refused, login, logout_all, note, refresh, tenant

title = "Stolen phone: log out everywhere"
threat = """Alice's phone is stolen while signed in. From her laptop she chooses "log out of all
devices". Every session must end, the phone's included: its access token and its refresh token
stop working."""
contract = {
    "2": "logout-all revokes every token and session of the user",
}
checks = ("REV-LOGOUT-ALL",)
needs = ("logout_all", "refresh")
caught_by_faults = ("logout-all-current-only",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="phone"),
    login("alice", as_="laptop"),
    note("the phone is stolen, still signed in"),
    logout_all("laptop"),
    expect_refused("phone"),
    refresh("phone", expect="refused"),
    expect_refused("laptop"),
]
