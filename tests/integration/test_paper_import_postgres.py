"""A large sheet of paper signatures on PostgreSQL: every row imported in chunks, each
given its public id by the database, and each queued once for the campaign's webhook."""

from sqlalchemy import select

from campaign.api import webhooks
from campaign.api.models import WebhookDelivery, WebhookDeliveryStatus
from campaign.extensions import db
from campaign.petitions.services import confirmed_counts
from campaign.signatures.models import Signature
from campaign.signatures.paper import COLUMNS, import_paper_signatures
from tests.factories import make_petition

ROWS = 1203  # more than two of the import's chunks of 500


def test_a_sheet_of_more_than_one_chunk_is_imported_and_queued_for_webhooks(make_production_app):
    app = make_production_app(WEBHOOK_ALLOW_PRIVATE_ADDRESSES=True)
    with app.test_request_context():
        petition = make_petition()
        webhooks.register_endpoint(petition.campaign, "http://127.0.0.1:9/hook", actor=None)
        db.session.commit()
        lines = [",".join(COLUMNS)] + [f"Reader{n},Paper,,M5V 2T6,CA,," for n in range(ROWS)]
        report = import_paper_signatures(petition, ("\n".join(lines) + "\n").encode(),
                                         label="Rally", actor=None)
        db.session.commit()

        assert report.imported == ROWS
        assert confirmed_counts([petition.id])[petition.id] == ROWS
        signatures = db.session.execute(select(Signature.id, Signature.uuid)
                                        .where(Signature.petition_id == petition.id)).all()
        assert len(signatures) == ROWS and len({uuid for _id, uuid in signatures}) == ROWS
        queued = db.session.scalars(select(WebhookDelivery.record_id).where(
            WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
            WebhookDelivery.record_id.in_([id_ for id_, _uuid in signatures]))).all()
        assert sorted(queued) == sorted(id_ for id_, _uuid in signatures)
