"""A refresh token presented as an access token (a long-lived key to the API)."""

from scenarios.steps import expect_accepted, login, note, present_refresh_as_access, tenant

title = "Refresh token used as an access token"
threat = """A refresh token lives for days; an access token for minutes. An attacker who finds a
refresh token in a log presents it as a Bearer token. If the API does not check the token type,
the refresh token becomes a week-long API key."""
contract = {
    "1": "a refresh token is never accepted where an access token is (type checked)",
}
checks = ("TOK-TYPE-REFRESH-AS-ACCESS",)
needs = ("refresh",)
caught_by_faults = ("refresh-as-access",)

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="laptop"),
    note("the laptop's refresh token turns up in a proxy log"),
    present_refresh_as_access("laptop", expect="unauthenticated"),
    expect_accepted("laptop"),
]
