"""Many supporters at once against a real server process: each accepted signature is
stored exactly once, and the count is exact afterwards."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from campaign.extensions import db
from campaign.jobs import run_job
from campaign.petitions.services import confirmed_counts
from campaign.signatures.models import Signature, SignatureStatus
from tests.integration.helpers import Visitor, confirm_link, create_petition

THREADS = 16
SIGNATURES_EACH = 10


def test_concurrent_signers_are_each_stored_once_and_counted_exactly(stack, stack_app, smtp):
    petition = create_petition(stack_app)

    def sign_many(number):
        visitor = Visitor(stack.base)
        statuses = []
        for each in range(SIGNATURES_EACH):
            response = visitor.sign(petition, email=f"crowd-{number}-{each}@example.org")
            statuses.append(response.status_code)
        # A double click from the same visitor, in the middle of the crowd.
        statuses.append(visitor.sign(petition, email=f"crowd-{number}-0@example.org").status_code)
        return statuses

    with ThreadPoolExecutor(THREADS) as pool:
        statuses = [s for result in pool.map(sign_many, range(THREADS)) for s in result]
    assert statuses == [303] * (THREADS * (SIGNATURES_EACH + 1))

    expected = THREADS * SIGNATURES_EACH
    with stack_app.app_context():
        rows = db.session.execute(
            select(Signature.supporter_id, func.count()).where(Signature.petition_id == petition["id"])
            .group_by(Signature.supporter_id)).all()
    assert len(rows) == expected and {count for _id, count in rows} == {1}

    def crowd_messages():
        return [m for m in smtp.messages if any(r.startswith("crowd-") for r in m.envelope_to)
                and petition["title"] in m["Subject"]]

    smtp.wait_for(lambda _m: len({tuple(m.envelope_to) for m in crowd_messages()}) >= expected,
                  timeout=90)
    links = {tuple(m.envelope_to): confirm_link(m) for m in crowd_messages()}

    def confirm(link):
        return Visitor(stack.base).confirm(link).status_code

    with ThreadPoolExecutor(THREADS) as pool:
        assert set(pool.map(confirm, links.values())) == {200}

    with stack_app.app_context():
        confirmed = db.session.scalar(select(func.count()).select_from(Signature).where(
            Signature.petition_id == petition["id"], Signature.status == SignatureStatus.CONFIRMED))
        assert confirmed == expected
        assert confirmed_counts([petition["id"]])[petition["id"]] == expected
        assert run_job("placard.petitions.recount", petition["id"]) == 0
