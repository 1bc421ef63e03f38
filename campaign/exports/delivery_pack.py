"""The delivery pack: one petition's text, count and signers, to print and hand over.

The signers are read as plain rows (never ORM objects) from a ``yield_per``
query, and only as the page that lists them is streamed, so a petition with a
hundred thousand signers costs the server one batch of rows at a time. The list
carries names and a postal area, never an email address.
"""

import dataclasses
from collections.abc import Iterator

from babel import Locale
from sqlalchemy import select

from campaign.extensions import db
from campaign.petitions.models import Petition
from campaign.petitions.services import confirmed_counts
from campaign.petitions.stats import status_counts, top_countries, top_postal_areas
from campaign.signatures.models import Signature, SignatureStatus

BATCH = 1000
# What the pack discloses of each signer, as the export log names columns.
COLUMNS = ("first_name", "last_name", "postal_area", "country")


@dataclasses.dataclass(frozen=True)
class CountryRow:
    country: str
    name: str
    signatures: int


@dataclasses.dataclass(frozen=True)
class AreaRow:
    """An area is the first three characters of a postal code (in Canada, the forward
    sortation area); ``area`` is empty for the signers who gave no postal code."""

    country_name: str
    area: str
    signatures: int


@dataclasses.dataclass(frozen=True)
class Signer:
    first_name: str
    last_name: str
    area: str
    country_name: str


@dataclasses.dataclass(frozen=True)
class DeliveryPack:
    petition: Petition
    count: int
    listed: int
    countries: list[CountryRow]
    areas: list[AreaRow]
    signers: Iterator[Signer]


def postal_area(postal_code):
    """The area of ``postal_code`` as the numbers page groups it (see ``top_postal_areas``)."""
    return (postal_code or "")[:3].rstrip().upper()


def delivery_pack(petition, *, locale="en"):
    """Everything the pack shows for ``petition``; country names in ``locale``.

    ``count`` is the public count (from the count shards), ``listed`` the
    confirmed signatures the list will hold. The tables are read now; ``signers``
    is a generator that queries only when iterated, so iterate it inside the
    request (a streamed template does). Reads only; never flushes or commits.
    """
    names = Locale.parse(str(locale)).territories
    countries = [CountryRow(code, names.get(code, code), count)
                 for code, count in top_countries(petition.id, limit=None)]
    areas = [AreaRow(names.get(code, code), area, count)
             for code, area, count in top_postal_areas(petition.id, limit=None)]
    listed = status_counts(petition.id)[SignatureStatus.CONFIRMED]
    without_area = listed - sum(row.signatures for row in areas)
    if without_area:
        areas.append(AreaRow("", "", without_area))
    return DeliveryPack(petition=petition, count=confirmed_counts([petition.id])[petition.id],
                        listed=listed, countries=countries, areas=areas,
                        signers=signers(petition.id, names))


def buffered(chunks, size=64 * 1024):
    """``chunks`` joined into pieces of about ``size`` characters.

    A streamed template yields every fragment between two tags on its own, over
    ten per signer: sent one by one, each would be a write to the client.
    """
    pending, length = [], 0
    for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


def signers(petition_id, country_names, *, batch=BATCH):
    """The petition's confirmed signers in signing order, as :class:`Signer` rows."""
    result = db.session.execute(
        select(Signature.first_name, Signature.last_name, Signature.postal_code,
               Signature.country)
        .where(Signature.petition_id == petition_id,
               Signature.status == SignatureStatus.CONFIRMED)
        .order_by(Signature.created_at, Signature.id)
        .execution_options(yield_per=batch))
    try:
        for first_name, last_name, postal_code, country in result:
            yield Signer(first_name, last_name, postal_area(postal_code),
                         country_names.get(country, country))
    finally:
        result.close()
