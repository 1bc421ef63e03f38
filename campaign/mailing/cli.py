"""``flask mailing …``: bounces, complaints and unsubscribes by email, for operators
and for the mail server (``unsubscribe-mail`` is what an MTA pipes messages to).
Each command is one transaction."""

import sys
from email import policy
from email.parser import BytesHeaderParser

import click
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from campaign.campaigns.models import Campaign
from campaign.extensions import db
from campaign.mailing.notices import NoticeError, apply_notices, parse_notices, parse_notices_json
from campaign.mailing.unsubscribe import SOFT_BOUNCE_LIMIT, email_key, process_unsubscribe_subject

# The headers of a message are what counts; a huge body is read and dropped, so
# the MTA feeding the pipe never sees it closed early.
MAX_MESSAGE_BYTES = 1024 * 1024
# sysexits.h: tells the MTA to keep the message and try again later.
EX_TEMPFAIL = 75

REASON_NAMES = {"hard_bounce": "hard bounce", "soft_bounces": "repeated soft bounces",
                "complaint": "complaint"}

mailing = AppGroup("mailing", help="Mailing lists: bounces, complaints, unsubscribes by email.")


def _describe(notice, suppression):
    key = email_key(notice.email)
    if notice.type == "complaint":
        return f"{key}: suppressed (complaint) and unsubscribed from every campaign"
    if suppression.reason is not None:
        return f"{key}: suppressed ({REASON_NAMES[suppression.reason.value]})"
    return (f"{key}: {suppression.soft_bounces} soft bounce(s) so far, "
            f"suppressed at {SOFT_BOUNCE_LIMIT}")


def _apply(notices):
    suppressions = apply_notices(notices)
    db.session.commit()
    for notice, suppression in zip(notices, suppressions, strict=True):
        click.echo(_describe(notice, suppression))


def _one_notice(**notice):
    try:
        return parse_notices({"notices": [notice]})
    except NoticeError as wrong:
        raise click.BadParameter(str(wrong).removeprefix("notices[0].")) from None


@mailing.command("bounce")
@click.argument("email")
@click.option("--soft", is_flag=True, help="A temporary failure; the third one suppresses.")
@click.option("--detail", default="", help="The mail server's answer, kept with the record.")
def bounce(email, soft, detail):
    """Record a bounce: a hard one suppresses EMAIL at once."""
    _apply(_one_notice(type="bounce", email=email, bounce="soft" if soft else "hard",
                       detail=detail))


@mailing.command("complaint")
@click.argument("email")
@click.option("--detail", default="", help="What the feedback report said.")
def complaint(email, detail):
    """Record a spam complaint: suppress EMAIL and unsubscribe it from every campaign."""
    _apply(_one_notice(type="complaint", email=email, detail=detail))


@mailing.command("notices")
@click.argument("file", type=click.File("rb"))
def notices(file):
    """Apply a JSON batch of notices, as the bounce webhook takes them (FILE, or - for stdin).

    Nothing is applied unless the whole batch is right.
    """
    try:
        batch = parse_notices_json(file.read(), limit=None)
    except NoticeError as wrong:
        raise click.ClickException(f"nothing applied: {wrong}") from None
    _apply(batch)
    click.echo(f"{len(batch)} notices applied")


def _read_message_headers(stream):
    kept = stream.read(MAX_MESSAGE_BYTES)
    while stream.read(64 * 1024):
        pass
    return BytesHeaderParser(policy=policy.default).parsebytes(kept)


@mailing.command("unsubscribe-mail")
@click.pass_context
def unsubscribe_mail(ctx):
    """Unsubscribe the token in the Subject of the message on stdin (RFC 5322), for the
    UNSUBSCRIBE_MAILTO address's pipe. A message without a working token is dropped
    (exit 0, so nobody gets a bounce); a database failure exits 75 so the MTA retries."""
    message = _read_message_headers(sys.stdin.buffer)
    try:
        subject = str(message.get("Subject") or "")
    except Exception:  # a header too broken for the parser to decode
        subject = ""
    try:
        subscription = process_unsubscribe_subject(subject)
        campaign = (db.session.get(Campaign, subscription.campaign_id)
                    if subscription is not None else None)
        title = campaign.title if campaign is not None else ""
        db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        click.echo(f"database unavailable, try again later: {type(error).__name__}", err=True)
        ctx.exit(EX_TEMPFAIL)
    if subscription is None:
        click.echo("no working unsubscribe token in the subject: nothing done")
    else:
        click.echo(f"subscription {subscription.id} unsubscribed (campaign “{title}”)")
