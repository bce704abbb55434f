"""Logging out on a library computer must end that login for good, and only that one."""

from scenarios.steps import expect_accepted, expect_refused, login, logout, note, refresh, tenant

title = "Logout on a shared computer"
threat = """Alice signs in on a library computer, then logs out and walks away. The next visitor
digs her tokens out of the browser's storage. Logout must have ended them on the server (the
access token, its refresh token and the session), while her phone stays signed in."""
contract = {
    "2": "logout revokes the presented access token, its refresh family and its session",
    "4": "logout ends the current session only",
}
checks = ("REV-LOGOUT-ACCESS", "REV-LOGOUT-REFRESH", "REV-LOGOUT-SESSION")
needs = ("logout", "refresh")
caught_by_faults = ("logout-client-side-only", "logout-keeps-refresh")

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="phone"),
    login("alice", as_="library-pc"),
    logout("library-pc"),
    note("the next visitor finds Alice's tokens in the browser storage"),
    expect_refused("library-pc"),
    refresh("library-pc", expect="refused"),
    expect_accepted("phone"),
]
