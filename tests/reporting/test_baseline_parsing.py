"""Baseline files are validated by their model: each mistake names the file, the entry and the fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reports import baseline


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[expected]]\ncheck = "TOK-ALG-NONE"\nexpires = "soon"\n', "entry 1: expires 'soon' is not a date; "
                                                                     "write it as YYYY-MM-DD"),
        ('[[expected]]\ncheck = "A"\n[[expected]]\ncheck = "B"\nreasn = "x"\n', "entry 2: unknown field 'reasn'; "
                                                                               "did you mean 'reason'?"),
        ('[[expected]]\nreason = "x"\n', 'entry 1: every entry needs check = "CHECK-ID"'),
        ('[[expected]]\ncheck = ""\n', 'entry 1: every entry needs check = "CHECK-ID"'),
        ('expected = "all"\n', "expected a list of [[expected]] entries"),
    ],
)
def test_a_wrong_baseline_names_the_entry_and_the_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "b.toml"
    path.write_text(text)
    with pytest.raises(baseline.BaselineError) as caught:
        baseline.load(path)
    assert str(caught.value) == f"{path}: {message}"


def test_dates_and_datetimes_are_days(tmp_path: Path) -> None:
    path = tmp_path / "b.toml"
    path.write_text('[[expected]]\ncheck = "A"\nexpires = 2030-01-02\n[[expected]]\ncheck = "B"\n'
                    'expires = 2030-01-03T10:00:00\ntarget = "https://staging.*"\n')
    first, second = baseline.load(path)
    assert (first.expires, second.expires, second.target) == (dt.date(2030, 1, 2), dt.date(2030, 1, 3),
                                                              "https://staging.*")
    assert first.reason == "" and first.target == ""
