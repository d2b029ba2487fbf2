"""The connected accounts' tokens, encrypted at rest with Fernet (the `cryptography` library's authenticated
encryption: AES-128-CBC with an HMAC-SHA256, so a changed or foreign text is refused rather than misread).

The keys are the operator's: ACCOUNT_TOKEN_KEYS in the environment (the first encrypts; every one decrypts,
so a key is rotated by putting the new one first). Unset, one key is derived from SECRET_KEY with HKDF, so the
embedded install works with nothing set; changing SECRET_KEY then means connecting the accounts again, and the
Accounts page says so for each one it can no longer read."""
from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class Unreadable(Exception):
    """The sealed tokens were made with a key this install no longer has (or were changed)."""


def _fernet() -> MultiFernet:
    keys = list(settings.ACCOUNT_TOKEN_KEYS)
    if not keys:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"media-engine connected account tokens").derive(settings.SECRET_KEY.encode())
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def seal(values: dict) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def unseal(text: str) -> dict:
    try:
        return json.loads(_fernet().decrypt(text.encode()))
    except (InvalidToken, ValueError) as exc:
        raise Unreadable("the account's tokens cannot be read with this install's keys") from exc
