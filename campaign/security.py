"""Tokens and keyed hashes.

Tokens sent by email are random and stored only as a SHA-256 hash: a copy of
the database is not a set of working links. IP addresses are kept only as a
keyed hash, enough to spot abuse without holding the address itself.
"""

import hashlib
import hmac
import secrets

from flask import current_app

TOKEN_BYTES = 32


def new_token():
    """Return ``(token, token_hash)``: the token goes in the email, the hash in the database."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    return token, hash_token(token)


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def keyed_hash(value, purpose):
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{purpose}:{value}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def ip_hash(ip_address):
    return keyed_hash(ip_address or "", "ip")[:32] if ip_address else None
