"""The password policy: every reason it gives, and the passwords it lets through."""

import pytest

from campaign.accounts.passwords import password_problems

TOO_SHORT = "Use at least 12 characters."
PATTERN = "Avoid repeated characters"
EMAIL = "Do not use your email address"
COMMON = "among the first ones attackers try"


@pytest.fixture(autouse=True)
def _request(ctx):
    """The reasons are translated, so they need a request's language."""


def reasons(password, email=None):
    return " | ".join(password_problems(password, email))


@pytest.mark.parametrize("password", [
    "correct horse battery staple", "Tr0ub4dor&3-xyzzy", "dragonfly-sunset-42",
    ("correct horse battery staple " * 9)[:256],
    "Mañana, 7 gatos grises",
])
def test_long_unusual_passwords_are_accepted(password):
    assert password_problems(password, "ada@example.org") == []


def test_length_is_between_12_and_256_characters():
    assert TOO_SHORT in reasons("")
    assert TOO_SHORT in reasons("Xk9!mQ2#pL7")
    assert reasons("Xk9!mQ2#pL7z") == ""
    assert reasons("x" * 257) == "Use at most 256 characters."


@pytest.mark.parametrize("password", [
    "aaaaaaaaaaaaaaaa", "abcdefghijklmnop", "123456789012", "987654321098", "qwertyuiopasdf",
    "abcabcabcabc", "121212121212", "ZYXWVUTSRQPONM",
])
def test_repeats_patterns_and_sequences_are_refused(password):
    assert PATTERN in reasons(password)


def test_the_email_local_part_is_refused_in_any_case():
    assert EMAIL in reasons("Jane.Doe-rides-a-bike", "jane.doe+news@example.org")
    assert EMAIL in reasons("janedoe rides a bike", "jane.doe@example.org")
    assert EMAIL not in reasons("jane rides a bike daily", "jane.doe@example.org")
    assert EMAIL not in reasons("jane rides a bike daily")


@pytest.mark.parametrize("password", [
    "password", "Password2024!", "p@ssw0rd-1999", "passwordpassword", "monkey123456789",
    "2024iloveyou!!", "QWERTY123456", "Football#2025", "!!!letmein!!!", "1qaz2wsx3edc",
])
def test_common_passwords_and_their_trivial_variants_are_refused(password):
    assert COMMON in reasons(password)


def test_every_applicable_reason_is_given_at_once():
    problems = password_problems("password1", "password@example.org")
    assert len(problems) == 3
    assert TOO_SHORT in problems[0] and EMAIL in problems[1] and COMMON in problems[2]
