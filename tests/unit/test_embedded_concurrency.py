"""Concurrent signers on the embedded default (SQLite in WAL mode) get no "database is locked"."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from campaign import create_app
from campaign.extensions import db
from campaign.signatures.models import Signature
from tests.conftest import unit_config
from tests.factories import make_petition

SIGNERS = 12
SIGNATURES_EACH = 8


def test_concurrent_signers_on_sqlite_are_all_stored_once(tmp_path):
    database = tmp_path / "embedded.sqlite"
    app = create_app(unit_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
                                 WTF_CSRF_ENABLED=True, SERVER_NAME=None))
    with app.app_context():
        db.create_all()
        petition = make_petition(slug="busy")
        db.session.commit()
        prefix = f"p{petition.id}"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"

    def signer(number):
        session = requests.Session()
        page = session.get(f"{base}/petitions/busy", timeout=30)
        token = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"',
                          page.text).group(1)
        statuses = []
        for each in range(SIGNATURES_EACH):
            response = session.post(f"{base}/petitions/busy/sign", allow_redirects=False,
                                    timeout=30, data={
                f"{prefix}-csrf_token": token, f"{prefix}-first_name": "Ada",
                f"{prefix}-last_name": f"Signer {number}", f"{prefix}-country": "CA",
                f"{prefix}-email": f"s{number}-{each}@example.org", f"{prefix}-postal_code": "H2X"})
            statuses.append(response.status_code)
        return statuses

    try:
        with ThreadPoolExecutor(SIGNERS) as pool:
            statuses = [status for result in pool.map(signer, range(SIGNERS)) for status in result]
    finally:
        server.shutdown()
        thread.join()

    assert statuses == [303] * (SIGNERS * SIGNATURES_EACH)
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(Signature))
        assert stored == SIGNERS * SIGNATURES_EACH
        emails = db.session.scalars(select(Signature.supporter_id)).all()
        assert len(set(emails)) == SIGNERS * SIGNATURES_EACH
