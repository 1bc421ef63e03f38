"""What a petition's settings change on the sign form and in the signature: required
fields, consent wording, source tracking, text versions and the demands signers back."""

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from campaign.extensions import db
from campaign.mailing.models import Subscription
from campaign.petitions.models import Petition
from campaign.petitions.services import (
    demand_counts,
    find_signable_petition,
    recount_signatures,
)
from campaign.signatures.models import (
    DemandCountShard,
    Signature,
    SignatureDemand,
    SignatureStatus,
)
from campaign.signatures.services import (
    change_signature_counts,
    confirm_signature,
    sign_petition,
)
from tests.conftest import Outbox
from tests.factories import make_campaign, make_petition, sign_form, signer


def create_petition(app, **settings):
    """A petition of campaign "peace" (demands "First demand", "Second demand") at
    /petitions/treaty; returns its id, slug and demand ids."""
    with app.app_context():
        campaign = make_campaign(slug="peace")
        petition = make_petition(campaign=campaign, slug="treaty", **settings)
        db.session.commit()
        return {"id": petition.id, "slug": "treaty", "demands": [d.id for d in campaign.demands]}


@pytest.fixture
def petition(app):
    return create_petition(app)


@pytest.fixture
def choosing(app):
    return create_petition(app, signers_choose_demands=True)


def sign(client, petition, **overrides):
    return client.post(f"/petitions/{petition['slug']}/sign",
                       data=sign_form(petition["id"], **{"comment": "", **overrides}))


def the_signature(app):
    with app.app_context():
        signature = db.session.scalars(select(Signature)).one()
        db.session.expunge(signature)
        return signature


def hidden_fields(page, petition):
    return {name: html.unescape(value) for name, value in re.findall(
        rf'name="p{petition["id"]}-(\w+)" type="hidden" value="([^"]*)"', page)}


def label(page, petition, field):
    return re.search(rf'<label for="p{petition["id"]}-{field}">([^<]*)</label>', page).group(1)


def field_error(response, petition, field):
    match = re.search(rf'id="p{petition["id"]}-{field}-error">([^<]*)<', response.text)
    return match.group(1) if match else None


def confirm_all(app, outbox):
    for message in outbox.messages():
        link = Outbox.link(message)
        with app.app_context():
            confirm_signature(link.rsplit("/", 1)[1])
            db.session.commit()


# Required and optional fields


def test_by_default_the_postal_code_is_required_and_the_comment_optional(client, petition):
    page = client.get("/petitions/treaty").text
    assert label(page, petition, "postal_code") == "Postal code"
    assert label(page, petition, "comment") == "Comment (optional)"
    assert re.search(r'<input[^>]*id="p\d+-postal_code"[^>]*required', page)
    assert sign(client, petition, postal_code="").status_code == 422
    assert sign(client, petition, comment="").status_code == 303


def test_a_petition_may_make_the_postal_code_optional(app, client):
    petition = create_petition(app, required_fields=[])
    page = client.get("/petitions/treaty").text
    assert label(page, petition, "postal_code") == "Postal code (optional)"
    assert not re.search(r'<input[^>]*id="p\d+-postal_code"[^>]*required', page)

    assert sign(client, petition, postal_code="").status_code == 303
    assert the_signature(app).postal_code == ""


def test_an_optional_postal_code_is_still_checked_when_given(app, client):
    petition = create_petition(app, required_fields=[])
    response = sign(client, petition, postal_code="<b>")
    assert response.status_code == 422
    assert "letters, digits" in field_error(response, petition, "postal_code")


def test_a_petition_may_require_a_comment(app, client):
    petition = create_petition(app, required_fields=["postal_code", "comment"])
    page = client.get("/petitions/treaty").text
    assert label(page, petition, "comment") == "Comment"
    assert "(optional)" not in page

    response = sign(client, petition, comment="   ")
    assert response.status_code == 422
    assert "write a comment" in field_error(response, petition, "comment")
    assert sign(client, petition, comment="Peace now.").status_code == 303
    assert the_signature(app).comment == "Peace now."


def test_only_optional_fields_say_so(app, client):
    petition = create_petition(app, required_fields=["comment"])
    page = client.get("/petitions/treaty").text
    assert label(page, petition, "postal_code") == "Postal code (optional)"
    assert label(page, petition, "comment") == "Comment"
    for field in ("first_name", "last_name", "email", "country"):
        assert "optional" not in label(page, petition, field)


# Consent wording


def test_the_standard_consent_wording_is_shown_and_recorded(app, client, petition, outbox):
    page = client.get("/petitions/treaty").text
    assert label(page, petition, "wants_updates") == "Keep me informed about this campaign"
    sign(client, petition, wants_updates="y")
    confirm_all(app, outbox)
    with app.app_context():
        assert db.session.scalars(select(Subscription.consent_wording)).one() == \
            "Keep me informed about this campaign"


def test_a_petitions_own_consent_wording_is_shown_and_recorded_exactly(app, client, outbox):
    wording = "Send me news from Peace Now & its <partners>"
    petition = create_petition(app, consent_wording=wording)
    page = client.get("/petitions/treaty").text
    assert html.unescape(label(page, petition, "wants_updates")) == wording
    assert "<partners>" not in page

    sign(client, petition, wants_updates="y")
    assert the_signature(app).consent_wording == wording
    confirm_all(app, outbox)
    with app.app_context():
        assert db.session.scalars(select(Subscription.consent_wording)).one() == wording


def test_the_wording_of_a_form_sent_back_with_errors_stays_the_petitions(app, client):
    petition = create_petition(app, consent_wording="Email me about peace")
    response = sign(client, petition, email="", wants_updates="y")
    assert response.status_code == 422
    assert label(response.text, petition, "wants_updates") == "Email me about peace"


# Where signers came from


def test_the_sign_links_parameters_and_the_referrers_host_reach_the_signature(
        app, client, petition):
    page = client.get("/petitions/treaty?source=newsletter&utm_source=facebook"
                      "&utm_medium=social&utm_campaign=spring+push",
                      headers={"Referer": "https://M.Facebook.com/story.php?id=1&email=x@y.z"})
    fields = hidden_fields(page.text, petition)
    assert fields["source"] == "newsletter"
    assert (fields["utm_source"], fields["utm_medium"], fields["utm_campaign"]) == \
        ("facebook", "social", "spring push")
    assert fields["ref"] == "m.facebook.com"
    assert "story.php" not in page.text and "x@y.z" not in page.text

    sign(client, petition, **{name: value for name, value in fields.items() if name != "csrf_token"})
    signature = the_signature(app)
    assert (signature.source, signature.utm_source, signature.utm_medium, signature.utm_campaign,
            signature.referrer_host) == ("newsletter", "facebook", "social", "spring push",
                                         "m.facebook.com")


def test_the_campaign_page_carries_them_too(client, petition):
    page = client.get("/campaigns/peace?utm_source=mastodon&source=share",
                      headers={"Referer": "https://social.example:8443/@peace/1"}).text
    fields = hidden_fields(page, petition)
    assert (fields["source"], fields["utm_source"], fields["ref"]) == \
        ("share", "mastodon", "social.example")


def test_tracking_values_are_cleaned_and_cut_to_100_characters(app, client, petition):
    response = sign(client, petition, utm_source="  spaced \t out  ", utm_medium="m" * 300,
                    utm_campaign="c" * 100)
    assert response.status_code == 303
    signature = the_signature(app)
    assert signature.utm_source == "spaced out"
    assert signature.utm_medium == "m" * 100 and signature.utm_campaign == "c" * 100


@pytest.mark.parametrize(("posted", "stored"), [
    ("https://www.example.org/path?email=ada@example.org", "www.example.org"),
    ("News.Example.ORG", "news.example.org"),
    ("example.org/a/path", ""),
    ("<script>alert(1)</script>", ""),
    ("{placard:referrer-host}", ""),
    ("a" * 300 + ".org", ""),
    ("", ""),
])
def test_only_a_host_name_is_ever_stored_as_the_referrer(app, client, petition, posted, stored):
    assert sign(client, petition, ref=posted).status_code == 303
    assert the_signature(app).referrer_host == stored


def test_a_visitor_without_a_referrer_records_none(app, client, petition):
    fields = hidden_fields(client.get("/petitions/treaty").text, petition)
    assert fields["ref"] == ""


@pytest.mark.parametrize("path", ["/petitions/cached", "/campaigns/cached-campaign?utm_source=x"])
def test_one_visitors_referrer_never_reaches_another_through_the_page_cache(make_app, path):
    app = make_app(PAGE_CACHE_SECONDS=300)
    with app.app_context():
        petition = make_petition(campaign=make_campaign(slug="cached-campaign"), slug="cached",
                                 title="Before")
        db.session.commit()
        ref = {"id": petition.id}
    first = app.test_client().get(path, headers={"Referer": "https://first.example/private"})
    with app.app_context():
        db.session.get(Petition, ref["id"]).title = "After"
        db.session.commit()
    second = app.test_client().get(path, headers={"Referer": "https://second.example/"})
    third = app.test_client().get(path)

    assert "Before" in second.text and "After" not in second.text  # served from the cache
    assert hidden_fields(first.text, ref)["ref"] == "first.example"
    assert hidden_fields(second.text, ref)["ref"] == "second.example"
    assert hidden_fields(third.text, ref)["ref"] == ""
    assert "first.example" not in second.text + third.text
    assert "{placard:referrer-host}" not in first.text + second.text + third.text


# Versions of the petition's text


def test_the_signature_records_the_version_of_the_text_the_signer_saw(app, client):
    petition = create_petition(app, current_version=3)
    sign(client, petition)
    assert the_signature(app).petition_version == 3


def test_signing_again_while_pending_records_the_newer_version(app, client, outbox):
    petition = create_petition(app, current_version=1)
    app.config["RESEND_INTERVAL_SECONDS"] = 0
    sign(client, petition)
    with app.app_context():
        db.session.get(Petition, petition["id"]).current_version = 2
        db.session.commit()
    sign(client, petition)
    assert the_signature(app).petition_version == 2


def test_an_edited_petition_says_when_it_was_edited(app, client):
    create_petition(app, text_edited_at=datetime(2025, 3, 7, 15, 30, tzinfo=UTC))
    assert "Edited on March 7, 2025" in client.get("/petitions/treaty").text
    assert "Edited on March 7, 2025" in client.get("/campaigns/peace").text
    client.set_cookie("placard_lang", "fr_CA")
    assert "7 mars 2025" in client.get("/petitions/treaty").text


def test_a_petition_never_edited_says_nothing_about_it(client, petition):
    assert "Edited on" not in client.get("/petitions/treaty").text


# Demands signers back


def test_without_the_setting_there_is_no_choice_and_no_count(app, client, petition):
    page = client.get("/campaigns/peace").text
    assert "-demands" not in page and "back this" not in page
    assert sign(client, petition, demands=petition["demands"][0]).status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignatureDemand)) == 0


def test_every_demand_starts_ticked(client, choosing):
    page = client.get("/petitions/treaty").text
    boxes = re.findall(rf'<input[^>]*name="p{choosing["id"]}-demands"[^>]*>', page)
    assert len(boxes) == 2
    assert all(" checked" in box for box in boxes)
    assert all(" required" not in box for box in boxes)
    assert "First demand</label>" in page and "Second demand</label>" in page


def test_demand_texts_are_shown_as_text(app, client):
    with app.app_context():
        campaign = make_campaign(slug="markup")
        campaign.demands[0].text = "<b>Peace</b> & <script>alert(1)</script>"
        make_petition(campaign=campaign, slug="markup-petition", signers_choose_demands=True)
        db.session.commit()
    page = client.get("/petitions/markup-petition").text
    assert "&lt;b&gt;Peace&lt;/b&gt; &amp; &lt;script&gt;" in page
    assert "<script>alert(1)" not in page


def test_ticking_no_demand_gets_a_clear_error_and_stores_nothing(app, client, choosing):
    response = sign(client, choosing)
    assert response.status_code == 422
    assert "at least one demand" in field_error(response, choosing, "demands")
    boxes = re.findall(rf'<input[^>]*name="p{choosing["id"]}-demands"[^>]*>', response.text)
    assert len(boxes) == 2 and not any(" checked" in box for box in boxes)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Signature)) == 0


def test_a_demand_of_another_campaign_is_refused(app, client, choosing):
    with app.app_context():
        other = make_campaign().demands[0].id
        db.session.commit()
    assert sign(client, choosing, demands=[choosing["demands"][0], other]).status_code == 422


def test_chosen_demands_are_counted_once_confirmed(app, client, choosing, outbox):
    first, second = choosing["demands"]
    sign(client, choosing, email="both@example.org", demands=[first, second])
    sign(client, choosing, email="one@example.org", demands=[first])
    with app.app_context():
        assert demand_counts([first, second]) == {first: 0, second: 0}
    page = client.get("/campaigns/peace").text
    assert page.count("(0 signers back this)") == 2

    confirm_all(app, outbox)
    with app.app_context():
        assert demand_counts([first, second]) == {first: 2, second: 1}
        rows = db.session.execute(select(DemandCountShard.demand_id,
                                         func.count()).group_by(DemandCountShard.demand_id)).all()
        assert all(count <= 2 for _demand, count in rows)
    page = client.get("/campaigns/peace").text
    assert re.search(r"First demand <span[^>]*>\(2 signers back this\)", page)
    assert re.search(r"Second demand <span[^>]*>\(1 signer backs this\)", page)
    assert "(2 signers back this)" in client.get("/petitions/treaty").text


def test_confirming_twice_counts_the_demands_once(app, client, choosing, outbox):
    sign(client, choosing, demands=choosing["demands"])
    confirm_all(app, outbox)
    confirm_all(app, outbox)
    with app.app_context():
        assert set(demand_counts(choosing["demands"]).values()) == {1}


def test_signing_again_while_pending_replaces_the_choice(app, client, choosing, outbox):
    first, second = choosing["demands"]
    app.config["RESEND_INTERVAL_SECONDS"] = 0
    sign(client, choosing, demands=[first, second])
    sign(client, choosing, demands=[second])
    with app.app_context():
        assert db.session.scalars(select(SignatureDemand.demand_id)).all() == [second]
    link = Outbox.link(outbox.messages()[-1])
    client.post(link)
    with app.app_context():
        assert demand_counts([first, second]) == {first: 0, second: 1}


def test_the_service_keeps_only_the_campaigns_own_demands(ctx):
    petition = make_petition(signers_choose_demands=True)
    foreign = make_campaign().demands[0].id
    own = petition.campaign.demands[1].id
    sign_petition(petition, signer(demand_ids=(own, foreign, 999_999)))
    db.session.commit()
    assert db.session.scalars(select(SignatureDemand.demand_id)).all() == [own]


def test_taking_a_confirmed_signature_out_of_the_count_takes_it_out_of_its_demands_too(
        app, client, choosing, outbox):
    first, second = choosing["demands"]
    sign(client, choosing, demands=[first])
    confirm_all(app, outbox)
    with app.app_context():
        change_signature_counts(db.session.scalars(select(Signature)).one(), -1)
        db.session.commit()
        assert demand_counts([first, second]) == {first: 0, second: 0}
        assert recount_signatures() == 2  # nothing was invalidated: the recount puts both back


def test_the_recount_repairs_demand_counts(app, client, choosing, outbox):
    first, second = choosing["demands"]
    sign(client, choosing, email="a@example.org", demands=[first])
    sign(client, choosing, email="b@example.org", demands=[first, second])
    confirm_all(app, outbox)
    with app.app_context():
        # Behind the services' back: one signature invalidated, one count row tampered with.
        db.session.execute(Signature.__table__.update()
                           .where(Signature.id == db.session.scalar(select(func.min(Signature.id))))
                           .values(status=SignatureStatus.INVALIDATED))
        db.session.execute(DemandCountShard.__table__.update()
                           .where(DemandCountShard.demand_id == second).values(confirmed=7))
        db.session.commit()

        assert recount_signatures() == 3  # the petition's count and both demands' counts
        db.session.commit()
        assert demand_counts([first, second]) == {first: 1, second: 1}
        assert recount_signatures() == 0


def test_recounting_one_petition_repairs_its_campaigns_demands(app, client, choosing, outbox):
    first, _second = choosing["demands"]
    sign(client, choosing, demands=[first])
    confirm_all(app, outbox)
    with app.app_context():
        db.session.execute(DemandCountShard.__table__.delete())
        db.session.commit()
        assert recount_signatures(choosing["id"]) == 1
        db.session.commit()
        assert demand_counts([first])[first] == 1


def test_the_campaign_page_with_demand_counts_is_still_cached(make_app):
    app = make_app(PAGE_CACHE_SECONDS=300)
    client = app.test_client()
    petition = create_petition(app, signers_choose_demands=True)
    first = client.get("/campaigns/peace").text
    assert "(0 signers back this)" in first
    with app.app_context():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            again = client.get("/campaigns/peace").text
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert statements == []
    assert hidden_fields(again, petition)["ref"] == ""


# The sign path stays lean


def test_the_snapshot_carries_what_signing_needs(app, choosing):
    with app.test_request_context():
        snapshot = find_signable_petition("treaty")
    assert snapshot.required_fields == frozenset({"postal_code"})
    assert snapshot.signers_choose_demands and snapshot.current_version == 1
    assert [demand.id for demand in snapshot.campaign.demands] == choosing["demands"]
    assert [demand.text for demand in snapshot.campaign.demands] == ["First demand", "Second demand"]


def test_signing_with_a_warm_snapshot_reads_no_petition_or_demand(make_app):
    app = make_app(PAGE_CACHE_SECONDS=300)
    client = app.test_client()
    petition = create_petition(app, signers_choose_demands=True, required_fields=["comment"],
                               consent_wording="Yes, email me")
    assert sign(client, petition, email="warm@example.org", comment="Hi",
                demands=petition["demands"]).status_code == 303
    with app.app_context():
        statements = []
        listener = lambda *args: statements.append(" ".join(args[2].split()))  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = sign(client, petition, email="second@example.org", comment="Hi",
                            demands=petition["demands"][:1], wants_updates="y")
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 303
    reads = [sql for sql in statements if sql.startswith("SELECT")]
    assert not [sql for sql in reads if re.search(r"\b(FROM|JOIN) (petitions|campaigns|demands)\b",
                                                  sql)], reads
    with app.app_context():
        signature = db.session.scalars(select(Signature).where(
            Signature.comment == "Hi", Signature.wants_updates.is_(True))).one()
        assert signature.consent_wording == "Yes, email me"
        assert db.session.scalars(select(SignatureDemand.demand_id).where(
            SignatureDemand.signature_id == signature.id)).all() == petition["demands"][:1]
