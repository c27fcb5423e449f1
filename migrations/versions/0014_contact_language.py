"""contact language and lead round robin: contacts.preferred_language, call_tasks.needs_spanish
(kept by 0013's triggers, now watching the language too), users.last_lead_turn and
users.last_lead_assigned_at

Revision ID: 0014_contact_language
Revises: 0013
Create Date: 2026-11-28 20:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_contact_language"
down_revision = "0013"
branch_labels = None
depends_on = None

_LANGUAGES = ["en", "es"]
# 0013's copies of a contact's facts onto its call tasks (expressions over a contacts row c),
# and the contact columns whose change refreshes them; this revision adds the language.
_COPIES_0013 = {
    "time_zone": "c.time_zone",
    "needs_va_benefits": "COALESCE(c.is_veteran, false)",
    "needs_peritoneal": "COALESCE(c.diagnosis = 'peritoneal', false)",
}
_FACTS_0013 = ("time_zone", "is_veteran", "diagnosis")
_COPIES = {**_COPIES_0013, "needs_spanish": "COALESCE(c.preferred_language = 'es', false)"}
_FACTS = (*_FACTS_0013, "preferred_language")


def _refresh(copies: dict, where: str) -> str:
    """UPDATE call_tasks' copies from their contacts, for the rows `where` picks."""
    sets = ", ".join(
        f"{name} = (SELECT {expression} FROM contacts c WHERE c.id = call_tasks.contact_id)"
        for name, expression in copies.items()
    )
    return f"UPDATE call_tasks SET {sets} WHERE {where}"


def _postgresql(copies: dict, facts: tuple) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION call_task_copies_contact() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            SELECT {", ".join(copies.values())} INTO {", ".join(f"NEW.{n}" for n in copies)}
            FROM contacts c WHERE c.id = NEW.contact_id;
            RETURN NEW;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION contact_refreshes_call_tasks() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            {_refresh(copies, "contact_id = NEW.id")};
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER contacts_refresh_call_tasks AFTER UPDATE OF {", ".join(facts)}
        ON contacts FOR EACH ROW
        WHEN ({" OR ".join(f"OLD.{f} IS DISTINCT FROM NEW.{f}" for f in facts)})
        EXECUTE FUNCTION contact_refreshes_call_tasks()""",
    ]


def _sqlite(copies: dict, facts: tuple) -> list[str]:
    return [
        f"""CREATE TRIGGER call_tasks_copy_contact AFTER INSERT ON call_tasks
        BEGIN {_refresh(copies, "id = NEW.id")}; END""",
        f"""CREATE TRIGGER call_tasks_copy_moved_contact AFTER UPDATE OF contact_id ON call_tasks
        BEGIN {_refresh(copies, "id = NEW.id")}; END""",
        f"""CREATE TRIGGER contacts_refresh_call_tasks AFTER UPDATE OF {", ".join(facts)}
        ON contacts WHEN {" OR ".join(f"OLD.{f} IS NOT NEW.{f}" for f in facts)}
        BEGIN {_refresh(copies, "contact_id = NEW.id")}; END""",
    ]


def _drop_triggers(dialect: str) -> None:
    # The contacts trigger names the columns it watches: it is made again, not altered. On
    # SQLite the copy triggers' bodies change too, and a rebuild of contacts would drop its own.
    if dialect == "sqlite":
        for trigger in (
            "call_tasks_copy_contact",
            "call_tasks_copy_moved_contact",
            "contacts_refresh_call_tasks",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        op.execute("DROP TRIGGER contacts_refresh_call_tasks ON contacts")


def _create_triggers(dialect: str, copies: dict, facts: tuple) -> None:
    make = _sqlite if dialect == "sqlite" else _postgresql
    for statement in make(copies, facts):
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    _drop_triggers(dialect)
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        # Every contact so far was asked in English: the default fills the existing rows.
        batch_op.add_column(
            sa.Column(
                "preferred_language",
                sa.Enum(
                    *_LANGUAGES,
                    name="preferred_language",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="en",
                nullable=False,
            )
        )
    # A plain ADD COLUMN on both: no rebuild of call_tasks (its generated queue_rank).
    op.add_column(
        "call_tasks",
        sa.Column("needs_spanish", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_lead_turn", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("last_lead_assigned_at", sa.DateTime(timezone=True), nullable=True)
        )
    _create_triggers(dialect, _COPIES, _FACTS)


def downgrade():
    dialect = op.get_bind().dialect.name
    _drop_triggers(dialect)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_lead_assigned_at")
        batch_op.drop_column("last_lead_turn")
    if dialect == "sqlite":
        # Native DROP COLUMN (SQLite 3.35+): a batch rebuild would have to copy queue_rank.
        op.execute("ALTER TABLE call_tasks DROP COLUMN needs_spanish")
    else:
        op.drop_column("call_tasks", "needs_spanish")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        # SQLite's rebuild would otherwise copy the CHECK onto a table without its column.
        batch_op.drop_constraint(batch_op.f("ck_contacts_preferred_language"), type_="check")
        batch_op.drop_column("preferred_language")
    _create_triggers(dialect, _COPIES_0013, _FACTS_0013)
