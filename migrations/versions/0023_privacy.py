"""privacy: contacts remember an erasure; the audit trail names exports and erasures

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28 01:15:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_AUDIT_ACTIONS = [
    "sign_in", "sign_in_failed", "sign_in_throttled", "sign_out", "session_expired",
    "access_denied", "contact_viewed", "search", "note_added", "stage_changed",
    "do_not_contact", "guide_resent", "contact_assigned", "contacts_merged", "not_duplicate",
    "spam_viewed", "spam_released", "spam_deleted", "fulfilment_viewed", "fulfilment_updated",
    "labels_printed", "audit_viewed", "user_created", "user_updated", "user_disabled",
    "guide_uploaded", "guide_version_chosen", "specialist_created", "specialist_updated",
    "referral_sent", "referral_updated", "referrals_viewed", "call_claimed", "call_logged",
    "report_exported", "contacts_exported", "chat_viewed", "chat_accepted", "chat_replied",
    "chat_closed",
]  # fmt: skip
_NEW_AUDIT_ACTIONS = ["privacy_exported", "contact_erased"]


def _sqlite_append_only_triggers(table):
    # SQLite rebuilds a table to change a CHECK, and the rebuild drops its triggers.
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
    ]


def _audit_actions(actions):
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_events_action"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_audit_events_action"), sa.column("action").in_(actions)
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_append_only_triggers("audit_events"):
            op.execute(statement)


def upgrade():
    # A plain ADD COLUMN on both databases: contacts keeps its triggers.
    op.add_column("contacts", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    _audit_actions(_AUDIT_ACTIONS + _NEW_AUDIT_ACTIONS)


def downgrade():
    dialect = op.get_bind().dialect.name
    # The trail is append-only: its guard steps aside for the rows this revision's actions wrote.
    if dialect == "postgresql":
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    else:
        op.execute("DROP TRIGGER audit_events_no_delete")
    op.execute(
        "DELETE FROM audit_events WHERE action IN ("
        + ", ".join(f"'{action}'" for action in _NEW_AUDIT_ACTIONS)
        + ")"
    )
    if dialect == "postgresql":
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    else:
        op.execute(_sqlite_append_only_triggers("audit_events")[1])
    _audit_actions(_AUDIT_ACTIONS)
    # Not a batch: SQLite's own DROP COLUMN leaves the table, and its triggers, in place.
    op.drop_column("contacts", "erased_at")
