"""What a database outage looks like from a request, and how long to ask a client to wait."""

import contextlib

import sqlalchemy.exc as sa_exc

from crm.extensions import db

# Unreachable, restarting, too slow (statement timeout), or no pooled connection in time.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)
RETRY_AFTER_SECONDS = 30


def forget_failed_transaction() -> None:
    """Drop the session's broken transaction; the pool reconnects once the database is back."""
    with contextlib.suppress(*DATABASE_UNAVAILABLE):
        db.session.rollback()
    db.session.remove()
