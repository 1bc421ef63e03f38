"""A petition's numbers for its organizers: totals by status, signatures per day, and
where signers came from.

Counted afresh from the petition's signatures with GROUP BY queries (served by
``ix_signatures_petition_status``): fine on a private page, unlike the public
count, which reads the count shards. Pending and confirmed signatures are always
counted apart. Days are UTC days.
"""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

from babel import Locale
from sqlalchemy import case, func, literal_column, select

from campaign.db import as_date, utc_day, utcnow
from campaign.extensions import db
from campaign.signatures.models import Signature, SignatureStatus

DAYS = 30
TOP = 10


@dataclasses.dataclass(frozen=True)
class DayCount:
    day: date
    submitted: int
    confirmed: int


@dataclasses.dataclass(frozen=True)
class Breakdown:
    """Signatures sharing one value (a source, a referrer…): all of them, and the confirmed ones."""

    value: str
    submitted: int
    confirmed: int


@dataclasses.dataclass(frozen=True)
class PostalArea:
    country: str
    country_name: str
    area: str
    confirmed: int


@dataclasses.dataclass(frozen=True)
class CountryCount:
    country: str
    name: str
    confirmed: int


@dataclasses.dataclass(frozen=True)
class PetitionNumbers:
    submitted: int
    confirmed: int
    pending: int
    invalidated: int
    days: list[DayCount]
    sources: list[Breakdown]
    utm_sources: list[Breakdown]
    utm_mediums: list[Breakdown]
    utm_campaigns: list[Breakdown]
    referrer_hosts: list[Breakdown]
    postal_areas: list[PostalArea]
    countries: list[CountryCount]

    @property
    def confirmation_rate(self):
        """Confirmed ÷ submitted (every signature, whatever its status), or None before any."""
        return self.confirmed / self.submitted if self.submitted else None


def petition_numbers(petition_id, *, locale="en", now=None, days=DAYS):
    """Every figure of the numbers page for one petition; country names in ``locale``."""
    today = (now or utcnow()).astimezone(UTC).date()
    by_status = status_counts(petition_id)
    territories = Locale.parse(str(locale)).territories
    return PetitionNumbers(
        submitted=sum(by_status.values()),
        confirmed=by_status[SignatureStatus.CONFIRMED],
        pending=by_status[SignatureStatus.PENDING],
        invalidated=by_status[SignatureStatus.INVALIDATED],
        days=daily_counts(petition_id, today - timedelta(days=days - 1), today),
        sources=breakdown(petition_id, Signature.source),
        utm_sources=breakdown(petition_id, Signature.utm_source),
        utm_mediums=breakdown(petition_id, Signature.utm_medium),
        utm_campaigns=breakdown(petition_id, Signature.utm_campaign),
        referrer_hosts=breakdown(petition_id, Signature.referrer_host),
        postal_areas=[PostalArea(country, territories.get(country, country), area, count)
                      for country, area, count in top_postal_areas(petition_id)],
        countries=[CountryCount(country, territories.get(country, country), count)
                   for country, count in top_countries(petition_id)],
    )


def status_counts(petition_id):
    """``{SignatureStatus: signatures}``, every status present."""
    rows = db.session.execute(
        select(Signature.status, func.count())
        .where(Signature.petition_id == petition_id).group_by(Signature.status)
    ).all()
    counts = dict.fromkeys(SignatureStatus, 0)
    counts.update({SignatureStatus(status): count for status, count in rows})
    return counts


def daily_counts(petition_id, first_day, last_day):
    """One :class:`DayCount` per UTC day from ``first_day`` to ``last_day``, empty days too.

    Submitted: signatures made that day, whatever became of them. Confirmed:
    signatures confirmed that day and still counted (not invalidated since).
    """
    start = datetime.combine(first_day, time.min, tzinfo=UTC)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=UTC)

    def per_day(column, *conditions):
        day = utc_day(column)
        rows = db.session.execute(
            select(day, func.count())
            .where(Signature.petition_id == petition_id, column >= start, column < end,
                   *conditions)
            .group_by(day)
        ).all()
        return {as_date(value): count for value, count in rows}

    submitted = per_day(Signature.created_at)
    confirmed = per_day(Signature.confirmed_at, Signature.status == SignatureStatus.CONFIRMED)
    span = (last_day - first_day).days + 1
    return [DayCount(day, submitted.get(day, 0), confirmed.get(day, 0))
            for day in (first_day + timedelta(days=offset) for offset in range(span))]


def breakdown(petition_id, column, limit=TOP):
    """The ``limit`` most frequent values of ``column`` among the petition's signatures
    (an empty value included: it means "not given"), most submitted first."""
    submitted = func.count().label("submitted")
    confirmed = func.sum(case((Signature.status == SignatureStatus.CONFIRMED, 1), else_=0))
    rows = db.session.execute(
        select(column, submitted, confirmed)
        .where(Signature.petition_id == petition_id)
        .group_by(column).order_by(submitted.desc(), column).limit(limit)
    ).all()
    return [Breakdown(value or "", count, int(confirmed or 0)) for value, count, confirmed in rows]


def top_postal_areas(petition_id, limit=TOP):
    """``[(country, area, confirmed signatures)]``: an area is the first three characters
    of a postal code, upper-cased. Grouped by country too, as the same three
    characters name different places in different countries."""
    area = func.upper(func.rtrim(func.substr(Signature.postal_code, literal_column("1"),
                                             literal_column("3"))))
    count = func.count().label("confirmed")
    return [tuple(row) for row in db.session.execute(
        select(Signature.country, area, count)
        .where(Signature.petition_id == petition_id,
               Signature.status == SignatureStatus.CONFIRMED, Signature.postal_code != "")
        .group_by(Signature.country, area).order_by(count.desc(), Signature.country, area)
        .limit(limit)
    ).all()]


def top_countries(petition_id, limit=TOP):
    """``[(country code, confirmed signatures)]``, most first."""
    count = func.count().label("confirmed")
    return [tuple(row) for row in db.session.execute(
        select(Signature.country, count)
        .where(Signature.petition_id == petition_id,
               Signature.status == SignatureStatus.CONFIRMED, Signature.country != "")
        .group_by(Signature.country).order_by(count.desc(), Signature.country).limit(limit)
    ).all()]
