"""The profile ``init`` drafts is valid TOML whatever the target answered: every value parses back
to what was observed (quotes, backslashes, newlines, control characters, any unicode), every
note stays a one-line comment, and the GUESS markers are where a reviewer looks for them."""

from __future__ import annotations

import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.wizard import guessed_lines
from conformance.wizard.draft import GUESS, Draft, DraftOperation, Value, render

# Any text, surrogates aside (no JSON answer or header can carry one into a Python str we write).
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
AWKWARD = st.sampled_from(['"', "\\", "\n", "\r\n", "\t", "\x00", "\x7f", "'''", '"""', "#", "=", "[x]",
                           "\u00e9", "\u2028", "\U0001f600", "${VAR}", " "])
VALUE_TEXT = st.one_of(TEXT, st.lists(st.one_of(AWKWARD, TEXT), max_size=6).map("".join))
SCALAR = st.one_of(VALUE_TEXT, st.booleans(), st.integers(-(2**63), 2**63 - 1),
                   st.floats(allow_nan=False, allow_infinity=False))
KEY = st.one_of(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), VALUE_TEXT.filter(bool))


@st.composite
def drafts(draw: st.DrawFn) -> Draft:
    draft = Draft(base_url=draw(VALUE_TEXT), name=draw(VALUE_TEXT))
    draft.notes = draw(st.lists(VALUE_TEXT, max_size=3))
    draft.environment = draw(st.lists(VALUE_TEXT, max_size=2))
    values = st.dictionaries(KEY, st.builds(Value, SCALAR, VALUE_TEXT, st.booleans()), max_size=4)
    draft.target = draw(values)
    draft.tokens = draw(values)
    draft.users = draw(values)
    draft.accounts = draw(st.lists(values.filter(bool), max_size=2))
    draft.declare("refresh", draw(VALUE_TEXT), guess=draw(st.booleans()))
    draft.leave_out("logout", draw(VALUE_TEXT))
    mapping = st.dictionaries(KEY, VALUE_TEXT, max_size=3)
    draft.operations = draw(st.dictionaries(
        st.from_regex(r"[a-z_]{1,10}", fullmatch=True),
        st.builds(DraftOperation, VALUE_TEXT, VALUE_TEXT, body=VALUE_TEXT, fields=mapping, extra=mapping,
                  auth=VALUE_TEXT, refresh_in=VALUE_TEXT, note=VALUE_TEXT, guess=st.booleans()),
        max_size=2))
    return draft


def _plain(values: dict[str, Value]) -> dict[str, object]:
    return {key: value.value for key, value in values.items()}


@settings(max_examples=60, deadline=None)
@given(drafts())
def test_a_draft_parses_back_to_the_values_it_was_given(draft: Draft) -> None:
    text = render(draft)
    parsed = tomllib.loads(text)  # raises on any invalid TOML
    assert parsed["name"] == (draft.name or draft.base_url)
    assert parsed["capabilities"] == ["refresh"]
    for table in ("target", "tokens"):
        assert parsed.get(table, {}) == _plain(getattr(draft, table))
    users = dict(parsed.get("users", {}))
    assert users.pop("accounts", []) == [_plain(account) for account in draft.accounts]
    assert users == _plain(draft.users)
    for name, op in draft.operations.items():
        written = parsed["operations"][name]
        assert (written["method"], written["path"]) == (op.method, op.path)
        assert written.get("body", "json") == op.body and written.get("auth", "access") == op.auth
        assert written.get("refresh_in", "") == op.refresh_in
        assert written.get("fields", {}) == op.fields and written.get("extra", {}) == op.extra


@settings(max_examples=30, deadline=None)
@given(drafts())
def test_every_guess_stays_a_marked_line_a_reviewer_can_find(draft: Draft) -> None:
    text = render(draft)
    guessed = guessed_lines(text)
    # The undeclared capability is a marked, commented-out line that switches on by uncommenting.
    line = next(line for line in guessed if '"logout",' in line)
    assert line.lstrip().startswith('# "logout",')
    assert tomllib.loads(line.replace("#", "", 1).split("  #")[0].join(["x = [", "]"]))["x"] == ["logout"]
    expected = sum(value.guess for table in (draft.target, draft.tokens, draft.users, *draft.accounts)
                   for value in table.values())
    expected += sum(op.guess for op in draft.operations.values()) + draft.capabilities["refresh"].guess
    marked = [line for line in guessed if '"logout",' not in line and not line.startswith("# Review")]
    assert len(marked) == expected, text


def test_a_guess_reads_as_a_person_writes_it() -> None:
    draft = Draft(base_url="http://127.0.0.1:8000")
    draft.target["max_wait"] = Value(120.0, "longest real wait\nof a check", guess=True)
    draft.operations["me"] = DraftOperation("GET", "/users/me", note="observed")
    text = render(draft)
    assert f"max_wait = 120.0  # {GUESS}: longest real wait of a check\n" in text
    assert "[operations.me]  # observed\n" in text
