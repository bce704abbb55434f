"""Developer sessions: tests, lint, typecheck, selftest."""

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
