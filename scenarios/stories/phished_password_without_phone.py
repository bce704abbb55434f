"""A phishing page captured Alice's password; her phone, and so her second factor, stayed with her."""

from scenarios.steps import (
    advance,
    enrol_mfa,
    guess_codes,
    login,
    note,
    password_step,
    tenant,
    use,
    verify_mfa,
)

title = "A phished password without the phone gets no further than the code prompt"
threat = """Mallory's phishing page captured Alice's password, but not her phone. Mallory signs in with
the password: the server must answer only a challenge, no token. She then guesses codes; after the
declared number of attempts even a right code is refused, so guessing 10^6 codes is hopeless. Once
the lockout window has passed, Alice signs in as usual with her phone."""
contract = {
    "9": "with MFA on the password step answers only a challenge; verification attempts are limited per "
         "challenge and per account",
}
checks = ("MFA-LOGIN-CHALLENGE", "MFA-ATTEMPT-LIMIT")
needs = ("mfa",)
caught_by_faults = ("mfa-password-step-tokens", "mfa-no-attempt-limit")
side_effects = "Alice's account refuses codes for one attempt window"

steps = [
    tenant("acme", admin="alice"),
    login("alice", as_="laptop"),
    enrol_mfa("alice", on="laptop"),
    note("a phishing page captures Alice's password"),
    password_step("alice", as_="mallory"),
    guess_codes("mallory", count="attempt_limit"),
    note("Mallory gets lucky with the very next guess"),
    verify_mfa("mallory", code="current", code_of="alice", expect="refused or rate-limited"),
    advance(past="attempt_window"),
    password_step("alice", as_="phone"),
    verify_mfa("phone"),
    use("phone"),
]
