"""breach history and contact exports: past breaches by their own index, a new audit action

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27 22:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_PAST_BREACH = "escalated_at IS NOT NULL AND (status <> 'open' OR attempts > 0)"
_AUDIT_ACTIONS = [
    "sign_in", "sign_in_failed", "sign_in_throttled", "sign_out", "session_expired",
    "access_denied", "contact_viewed", "search", "note_added", "stage_changed",
    "do_not_contact", "guide_resent", "contact_assigned", "contacts_merged", "not_duplicate",
    "spam_viewed", "spam_released", "spam_deleted", "fulfilment_viewed", "fulfilment_updated",
    "labels_printed", "audit_viewed", "user_created", "user_updated", "user_disabled",
    "guide_uploaded", "guide_version_chosen", "specialist_created", "specialist_updated",
    "referral_sent", "referral_updated", "referrals_viewed", "call_claimed", "call_logged",
    "report_exported",
]  # fmt: skip
_NEW_AUDIT_ACTIONS = ["contacts_exported"]


def _sqlite_append_only_triggers():
    # SQLite rebuilds a table to change a CHECK, and the rebuild drops its triggers.
    return [
        """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events rows are append-only'); END""",
        """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events rows are append-only'); END""",
    ]


def _audit_actions(actions):
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_events_action"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_audit_events_action"), sa.column("action").in_(actions)
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_append_only_triggers():
            op.execute(statement)


def upgrade():
    op.create_index(
        "ix_call_tasks_breach_history",
        "call_tasks",
        ["due_at", "id"],
        postgresql_where=sa.text(_PAST_BREACH),
        sqlite_where=sa.text(_PAST_BREACH),
    )
    _audit_actions(_AUDIT_ACTIONS + _NEW_AUDIT_ACTIONS)


def downgrade():
    dialect = op.get_bind().dialect.name
    # The trail is append-only: its guard steps aside for the rows this revision's action wrote.
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
        op.execute(_sqlite_append_only_triggers()[1])
    _audit_actions(_AUDIT_ACTIONS)
    op.drop_index("ix_call_tasks_breach_history", table_name="call_tasks")
