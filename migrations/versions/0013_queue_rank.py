"""queue order: each call task's band and its contact's routing facts, and an index in claim order

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 19:00:00

Next call walks the open tasks in claim order and stops at the first one this advocate may call
now. Every fact that walk tests is on the task's own row, so a task that fails is passed over in
the index scan without a visit to its contact: the band (generated from the reason), and copies
of the contact's time zone, veteran status and diagnosis, which triggers keep in step with the
contact (capture updates contacts with Core statements that no ORM hook would see).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_QUEUE_RANK_SQL = (
    "CASE WHEN reason IN ('requested_callback', 'call_back_at') THEN 0"
    " WHEN reason = 'new_lead' THEN 1 ELSE 2 END"
)
# The copied facts, as expressions over a contacts row named c.
_COPIES = {
    "time_zone": "c.time_zone",
    "needs_va_benefits": "COALESCE(c.is_veteran, false)",
    "needs_peritoneal": "COALESCE(c.diagnosis = 'peritoneal', false)",
}
_FACTS = ("time_zone", "is_veteran", "diagnosis")


def _columns():
    return [
        sa.Column(
            "queue_rank", sa.SmallInteger(), sa.Computed(_QUEUE_RANK_SQL, persisted=True)
        ),
        sa.Column("time_zone", sa.String(64), nullable=True),
        sa.Column(
            "needs_va_benefits", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("needs_peritoneal", sa.Boolean(), server_default=sa.false(), nullable=False),
    ]


def _refresh(where: str) -> str:
    """UPDATE call_tasks' copies from their contacts, for the rows `where` picks."""
    sets = ", ".join(
        f"{name} = (SELECT {expression} FROM contacts c WHERE c.id = call_tasks.contact_id)"
        for name, expression in _COPIES.items()
    )
    return f"UPDATE call_tasks SET {sets} WHERE {where}"


_POSTGRESQL = [
    f"""CREATE FUNCTION call_task_copies_contact() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {", ".join(_COPIES.values())} INTO {", ".join(f"NEW.{n}" for n in _COPIES)}
        FROM contacts c WHERE c.id = NEW.contact_id;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER call_tasks_copy_contact BEFORE INSERT OR UPDATE OF contact_id
    ON call_tasks FOR EACH ROW EXECUTE FUNCTION call_task_copies_contact()""",
    f"""CREATE FUNCTION contact_refreshes_call_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        {_refresh("contact_id = NEW.id")};
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER contacts_refresh_call_tasks AFTER UPDATE OF {", ".join(_FACTS)}
    ON contacts FOR EACH ROW
    WHEN ({" OR ".join(f"OLD.{f} IS DISTINCT FROM NEW.{f}" for f in _FACTS)})
    EXECUTE FUNCTION contact_refreshes_call_tasks()""",
]
# SQLite's BEFORE triggers cannot set NEW: the copies are written just after, in the same statement.
_SQLITE = [
    f"""CREATE TRIGGER call_tasks_copy_contact AFTER INSERT ON call_tasks
    BEGIN {_refresh("id = NEW.id")}; END""",
    f"""CREATE TRIGGER call_tasks_copy_moved_contact AFTER UPDATE OF contact_id ON call_tasks
    BEGIN {_refresh("id = NEW.id")}; END""",
    f"""CREATE TRIGGER contacts_refresh_call_tasks AFTER UPDATE OF {", ".join(_FACTS)} ON contacts
    WHEN {" OR ".join(f"OLD.{f} IS NOT NEW.{f}" for f in _FACTS)}
    BEGIN {_refresh("contact_id = NEW.id")}; END""",
]


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot ADD a stored generated column: the batch rebuilds the table with it.
        with op.batch_alter_table("call_tasks", recreate="always") as batch_op:
            for column in _columns():
                batch_op.add_column(column)
        statements = _SQLITE
    else:
        for column in _columns():
            op.add_column("call_tasks", column)
        statements = _POSTGRESQL
    op.execute(_refresh("true"))
    for statement in statements:
        op.execute(statement)
    op.create_index(
        "ix_call_tasks_claim_order",
        "call_tasks",
        ["queue_rank", "due_at", "id"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_call_tasks_held",
        "call_tasks",
        ["claimed_by_user_id", "lease_expires_at"],
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )


def downgrade():
    op.drop_index("ix_call_tasks_held", table_name="call_tasks")
    op.drop_index("ix_call_tasks_claim_order", table_name="call_tasks")
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("call_tasks_copy_contact", "call_tasks_copy_moved_contact"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TRIGGER contacts_refresh_call_tasks")
    else:
        op.execute("DROP TRIGGER contacts_refresh_call_tasks ON contacts")
        op.execute("DROP FUNCTION contact_refreshes_call_tasks()")
        op.execute("DROP TRIGGER call_tasks_copy_contact ON call_tasks")
        op.execute("DROP FUNCTION call_task_copies_contact()")
    with op.batch_alter_table("call_tasks") as batch_op:
        for column in reversed(_columns()):
            batch_op.drop_column(column.name)
