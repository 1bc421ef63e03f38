"""``flask create-admin``: the first administrator, or a way back in for a locked-out one."""

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from campaign.accounts import services
from campaign.extensions import db


@click.command("create-admin")
@click.argument("email")
@with_appcontext
def create_admin_command(email):
    """Create an administrator with EMAIL, or make that account one.

    The password is asked for twice and never shown; it is never an argument,
    so it stays out of the shell's history and the process list.
    """
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    # No request, so no visitor language: messages in the site's default one.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            user, created = services.create_admin(email, password)
        except services.WeakPassword as weak:
            db.session.rollback()
            raise click.ClickException(
                "Password refused:\n" + "\n".join(f"  - {problem}" for problem in weak.problems)
            ) from None
        except services.AccountError as refused:
            db.session.rollback()
            raise click.ClickException(str(refused.message)) from None
    address = user.email
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} administrator {address}")


def register_account_commands(app: Flask):
    app.cli.add_command(create_admin_command)
