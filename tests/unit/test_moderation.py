"""Organizers moderate signatures: hide comments, invalidate and restore, each audited;
the signatures list searches, filters and pages; other organizers see none of it."""

import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaign.accounts.models import AuditEntry, UserRole
from campaign.db import utcnow
from campaign.extensions import db
from campaign.petitions.models import Petition
from campaign.petitions.services import (
    change_confirmed_count,
    change_demand_counts,
    confirmed_counts,
    demand_counts,
)
from campaign.signatures.models import Signature, SignatureDemand, SignatureStatus, Supporter
from campaign.signatures.moderation import (
    ReasonRequired,
    escape_like,
    hide_comment,
    invalidate_signature,
    restore_signature,
    show_comment,
)
from tests.factories import make_campaign, make_petition
from tests.factories_accounts import login as log_in
from tests.factories_accounts import make_user

_numbers = itertools.count(1)


def login(client, user_id):
    """``client``, logged in as the user ``user_id``."""
    log_in(client, user_id)
    return client


def add_signature(petition, *, status=SignatureStatus.CONFIRMED, email=None, created_at=None,
                  confirmed_at=None, **fields):
    """A signature as signing and confirming would leave it, counted if confirmed."""
    number = next(_numbers)
    email = email or f"signer{number}@example.org"
    supporter = Supporter(email=email, email_key=email.lower())
    created_at = created_at or utcnow()
    if status == SignatureStatus.CONFIRMED and confirmed_at is None:
        confirmed_at = created_at
    values = {"first_name": "Ada", "last_name": f"Lovelace{number}", "postal_code": "M5V 2T6",
              "country": "CA", "source": "web"}
    values.update(fields)
    signature = Signature(petition_id=petition.id, supporter=supporter, status=status,
                          created_at=created_at, confirmed_at=confirmed_at, **values)
    db.session.add(signature)
    db.session.flush()
    if status == SignatureStatus.CONFIRMED:
        change_confirmed_count(petition.id, +1)
    return signature


def count_of(petition_id):
    return confirmed_counts([petition_id])[petition_id]


def audit_entries():
    return db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


@pytest.fixture
def world(app):
    """Organizer A with a petition, organizer B with a campaign of their own."""
    with app.test_request_context():
        organizer_a, organizer_b = make_user(), make_user()
        campaign_a = make_campaign()
        campaign_a.organizers.append(organizer_a)
        make_campaign().organizers.append(organizer_b)
        petition = make_petition(campaign=campaign_a)
        signature = add_signature(petition, comment="Let's go!")
        db.session.commit()
        return {"a": organizer_a.id, "b": organizer_b.id, "a_name": organizer_a.name,
                "campaign": campaign_a.id, "petition": petition.id, "signature": signature.id}


# Services


def test_invalidating_a_confirmed_signature_drops_the_count_and_records_who_and_why(ctx):
    organizer = make_user()
    petition = make_petition()
    signature = add_signature(petition)
    add_signature(petition)
    assert count_of(petition.id) == 2

    assert invalidate_signature(organizer, signature, "  Same person twice  ") is True

    assert signature.status == SignatureStatus.INVALIDATED
    assert signature.invalidated_reason == "Same person twice"
    assert count_of(petition.id) == 1
    [entry] = audit_entries()
    assert (entry.actor_id, entry.action, entry.subject_type, entry.subject_id, entry.campaign_id,
            entry.reason) == (organizer.id, "signature.invalidate", "signature", signature.id,
                              petition.campaign_id, "Same person twice")


def test_invalidating_and_restoring_moves_the_counts_of_the_demands_the_signer_backs(ctx):
    organizer = make_user()
    petition = make_petition()
    first, second = (demand.id for demand in petition.campaign.demands)
    signature = add_signature(petition)
    db.session.add(SignatureDemand(signature_id=signature.id, demand_id=first))
    change_demand_counts([first], +1)
    other = add_signature(petition)
    db.session.add(SignatureDemand(signature_id=other.id, demand_id=second))
    change_demand_counts([second], +1)
    db.session.flush()

    invalidate_signature(organizer, signature, "Fake")
    assert demand_counts([first, second]) == {first: 0, second: 1}
    restore_signature(organizer, signature, "")
    assert demand_counts([first, second]) == {first: 1, second: 1}


def test_invalidation_without_a_reason_is_refused_and_changes_nothing(ctx):
    petition = make_petition()
    signature = add_signature(petition)
    for reason in ("", "   ", None):
        with pytest.raises(ReasonRequired):
            invalidate_signature(make_user(), signature, reason)
    assert signature.status == SignatureStatus.CONFIRMED
    assert count_of(petition.id) == 1
    assert audit_entries() == []


def test_invalidating_twice_drops_the_count_once_and_records_once(ctx):
    organizer = make_user()
    petition = make_petition()
    signature = add_signature(petition)
    assert invalidate_signature(organizer, signature, "Bot") is True
    assert invalidate_signature(organizer, signature, "Bot again") is False
    assert count_of(petition.id) == 0
    assert len(audit_entries()) == 1


def test_restoring_a_signature_that_had_been_confirmed_counts_it_again(ctx):
    organizer = make_user()
    petition = make_petition()
    signature = add_signature(petition)
    invalidate_signature(organizer, signature, "Looked fake")

    assert restore_signature(organizer, signature, "It was real") is True

    assert signature.status == SignatureStatus.CONFIRMED
    assert signature.invalidated_reason == ""
    assert count_of(petition.id) == 1
    assert [(e.action, e.reason) for e in audit_entries()] == [
        ("signature.invalidate", "Looked fake"), ("signature.restore", "It was real")]


def test_restoring_a_never_confirmed_signature_makes_it_pending_again_uncounted(ctx):
    organizer = make_user()
    petition = make_petition()
    signature = add_signature(petition, status=SignatureStatus.PENDING)
    assert invalidate_signature(organizer, signature, "Spam") is True
    assert count_of(petition.id) == 0

    assert restore_signature(organizer, signature, "") is True

    assert signature.status == SignatureStatus.PENDING
    assert count_of(petition.id) == 0
    assert restore_signature(organizer, signature, "") is False


def test_hiding_and_showing_a_comment_is_audited_and_leaves_the_count_alone(ctx):
    organizer = make_user()
    petition = make_petition()
    signature = add_signature(petition, comment="Rude words")

    assert hide_comment(organizer, signature, "Insults") is True
    assert signature.is_comment_hidden
    assert hide_comment(organizer, signature, "") is False
    assert show_comment(organizer, signature, "") is True
    assert not signature.is_comment_hidden

    assert [(e.action, e.reason) for e in audit_entries()] == [
        ("signature.hide_comment", "Insults"), ("signature.show_comment", "")]
    assert count_of(petition.id) == 1
    assert signature.status == SignatureStatus.CONFIRMED


def test_like_patterns_are_escaped():
    assert escape_like(r"50%_a\b") == r"50\%\_a\\b"


# Pages


def signatures_page(client, petition_id, **params):
    return client.get(f"/organize/petitions/{petition_id}/signatures", query_string=params)


def test_moderation_posts_change_the_signature_and_redirect_back_to_the_same_view(app, client, world):
    login(client, world["a"])
    url = f"/organize/signatures/{world['signature']}"
    response = client.post(f"{url}/hide-comment", data={"q": "ada", "status": "confirmed", "page": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/organize/petitions/{world['petition']}/signatures?q=ada&status=confirmed&page=1"
        f"#signature-{world['signature']}")

    response = client.post(f"{url}/invalidate", data={"reason": "Duplicate"})
    assert response.status_code == 303
    with app.app_context():
        signature = db.session.get(Signature, world["signature"])
        assert signature.is_comment_hidden
        assert signature.status == SignatureStatus.INVALIDATED
        assert count_of(world["petition"]) == 0
        assert [(e.action, e.actor_id) for e in audit_entries()] == [
            ("signature.hide_comment", world["a"]), ("signature.invalidate", world["a"])]

    page = client.get(response.headers["Location"])
    assert "The signature is invalidated and no longer counted." in page.text
    assert "Duplicate" in page.text and "Hidden from the public" in page.text

    client.post(f"{url}/restore", data={})
    client.post(f"{url}/show-comment", data={})
    with app.app_context():
        signature = db.session.get(Signature, world["signature"])
        assert signature.status == SignatureStatus.CONFIRMED and not signature.is_comment_hidden
        assert count_of(world["petition"]) == 1


def test_invalidating_from_the_page_without_a_reason_says_so_and_changes_nothing(app, client, world):
    login(client, world["a"])
    response = client.post(f"/organize/signatures/{world['signature']}/invalidate",
                           data={"reason": " "}, follow_redirects=True)
    assert "Please give a reason" in response.text
    with app.app_context():
        assert db.session.get(Signature, world["signature"]).status == SignatureStatus.CONFIRMED
        assert count_of(world["petition"]) == 1
        assert audit_entries() == []


def test_the_list_shows_each_signatures_details(app, client, world):
    with app.app_context():
        petition = db.session.get(Petition, world["petition"])
        add_signature(petition, status=SignatureStatus.PENDING, email="grace@example.org",
                      first_name="Grace", last_name="Hopper", postal_code="H2X 1Y4", country="FR",
                      comment="Vive la paix", source="newsletter", utm_source="mastodon",
                      utm_medium="social", referrer_host="news.example.net")
        db.session.commit()
    page = signatures_page(login(client, world["a"]), world["petition"])
    assert page.status_code == 200
    for text in ("Grace Hopper", "grace@example.org", "H2X 1Y4", "France", "Pending",
                 "Vive la paix", "newsletter", "mastodon / social", "news.example.net",
                 "2 signatures in all."):
        assert text in page.text, text
    assert page.text.index("Grace Hopper") < page.text.index("Let&#39;s go!")


@pytest.fixture
def crowd(app, world):
    """A's petition with 121 older signatures: 120 a minute apart, and one the day before."""
    with app.app_context():
        petition = db.session.get(Petition, world["petition"])
        start = utcnow() - timedelta(days=10)
        for number in range(120):
            add_signature(petition, email=f"Person{number}@Example.org", first_name=f"Person{number}",
                          last_name="Smith" if number % 2 else "Jones",
                          status=SignatureStatus.PENDING if number % 3 else SignatureStatus.CONFIRMED,
                          created_at=start + timedelta(minutes=number))
        add_signature(petition, email="percent@example.org", first_name="100%", last_name="Sure_Thing",
                      created_at=start - timedelta(days=1))
        db.session.commit()
    return world


def names_on(page):
    return re.findall(r'<th scope="row">([^<]*)</th>', page.text)


def test_the_list_pages_by_fifty_newest_first(client, crowd):
    login(client, crowd["a"])
    first = signatures_page(client, crowd["petition"])
    assert "122 signatures in all." in first.text
    names = names_on(first)
    assert len(names) == 50
    assert names[0].startswith("Ada Lovelace")  # the world's own signature, made last
    assert names[1] == "Person119 Smith" and names[2] == "Person118 Jones"
    assert "Page 1 of 3" in first.text and 'rel="next"' in first.text

    last = signatures_page(client, crowd["petition"], page=3)
    assert len(names_on(last)) == 22
    assert names_on(last)[-1] == "100% Sure_Thing"
    assert 'rel="prev"' in last.text and 'rel="next"' not in last.text
    assert names_on(signatures_page(client, crowd["petition"], page=99)) == []
    assert signatures_page(client, crowd["petition"], page="x").status_code == 200


def test_search_finds_names_and_emails_in_any_case(client, crowd):
    login(client, crowd["a"])
    assert set(names_on(signatures_page(client, crowd["petition"], q="PERSON11"))) == {
        "Person11 Smith", "Person110 Jones", "Person111 Smith", "Person112 Jones", "Person113 Smith",
        "Person114 Jones", "Person115 Smith", "Person116 Jones", "Person117 Smith", "Person118 Jones",
        "Person119 Smith"}
    assert names_on(signatures_page(client, crowd["petition"], q="person7@example.ORG")) == [
        "Person7 Smith"]
    assert names_on(signatures_page(client, crowd["petition"], q="  person7   smith ")) == [
        "Person7 Smith"]
    page = signatures_page(client, crowd["petition"], q="smith")
    assert "60 signatures match your search." in page.text


def test_search_takes_percent_and_underscore_literally(client, crowd):
    login(client, crowd["a"])
    assert names_on(signatures_page(client, crowd["petition"], q="100%")) == ["100% Sure_Thing"]
    assert names_on(signatures_page(client, crowd["petition"], q="e_t")) == ["100% Sure_Thing"]
    assert names_on(signatures_page(client, crowd["petition"], q="%")) == ["100% Sure_Thing"]


def test_the_list_filters_by_status_and_search_together(client, crowd):
    login(client, crowd["a"])
    pending = signatures_page(client, crowd["petition"], status="pending")
    assert "80 signatures match your search." in pending.text
    confirmed_smiths = signatures_page(client, crowd["petition"], status="confirmed", q="smith")
    assert "20 signatures match your search." in confirmed_smiths.text
    assert 'value="confirmed" selected' in confirmed_smiths.text
    assert "122 signatures in all." in signatures_page(client, crowd["petition"], status="nonsense").text


def test_another_organizer_finds_nothing_of_a_petitions_signatures(client, world):
    login(client, world["b"])
    assert signatures_page(client, world["petition"]).status_code == 404
    for action in ("hide-comment", "show-comment", "invalidate", "restore"):
        response = client.post(f"/organize/signatures/{world['signature']}/{action}",
                               data={"reason": "Because"})
        assert response.status_code == 404, action
    assert client.get(f"/organize/campaigns/{world['campaign']}/audit").status_code == 404
    assert signatures_page(client, 999999).status_code == 404
    assert client.post("/organize/signatures/999999/invalidate", data={"reason": "x"}).status_code == 404


def test_another_organizers_moderation_attempt_changes_nothing(app, client, world):
    login(client, world["b"])
    client.post(f"/organize/signatures/{world['signature']}/invalidate", data={"reason": "Because"})
    with app.app_context():
        assert db.session.get(Signature, world["signature"]).status == SignatureStatus.CONFIRMED
        assert count_of(world["petition"]) == 1
        assert audit_entries() == []


def test_an_administrator_may_moderate_any_petition(app, client, world):
    with app.app_context():
        admin = make_user(role=UserRole.ADMIN)
        db.session.commit()
        admin_id = admin.id
    login(client, admin_id)
    assert signatures_page(client, world["petition"]).status_code == 200
    client.post(f"/organize/signatures/{world['signature']}/hide-comment")
    with app.app_context():
        assert db.session.get(Signature, world["signature"]).is_comment_hidden


def test_organizers_read_their_own_campaigns_audit_log(app, client, world):
    login(client, world["a"])
    client.post(f"/organize/signatures/{world['signature']}/invalidate", data={"reason": "Bot <b>x</b>"})
    page = client.get(f"/organize/campaigns/{world['campaign']}/audit")
    assert page.status_code == 200
    assert "Signature invalidated" in page.text
    assert "Bot &lt;b&gt;x&lt;/b&gt;" in page.text
    assert f"Signature #{world['signature']}" in page.text
    assert world["a_name"] in page.text


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = signatures_page(client, world["petition"])
    assert response.status_code == 302 and "/organize/login" in response.headers["Location"]
    response = client.post(f"/organize/signatures/{world['signature']}/invalidate", data={"reason": "x"})
    assert response.status_code == 302 and "/organize/login" in response.headers["Location"]


def test_moderation_posts_need_the_csrf_token(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.test_request_context():
        organizer = make_user()
        campaign = make_campaign()
        campaign.organizers.append(organizer)
        signature = add_signature(make_petition(campaign=campaign))
        db.session.commit()
        signature_id, organizer_id = signature.id, organizer.id
    client = login(app.test_client(), organizer_id)
    response = client.post(f"/organize/signatures/{signature_id}/invalidate", data={"reason": "x"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Signature, signature_id).status == SignatureStatus.CONFIRMED
