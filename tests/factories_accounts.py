"""Accounts for tests: ``make_user``, ``login`` and cheap password hashing.

Typical use::

    from tests.factories_accounts import fast_password_hashing, login, make_user  # noqa: F401

    def test_organizer_sees_their_dashboard(app, client):
        with app.app_context():
            user = make_user(role="organizer")
            db.session.commit()
        login(client, user)
        assert client.get("/organize/").status_code == 200
"""

import functools
import itertools

import pytest
from argon2 import PasswordHasher
from sqlalchemy import inspect

from campaign.accounts import passwords
from campaign.accounts.models import User, UserRole
from campaign.extensions import db

DEFAULT_PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


@functools.cache
def _hash(parameters, password):
    return passwords.hash_password(password)


def _cached_hash(password):
    hasher = passwords._hasher
    return _hash((hasher.time_cost, hasher.memory_cost, hasher.parallelism), password)


def make_user(role=UserRole.ORGANIZER, password=DEFAULT_PASSWORD, **overrides):
    """An active account with ``password`` (``""`` for an invitee who has not joined yet).

    Flushes, so the user has an id; the test commits. Hashes are cached per
    password, so making many users costs one hash.
    """
    number = next(_sequence)
    values = {"email": f"user{number}@example.org", "name": f"User {number}",
              "role": UserRole(role), "is_active_account": True, "session_version": 1,
              "password_hash": _cached_hash(password) if password else ""}
    values.update(overrides)
    values.setdefault("email_key", values["email"].lower())
    user = User(**values)
    db.session.add(user)
    db.session.flush()
    return user


def login(client, user):
    """Log ``client`` in as ``user`` without the login form (no password, CSRF or rate limit).

    Writes the session exactly as a successful login does. ``user`` may be a
    User (even one detached after its test committed) or an id. Use
    :func:`login_with_password` to go through the form itself.
    """
    user_id = user if isinstance(user, int) else inspect(user).identity[0]
    with client.application.app_context():
        session_id = db.session.get(User, user_id).get_id()
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = session_id
        session["_fresh"] = True


def login_with_password(client, email, password=DEFAULT_PASSWORD, next_url=None):
    """Post the login form; returns the response (303 on success)."""
    data = {"email": email, "password": password}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/organize/login", data=data)


@pytest.fixture
def fast_password_hashing(monkeypatch):
    """Argon2 at its cheapest for the test: real hashes, a thousandth of the cost.

    Import it into a test module (with ``autouse`` through a fixture of your
    own, or by name) where many passwords are hashed or checked.
    """
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", cheap)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", cheap.hash("placard-dummy-password"))
