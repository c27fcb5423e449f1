"""The roll-up tables' keys, and the upsert that adds to their rows."""

from sqlalchemy.dialects import postgresql, sqlite

from crm.extensions import db

# A lead's report dimensions, in funnel_daily's key order (then the stage).
DIMENSIONS = (
    "form",
    "source",
    "medium",
    "campaign",
    "diagnosis",
    "is_veteran",
    "state",
    "advocate_id",
)
FUNNEL_KEY = ("day", *DIMENSIONS, "stage")
SPEED_KEY = ("day", "form", "advocate_id", "minutes_bucket")
CALL_KEY = ("day", "user_id", "outcome", "seconds_bucket")


def bump(model, key: tuple[str, ...], amounts: tuple[str, ...], deltas: dict) -> None:
    """Add each delta to its key's row, creating the row at zero first (an upsert)."""
    if not deltas:
        return
    table = model.__table__
    dialect = db.session.get_bind().dialect.name
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + statement.excluded[name] for name in amounts},
    )
    rows = []
    for values, added in deltas.items():
        added = added if isinstance(added, tuple) else (added,)
        rows.append(dict(zip(key, values, strict=True)) | dict(zip(amounts, added, strict=True)))
    db.session.execute(statement, rows)
