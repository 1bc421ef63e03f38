"""The mailing engine on SQLite, against a real SMTP server on loopback: the audience is
frozen once, each delivery sent once, unsubscribes and pauses honoured between two
messages, refusals recorded or retried, and every message well formed."""

from datetime import timedelta
from email.utils import parseaddr

import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from campaign.db import utcnow
from campaign.extensions import db
from campaign.mailing import sending
from campaign.mailing.audience import Audience
from campaign.mailing.compose import MailingDetails, create_mailing
from campaign.mailing.models import Delivery, DeliveryStatus, MailingStatus, Subscription
from campaign.mailing.render import unknown_merge_fields
from campaign.mailing.services import record_consent
from campaign.mailing.unsubscribe import unsubscribe
from campaign.signatures.models import Supporter
from campaign.signatures.services import find_or_create_supporter_id
from tests.factories import make_campaign
from tests.support.smtp import SmtpSink


@pytest.fixture
def sink():
    with SmtpSink() as server:
        yield server


@pytest.fixture
def smtp_app(make_app, sink):
    return make_app(MAIL_TRANSPORT="smtp", SMTP_PORT=sink.port, SMTP_HOST="127.0.0.1",
                    MAILING_BATCH_SIZE=7, ORGANISATION_ADDRESS="1 Peace Street, Toronto ON",
                    MAIL_FROM="Placard <news@placard.example>")


def subscribe(campaign, email, first_name="", **fields):
    supporter = db.session.get(Supporter, find_or_create_supporter_id(email, fields.pop("locale", "en")))
    supporter.first_name = first_name
    for name, value in fields.items():
        setattr(supporter, name, value)
    return record_consent(supporter, campaign, "Keep me informed", source="petition:test", now=utcnow())


def draft(campaign, body="Hello {{ first_name or \"friend\" }}, the picket is on Saturday.", **audience):
    return create_mailing(campaign, MailingDetails(subject="News for {{ first_name }}", body=body,
                                                   audience=Audience(**audience),
                                                   sender_name="Ana Organizer"), author=None)


def statuses(mailing):
    return sorted(db.session.scalars(select(Delivery.status).where(Delivery.mailing_id == mailing.id)))


def test_each_subscriber_gets_one_message_and_the_mailing_finishes(smtp_app, sink):
    with smtp_app.test_request_context():
        campaign = make_campaign()
        for number in range(20):
            subscribe(campaign, f"person{number}@example.org", first_name=f"P{number}")
        mailing = draft(campaign)
        db.session.commit()
        assert sending.start_mailing(mailing) == 20
        db.session.commit()  # in-process jobs: the batches run now
        assert db.session.get(type(mailing), mailing.id).status == MailingStatus.SENT
        # Running batches again sends nothing more.
        assert sending.send_batch(mailing.id).sent == 0
    recipients = sorted(message.envelope_to[0] for message in sink.messages)
    assert recipients == sorted(f"person{number}@example.org" for number in range(20))


def test_the_audience_is_frozen_when_sending_starts(smtp_app, sink):
    with smtp_app.test_request_context():
        campaign = make_campaign()
        subscribe(campaign, "early@example.org")
        mailing = draft(campaign)
        db.session.commit()
        sending.start_mailing(mailing)
        subscribe(campaign, "late@example.org")
        db.session.commit()
        with pytest.raises(sending.MailingStateError):
            sending.start_mailing(mailing)
    assert [message.envelope_to[0] for message in sink.messages] == ["early@example.org"]


def test_unsubscribed_suppressed_and_other_campaigns_are_left_out(smtp_app, sink):
    from campaign.mailing.models import Suppression, SuppressionReason

    with smtp_app.test_request_context():
        campaign, other = make_campaign(), make_campaign()
        subscribe(campaign, "in@example.org")
        unsubscribe(subscribe(campaign, "left@example.org"))
        subscribe(campaign, "bounced@example.org")
        db.session.add(Suppression(email_key="bounced@example.org", reason=SuppressionReason.HARD_BOUNCE))
        subscribe(other, "elsewhere@example.org")
        mailing = draft(campaign)
        db.session.commit()
        assert sending.start_mailing(mailing) == 1
        db.session.commit()
    assert [message.envelope_to[0] for message in sink.messages] == ["in@example.org"]


def test_an_unsubscribe_during_the_send_stops_the_message_to_that_person(smtp_app, sink):
    with smtp_app.test_request_context():
        campaign = make_campaign()
        subscriptions = [subscribe(campaign, f"p{number}@example.org") for number in range(5)]
        mailing = draft(campaign)
        db.session.commit()
        smtp_app.config["MAILING_PARALLEL_BATCHES"] = 0  # start without sending: we send by hand
        sending.start_mailing(mailing)
        db.session.info.pop("placard_jobs_after_commit", None)
        db.session.commit()
        unsubscribe(subscriptions[3])
        db.session.commit()
        result = sending.send_batch(mailing.id)
        assert (result.sent, result.skipped) == (4, 1)
        assert statuses(mailing) == ["sent"] * 4 + ["skipped"]
    assert "p3@example.org" not in {message.envelope_to[0] for message in sink.messages}


def test_a_paused_mailing_stops_and_resumes_where_it_stopped(smtp_app, sink):
    with smtp_app.test_request_context():
        campaign = make_campaign()
        for number in range(10):
            subscribe(campaign, f"p{number}@example.org")
        mailing = draft(campaign)
        db.session.commit()
        smtp_app.config["MAILING_PARALLEL_BATCHES"] = 0
        sending.start_mailing(mailing)
        db.session.info.pop("placard_jobs_after_commit", None)
        db.session.commit()
        sending.pause_mailing(mailing)
        db.session.commit()
        assert sending.send_batch(mailing.id).sent == 0
        sending.resume_mailing(mailing)
        db.session.info.pop("placard_jobs_after_commit", None)
        db.session.commit()
        assert sending.send_batch(mailing.id).sent == 10
    assert len(sink.messages) == 10


def test_refusals_are_recorded_or_retried(smtp_app, sink):
    sink.fail_next("gone@example.org", code=550, text="no such mailbox", times=None)
    sink.fail_next("busy@example.org", code=451, text="try later", times=1)
    sink.fail_next("late@example.org", code=452, text="out of space", stage="data", times=1)
    with smtp_app.test_request_context():
        campaign = make_campaign()
        for address in ("ok@example.org", "gone@example.org", "busy@example.org", "late@example.org"):
            subscribe(campaign, address)
        mailing = draft(campaign)
        db.session.commit()
        sending.start_mailing(mailing)
        db.session.commit()
        deliveries = {d.supporter.email if hasattr(d, "supporter") else d.supporter_id: d
                      for d in db.session.scalars(select(Delivery))}
        by_email = {db.session.get(Supporter, d.supporter_id).email: d for d in deliveries.values()}
        assert by_email["ok@example.org"].status == DeliveryStatus.SENT
        assert by_email["gone@example.org"].status == DeliveryStatus.FAILED
        assert "550" in by_email["gone@example.org"].last_error
        for address in ("busy@example.org", "late@example.org"):
            assert by_email[address].status == DeliveryStatus.QUEUED
            assert by_email[address].retry_at > utcnow()
        assert db.session.get(type(mailing), mailing.id).status == MailingStatus.SENDING

        # When their time comes, the periodic dispatch sends them.
        sending.dispatch_mailings(now=utcnow() + timedelta(hours=1))
        db.session.commit()  # the retries are due by then? only if retry_at passed
        for delivery in by_email.values():
            db.session.refresh(delivery)
        # retry_at is in real time: move it back and run a batch.
        for address in ("busy@example.org", "late@example.org"):
            by_email[address].retry_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        sending.send_batch(mailing.id)
        assert db.session.get(type(mailing), mailing.id).status == MailingStatus.SENT
    assert sorted(m.envelope_to[0] for m in sink.messages) == [
        "busy@example.org", "late@example.org", "ok@example.org"]


def test_an_unreachable_server_costs_no_attempt(make_app):
    from tests.support.services import free_port

    app = make_app(MAIL_TRANSPORT="smtp", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    with app.test_request_context():
        campaign = make_campaign()
        subscribe(campaign, "a@example.org")
        mailing = draft(campaign)
        db.session.commit()
        sending.start_mailing(mailing)
        db.session.commit()
        [delivery] = db.session.scalars(select(Delivery)).all()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 0)


def test_a_dead_batchs_claims_go_back_to_the_queue(smtp_app, sink):
    with smtp_app.test_request_context():
        campaign = make_campaign()
        subscribe(campaign, "a@example.org")
        mailing = draft(campaign)
        db.session.commit()
        smtp_app.config["MAILING_PARALLEL_BATCHES"] = 0
        sending.start_mailing(mailing)
        db.session.info.pop("placard_jobs_after_commit", None)
        db.session.commit()
        # A batch claims, then dies (its worker killed).
        sending._claim(mailing.id, "dead", 10, utcnow())
        db.session.commit()
        assert sending.send_batch(mailing.id).sent == 0
        smtp_app.config["MAILING_PARALLEL_BATCHES"] = 1
        lease = timedelta(seconds=smtp_app.config["MAILING_CLAIM_SECONDS"] + 1)
        sending.dispatch_mailings(now=utcnow() + lease)
        db.session.commit()
        assert statuses(mailing) == ["sent"]
    assert len(sink.messages) == 1


def test_messages_are_well_formed_and_carry_one_click_unsubscribe(smtp_app, sink):
    with smtp_app.test_request_context():
        campaign = make_campaign(title="Paix en Corée — 평화")
        subscribe(campaign, "kim@example.org", first_name="김 옥순")
        subscribe(campaign, "amelie@example.org", first_name="Amélie 🕊", locale="fr_CA")
        subscribe(campaign, "nameless@example.org")
        subscribe(campaign, "sneaky@example.org", first_name="{{ config }} <script>x</script>")
        mailing = draft(campaign)
        mailing.reply_to = "team@example.org"
        db.session.commit()
        sending.start_mailing(mailing)
        db.session.commit()
        subscription_ids = set(db.session.scalars(select(Subscription.id)))
    messages = {message.envelope_to[0]: message for message in sink.messages}
    assert len(messages) == 4
    assert len({message["Message-ID"] for message in messages.values()}) == 4
    for message in messages.values():
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = message["List-Unsubscribe"].strip().strip("<>")
        assert "/unsubscribe/" in link and int(link.rsplit("/", 1)[1].split("-")[0]) in subscription_ids
        assert parseaddr(message["From"]) == ("Ana Organizer", "news@placard.example")
        assert message["Reply-To"] == "team@example.org"
        assert message["Date"] and message.get_body(("plain",)) and message.get_body(("html",))
        text = message.get_body(("plain",)).get_content()
        assert "1 Peace Street, Toronto ON" in text and link in text
    assert messages["kim@example.org"]["Subject"] == "News for 김 옥순"
    assert "Hello 김 옥순," in messages["kim@example.org"].get_body(("plain",)).get_content()
    assert messages["amelie@example.org"]["Subject"] == "News for Amélie 🕊"
    assert "Hello friend," in messages["nameless@example.org"].get_body(("plain",)).get_content()
    sneaky = messages["sneaky@example.org"]
    assert "Hello {{ config }} <script>x</script>," in sneaky.get_body(("plain",)).get_content()
    html = sneaky.get_body(("html",)).get_content()
    assert "{{ config }} &lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    # The French recipient's footer is in French.
    assert "désabonner" in messages["amelie@example.org"].get_body(("plain",)).get_content().lower()


def test_merge_fields_outside_the_list_are_pointed_out():
    assert unknown_merge_fields("Hi {{ first_name }} {{ config }}", "{{ last_name or \"x\" }} {{ self }}") \
        == ["config", "self"]


def test_audience_narrowings(ctx):
    from campaign.mailing.compose import audience_size
    from campaign.signatures.models import Signature, SignatureStatus
    from tests.factories import make_petition
    from tests.factories_events import make_event, make_rsvp

    campaign = make_campaign()
    petition = make_petition(campaign=campaign)
    event = make_event(campaign)
    toronto = subscribe(campaign, "t@example.org", country="CA", postal_code="M5V 2T6")
    subscribe(campaign, "m@example.org", country="CA", postal_code="H2X 1Y4")
    subscribe(campaign, "s@example.org", country="KR", postal_code="04524")
    db.session.add(Signature(petition_id=petition.id, supporter_id=toronto.supporter_id,
                             status=SignatureStatus.CONFIRMED, first_name="T", last_name="O",
                             country="CA"))
    make_rsvp(event, "s@example.org")
    db.session.flush()
    assert audience_size(campaign.id) == 3
    assert audience_size(campaign.id, Audience(petition_id=petition.id)) == 1
    assert audience_size(campaign.id, Audience(event_id=event.id)) == 1
    assert audience_size(campaign.id, Audience(country="ca")) == 2
    assert audience_size(campaign.id, Audience(postal_prefix="m5v2")) == 1
    assert audience_size(campaign.id, Audience(postal_prefix="M5V 2")) == 1
    assert audience_size(campaign.id, Audience(postal_prefix="%")) == 0


def test_two_starts_at_once_freeze_the_audience_once(smtp_app, sink):
    with smtp_app.test_request_context():
        campaign = make_campaign()
        subscribe(campaign, "a@example.org")
        mailing = draft(campaign)
        db.session.commit()
        smtp_app.config["MAILING_PARALLEL_BATCHES"] = 0
        sending.start_mailing(mailing)
        # A second request that read the mailing while it was still a draft.
        set_committed_value(mailing, "status", MailingStatus.DRAFT)
        with pytest.raises(sending.MailingStateError):
            sending.start_mailing(mailing)
        assert statuses(mailing) == ["queued"]
