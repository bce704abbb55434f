"""A deleted account's tokens stop working at once."""

from scenarios.steps import (
    delete_account,
    delete_user,
    expect_accepted,
    expect_refused,
    login,
    note,
    refresh,
    tenant,
    user,
)

title = "A deleted account's token"
threat = """Dave leaves the company and the admin deletes his account. His laptop still holds an
access token with minutes to run and a refresh token with days. Deletion must end both at once,
and the account must not log in again. Erin deletes her own account from her phone; the laptop
she forgot about must be signed out too."""
contract = {
    "1": "a token of a deleted or disabled user is rejected at once",
}
checks = ("REV-DELETED-USER",)
needs = ("user_admin", "refresh", "delete_account")
caught_by_faults = ("deleted-user-token-valid",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="alice-laptop"),
    user("dave", role="editor", by="alice-laptop"),
    login("dave", as_="dave-laptop"),
    expect_accepted("dave-laptop"),
    note("Dave leaves the company"),
    delete_user("dave", by="alice-laptop"),
    expect_refused("dave-laptop"),
    refresh("dave-laptop", expect="refused"),
    login("dave", as_="dave-again", expect="refused"),
    user("erin", role="viewer", by="alice-laptop"),
    login("erin", as_="erin-laptop"),
    login("erin", as_="erin-phone"),
    delete_account("erin-phone"),
    expect_refused("erin-laptop"),
    refresh("erin-laptop", expect="refused"),
]
