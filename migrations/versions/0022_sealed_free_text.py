"""sealed free text: what people typed is stored encrypted (crm/crypto.py)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28 01:00:00

The form answers, spam held back, mailing addresses, notes, call notes, stage-change reasons
and chat messages become text columns holding `enc1:<key id>:...` values, sealed with the
first key of DATA_KEYS; the rows already there are sealed here. The chat message length
CHECK goes: the database sees ciphertext, and the service bounds the text. Append-only tables
keep their guard: it steps aside inside this transaction only, while their rows are sealed.
"""

from alembic import op
import sqlalchemy as sa
from flask import current_app

from crm.crypto import is_sealed, parse_keys


# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

# (table, column, was JSON before, append-only)
_SEALED = [
    ("submissions", "fields", True, False),
    ("suspected_spam", "fields", True, False),
    ("guide_fulfilments", "mailing_address", True, False),
    ("notes", "body", False, True),
    ("calls", "note", False, True),
    ("stage_changes", "reason", False, True),
    ("chat_messages", "body", False, True),
]
_BATCH = 500


def _sqlite_guard(table):
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
    ]


def _rewrite(table, column, append_only, change):
    """Pass every non-null value of a column through `change`, the table's guard lifted."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if append_only:
        if postgres:
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        else:
            op.execute(f"DROP TRIGGER {table}_no_update")
    after = 0
    while True:
        rows = bind.execute(
            sa.text(
                f"SELECT id, {column} FROM {table} WHERE id > :after AND {column} IS NOT NULL"
                " ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": _BATCH},
        ).all()
        if not rows:
            break
        changed = [
            {"row_id": row_id, "value": new}
            for row_id, new, old in ((row_id, change(value), value) for row_id, value in rows)
            if new != old
        ]
        if changed:
            bind.execute(
                sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :row_id"), changed
            )
        after = rows[-1][0]
    if append_only:
        if postgres:
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
        else:
            op.execute(_sqlite_guard(table)[0])


def _chat_length_check(present):
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        if present:
            batch_op.create_check_constraint(
                op.f("ck_chat_messages_body_length"),
                "length(body) >= 1 AND length(body) <= 2000",
            )
        else:
            batch_op.drop_constraint(op.f("ck_chat_messages_body_length"), type_="check")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite rebuilt the table, and the rebuild dropped its guard.
        for statement in _sqlite_guard("chat_messages"):
            op.execute(statement)


def _retype(table, column, to_type, from_type):
    if op.get_bind().dialect.name == "postgresql":
        cast = "json" if isinstance(to_type, sa.JSON) else "text"
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE {cast} USING {column}::{cast}")
        return
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(column, type_=to_type, existing_type=from_type)


def upgrade():
    keyring = parse_keys(current_app.config["DATA_KEYS"])
    _chat_length_check(present=False)
    for table, column, was_json, append_only in _SEALED:
        if was_json:
            _retype(table, column, sa.Text(), sa.JSON())
        context = f"{table}.{column}"
        _rewrite(
            table,
            column,
            append_only,
            lambda value, context=context: (
                value if is_sealed(value) else keyring.seal(value, context)
            ),
        )


def downgrade():
    keyring = parse_keys(current_app.config["DATA_KEYS"])
    for table, column, was_json, append_only in _SEALED:
        context = f"{table}.{column}"
        _rewrite(
            table,
            column,
            append_only,
            lambda value, context=context: (
                keyring.open(value, context) if is_sealed(value) else value
            ),
        )
        if was_json:
            _retype(table, column, sa.JSON(), sa.Text())
    _chat_length_check(present=True)
