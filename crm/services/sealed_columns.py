"""Re-seal stored free text under the current key: `flask crm rotate-keys`.

Which columns are sealed is read from the models (every EncryptedText column), so a column
sealed later is rotated without anyone remembering to. Rows are read and rewritten in
batches along the primary key, one short transaction each; values already under the current
key are skipped by the WHERE clause, so a run that stops half way is simply run again.

Some sealed tables are append-only (notes, calls, stage changes, chat messages): their
database guard refuses every UPDATE. Re-sealing changes no fact, only the bytes holding it,
so the guard steps aside for the length of one batch's transaction and is back before it
commits (PostgreSQL: the trigger is disabled and enabled again inside the transaction,
which holds the table's lock meanwhile; SQLite: its trigger is dropped and created again).
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from crm import crypto
from crm.extensions import db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SealedColumn:
    table: sa.Table
    column: sa.Column

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column.name}"


def sealed_columns() -> list[SealedColumn]:
    return [
        SealedColumn(table, column)
        for table in db.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, crypto.EncryptedText)
    ]


def rotate_keys(batch_size: int = 500) -> dict[str, int]:
    """Re-seal every value not under the current key (or not sealed at all); counts by column."""
    keyring = crypto.keyring()
    counts = {}
    for sealed in sealed_columns():
        counts[sealed.name] = _reseal(sealed, keyring, batch_size)
        log.info("rotate-keys: %s re-sealed %d values", sealed.name, counts[sealed.name])
    return counts


def _reseal(sealed: SealedColumn, keyring: crypto.Keyring, batch_size: int) -> int:
    (pk,) = sealed.table.primary_key.columns
    # The raw stored text, without the column type's decryption.
    raw = sa.type_coerce(sealed.column, sa.Text)
    current = f"{crypto.PREFIX}:{keyring.current_id}:%"
    done, after = 0, None
    while True:
        query = (
            sa.select(pk, raw)
            .where(raw.is_not(None), ~raw.like(current))
            .order_by(pk)
            .limit(batch_size)
        )
        if after is not None:
            query = query.where(pk > after)
        rows = db.session.execute(query).all()
        if not rows:
            return done
        context = sealed.name
        updates = [
            {"row_id": row_id, "sealed": keyring.seal(_opened(keyring, value, context), context)}
            for row_id, value in rows
        ]
        with guard_lifted(sealed.table.name):
            db.session.execute(
                sa.update(sealed.table)
                .where(pk == sa.bindparam("row_id"))
                .values({sealed.column.name: sa.bindparam("sealed", type_=sa.Text)}),
                updates,
                execution_options={"synchronize_session": False},
            )
        db.session.commit()
        done += len(rows)
        after = rows[-1][0]


def _opened(keyring: crypto.Keyring, value: str, context: str) -> str:
    return keyring.open(value, context) if crypto.is_sealed(value) else value


@contextmanager
def guard_lifted(table: str) -> Iterator[None]:
    """Let this transaction UPDATE an append-only table; the guard is back before it commits."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        triggers = connection.scalars(
            sa.text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = CAST(:table AS regclass)"
                " AND tgname = :name"
            ),
            {"table": table, "name": f"{table}_append_only"},
        ).all()
        for trigger in triggers:
            connection.execute(sa.text(f'ALTER TABLE "{table}" DISABLE TRIGGER "{trigger}"'))
        yield
        for trigger in triggers:
            connection.execute(sa.text(f'ALTER TABLE "{table}" ENABLE TRIGGER "{trigger}"'))
        return
    definitions = connection.scalars(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :name"),
        {"name": f"{table}_no_update"},
    ).all()
    for _ in definitions:
        connection.execute(sa.text(f'DROP TRIGGER "{table}_no_update"'))
    yield
    for definition in definitions:
        connection.execute(sa.text(definition))
