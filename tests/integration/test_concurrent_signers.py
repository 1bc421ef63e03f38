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

    # One email per signer, plus the fresh link each double click asked for.
    smtp.wait_for(lambda _m: len(crowd_messages()) >= expected + THREADS, timeout=90)
    # The double-clicked addresses got a second, newer link that replaced the first.
    links = {}
    for message in crowd_messages():
        links.setdefault(message.envelope_to[0], []).append(confirm_link(message))

    def confirm_with_the_working_link(recipient_links):
        confirmed = 0
        for link in recipient_links:
            visitor = Visitor(stack.base)
            if visitor.session.get(link).status_code == 200:
                confirmed += visitor.confirm(link).status_code == 200
        return confirmed

    with ThreadPoolExecutor(THREADS) as pool:
        assert list(pool.map(confirm_with_the_working_link, links.values())) == [1] * expected

    with stack_app.app_context():
        confirmed = db.session.scalar(select(func.count()).select_from(Signature).where(
            Signature.petition_id == petition["id"], Signature.status == SignatureStatus.CONFIRMED))
        assert confirmed == expected
        assert confirmed_counts([petition["id"]])[petition["id"]] == expected
        assert run_job("placard.petitions.recount", petition["id"]) == 0
