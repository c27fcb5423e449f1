"""referral roll-ups: referrals and guides per cohort day and step; guide link opens recorded

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28 22:30:00

Ordinary tables derived from the timeline (crm/services/rollups/referral_fold.py): no
append-only triggers, and `flask crm rebuild-rollups` refills them. They start empty; the
first periodic refresh folds in every timeline event already there. The timeline gains the
kind guide_opened (the first time a guide link is opened).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_TIMELINE_KINDS = [
    "created",
    "reengaged",
    "possible_duplicate",
    "email_queued",
    "email_sent",
    "email_failed",
    "email_dead",
    "email_cancelled",
    "email_bounced",
    "email_requeued",
    "unsubscribed",
    "callback_due",
    "callback_escalated",
    "guide_to_print",
    "corrected",
    "note_added",
    "stage_changed",
    "assigned",
    "do_not_contact",
    "guide_resent",
    "merged",
    "not_duplicate",
    "guide_printed",
    "guide_shipped",
    "referral_sent",
    "referral_updated",
    "call_logged",
]
_NEW_TIMELINE_KINDS = ["guide_opened"]


def _sqlite_append_only_triggers():
    # SQLite rebuilds a table to change a CHECK, and the rebuild drops its triggers.
    return [
        """CREATE TRIGGER timeline_events_no_update BEFORE UPDATE ON timeline_events
        BEGIN SELECT RAISE(ABORT, 'timeline_events rows are append-only'); END""",
        """CREATE TRIGGER timeline_events_no_delete BEFORE DELETE ON timeline_events
        BEGIN SELECT RAISE(ABORT, 'timeline_events rows are append-only'); END""",
    ]


def _timeline_kinds(kinds):
    with op.batch_alter_table("timeline_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_timeline_events_kind"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_timeline_events_kind"), sa.column("kind").in_(kinds)
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_append_only_triggers():
            op.execute(statement)


def upgrade():
    op.create_table(
        "guide_milestones",
        sa.Column("submission_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("milestone", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "milestone", name=op.f("pk_guide_milestones")),
    )
    op.create_table(
        "referral_guide_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("milestone", sa.String(32), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "milestone", name=op.f("pk_referral_guide_daily")),
    )
    _timeline_kinds(_TIMELINE_KINDS + _NEW_TIMELINE_KINDS)


def downgrade():
    dialect = op.get_bind().dialect.name
    # The timeline is append-only: its guard steps aside for the rows this revision's kind wrote.
    if dialect == "postgresql":
        op.execute("ALTER TABLE timeline_events DISABLE TRIGGER timeline_events_append_only")
    else:
        op.execute("DROP TRIGGER timeline_events_no_delete")
    op.execute("DELETE FROM timeline_events WHERE kind = 'guide_opened'")
    if dialect == "postgresql":
        op.execute("ALTER TABLE timeline_events ENABLE TRIGGER timeline_events_append_only")
    else:
        op.execute(_sqlite_append_only_triggers()[1])
    _timeline_kinds(_TIMELINE_KINDS)
    op.drop_table("referral_guide_daily")
    op.drop_table("guide_milestones")
