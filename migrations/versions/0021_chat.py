"""chat: chats and their append-only messages, and the chat audit actions

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27 22:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
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
    "report_exported", "contacts_exported",
]  # fmt: skip
_NEW_AUDIT_ACTIONS = ["chat_viewed", "chat_accepted", "chat_replied", "chat_closed"]
_WAITING = "status = 'waiting'"
_FORMS = ["guide", "callback", "specialist-match"]
_NEW_FORMS = ["chat"]
_TIMELINE_KINDS = [
    "created", "reengaged", "possible_duplicate", "email_queued", "email_sent", "email_failed",
    "email_dead", "email_cancelled", "email_bounced", "email_requeued", "unsubscribed",
    "callback_due", "callback_escalated", "guide_to_print", "corrected", "note_added",
    "stage_changed", "assigned", "do_not_contact", "guide_resent", "merged", "not_duplicate",
    "guide_printed", "guide_shipped", "referral_sent", "referral_updated", "call_logged",
    "guide_opened",
]  # fmt: skip
_NEW_TIMELINE_KINDS = ["chat_closed"]
# Consent records stay evidence throughout (0001, 0003, 0008): SQLite rebuilds a table to
# change a CHECK and its triggers go with the old copy, so they are written again after.
_SQLITE_CONSENT_TRIGGERS = [
    """CREATE TRIGGER consent_records_no_update BEFORE UPDATE ON consent_records
    BEGIN SELECT RAISE(ABORT, 'consent records are immutable'); END""",
    """CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records
    BEGIN SELECT RAISE(ABORT, 'consent records are immutable'); END""",
]


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


def _audit_actions(actions):
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_events_action"), type_="check")
        batch_op.create_check_constraint(
            op.f("ck_audit_events_action"), sa.column("action").in_(actions)
        )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _sqlite_append_only_triggers("audit_events"):
            op.execute(statement)


def _checks(new):
    """Widen (or, with new=False, narrow back) the form and timeline kind CHECKs."""
    checks = [
        ("submissions", "form", _FORMS, _NEW_FORMS),
        ("suspected_spam", "form", _FORMS, _NEW_FORMS),
        ("consent_records", "form", _FORMS, _NEW_FORMS),
        ("timeline_events", "kind", _TIMELINE_KINDS, _NEW_TIMELINE_KINDS),
    ]
    for table, column, values, added in checks:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
            batch_op.create_check_constraint(
                op.f(f"ck_{table}_{column}"), sa.column(column).in_(values + (added if new else []))
            )
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_CONSENT_TRIGGERS + _sqlite_append_only_triggers(
            "timeline_events"
        ):
            op.execute(statement)


def _in(values):
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_table(
        "chats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_token", sa.String(length=64), nullable=False),
        sa.Column(
            "status", _enum("waiting", "active", "closed", "missed", name="status"), nullable=False
        ),
        sa.Column("visitor_name", sa.String(length=80), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("claimed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            _enum(
                "helped",
                "callback_arranged",
                "guide_requested",
                "visitor_left",
                "not_relevant",
                name="outcome",
            ),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status = 'waiting' OR status = 'missed' OR claimed_by_user_id IS NOT NULL",
            name=op.f("ck_chats_claimed_has_advocate"),
        ),
        sa.CheckConstraint(
            "(status <> 'closed' AND status <> 'missed') OR closed_at IS NOT NULL",
            name=op.f("ck_chats_ended_has_time"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_chats_contact_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_user_id"],
            ["users.id"],
            name=op.f("fk_chats_claimed_by_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
        sa.UniqueConstraint("public_token", name=op.f("uq_chats_public_token")),
    )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chats_contact_id"), ["contact_id"])
        batch_op.create_index(batch_op.f("ix_chats_claimed_by_user_id"), ["claimed_by_user_id"])
    op.create_index(
        "ix_chats_waiting",
        "chats",
        ["created_at", "id"],
        postgresql_where=sa.text(_WAITING),
        sqlite_where=sa.text(_WAITING),
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.Integer(), nullable=False),
        sa.Column("sender", _enum("visitor", "advocate", "system", name="sender"), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(body) >= 1 AND length(body) <= 2000", name=op.f("ck_chat_messages_body_length")
        ),
        sa.CheckConstraint(
            "sender <> 'advocate' OR user_id IS NOT NULL",
            name=op.f("ck_chat_messages_advocate_has_user"),
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_chat_messages_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_messages_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
    )
    op.create_index("ix_chat_messages_chat_id_id", "chat_messages", ["chat_id", "id"])
    if dialect == "postgresql":
        op.execute("""CREATE TRIGGER chat_messages_append_only
                   BEFORE UPDATE OR DELETE ON chat_messages
                   FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()""")
    else:
        for statement in _sqlite_append_only_triggers("chat_messages"):
            op.execute(statement)
    _audit_actions(_AUDIT_ACTIONS + _NEW_AUDIT_ACTIONS)
    _checks(new=True)


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
    # The chat leads go with the revision: their evidence and events step aside with them.
    guarded = {"timeline_events": "timeline_events_append_only"}
    if dialect == "postgresql":
        for table, trigger in guarded.items():
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        op.execute("ALTER TABLE consent_records DISABLE TRIGGER consent_records_no_update")
    else:
        op.execute("DROP TRIGGER timeline_events_no_delete")
        op.execute("DROP TRIGGER consent_records_no_delete")
    op.execute(f"DELETE FROM timeline_events WHERE kind IN {_in(_NEW_TIMELINE_KINDS)}")
    op.execute(
        "DELETE FROM timeline_events WHERE submission_id IN "
        f"(SELECT id FROM submissions WHERE form IN {_in(_NEW_FORMS)})"
    )
    op.execute(f"DELETE FROM consent_records WHERE form IN {_in(_NEW_FORMS)}")
    op.execute(f"DELETE FROM submissions WHERE form IN {_in(_NEW_FORMS)}")
    op.execute(f"DELETE FROM suspected_spam WHERE form IN {_in(_NEW_FORMS)}")
    if dialect == "postgresql":
        for table, trigger in guarded.items():
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        op.execute("ALTER TABLE consent_records ENABLE TRIGGER consent_records_no_update")
    else:
        op.execute(_sqlite_append_only_triggers("timeline_events")[1])
        op.execute(_SQLITE_CONSENT_TRIGGERS[1])
    _checks(new=False)
    # Dropping the table drops its triggers with it.
    op.drop_table("chat_messages")
    op.drop_table("chats")
