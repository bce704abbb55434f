"""Developer sessions: tests, lint, typecheck, selftest, schemathesis_deep."""

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("pytest", "-n", "2", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    session.install("ruff")
    session.run("ruff", "check", "conformance", "reference_impl", "reports", "scenarios", "tests", "bench")


@nox.session
def typecheck(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("mypy", "conformance", "reference_impl", "reports", "scenarios")


@nox.session
def selftest(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    session.run("authconform", "selftest", *session.posargs)


@nox.session
def no_false_pass(session: nox.Session) -> None:
    """The whole no-false-pass matrix: every fault under each condition of the reference."""
    session.install("-e", ".[dev]")
    session.run("authconform", "selftest", "--conditions", *session.posargs)


@nox.session
def thorough_properties(session: nox.Session) -> None:
    """The property and model checks in their deeper hypothesis profile, on the clean reference."""
    session.install("-e", ".[dev]")
    session.run("authconform", "run", "--area", "properties", env={"AUTHCONF_HYPOTHESIS_PROFILE": "thorough"})


# Examples per operation for the long Schemathesis run (the test run's own is a handful).
DEEP_EXAMPLES = 100


@nox.session
def schemathesis_deep(session: nox.Session) -> None:
    """Schemathesis against the reference (in-process, and served with Redis) with many more examples."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-p", "no:xdist", "-m", "schemathesis", "-s", "tests/reference/test_openapi_schemathesis.py",
                *session.posargs, env={"SCHEMATHESIS_EXAMPLES": str(DEEP_EXAMPLES)})
