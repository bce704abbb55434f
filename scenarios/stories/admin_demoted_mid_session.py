"""A demoted admin keeps an admin token from before the demotion; it must not act as admin."""

from scenarios.steps import call, change_role, login, tenant, use, user

title = "Admin demoted mid-session"
threat = """Bob was made a tenant admin and logged in. Alice, the owner, takes the role back. Bob's
access token still says "admin" until it expires; if the server believes the token over its own
records, Bob keeps managing users for up to a token lifetime after losing the right."""
contract = {
    "1": "after a role change, a token never grants more than the user's current role",
    "3": "the role in a token is never trusted over the server's record once the record changed",
}
checks = ("ROLE-DEMOTION-IMMEDIATE",)
needs = ("user_admin", "roles")
caught_by_faults = ("role-from-token",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="alice-laptop"),
    user("bob", role="editor", by="alice-laptop"),
    change_role("bob", "admin", by="alice-laptop"),
    login("bob", as_="bob-laptop"),
    call("bob-laptop", "users_list", expect="accepted"),
    change_role("bob", "editor", by="alice-laptop"),
    call("bob-laptop", "users_list", expect="forbidden"),
    call("bob-laptop", "user_create", body={"username": "bobs-friend", "password": "Friend-pass-123",
                                            "role": "viewer"}, expect="forbidden"),
    use("bob-laptop", role="editor"),
]
