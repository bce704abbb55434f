"""A proxy log captured Alice's MFA challenge token between her two login steps."""

from scenarios.steps import (
    enrol_mfa,
    login,
    note,
    password_step,
    tenant,
    use,
    use_challenge,
    user,
    verify_mfa,
)

title = "A stolen MFA challenge token opens nothing"
threat = """A debug log on a proxy recorded the challenge token Alice got for her password. Eve, a
colleague with her own account and her own phone, finds it. She presents it as an access token, then
completes it with her own valid code (once with her own session's token alongside, as a step-up
call would send it). All of it must be refused. Alice completes her login; the spent challenge
must then be useless even with another valid second factor."""
contract = {
    "9": "the challenge token is never an access token, is bound to its login attempt, and is single-use",
}
checks = ("MFA-CHALLENGE-TYPE", "MFA-CHALLENGE-BOUND", "MFA-CHALLENGE-SINGLE-USE")
needs = ("mfa", "user_admin")
caught_by_faults = ("mfa-challenge-as-access", "mfa-challenge-unbound", "mfa-challenge-reusable")

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="laptop"),
    user("eve", by="laptop"),
    login("eve", as_="eve-laptop"),
    enrol_mfa("alice", on="laptop"),
    enrol_mfa("eve", on="eve-laptop"),
    password_step("alice", as_="alice-phone"),
    note("a proxy log records the challenge token; Eve reads it"),
    use_challenge("alice-phone"),
    verify_mfa("alice-phone", code_of="eve", expect="refused"),
    verify_mfa("alice-phone", code_of="eve", with_token="eve-laptop", expect="refused"),
    verify_mfa("alice-phone"),
    use("alice-phone"),
    verify_mfa("alice-phone", code="backup", as_="eve-replay", expect="refused"),
]
