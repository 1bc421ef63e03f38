"""Password hashing (argon2id) and the password policy."""

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _

from campaign.accounts.common_passwords import COMMON_PASSWORDS

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


PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256

# Runs of keys or characters that people type as a "long" password.
_SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm",
              "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")
_SEQUENCE_RUNS = tuple(
    run for sequence in _SEQUENCES
    for run in (sequence * (PASSWORD_MAX_LENGTH // len(sequence) + 2),
                sequence[::-1] * (PASSWORD_MAX_LENGTH // len(sequence) + 2)))
_LOOK_ALIKES = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                              "@": "a", "$": "s", "!": "i"})
# What people add around a common word to pass a "digits and symbols" rule.
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def password_problems(password, email=None):
    """Why ``password`` may not be used, as translated sentences; empty if it may.

    Length is counted in characters. Nothing here is stored or logged.
    """
    password = password or ""
    if len(password) < PASSWORD_MIN_LENGTH:
        problems = [_("Use at least %(min)d characters.", min=PASSWORD_MIN_LENGTH)]
    elif len(password) > PASSWORD_MAX_LENGTH:
        return [_("Use at most %(max)d characters.", max=PASSWORD_MAX_LENGTH)]
    else:
        problems = []
    if not password:
        return problems
    lowered = password.lower()
    if _is_pattern(lowered):
        problems.append(_("Avoid repeated characters, patterns and sequences such as "
                          "“aaaa”, “1234” or “qwerty”."))
    if _contains_email_name(lowered, email):
        problems.append(_("Do not use your email address, or the part before the @, in your password."))
    if _is_common(lowered):
        problems.append(_("This password is among the first ones attackers try, even with "
                          "digits, a year or symbols added. Please choose another."))
    return problems


def _smallest_repeating_unit(text):
    # The text is a repetition of its prefix of this length ("abab" → 2).
    return (text + text).find(text, 1)


def _is_pattern(lowered):
    unit = _smallest_repeating_unit(lowered)
    if unit <= 4 and unit < len(lowered):
        return True
    return any(lowered in run for run in _SEQUENCE_RUNS)


def _contains_email_name(lowered, email):
    local = (email or "").rpartition("@")[0].lower().partition("+")[0]
    names = {local, re.sub(r"[._-]", "", local)}
    return any(len(name) >= 3 and name in lowered for name in names)


def _is_common(lowered):
    candidates = set()
    for text in (lowered, _PADDING.sub("", lowered)):
        for form in (text, text.translate(_LOOK_ALIKES)):
            core = _PADDING.sub("", form)
            # "passwordpassword" is as weak as "password".
            candidates.update((form, core, core[:_smallest_repeating_unit(core)]))
    return not candidates.isdisjoint(COMMON_PASSWORDS)
