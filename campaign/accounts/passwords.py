"""Password hashing (argon2id) and the password policy."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# A dummy hash to verify against when the account does not exist, so that a
# login attempt takes as long whether or not the address has an account.
_DUMMY_HASH = _hasher.hash("placard-dummy-password")


def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """True if ``password`` matches; also spends the same time when there is no hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    return _hasher.check_needs_rehash(password_hash)
