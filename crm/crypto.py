"""Free text a person typed, encrypted at rest with AES-256-GCM, keys from config.

A stored value reads `enc1:<key id>:<base64url(nonce + ciphertext + tag)>`. The key id says
which key of `DATA_KEYS` sealed it, so old rows stay readable after a new key comes first in
the list, and `flask crm rotate-keys` re-seals them under the new one. The column's name
(`table.column`) is the associated data: a value copied into another column, or one whose
bytes were changed, fails to open instead of reading as something else.

Coarse codes used for routing and reports (diagnosis type, veteran, state) are not free text
and stay in plain, queryable columns; names, emails and phones stay in theirs (identity
matching needs them).
"""

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

PREFIX = "enc1"
_NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class KeysMisconfigured(ValueError):
    """DATA_KEYS is malformed, or a stored value names a key that is not configured."""


class UnreadableValue(ValueError):
    """A stored value failed its authentication: changed, moved or sealed with another key."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, AESGCM]

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self.keys[self.current_id].encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{PREFIX}:{self.current_id}:{body}"

    def open(self, stored: str, context: str) -> str:
        _, key_id, body = stored.split(":", 2)
        key = self.keys.get(key_id)
        if key is None:
            raise KeysMisconfigured(
                f"a value was sealed with key {key_id!r}, which DATA_KEYS lacks"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return key.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as failed:
            raise UnreadableValue(f"a value of {context} failed its authentication") from failed


def is_sealed(stored: str | None) -> bool:
    return isinstance(stored, str) and stored.startswith(PREFIX + ":")


def key_id_of(stored: str) -> str:
    return stored.split(":", 2)[1]


def parse_keys(setting: str) -> Keyring:
    """`id=base64key,id=base64key`: the first seals new values, all of them open old ones."""
    keys: dict[str, AESGCM] = {}
    for entry in [part.strip() for part in setting.split(",") if part.strip()]:
        key_id, _, encoded = entry.partition("=")
        if not _KEY_ID.match(key_id):
            raise KeysMisconfigured(
                "each DATA_KEYS entry is id=key, the id 1-16 letters, digits, - or _"
            )
        try:
            padded = encoded + "=" * (-len(encoded) % 4)
            key = base64.b64decode(padded, altchars=b"-_", validate=True)
        except binascii.Error as bad:
            raise KeysMisconfigured(f"DATA_KEYS key {key_id!r} is not base64") from bad
        if len(key) != 32:
            raise KeysMisconfigured(f"DATA_KEYS key {key_id!r} must be 32 bytes (AES-256)")
        if key_id in keys:
            raise KeysMisconfigured(f"DATA_KEYS names key {key_id!r} twice")
        keys[key_id] = AESGCM(key)
    if not keys:
        raise KeysMisconfigured("DATA_KEYS holds no key")
    return Keyring(next(iter(keys)), keys)


def new_key_entry(key_id: str) -> str:
    """A fresh `id=key` entry for DATA_KEYS (flask crm new-data-key prints one)."""
    return f"{key_id}={base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}"


@lru_cache(maxsize=8)
def _keyring_for(setting: str) -> Keyring:
    return parse_keys(setting)


def keyring() -> Keyring:
    return _keyring_for(current_app.config["DATA_KEYS"])


class EncryptedText(sa.TypeDecorator):
    """A text column stored sealed; reads give back the text. `context` is `table.column`."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, context: str):
        super().__init__()
        self.context = context

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return keyring().seal(self._to_text(value), self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        # Rows written before encryption (or by a bulk seed) read as they are until
        # `flask crm rotate-keys` seals them.
        text = keyring().open(value, self.context) if is_sealed(value) else value
        return self._from_text(text)

    def _to_text(self, value) -> str:
        return value

    def _from_text(self, text: str):
        return text


class EncryptedJSON(EncryptedText):
    """A JSON document (a form's answers) stored sealed as one value."""

    cache_ok = True

    def _to_text(self, value) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def _from_text(self, text: str):
        return json.loads(text)
