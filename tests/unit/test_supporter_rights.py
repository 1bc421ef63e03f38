"""A supporter's rights of access and erasure, exercised by the services and the CLI."""

import json

from sqlalchemy import func, select

from campaign.accounts.models import AuditEntry
from campaign.events.models import Rsvp, RsvpStatus
from campaign.extensions import db
from campaign.mailing.models import Subscription, Suppression
from campaign.mailing.unsubscribe import is_suppressed, record_bounce
from campaign.petitions.services import confirmed_counts
from campaign.privacy.access import send_data_copy, supporter_data
from campaign.privacy.erasure import erase_supporter
from campaign.signatures.models import Signature, Supporter
from campaign.signatures.services import confirm_signature, sign_petition
from tests.conftest import Outbox
from tests.factories import make_campaign, make_petition, signer
from tests.factories_events import make_event, make_rsvp

ADDRESS = "hana.kim@example.org"


def _sign_and_confirm(app, petition, email, **details):
    sign_petition(petition, signer(email=email, **details))
    db.session.commit()
    confirm_signature(Outbox.link(Outbox(app).to(email)[-1]).rsplit("/", 1)[1])
    db.session.commit()


def _supporter(email=ADDRESS):
    return db.session.scalars(select(Supporter).where(Supporter.email_key == email)).one_or_none()


def _a_supporter_with_everything(app):
    campaign = make_campaign(title="Peace Treaty Now")
    petition = make_petition(campaign, title="Sign a peace treaty")
    other = make_petition(campaign, title="Troops home")
    event = make_event(campaign, title="Armistice Day picket", capacity=1)
    db.session.commit()
    _sign_and_confirm(app, petition, ADDRESS, first_name="Hana", last_name="Kim",
                      comment="For my grandmother", wants_updates=True,
                      consent_wording="Keep me informed")
    _sign_and_confirm(app, other, ADDRESS, first_name="Hana", last_name="Kim")
    _sign_and_confirm(app, petition, "someone.else@example.org")
    make_rsvp(event, ADDRESS, name="Hana Kim")
    make_rsvp(event, "waiting@example.org", status=RsvpStatus.WAITLISTED, name="Waiting One")
    record_bounce(ADDRESS, hard=True, detail="550 mailbox full of war")
    db.session.commit()
    return campaign, petition, other, event


def test_the_data_copy_holds_every_record(app, ctx):
    _campaign, _petition, _other, _event = _a_supporter_with_everything(app)
    data = supporter_data(_supporter())
    assert data["person"]["email"] == ADDRESS
    assert {s["petition"] for s in data["signatures"]} == {"Sign a peace treaty", "Troops home"}
    assert any(s["comment"] == "For my grandmother" for s in data["signatures"])
    assert [r["event"] for r in data["rsvps"]] == ["Armistice Day picket"]
    assert data["mailing_lists"][0]["consent_wording"] == "Keep me informed"
    assert data["suppression"]["reason"] == "hard_bounce"
    assert len(data["emails"]) >= 2  # the two confirmation emails

    send_data_copy(_supporter())
    db.session.commit()
    message = Outbox(app).to(ADDRESS)[-1]
    attachment = next(part for part in message.iter_attachments()
                      if part.get_filename() == "placard-data.json")
    attached = json.loads(attachment.get_content() if isinstance(attachment.get_content(), str)
                          else attachment.get_content().decode())
    assert attached["signatures"] == json.loads(json.dumps(data["signatures"]))
    text = Outbox.text(message)
    for expected in ("Sign a peace treaty", "Troops home", "Armistice Day picket",
                     "Keep me informed", "For my grandmother"):
        assert expected in text


def _every_value_in_the_database():
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).all():
            values.extend(str(value) for value in row)
    return "\n".join(values)


def test_erasure_removes_the_person_everywhere_and_the_counts_drop(app, ctx):
    _campaign, petition, other, _event = _a_supporter_with_everything(app)
    assert confirmed_counts([petition.id])[petition.id] == 2
    erased = erase_supporter(_supporter())
    db.session.commit()

    assert erased["signatures"] == 2 and erased["rsvps"] == 1 and erased["subscriptions"] == 1
    assert confirmed_counts([petition.id, other.id]) == {petition.id: 1, other.id: 0}
    everything = _every_value_in_the_database()
    for trace in (ADDRESS, "Hana", "Kim", "grandmother", "mailbox full of war"):
        assert trace not in everything, trace
    # The place went to the waiting list.
    assert db.session.scalar(select(Rsvp.status).where(Rsvp.name == "Waiting One")) \
        == RsvpStatus.CONFIRMED
    # The audit log says that an erasure happened, and nothing of whom.
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "supporter.erased")).one()
    assert ADDRESS not in entry.reason
    # Other people's records stay.
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1


def test_an_erased_address_that_comes_back_is_still_suppressed(app, ctx):
    _campaign, petition, _other, _event = _a_supporter_with_everything(app)
    erase_supporter(_supporter())
    db.session.commit()
    assert not is_suppressed(ADDRESS)  # nobody with that address is known now...
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 1
    _sign_and_confirm(app, petition, ADDRESS, wants_updates=True, consent_wording="Keep me informed")
    assert db.session.scalar(select(func.count()).select_from(Subscription)) == 1
    assert is_suppressed(ADDRESS)  # ...and when it comes back, its hard bounce still holds


def test_the_commands(app, ctx):
    _a_supporter_with_everything(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["supporters", "data", ADDRESS])
    assert result.exit_code == 0 and json.loads(result.output)["person"]["email"] == ADDRESS
    assert runner.invoke(args=["supporters", "data", "nobody@example.org"]).exit_code != 0
    result = runner.invoke(args=["supporters", "erase", ADDRESS], input="n\n")
    assert result.exit_code != 0 and _supporter() is not None
    result = runner.invoke(args=["supporters", "erase", ADDRESS, "--yes"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _supporter() is None


def _admin_client(app):
    from campaign.accounts.models import User, UserRole

    admin = User(email="root@example.org", email_key="root@example.org", role=UserRole.ADMIN)
    db.session.add(admin)
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = admin.get_id()
        session["_fresh"] = True
    return client


def test_an_administrator_erases_only_with_the_tick_and_sends_data_on_request(make_app):
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.test_request_context():
        _a_supporter_with_everything(app)
        supporter_id = _supporter().id
        client = _admin_client(app)
        page = client.get(f"/admin/subscribers?q={ADDRESS}").get_data(as_text=True)
        assert f"/admin/supporters/{supporter_id}/erase" in page

        assert client.post(f"/admin/supporters/{supporter_id}/send-data").status_code == 303
        assert any(part.get_filename() == "placard-data.json"
                   for part in Outbox(app).to(ADDRESS)[-1].iter_attachments())

        assert client.post(f"/admin/supporters/{supporter_id}/erase").status_code == 303
        db.session.expire_all()
        assert _supporter() is not None  # no tick, nothing erased
        assert client.post(f"/admin/supporters/{supporter_id}/erase",
                           data={"confirm": "yes"}).status_code == 303
        db.session.expire_all()
        assert _supporter() is None
        assert client.post(f"/admin/supporters/{supporter_id}/erase",
                           data={"confirm": "yes"}).status_code == 404
