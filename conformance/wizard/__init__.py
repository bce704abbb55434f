"""``authconform init``: probe a target, write a starter profile with every guess marked for
review, and validate it with a dry run (see ``docs/targets.md``)."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from conformance import exitcodes, registry
from conformance.errors import UsageError
from conformance.profile import load
from conformance.wizard.draft import GUESS, render
from conformance.wizard.probe import Options, Prober

DEFAULT_OUTPUT = "authconform-profile.toml"


def add_parser(commands: Any) -> None:
    init = commands.add_parser("init", help="probe a target and write a starter profile (guesses marked)")
    init.add_argument("--target", required=True, help="base URL of the service to describe")
    init.add_argument("-o", "--output", default=DEFAULT_OUTPUT, metavar="FILE", help="where to write the profile")
    init.add_argument("--force", action="store_true", help="write over an existing file")
    init.add_argument("--no-signup", action="store_true",
                      help="never create a throwaway user, even where the target has a sign-up route")
    init.add_argument("--username-env", metavar="VAR", default="",
                      help="environment variable holding the username of an existing account")
    init.add_argument("--password-env", metavar="VAR", default="",
                      help="environment variable holding that account's password (never pass it as an argument)")
    init.add_argument("--tenant", default="", help="the account's tenant, where logins name one")
    init.add_argument("--client-id", default="", help="OAuth2 client_id, for a token endpoint that wants one")
    init.add_argument("--client-secret-env", metavar="VAR", default="",
                      help="environment variable holding the OAuth2 client secret")
    init.add_argument("--client-auth", choices=("basic", "body"), default="basic",
                      help="how the client credentials go: HTTP Basic (default) or form fields")


def cmd_init(args: argparse.Namespace, *, environ: dict[str, str] | None = None,
             say: Callable[[str], None] = print) -> int:
    output = Path(args.output)
    if output.exists() and not args.force:
        raise UsageError(f"{output} exists: pass --force to write over it, or -o another file")
    if bool(args.username_env) != bool(args.password_env):
        raise UsageError("pass --username-env and --password-env together (the names of two environment variables)")
    environ = dict(os.environ if environ is None else environ)
    options = Options(target=args.target, signup=not args.no_signup, username_env=args.username_env,
                      password_env=args.password_env, tenant=args.tenant, client_id=args.client_id,
                      client_secret_env=args.client_secret_env, client_method=args.client_auth, environ=environ)
    draft = Prober(options, say).run()
    text = render(draft)
    output.write_text(text)
    guesses = sum(1 for line in text.splitlines() if f"# {GUESS}" in line)
    say(f"wrote {output}: {len(draft.capabilities)} capabilities declared, {guesses} lines marked {GUESS}")
    return validate(output, draft.environment, environ, say)


def validate(path: Path, variables: list[str], environ: dict[str, str], say: Callable[[str], None]) -> int:
    """Load the written profile and list, as a dry run does, what would run and what not."""
    from conformance.runner import Deployment, unmet_needs
    from conformance.targets.base import Target

    missing = [name for name in variables if name not in environ]
    placeholders = {name: "placeholder" for name in missing}
    profile = load(path, environ={**environ, **placeholders})  # a ProfileError here is a bug of init
    if missing:
        say("before running, export " + ", ".join(missing))

    class _NoTarget:
        abilities: frozenset[str] = frozenset()

    deployment = Deployment(cast(Target, _NoTarget()), profile, None)
    runs = [check for check in registry.all_checks() if not unmet_needs(check, deployment)]
    say(f"dry run: {len(runs)} of {len(registry.all_checks())} checks would run; the others are not applicable "
        f"(see: authconform run --dry-run --profile {path})")
    say(f"next: review the {GUESS} lines, then: authconform run --profile {path}")
    return exitcodes.OK


def guessed_lines(text: str) -> list[str]:
    """The lines of a profile ``init`` marked for review."""
    return [line for line in text.splitlines() if re.search(rf"#\s*{GUESS}\b", line)]
