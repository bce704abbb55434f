"""``flask --app reference_impl create-user``: the only way to make a superadmin."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from reference_impl.errors import Conflict

ROLE_NAMES = ("viewer", "editor", "admin", "superadmin")


@click.command("create-user")
@click.option("--username", required=True, help="1-64 characters of A-Z a-z 0-9 _ . @ -")
@click.option("--tenant", required=True, help="1-64 characters of a-z 0-9 - (created when missing)")
@click.option("--role", type=click.Choice(ROLE_NAMES), default="viewer", show_default=True)
@click.option("--password-env", metavar="VAR", help="read the password from this environment variable "
                                                     "(otherwise it is prompted for)")
@with_appcontext
def create_user_command(username: str, tenant: str, role: str, password_env: str | None) -> None:
    """Create a user of any role directly in the database."""
    from reference_impl.users import provision_user

    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise click.UsageError(f"--password-env {password_env}: that environment variable is not set")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_id = provision_user(current_app._get_current_object(), username=username,  # type: ignore[attr-defined]
                                 password=password, tenant=tenant, role=role)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except Conflict:
        raise click.ClickException(f"user {username!r} already exists in tenant {tenant!r}") from None
    click.echo(f"created {role} {username} in tenant {tenant} (id {user_id})")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_user_command)
