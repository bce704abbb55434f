"""Malware copies a refresh token; the victim keeps refreshing; the thief replays the copy."""

from scenarios.steps import expect_refused, login, note, refresh, replay_refresh, tenant

title = "A stolen refresh token is replayed after the victim refreshed"
threat = """Malware on Alice's phone copied her refresh token. The phone keeps working and refreshes
as usual; later the thief replays the copied (already rotated) token. The server cannot tell thief
from victim, so it must end the whole login: the thief gets nothing and the phone is signed out."""
contract = {
    "2": "refresh rotates; reuse of an already-rotated refresh token revokes its whole family",
}
checks = ("REV-REFRESH-ROTATES", "REV-REFRESH-REUSE-REJECTED", "REV-REFRESH-REUSE-FAMILY")
needs = ("refresh",)
caught_by_faults = ("reuse-no-family-revoke", "refresh-reuse-accepted")

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="phone"),
    note("malware on the phone copies its refresh token"),
    refresh("phone"),
    replay_refresh("phone", generation=0, as_="thief"),
    expect_refused("phone"),
    refresh("phone", expect="refused"),
]
