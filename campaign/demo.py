"""The demo campaign: the call for a Korean peace treaty, for the 68th anniversary
of the 1953 Armistice. Facts come from the organizers' article; the words are ours."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from campaign.campaigns.models import Campaign, CampaignStatus, Demand
from campaign.db import utcnow
from campaign.events.models import Event, EventKind, EventStatus
from campaign.extensions import db
from campaign.petitions.models import Petition, PetitionStatus
from campaign.petitions.services import create_count_shards

CAMPAIGN = {
    "slug": "end-the-korean-war",
    "title": "End the Korean War — Sign a Peace Treaty Now",
    "summary": (
        "On 27 July 1953 an armistice stopped the fighting in Korea, but no peace treaty "
        "has ever followed. Sixty-eight years on, we call for a treaty that ends the war, "
        "for U.S. troops to leave Korea, and for Canada to become a zone for peace."
    ),
    "body": """\
The Korean Armistice Agreement was signed at Panmunjom on **27 July 1953** by the Democratic
People's Republic of Korea (DPRK) and the United States. It brought a ceasefire, not peace.
The war it paused had been launched on 25 June 1950; an estimated 4.6 million Koreans, most of
them civilians, lost their lives. Canada was one of the 15 countries that fought beside the
United States under the United Nations flag.

### A treaty the Armistice itself called for

Item 60 of the Armistice (Article IV) recommended that, within three months of the ceasefire,
the governments concerned hold a higher-level political conference to settle the withdrawal of
all foreign forces from Korea and the peaceful settlement of the Korean question. That treaty
has never been signed, although the DPRK has repeatedly invited the United States to sign one.

### A war kept going

On 1 October 1953 the United States concluded a Mutual Defence Treaty with south Korea. It
remains the basis for the U.S. military presence there — almost 30,000 troops and their bases —
and for large joint military exercises that now also involve Japan, Australia, Canada and others.
Sanctions against the DPRK have been tightened again and again.

### Canada's part

Canada takes part in the naval embargo against the DPRK, part of the U.S.-led sanctions
regime. Canada and the DPRK established diplomatic relations in 2001; they have been left
stalled and dormant ever since. Canadians can help bring peace to the Korean Peninsula by
fighting for an anti-war government at home and making Canada a zone for peace.

A peace treaty replacing the Armistice would be a first step towards easing tensions on the
peninsula and supporting the Korean people's aspiration for a peaceful, independent
reunification of their country. Add your name below, and bring a friend to the next picket.
""",
}

DEMANDS = (
    "U.S. Sign a Peace Treaty with the DPRK Now!",
    "U.S. Troops Out of Korea!",
    "All Out For an Anti-War Government!",
    "Make Canada a Zone for Peace!",
)

PETITIONS = (
    {
        "slug": "us-sign-a-peace-treaty",
        "title": "Replace the 1953 Armistice with a peace treaty",
        "target": "The President of the United States",
        "goal": 10000,
        "body": """\
We, the undersigned, call on you to:

1. **Sign a peace treaty with the Democratic People's Republic of Korea** that replaces the
   Armistice Agreement of 27 July 1953 and formally ends the Korean War — the settlement that
   Item 60 of the Armistice itself foresaw, to be reached within three months of the ceasefire.
2. **Withdraw all U.S. troops from Korea**, as that same article's call for the withdrawal of all
   foreign forces intended.

Nearly seven decades of armistice are long enough. A treaty would be a first step towards easing
tensions on the Korean Peninsula.
""",
    },
    {
        "slug": "make-canada-a-zone-for-peace",
        "title": "Make Canada a zone for peace",
        "target": "The Prime Minister of Canada",
        "goal": 5000,
        "body": """\
We, the undersigned, call on the Government of Canada to:

1. **End Canada's participation in the naval embargo** against the Democratic People's Republic
   of Korea, part of the U.S.-led sanctions regime.
2. **Reactivate the diplomatic relations** that Canada and the DPRK established in 2001, which
   have been left stalled and dormant, in order to promote peaceful and mutually beneficial
   relations between our peoples.
3. **Make Canada a zone for peace**, and call on the United States to sign a peace treaty with
   the DPRK that ends the Korean War.
""",
    },
)


# The armistice anniversary picket is always the next 27 July; the teach-in three weeks
# after the demo is loaded. Times are local to each place.
EVENTS = (
    {
        "slug": "armistice-day-picket-toronto",
        "title": "Armistice Day picket: sign a peace treaty now!",
        "kind": EventKind.PICKET,
        "timezone": "America/Toronto",
        "when": "next-armistice-day",
        "start": time(17, 0), "hours": 2,
        "venue_name": "U.S. Consulate General",
        "address": "360 University Avenue\nToronto, Ontario",
        "city": "Toronto",
        "accessibility": "The sidewalk is level and step-free. Placards are provided; "
                         "bring water and something to sit on if you need it.",
        "contact": "Picket organizers: picket@placard.localhost",
        "description": """\
On the anniversary of the 1953 Armistice we gather outside the U.S. Consulate General to call
for a peace treaty that finally ends the Korean War, for U.S. troops to leave Korea, and for
Canada to become a zone for peace.

Bring friends, banners and your phone: the picket sign carries a QR code to the petition, so
people passing by can add their names on the spot.
""",
    },
    {
        "slug": "white-house-picket-2021",
        "title": "Picket outside the White House",
        "kind": EventKind.PICKET,
        "timezone": "America/New_York",
        "when": date(2021, 2, 15),
        "start": time(12, 0), "hours": 2,
        "venue_name": "Outside the White House",
        "address": "Pennsylvania Avenue NW\nWashington, D.C.",
        "city": "Washington, D.C.",
        "accessibility": "",
        "contact": "",
        "description": """\
A picket outside the White House calling on the new U.S. administration to sign a peace treaty
with the DPRK and to bring U.S. troops home from Korea.
""",
    },
    {
        "slug": "korea-peace-teach-in",
        "title": "Teach-in: why the Korean War has never ended",
        "kind": EventKind.ONLINE,
        "timezone": "America/Toronto",
        "when": "in-three-weeks",
        "start": time(19, 0), "hours": 1.5,
        "online_url": "https://meet.placard.localhost/korea-peace-teach-in",
        "capacity": 100,
        "accessibility": "Live captions are on. The slides are sent to everyone who registers.",
        "contact": "Teach-in team: teach-in@placard.localhost",
        "description": """\
An hour and a half on the history behind the demands: the 1953 Armistice and its Item 60, the
1953 Mutual Defence Treaty and the U.S. bases in Korea, the sanctions and the naval embargo, and
the diplomatic relations between Canada and the DPRK established in 2001. Questions welcome.

The link to join is sent to everyone whose place is confirmed.
""",
    },
)


def _event_day(when, today):
    if when == "next-armistice-day":
        this_year = date(today.year, 7, 27)
        return this_year if this_year > today else date(today.year + 1, 7, 27)
    if when == "in-three-weeks":
        return today + timedelta(weeks=3)
    return when


def _load_events(campaign, now):
    for values in EVENTS:
        event = db.session.scalars(select(Event).where(Event.slug == values["slug"])).one_or_none()
        if event is None:
            event = Event(campaign=campaign, slug=values["slug"], sequence=0)
            db.session.add(event)
        zone = ZoneInfo(values["timezone"])
        day = _event_day(values["when"], now.astimezone(zone).date())
        starts_at = datetime.combine(day, values["start"], tzinfo=zone)
        event.title = values["title"]
        event.kind = values["kind"]
        event.description = values["description"]
        event.timezone = values["timezone"]
        event.starts_at = starts_at
        event.ends_at = starts_at + timedelta(hours=values["hours"])
        event.venue_name = values.get("venue_name", "")
        event.address = values.get("address", "")
        event.city = values.get("city", "")
        event.online_url = values.get("online_url", "")
        event.capacity = values.get("capacity")
        event.accessibility = values["accessibility"]
        event.contact = values["contact"]
        event.status = EventStatus.PUBLISHED


def load_demo():
    """Create the demo campaign, or bring it back to its original text. Idempotent;
    signatures already collected are kept. The caller commits. Returns the campaign."""
    campaign = db.session.scalars(
        select(Campaign).where(Campaign.slug == CAMPAIGN["slug"])).one_or_none()
    if campaign is None:
        campaign = Campaign(slug=CAMPAIGN["slug"])
        db.session.add(campaign)
    campaign.title = CAMPAIGN["title"]
    campaign.summary = CAMPAIGN["summary"]
    campaign.body = CAMPAIGN["body"]
    campaign.status = CampaignStatus.PUBLISHED
    campaign.published_at = campaign.published_at or utcnow()
    campaign.demands.clear()
    db.session.flush()
    campaign.demands.extend(Demand(position=index, text=text) for index, text in enumerate(DEMANDS))

    for values in PETITIONS:
        petition = db.session.scalars(
            select(Petition).where(Petition.slug == values["slug"])).one_or_none()
        is_new = petition is None
        if is_new:
            petition = Petition(campaign=campaign, slug=values["slug"], status=PetitionStatus.OPEN)
            db.session.add(petition)
        for field in ("title", "target", "goal", "body"):
            setattr(petition, field, values[field])
        db.session.flush()
        if is_new:
            create_count_shards(petition)
    _load_events(campaign, utcnow())
    db.session.flush()
    return campaign
