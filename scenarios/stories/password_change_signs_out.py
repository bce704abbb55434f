"""After a password change, every other device is signed out and the old password is dead."""

from scenarios.steps import change_password, expect_refused, login, note, refresh, tenant

title = "Password change signs out other devices"
threat = """Alice suspects her password leaked: someone may already be signed in with it. She
changes it from her laptop. Every other session (the one the intruder opened included) must end
at once, refresh tokens too, and the old password must no longer log in."""
contract = {
    "2": "logout-all and password change revoke every token and session of the user",
}
checks = ("REV-PASSWORD-CHANGE",)
needs = ("password_change", "refresh")
caught_by_faults = ("password-change-keeps-sessions",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="laptop"),
    note("an intruder with the leaked password signs in from elsewhere"),
    login("alice", as_="intruder"),
    change_password("laptop"),
    expect_refused("intruder"),
    refresh("intruder", expect="refused"),
    login("alice", as_="intruder-again", password="previous", expect="refused"),
    login("alice", as_="laptop-again"),
]
