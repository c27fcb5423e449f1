"""API keys: the credential a server-to-server client sends to the JSON API."""

import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.models import ApiKey, utcnow

log = logging.getLogger(__name__)

# "crm_" + 8 hex characters (the public prefix) + "_" + 32 random bytes, base64url.
_KEY_SHAPE = re.compile(r"(crm_[0-9a-f]{8})_[A-Za-z0-9_-]{43}")
# last_used_at answers "is this client still calling?": a write every few minutes per key
# is enough, and keeps the submit path free of a write per request.
_LAST_USED_RESOLUTION = timedelta(minutes=10)
_PREFIX_ATTEMPTS = 5


def hash_key(key: str) -> str:
    """The stored form of a key (see the model for why SHA-256 is enough)."""
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(name: str) -> tuple[ApiKey, str]:
    """Create a key for the named client and commit; the plain key is returned only here."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ValueError("Name the client in 1 to 80 characters.")
    for attempt in range(1, _PREFIX_ATTEMPTS + 1):
        prefix = "crm_" + secrets.token_hex(4)
        key = f"{prefix}_{secrets.token_urlsafe(32)}"
        api_key = ApiKey(name=name, prefix=prefix, key_hash=hash_key(key), created_at=utcnow())
        db.session.add(api_key)
        try:
            db.session.commit()
        except IntegrityError:  # the one-in-four-billion prefix collision
            db.session.rollback()
            if attempt == _PREFIX_ATTEMPTS:
                raise
            continue
        log.info("created API key %s (%s)", api_key.id, api_key.prefix)
        return api_key, key
    raise AssertionError("unreachable")


def list_api_keys() -> list[ApiKey]:
    """Every key, oldest first, revoked ones included."""
    return list(db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id)))


def find_api_key(prefix_or_id: str) -> ApiKey | None:
    """The key named by its id or its public prefix (with or without "crm_")."""
    value = prefix_or_id.strip()
    if value.isdigit():
        return db.session.get(ApiKey, int(value))
    prefix = value if value.startswith("crm_") else "crm_" + value
    return db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix[:16]))


def revoke_api_key(prefix_or_id: str) -> ApiKey | None:
    """Revoke the key (idempotent) and commit; None when there is no such key."""
    api_key = find_api_key(prefix_or_id)
    if api_key is None:
        return None
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        db.session.commit()
        log.info("revoked API key %s (%s)", api_key.id, api_key.prefix)
    return api_key


def authenticate(header_value: str | None) -> ApiKey | None:
    """The live key an `Authorization: Bearer KEY` header carries, or None.

    The row is found by the key's public prefix and the hashes are compared in constant
    time, so the answer's timing tells nothing about how much of a guessed key was right.
    """
    key = _bearer_token(header_value)
    match = _KEY_SHAPE.fullmatch(key) if key else None
    if match is None:
        return None
    api_key = db.session.scalar(sa.select(ApiKey).where(ApiKey.prefix == match.group(1)))
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_key(key)):
        return None
    if api_key.revoked_at is not None:
        return None
    _note_use(api_key)
    return api_key


def _bearer_token(header_value: str | None) -> str | None:
    # RFC 6750: a case-insensitive scheme, spaces, one token. Only space and tab separate
    # (str.split() would also take Latin-1's NEL and no-break space for whitespace).
    scheme, _, token = (header_value or "").strip(" \t").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip(" \t")


def _note_use(api_key: ApiKey) -> None:
    now = utcnow()
    if api_key.last_used_at is not None and now - api_key.last_used_at < _LAST_USED_RESOLUTION:
        return
    # Conditional, so that concurrent requests of one client write it once.
    db.session.execute(
        sa.update(ApiKey)
        .where(
            ApiKey.id == api_key.id,
            sa.or_(
                ApiKey.last_used_at.is_(None),
                ApiKey.last_used_at < now - _LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    # The caller keeps reading the key after this commit: detach it so that its loaded
    # attributes stay as they are instead of being reloaded.
    db.session.expunge(api_key)
    db.session.commit()
