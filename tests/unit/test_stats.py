"""A petition's numbers page: totals kept apart by status, the rate, signatures per day as
an SVG chart and a table that agree, where signers came from and where they live."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from campaign.db import utcnow
from campaign.extensions import db
from campaign.petitions.charts import nice_scale
from campaign.petitions.stats import petition_numbers
from campaign.signatures.models import SignatureStatus
from tests.factories import make_campaign, make_petition
from tests.factories_accounts import make_user
from tests.unit.test_moderation import add_signature, login

SVG = "{http://www.w3.org/2000/svg}"
CONFIRMED, PENDING, INVALIDATED = (SignatureStatus.CONFIRMED, SignatureStatus.PENDING,
                                   SignatureStatus.INVALIDATED)


def at(days_ago, hour=12):
    today = utcnow().replace(hour=hour, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


def fill(petition):
    """Ten signatures: 6 confirmed, 3 pending, 1 invalidated after it had been confirmed."""
    add_signature(petition, created_at=at(2), confirmed_at=at(2, 13), postal_code="m5v 2t6",
                  country="CA", source="web", utm_source="mastodon", utm_medium="social",
                  utm_campaign="spring", referrer_host="social.example")
    add_signature(petition, created_at=at(2), confirmed_at=at(1), postal_code="M5V 1A1",
                  country="CA", source="web", utm_source="mastodon", utm_medium="social",
                  utm_campaign="spring", referrer_host="social.example")
    add_signature(petition, created_at=at(2), confirmed_at=at(1), postal_code="H2X 1Y4",
                  country="CA", source="newsletter", utm_source="newsletter", utm_medium="email")
    add_signature(petition, created_at=at(0), confirmed_at=at(0, 13), postal_code="75011",
                  country="FR", source="web", referrer_host="news.example")
    add_signature(petition, created_at=at(0), confirmed_at=at(0, 13), postal_code="",
                  country="DE", source="web")
    # Confirmed 40 days ago: counted in the totals, not in the 30 days.
    add_signature(petition, created_at=at(40), confirmed_at=at(40), postal_code="M5V 3L9",
                  country="CA", source="web")
    for days_ago in (0, 0, 3):
        add_signature(petition, status=PENDING, created_at=at(days_ago), postal_code="K1A 0A6",
                      country="CA", source="web", utm_source="mastodon")
    add_signature(petition, status=INVALIDATED, created_at=at(1), confirmed_at=at(1),
                  postal_code="M5V 9Z9", country="CA", source="bot", referrer_host="spam.example")


@pytest.fixture
def world(app):
    with app.test_request_context():
        organizer_a, organizer_b = make_user(), make_user()
        campaign = make_campaign()
        campaign.organizers.append(organizer_a)
        make_campaign().organizers.append(organizer_b)
        petition = make_petition(campaign=campaign)
        fill(petition)
        empty = make_petition(campaign=campaign)
        db.session.commit()
        return {"a": organizer_a.id, "b": organizer_b.id, "petition": petition.id,
                "empty": empty.id}


def numbers_page(client, petition_id):
    return client.get(f"/organize/petitions/{petition_id}/numbers")


def test_totals_keep_confirmed_pending_and_invalidated_apart(app, world):
    with app.test_request_context():
        numbers = petition_numbers(world["petition"])
    assert (numbers.submitted, numbers.confirmed, numbers.pending, numbers.invalidated) == (10, 6, 3, 1)
    assert numbers.confirmation_rate == pytest.approx(0.6)


def test_signatures_per_day_count_submissions_and_confirmations_on_their_own_days(app, world):
    with app.test_request_context():
        numbers = petition_numbers(world["petition"])
    assert len(numbers.days) == 30
    assert numbers.days[-1].day == utcnow().date()
    by_day = {day.day: (day.submitted, day.confirmed) for day in numbers.days}
    assert by_day[at(0).date()] == (4, 2)
    assert by_day[at(1).date()] == (1, 2)  # the invalidated one's confirmation no longer counts
    assert by_day[at(2).date()] == (3, 1)
    assert by_day[at(3).date()] == (1, 0)
    assert sum(submitted for submitted, _ in by_day.values()) == 9


def test_days_are_utc_days(app):
    with app.test_request_context():
        petition = make_petition()
        late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
        add_signature(petition, created_at=late, confirmed_at=late + timedelta(hours=1))
        numbers = petition_numbers(petition.id, now=datetime(2026, 3, 12, 9, tzinfo=UTC))
    by_day = {day.day.isoformat(): (day.submitted, day.confirmed) for day in numbers.days}
    assert by_day["2026-03-10"] == (1, 0)
    assert by_day["2026-03-11"] == (0, 1)
    assert numbers.days[0].day.isoformat() == "2026-02-11"


def test_sources_referrers_postal_areas_and_countries(app, world):
    with app.test_request_context():
        numbers = petition_numbers(world["petition"], locale="fr_CA")
    assert [(row.value, row.submitted, row.confirmed) for row in numbers.sources] == [
        ("web", 8, 5), ("bot", 1, 0), ("newsletter", 1, 1)]
    assert [(row.value, row.submitted, row.confirmed) for row in numbers.utm_sources] == [
        ("mastodon", 5, 2), ("", 4, 3), ("newsletter", 1, 1)]
    assert [row.value for row in numbers.utm_mediums] == ["", "social", "email"]
    assert [row.value for row in numbers.utm_campaigns] == ["", "spring"]
    assert [(row.value, row.submitted, row.confirmed) for row in numbers.referrer_hosts] == [
        ("", 6, 3), ("social.example", 2, 2), ("news.example", 1, 1), ("spam.example", 1, 0)]
    assert [(row.area, row.country, row.confirmed) for row in numbers.postal_areas] == [
        ("M5V", "CA", 3), ("H2X", "CA", 1), ("750", "FR", 1)]
    assert [(row.country, row.name, row.confirmed) for row in numbers.countries] == [
        ("CA", "Canada", 4), ("DE", "Allemagne", 1), ("FR", "France", 1)]


def test_top_lists_stop_at_ten(app):
    with app.test_request_context():
        petition = make_petition()
        for number in range(12):
            for _ in range(number + 1):
                add_signature(petition, source=f"source-{number:02}", country="CA",
                              postal_code=f"A{number:02}")
        numbers = petition_numbers(petition.id)
    assert [row.value for row in numbers.sources] == [f"source-{n:02}" for n in range(11, 1, -1)]
    assert len(numbers.postal_areas) == 10 and numbers.postal_areas[0].area == "A11"


class _Tables(HTMLParser):
    """The daily table's rows: ``{iso day: (submitted, confirmed)}``, and each ``dd``'s text by id."""

    def __init__(self):
        super().__init__()
        self.days, self.values, self._row, self._cells, self._cell, self._id = {}, {}, None, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-day" in attrs:
            self._row, self._cells = attrs["data-day"], []
        elif tag == "td" and self._row:
            self._cell = ""
        elif tag == "dd":
            self._id, self.values[attrs.get("id")] = attrs.get("id"), ""

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._id:
            self.values[self._id] += data

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self._cells.append(int(self._cell.replace(",", "").strip()))
            self._cell = None
        elif tag == "tr" and self._row:
            self.days[self._row] = tuple(self._cells)
            self._row = None
        elif tag == "dd":
            self._id = None


def parse(page):
    tables = _Tables()
    tables.feed(page.text)
    markup = re.search(r"<svg\b.*?</svg>", page.text, re.DOTALL).group(0)
    svg = ET.fromstring(markup)  # noqa: S314 - the markup is our own page's
    return tables, svg


def test_the_numbers_page_shows_the_figures_apart_and_says_how_the_rate_is_computed(client, world):
    page = numbers_page(login(client, world["a"]), world["petition"])
    assert page.status_code == 200
    tables, _svg = parse(page)
    assert tables.values == {"total-submitted": "10", "total-confirmed": "6", "total-pending": "3",
                             "total-invalidated": "1", "confirmation-rate": "60%"}
    assert "confirmation rate is confirmed divided by submitted, with nothing left out" in page.text
    for text in ("web", "newsletter", "mastodon", "social.example", "news.example", "M5V", "H2X",
                 "Canada", "Germany", "France"):
        assert text in page.text, text
    assert 'href="/static/css/stats.css"' in page.text
    assert "style=" not in page.text and "<script>" not in page.text


def test_the_chart_is_well_formed_accessible_svg_with_the_tables_figures(client, world):
    page = numbers_page(login(client, world["a"]), world["petition"])
    tables, svg = parse(page)
    assert svg.tag == f"{SVG}svg"
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title.text == "Signatures per day, last 30 days (UTC)"
    assert "9 submitted and 5 confirmed" in desc.text
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    texts = [element.text for element in svg.iter(f"{SVG}text")]
    assert "Day (UTC)" in texts and "Signatures" in texts

    bars = {}
    for bar in svg.iter(f"{SVG}rect"):
        if bar.get("data-key"):
            bars.setdefault(bar.get("data-key"), {})[bar.get("data-series")] = int(bar.get("data-value"))
    assert len(tables.days) == 30
    assert {day: (values["submitted"], values["confirmed"]) for day, values in bars.items()} == tables.days
    assert tables.days[at(0).date().isoformat()] == (4, 2)


def test_bars_are_as_tall_as_their_values(client, world):
    _tables, svg = parse(numbers_page(login(client, world["a"]), world["petition"]))
    heights = {(bar.get("data-key"), bar.get("data-series")): float(bar.get("height"))
               for bar in svg.iter(f"{SVG}rect") if bar.get("data-key")}
    today = at(0).date().isoformat()
    unit = heights[(today, "submitted")] / 4
    assert heights[(today, "confirmed")] == pytest.approx(2 * unit, abs=0.1)
    assert heights[(at(3).date().isoformat(), "confirmed")] == 0


def test_country_names_and_numbers_follow_the_language(client, world):
    client.set_cookie("placard_lang", "fr_CA")
    page = numbers_page(login(client, world["a"]), world["petition"])
    assert "Allemagne" in page.text
    tables, _svg = parse(page)
    assert tables.values["confirmation-rate"] == "60\xa0%"


def test_a_petition_without_signatures_has_no_rate_and_an_empty_chart(client, world):
    page = numbers_page(login(client, world["a"]), world["empty"])
    assert page.status_code == 200
    tables, svg = parse(page)
    assert tables.values["confirmation-rate"] == "—"
    assert set(tables.days.values()) == {(0, 0)}
    assert svg.get("role") == "img"


def test_another_organizer_gets_404_for_the_numbers(client, world):
    assert numbers_page(login(client, world["b"]), world["petition"]).status_code == 404


def test_an_administrator_sees_any_petitions_numbers(app, client, world):
    from campaign.accounts.models import UserRole

    with app.app_context():
        admin = make_user(role=UserRole.ADMIN)
        db.session.commit()
        admin_id = admin.id
    assert numbers_page(login(client, admin_id), world["petition"]).status_code == 200


@pytest.mark.parametrize(("largest", "ticks"), [
    (0, [0, 1]), (1, [0, 1]), (4, [0, 1, 2, 3, 4]), (7, [0, 2, 4, 6, 8]),
    (23, [0, 5, 10, 15, 20, 25]), (480, [0, 100, 200, 300, 400, 500]), (1001, [0, 500, 1000, 1500]),
])
def test_the_value_axis_uses_round_steps(largest, ticks):
    assert nice_scale(largest) == ticks


def test_the_numbers_show_each_demands_backers_when_signers_choose(app, client):
    from campaign.petitions.services import change_demand_counts

    with app.test_request_context():
        organizer = make_user()
        campaign = make_campaign()
        campaign.organizers.append(organizer)
        petition = make_petition(campaign=campaign, signers_choose_demands=True)
        first, second = (demand.id for demand in campaign.demands)
        change_demand_counts([first], +3)
        change_demand_counts([second], +1)
        db.session.commit()
        ids = {"organizer": organizer.id, "petition": petition.id}
    login(client, ids["organizer"])
    page = numbers_page(client, ids["petition"]).text
    assert "Support for each demand" in page
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td></tr>', page)
    assert ("First demand", "3") in rows and ("Second demand", "1") in rows


def test_the_numbers_leave_demands_out_when_signers_do_not_choose(client, world):
    login(client, world["a"])
    assert "Support for each demand" not in numbers_page(client, world["petition"]).text
