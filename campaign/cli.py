"""``flask`` commands. Each command is one transaction, like a request."""

import click
from flask import Flask
from flask.cli import AppGroup

from campaign.accounts.cli import register_account_commands
from campaign.jobs import run_job
from campaign.mailing.cli import mailing
from campaign.privacy.cli import supporters


def register_commands(app: Flask):
    register_account_commands(app)
    demo = AppGroup("demo", help="Demo data.")

    @demo.command("load")
    def demo_load():
        """Load the demo campaign (safe to run again)."""
        from campaign.demo import load_demo
        from campaign.extensions import db

        campaign = load_demo()
        db.session.commit()
        click.echo(f"Demo campaign ready: /campaigns/{campaign.slug}")

    outbox = AppGroup("outbox", help="The outgoing email queue.")

    @outbox.command("sweep")
    def outbox_sweep():
        """Dispatch again every email left pending (after a broker outage)."""
        click.echo(f"{run_job('placard.mail.sweep_outbox')} emails dispatched again")

    signatures = AppGroup("signatures", help="Signature upkeep.")

    @signatures.command("recount")
    def signatures_recount():
        """Recount every petition's confirmed signatures and repair the counts."""
        click.echo(f"{run_job('placard.petitions.recount')} counts corrected")

    @signatures.command("purge-expired")
    def signatures_purge():
        """Delete signatures never confirmed in time, and old sent emails."""
        click.echo(f"{run_job('placard.signatures.purge_expired')} unconfirmed signatures deleted")

    for group in (demo, outbox, signatures, mailing, supporters):
        app.cli.add_command(group)
