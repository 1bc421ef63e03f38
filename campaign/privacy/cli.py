"""``flask supporters ...``: a supporter's rights exercised on their behalf, and the
retention jobs run by hand."""

import json

import click
from flask.cli import AppGroup
from sqlalchemy import select

from campaign.extensions import db
from campaign.jobs import run_job
from campaign.mailing.unsubscribe import email_key
from campaign.privacy.access import send_data_copy, supporter_data
from campaign.privacy.erasure import erase_supporter
from campaign.signatures.models import Supporter

supporters = AppGroup("supporters", help="Supporters' personal data.")


def _supporter_or_fail(email):
    supporter = db.session.scalars(
        select(Supporter).where(Supporter.email_key == email_key(email))).one_or_none()
    if supporter is None:
        raise click.ClickException(f"no supporter with the address {email}")
    return supporter


@supporters.command("data")
@click.argument("email")
@click.option("--send", is_flag=True, help="Email it to the supporter instead of printing it.")
def data_command(email, send):
    """Everything held on the supporter with EMAIL, as JSON."""
    supporter = _supporter_or_fail(email)
    if send:
        send_data_copy(supporter)
        db.session.commit()
        click.echo(f"a copy of their data is on its way to {supporter.email}")
    else:
        click.echo(json.dumps(supporter_data(supporter), ensure_ascii=False, indent=2))


@supporters.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do it without asking.")
def erase_command(email, yes):
    """Erase the supporter with EMAIL and everything that names them."""
    supporter = _supporter_or_fail(email)
    if not yes:
        click.confirm(f"Erase {supporter.email} and all their signatures, RSVPs and "
                      "subscriptions? This cannot be undone", abort=True)
    erased = erase_supporter(supporter)
    db.session.commit()
    click.echo("erased: " + ", ".join(f"{count} {kind}" for kind, count in erased.items()))


@supporters.command("anonymise-closed")
def anonymise_command():
    """Anonymise the signatures of petitions closed longer than CLOSED_PETITION_DAYS."""
    click.echo(f"{run_job('placard.privacy.anonymise_closed_petitions')} signatures anonymised")


@supporters.command("discard-ip-hashes")
def discard_command():
    """Forget the IP hashes older than IP_HASH_DAYS."""
    click.echo(f"{run_job('placard.privacy.discard_ip_hashes')} IP hashes discarded")
