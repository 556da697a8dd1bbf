"""Secrets at rest: each brand's X credentials, sealed with a key from the environment.

- `cryptography`'s Fernet (AES-128-CBC with an HMAC-SHA256 over it, a kept library from the
  PyCA): a sealed value cannot be read or altered without the key, and a token carries
  its own version, IV and timestamp.
- MultiFernet over TWELP_CREDENTIALS_KEYS (comma-separated Fernet keys): the first key
  seals, every key opens. Rotation: put a new key first, run
  `manage.py rotate_credentials_key` (MultiFernet.rotate re-seals every row with it),
  then drop the old key.
- The key never sits in the database; a row copied elsewhere is useless without it.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CannotOpen(Exception):
    """The sealed value was made with a key that is no longer in TWELP_CREDENTIALS_KEYS
    (or was altered): the brand has to be connected again."""


def _box() -> MultiFernet:
    keys = list(settings.TWELP_CREDENTIALS_KEYS)
    if not keys:
        raise ImproperlyConfigured(
            "TWELP_CREDENTIALS_KEYS is not set: brands' X credentials cannot be stored or read."
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "TWELP_CREDENTIALS_KEYS holds a key that is not a Fernet key (32 url-safe "
            "base64-encoded bytes; make one with `python -c 'from cryptography.fernet import "
            "Fernet; print(Fernet.generate_key().decode())'`)."
        ) from error


def seal(values: dict[str, str]) -> bytes:
    return _box().encrypt(json.dumps(values, sort_keys=True).encode())


def open_sealed(token: bytes) -> dict[str, str]:
    try:
        return json.loads(_box().decrypt(bytes(token)))
    except InvalidToken:
        raise CannotOpen(
            "The stored X credentials cannot be read with TWELP_CREDENTIALS_KEYS "
            "(a removed key?): connect the account again."
        ) from None


def reseal(token: bytes) -> bytes:
    """The same value sealed with the first key (MultiFernet.rotate)."""
    try:
        return _box().rotate(bytes(token))
    except InvalidToken:
        raise CannotOpen("A stored credential opens with none of TWELP_CREDENTIALS_KEYS.") from None


def dev_key(secret_key: str) -> str:
    """A Fernet key derived from SECRET_KEY: the demo's and DEBUG's default only."""
    digest = hashlib.sha256(b"twelp.credentials:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()
