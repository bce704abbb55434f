"""The command line follows the conventions people bring from pytest and other CLIs: -v in either
place, a closed pipe ends quietly, selection filters narrow, bad option values are usage errors
(exit 2) and only those: a bug inside authconform exits 70."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import exitcodes, hypothesis_profiles, registry
from conformance.cli import BROKEN_PIPE, build_parser, main


def test_verbose_is_accepted_after_the_subcommand_too() -> None:
    assert build_parser().parse_args(["run", "-v"]).verbose is True
    assert build_parser().parse_args(["-v", "run"]).verbose is True
    assert build_parser().parse_args(["run"]).verbose is False
    assert build_parser().parse_args(["baseline", "write", "r.json", "-v"]).verbose is True


def test_a_closed_pipe_ends_quietly() -> None:
    # `authconform checks | head -1`: the reader leaves early. Here it leaves before the command
    # has written anything (it takes a while to start), so the first write meets a closed pipe.
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    with subprocess.Popen([sys.executable, "-m", "conformance.cli", "checks"], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()
        err = child.stderr.read().decode()
        code = child.wait(timeout=60)
    assert code in (exitcodes.OK, BROKEN_PIPE), err
    assert "Traceback" not in err and "BrokenPipe" not in err and "internal error" not in err


def test_a_bad_set_value_names_set_not_the_bundled_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--dry-run", "--set", "tokens.access_ttl=abc"]) == exitcodes.USAGE_OR_PROFILE
    err = capsys.readouterr().err
    assert "--set tokens.access_ttl" in err and "reference.toml" not in err, err


def test_area_and_check_narrow_and_repeats_add() -> None:
    tokens = registry.select(["tokens"])
    assert tokens and {c.area for c in tokens} == {"tokens"}
    assert [c.id for c in registry.select(["tokens"], ["TOK-ALG-NONE"])] == ["TOK-ALG-NONE"]
    assert [c.id for c in registry.select([], ["TOK-ALG-NONE", "REV-LOGOUT-ACCESS"])] == \
        ["TOK-ALG-NONE", "REV-LOGOUT-ACCESS"]
    both = registry.select(["tokens", "revocation"])
    assert {c.area for c in both} == {"tokens", "revocation"}
    assert [c.id for c in registry.select(["tokens"], ["TOK-ALG-NONE", "REV-LOGOUT-ACCESS"])] == ["TOK-ALG-NONE"]


def test_a_selection_that_leaves_nothing_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    # Before, --area tokens --check REV-LOGOUT-ACCESS ran every token check plus that one.
    assert main(["run", "--area", "tokens", "--check", "REV-LOGOUT-ACCESS"]) == exitcodes.USAGE_OR_PROFILE
    assert "REV-LOGOUT-ACCESS is in revocation" in capsys.readouterr().err


def test_run_help_states_the_selection_rules() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    text = commands.choices["run"].format_help()  # type: ignore[attr-defined]
    assert "narrow" in text and "--seed" in text and "--exitfirst" in text


@pytest.mark.parametrize("argv", [["--seed", "x"], ["--hypothesis-profile", "exhaustive"], ["--max-examples", "0"],
                                  ["--max-examples", "many"]])
def test_bad_hypothesis_options_are_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", *argv]) == exitcodes.USAGE_OR_PROFILE
    assert "Traceback" not in capsys.readouterr().err


def test_exitfirst_stops_after_the_first_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--area", "tokens", "--fault", "accept-alg-none", "-x", "--report-dir", str(tmp_path)])
    assert code == exitcodes.CONFORMANCE_FAILURE
    report = json.loads((tmp_path / "report.json").read_text())
    ids = [c["id"] for c in report["checks"]]
    assert ids[-1] == "TOK-ALG-NONE" and len(ids) < len(registry.select(["tokens"]))
    assert "stopped after the first failure (-x)" in capsys.readouterr().out


def test_seed_profile_and_examples_reach_the_checks_and_the_report(tmp_path: Path) -> None:
    code = main(["run", "--check", "PROP-MALFORMED-TOKEN", "--hypothesis-profile", "thorough", "--seed", "77",
                 "--max-examples", "5", "--report-dir", str(tmp_path)])
    assert code == exitcodes.OK
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["hypothesis_profile"] == "thorough"
    assert str(report["run"]["hypothesis_seed"]) == "77" and report["checks"][0]["hypothesis_seed"] == 77
    assert hypothesis_profiles.SEED_ENV not in os.environ  # the run's options do not outlive it


def test_one_seed_per_run_under_a_randomized_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before, each property check drew its own seed, so the report header named one seed and a
    # check's card another.
    monkeypatch.setenv(hypothesis_profiles.PROFILE_ENV, "thorough")
    monkeypatch.setenv(hypothesis_profiles.SEED_ENV, "")  # unset for seed(); restored after the test
    first = hypothesis_profiles.seed()
    assert first is not None and hypothesis_profiles.seed() == first
    assert os.environ[hypothesis_profiles.SEED_ENV] == str(first)


@pytest.mark.parametrize("error", [KeyError, ValueError])
def test_an_internal_bug_exits_70_not_2(error: type[Exception], monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*_args: object, **_kwargs: object) -> list[registry.Check]:
        raise error("a harness bug")

    monkeypatch.setattr(registry, "select", broken)
    assert main(["checks"]) == exitcodes.INTERNAL_ERROR
    assert f"internal error: {error.__name__}" in capsys.readouterr().err


def test_project_usage_errors_still_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--check", "TOK-NOPE"]) == exitcodes.USAGE_OR_PROFILE
    assert main(["run", "--fault", "no-such-fault"]) == exitcodes.USAGE_OR_PROFILE
    assert main(["compare", "only-one.json"]) == exitcodes.USAGE_OR_PROFILE
    assert "Traceback" not in capsys.readouterr().err
