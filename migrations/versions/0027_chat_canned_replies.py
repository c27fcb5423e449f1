"""chat canned replies and transfers: the replies table, the transfer line, their audit actions

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-28 00:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# Frozen full lists: 0023's, then what this revision adds.
_AUDIT_ACTIONS = [
    "sign_in", "sign_in_failed", "sign_in_throttled", "sign_out", "session_expired",
    "access_denied", "contact_viewed", "search", "note_added", "stage_changed",
    "do_not_contact", "guide_resent", "contact_assigned", "contacts_merged", "not_duplicate",
    "spam_viewed", "spam_released", "spam_deleted", "fulfilment_viewed", "fulfilment_updated",
    "labels_printed", "audit_viewed", "user_created", "user_updated", "user_disabled",
    "guide_uploaded", "guide_version_chosen", "specialist_created", "specialist_updated",
    "referral_sent", "referral_updated", "referrals_viewed", "call_claimed", "call_logged",
    "report_exported", "contacts_exported", "chat_viewed", "chat_accepted", "chat_replied",
    "chat_closed", "privacy_exported", "contact_erased",
]  # fmt: skip
_NEW_AUDIT_ACTIONS = ["chat_transferred", "canned_reply_created", "canned_reply_updated"]
_SENDERS = ["visitor", "advocate", "system"]
_NEW_SENDERS = ["transfer"]
_TRANSFER_HAS_USER = "sender <> 'transfer' OR user_id IS NOT NULL"


def _sqlite_append_only_triggers(table):
    # SQLite rebuilds a table to change a CHECK, and the rebuild drops its triggers.
    return [
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
        BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
    ]


def _in(values):
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def _audit_actions(actions):
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_events_action"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_audit_events_action"), sa.column("action").in_(actions)
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_append_only_triggers("audit_events"):
            op.execute(statement)


def _senders(new):
    """Widen (or, with new=False, narrow back) the message senders, with the transfer's user."""
    with op.batch_alter_table("chat_messages", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_chat_messages_sender"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_chat_messages_sender"),
            sa.column("sender").in_(_SENDERS + (_NEW_SENDERS if new else [])),
        )
        if new:
            batch_op.create_check_constraint(
                op.f("ck_chat_messages_transfer_has_user"), sa.text(_TRANSFER_HAS_USER)
            )
        else:
            batch_op.drop_constraint(op.f("ck_chat_messages_transfer_has_user"), type_="check")
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_append_only_triggers("chat_messages"):
            op.execute(statement)


def upgrade():
    op.create_table(
        "chat_canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(title) >= 1 AND length(title) <= 80",
            name=op.f("ck_chat_canned_replies_title_length"),
        ),
        sa.CheckConstraint(
            "length(body) >= 1 AND length(body) <= 2000",
            name=op.f("ck_chat_canned_replies_body_length"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_canned_replies")),
    )
    _senders(new=True)
    _audit_actions(_AUDIT_ACTIONS + _NEW_AUDIT_ACTIONS)


def downgrade():
    dialect = op.get_bind().dialect.name
    # The trails are append-only: their guards step aside for the rows this revision wrote.
    if dialect == "postgresql":
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        op.execute("ALTER TABLE chat_messages DISABLE TRIGGER chat_messages_append_only")
    else:
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute("DROP TRIGGER chat_messages_no_delete")
    op.execute(f"DELETE FROM audit_events WHERE action IN {_in(_NEW_AUDIT_ACTIONS)}")
    op.execute(f"DELETE FROM chat_messages WHERE sender IN {_in(_NEW_SENDERS)}")
    if dialect == "postgresql":
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
        op.execute("ALTER TABLE chat_messages ENABLE TRIGGER chat_messages_append_only")
    else:
        op.execute(_sqlite_append_only_triggers("audit_events")[1])
        op.execute(_sqlite_append_only_triggers("chat_messages")[1])
    _audit_actions(_AUDIT_ACTIONS)
    _senders(new=False)
    op.drop_table("chat_canned_replies")
