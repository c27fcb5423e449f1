"""call log: the calls table, wrong-number phones and the tried-to-reach email

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 21:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
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
]
_NEW_TIMELINE_KINDS = ["call_logged"]
_AUDIT_ACTIONS = [
    "sign_in",
    "sign_in_failed",
    "sign_in_throttled",
    "sign_out",
    "session_expired",
    "access_denied",
    "contact_viewed",
    "search",
    "note_added",
    "stage_changed",
    "do_not_contact",
    "guide_resent",
    "contact_assigned",
    "contacts_merged",
    "not_duplicate",
    "spam_viewed",
    "spam_released",
    "spam_deleted",
    "fulfilment_viewed",
    "fulfilment_updated",
    "labels_printed",
    "audit_viewed",
    "user_created",
    "user_updated",
    "user_disabled",
    "guide_uploaded",
    "guide_version_chosen",
    "call_claimed",
    "specialist_created",
    "specialist_updated",
    "referral_sent",
    "referral_updated",
    "referrals_viewed",
]
_NEW_AUDIT_ACTIONS = ["call_logged"]
_OUTBOX_KINDS = [
    "guide_email",
    "callback_confirmation",
    "specialist_confirmation",
    "guide_check_in",
    "specialist_offer",
    "callback_escalation",
    "undelivered_digest",
    "specialist_match",
]
_NEW_OUTBOX_KINDS = ["tried_to_reach"]
_OUTCOMES = [
    "reached",
    "voicemail",
    "no_answer",
    "busy",
    "wrong_number",
    "call_back_at",
    "do_not_call",
    "deceased",
]
# The trails guarded by append-only triggers whose CHECK this revision widens.
_GUARDED = ["timeline_events", "audit_events"]


def _enum(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _sqlite_append_only_triggers(table):
    # SQLite rebuilds a table to change a CHECK, and the rebuild drops its triggers.
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
    ]


def _checks(new):
    """Widen (or, with new=False, narrow back) the three enum CHECKs this revision touches."""
    checks = [
        ("timeline_events", "kind", _TIMELINE_KINDS, _NEW_TIMELINE_KINDS),
        ("audit_events", "action", _AUDIT_ACTIONS, _NEW_AUDIT_ACTIONS),
        ("outbox", "kind", _OUTBOX_KINDS, _NEW_OUTBOX_KINDS),
    ]
    for table, column, values, added in checks:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_{column}"), sa.column(column).in_(values + (added if new else []))
            )
    if op.get_bind().dialect.name == "sqlite":
        for table in _GUARDED:
            for statement in _sqlite_append_only_triggers(table):
                op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("call_task_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("outcome", _enum(*_OUTCOMES, name="outcome"), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("call_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("duration_seconds >= 0", name=op.f("ck_calls_duration_not_negative")),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_calls_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["call_task_id"],
            ["call_tasks.id"],
            name=op.f("fk_calls_call_task_id_call_tasks"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_calls_user_id_users"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_contact_id"), ["contact_id"])
        batch_op.create_index(batch_op.f("ix_calls_call_task_id"), ["call_task_id"])
    if dialect == "postgresql":
        op.execute("""CREATE TRIGGER calls_append_only BEFORE UPDATE OR DELETE ON calls
                   FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()""")
    else:
        for statement in _sqlite_append_only_triggers("calls"):
            op.execute(statement)
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_wrong_at", sa.DateTime(timezone=True), nullable=True))
    _checks(new=True)


def _in(values):
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def downgrade():
    dialect = op.get_bind().dialect.name
    # The trails are append-only: their guard steps aside for the rows this revision's kinds
    # wrote, and for the events of the tried-to-reach emails.
    for table in _GUARDED:
        if dialect == "postgresql":
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        else:
            op.execute(f"DROP TRIGGER {table}_no_delete")
    op.execute(
        f"DELETE FROM timeline_events WHERE kind IN {_in(_NEW_TIMELINE_KINDS)} "
        f"OR outbox_id IN (SELECT id FROM outbox WHERE kind IN {_in(_NEW_OUTBOX_KINDS)})"
    )
    op.execute(f"DELETE FROM audit_events WHERE action IN {_in(_NEW_AUDIT_ACTIONS)}")
    for table in _GUARDED:
        if dialect == "postgresql":
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
        else:
            op.execute(_sqlite_append_only_triggers(table)[1])
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("phone_wrong_at")
    op.drop_table("calls")
    op.execute(f"DELETE FROM outbox WHERE kind IN {_in(_NEW_OUTBOX_KINDS)}")
    _checks(new=False)
