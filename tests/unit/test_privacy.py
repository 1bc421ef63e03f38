"""The privacy notice follows the settings; IP hashes are forgotten after their time."""

import re
from datetime import timedelta

from sqlalchemy import func, select

from campaign.db import utcnow
from campaign.events.models import Rsvp
from campaign.extensions import db
from campaign.petitions.models import PetitionStatus, set_petition_status
from campaign.petitions.services import confirmed_counts
from campaign.petitions.stats import petition_numbers
from campaign.privacy.retention import anonymise_closed_petitions, discard_old_ip_hashes
from campaign.signatures.models import Signature, Supporter
from campaign.signatures.services import confirm_signature, purge_expired_signatures, sign_petition
from tests.conftest import Outbox
from tests.factories import make_campaign, make_petition, signer
from tests.factories_events import make_event, make_rsvp


def test_the_notice_states_the_configured_periods_and_contact(make_app):
    app = make_app(PENDING_SIGNATURE_DAYS=14, IP_HASH_DAYS=7, CONFIRM_TOKEN_HOURS=48,
                   ORGANISATION_NAME="Peace Alliance", ORGANISATION_ADDRESS="1 Peace St, Toronto",
                   PRIVACY_CONTACT="privacy@peace.example", CLOSED_PETITION_DAYS=90)
    page = app.test_client().get("/privacy")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for expected in ("Peace Alliance", "1 Peace St, Toronto", "after 14 days", "after 7 days",
                     "within 48 hours", "privacy@peace.example", "never your email address",
                     "90 days after a petition closes"):
        assert expected in text


def test_the_notice_in_french(make_app):
    app = make_app(IP_HASH_DAYS=1)
    page = app.test_client().get("/privacy", headers={"Accept-Language": "fr-CA"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "données personnelles" in text
    assert "1 jour" in text


def test_every_page_links_to_the_notice(client):
    assert 'href="/privacy"' in client.get("/").get_data(as_text=True)


def test_the_sign_form_says_what_signing_records_and_leaves_the_list_box_unticked(ctx, client):
    campaign = make_campaign()
    petition = make_petition(campaign)
    db.session.commit()
    page = client.get(f"/petitions/{petition.slug}").get_data(as_text=True)
    assert "Signing records" in page
    assert 'href="/privacy"' in page
    box = re.search(rf'<input[^>]*name="p{petition.id}-wants_updates"[^>]*>', page).group(0)
    assert "checked" not in box


def test_ip_hashes_are_forgotten_after_their_time_and_not_before(ctx):
    campaign = make_campaign()
    petition = make_petition(campaign)
    now = utcnow()
    sign_petition(petition, signer(email="old@example.org"))
    sign_petition(petition, signer(email="recent@example.org"))
    old, recent = db.session.scalars(select(Signature).order_by(Signature.id)).all()
    old.ip_hash, old.created_at = "a" * 32, now - timedelta(days=31)
    recent.ip_hash, recent.created_at = "b" * 32, now - timedelta(days=29)
    db.session.commit()
    assert discard_old_ip_hashes(now=now) == 1
    assert discard_old_ip_hashes(now=now) == 0  # idempotent
    db.session.commit()
    assert db.session.get(Signature, old.id).ip_hash is None
    assert db.session.get(Signature, recent.id).ip_hash == "b" * 32


# --- Anonymising closed petitions -------------------------------------------------------------

def _signed_and_confirmed(ctx, petition, email, **details):
    sign_petition(petition, signer(email=email, **details))
    db.session.commit()
    messages = Outbox(ctx).to(email)
    return confirm_signature(Outbox.link(messages[-1]).rsplit("/", 1)[1])


def _figures(petition):
    numbers = petition_numbers(petition.id)
    return (numbers.confirmed, numbers.invalidated, numbers.countries, numbers.postal_areas,
            petition_count(petition))


def petition_count(petition):
    return confirmed_counts([petition.id])


def test_a_closed_petitions_signers_are_anonymised_after_the_period_keeping_its_figures(ctx):
    now = utcnow()
    campaign = make_campaign()
    closed = make_petition(campaign)
    still_open = make_petition(campaign)
    db.session.commit()
    _signed_and_confirmed(ctx, closed, "ada@example.org", comment="For peace", postal_code="M5V 2T6")
    _signed_and_confirmed(ctx, closed, "grace@example.org", postal_code="H2X 1Y4", country="CA")
    _signed_and_confirmed(ctx, closed, "both@example.org", postal_code="m5v 3l9")
    _signed_and_confirmed(ctx, still_open, "both@example.org")
    _signed_and_confirmed(ctx, closed, "goer@example.org", postal_code="K1A 0B1")
    make_rsvp(make_event(campaign), "goer@example.org")
    sign_petition(closed, signer(email="pending@example.org"))
    db.session.commit()
    before = _figures(closed)

    set_petition_status(closed, PetitionStatus.CLOSED, now=now - timedelta(days=184))
    db.session.commit()
    assert anonymise_closed_petitions(now=now) == 4
    db.session.commit()

    assert _figures(closed) == before  # counts, countries, postal-code areas
    rows = db.session.scalars(select(Signature).where(Signature.petition_id == closed.id)).all()
    assert len(rows) == 4  # the pending one is gone
    for row in rows:
        assert (row.supporter_id, row.first_name, row.last_name, row.comment, row.ip_hash) \
            == (None, "", "", "", None)
        assert row.anonymised_at is not None and len(row.postal_code) <= 3
    emails = set(db.session.scalars(select(Supporter.email)).all())
    # Kept: a supporter who signed an open petition too, and one with an RSVP.
    assert emails == {"both@example.org", "goer@example.org"}
    assert db.session.scalar(select(func.count()).select_from(Signature).where(
        Signature.petition_id == still_open.id, Signature.supporter_id.is_not(None))) == 1
    assert anonymise_closed_petitions(now=now) == 0  # idempotent


def test_nothing_is_anonymised_before_the_period_or_while_open(ctx):
    now = utcnow()
    recent = make_petition(status=PetitionStatus.OPEN)
    open_long = make_petition(status=PetitionStatus.OPEN)
    past_deadline = make_petition()
    db.session.commit()
    for number, petition in enumerate((recent, open_long, past_deadline)):
        _signed_and_confirmed(ctx, petition, f"s{number}@example.org")
    past_deadline.deadline_at = now - timedelta(days=200)
    set_petition_status(recent, PetitionStatus.CLOSED, now=now - timedelta(days=100))
    db.session.commit()
    assert anonymise_closed_petitions(now=now) == 1  # only the one whose deadline passed long ago
    db.session.commit()
    assert db.session.scalar(select(Signature.supporter_id).where(
        Signature.petition_id == past_deadline.id)) is None


def test_reopening_a_petition_forgets_when_it_closed(ctx):
    petition = make_petition()
    set_petition_status(petition, PetitionStatus.CLOSED)
    assert petition.closed_at is not None
    set_petition_status(petition, PetitionStatus.OPEN)
    assert petition.closed_at is None


def test_deleting_an_expired_signature_keeps_a_supporter_who_has_an_rsvp(ctx):
    campaign = make_campaign()
    petition = make_petition(campaign)
    db.session.commit()
    sign_petition(petition, signer(email="both@example.org"))
    make_rsvp(make_event(campaign), "both@example.org")
    db.session.commit()
    purge_expired_signatures(now=utcnow() + timedelta(days=31))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Rsvp)) == 1
    assert db.session.scalar(select(Supporter.id).where(Supporter.email == "both@example.org"))
