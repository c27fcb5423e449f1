"""durable email delivery: bounced status, retry window, dead-row digest, requeue

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 14:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Enum columns whose CHECK constraint gains values in this revision: (table, column) -> (before, after).
_ENUM_CHECKS = {
    ("outbox", "kind"): (
        [
            "guide_email",
            "callback_confirmation",
            "specialist_confirmation",
            "guide_check_in",
            "specialist_offer",
            "callback_escalation",
        ],
        [
            "guide_email",
            "callback_confirmation",
            "specialist_confirmation",
            "guide_check_in",
            "specialist_offer",
            "callback_escalation",
            "undelivered_digest",
        ],
    ),
    ("outbox", "status"): (
        ["pending", "dispatched", "sending", "sent", "dead", "cancelled"],
        ["pending", "dispatched", "sending", "sent", "dead", "bounced", "cancelled"],
    ),
    ("timeline_events", "kind"): (
        [
            "created",
            "reengaged",
            "possible_duplicate",
            "email_queued",
            "email_sent",
            "email_failed",
            "email_dead",
            "email_cancelled",
            "unsubscribed",
            "callback_due",
            "callback_escalated",
            "guide_to_print",
            "corrected",
        ],
        [
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
        ],
    ),
}
_GIVEN_UP_HAS_TIME = "(status != 'dead' AND status != 'bounced') OR (given_up_at IS NOT NULL)"


def _replace_enum_checks(which):
    for (table, column), values in _ENUM_CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_{column}"), sa.column(column).in_(values[which])
            )


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("given_up_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("dead_alerted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column("contact_id", existing_type=sa.Integer(), nullable=True)
    # Rows already dead gave up at their last attempt (or, lost with a worker, at creation),
    # and were never reported: the first digest counts them.
    op.execute(
        "UPDATE outbox SET given_up_at = COALESCE(dispatched_at, created_at) WHERE status = 'dead'"
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_check_constraint(op.f("ck_outbox_given_up_has_time"), _GIVEN_UP_HAS_TIME)
    _replace_enum_checks(1)


def downgrade():
    op.execute("UPDATE outbox SET status = 'dead' WHERE status = 'bounced'")
    op.execute("DELETE FROM outbox WHERE kind = 'undelivered_digest'")
    # History stays, under the nearest kind the older schema knows.
    op.execute("UPDATE timeline_events SET kind = 'email_dead' WHERE kind = 'email_bounced'")
    op.execute("UPDATE timeline_events SET kind = 'email_queued' WHERE kind = 'email_requeued'")
    _replace_enum_checks(0)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_given_up_has_time"), type_="check")
        batch_op.alter_column("contact_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("dead_alerted_at")
        batch_op.drop_column("given_up_at")
        batch_op.drop_column("first_attempt_at")
