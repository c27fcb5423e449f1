"""report roll-ups: per-lead facts, milestones, daily funnel, speed-to-lead and call counts

Revision ID: 0015
Revises: 0014_contact_language
Create Date: 2026-11-27 20:00:00

Ordinary tables derived from contacts, stage_changes and calls (crm/services/rollups): no
append-only triggers, and `flask crm rebuild-rollups` refills them. They start empty; the
first periodic refresh folds in everything already there. contacts.updated_at gets an index:
each refresh looks for contacts changed since the last one.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014_contact_language"
branch_labels = None
depends_on = None


def _text(name, length=200, **kw):
    return sa.Column(name, sa.String(length), nullable=False, **kw)


def _int(name, **kw):
    return sa.Column(name, sa.Integer(), nullable=False, **kw)


def upgrade():
    op.create_table(
        "rollup_watermarks",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("settled_id", sa.BigInteger(), nullable=False),
        sa.Column("horizon_id", sa.BigInteger(), nullable=False),
        sa.Column("horizon_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_rollup_watermarks")),
    )
    op.create_table(
        "rollup_contacts",
        _int("contact_id", autoincrement=False),
        sa.Column("cohort_day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _text("form", 32),
        _text("source"),
        _text("medium"),
        _text("campaign"),
        _text("diagnosis", 32),
        sa.Column("is_veteran", sa.Boolean(), nullable=False),
        _text("state", 2),
        _int("advocate_id"),
        sa.Column("first_call_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_caller_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_rollup_contacts")),
    )
    op.create_table(
        "contact_milestones",
        _int("contact_id", autoincrement=False),
        _text("stage", 40),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", "stage", name=op.f("pk_contact_milestones")),
    )
    dimensions = ["form", "source", "medium", "campaign", "diagnosis", "is_veteran", "state"]
    op.create_table(
        "funnel_daily",
        sa.Column("day", sa.Date(), nullable=False),
        _text("form", 32),
        _text("source"),
        _text("medium"),
        _text("campaign"),
        _text("diagnosis", 32),
        sa.Column("is_veteran", sa.Boolean(), nullable=False),
        _text("state", 2),
        _int("advocate_id", autoincrement=False),
        _text("stage", 40),
        _int("contacts"),
        sa.PrimaryKeyConstraint(
            "day", *dimensions, "advocate_id", "stage", name=op.f("pk_funnel_daily")
        ),
    )
    op.create_table(
        "speed_daily",
        sa.Column("day", sa.Date(), nullable=False),
        _text("form", 32),
        _int("advocate_id", autoincrement=False),
        _int("minutes_bucket", autoincrement=False),
        _int("contacts"),
        sa.PrimaryKeyConstraint(
            "day", "form", "advocate_id", "minutes_bucket", name=op.f("pk_speed_daily")
        ),
    )
    op.create_table(
        "call_daily",
        sa.Column("day", sa.Date(), nullable=False),
        _int("user_id", autoincrement=False),
        _text("outcome", 32),
        _int("seconds_bucket", autoincrement=False),
        _int("calls"),
        sa.Column("seconds_total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "user_id", "outcome", "seconds_bucket", name=op.f("pk_call_daily")
        ),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_updated_at"), ["updated_at"])


def downgrade():
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_updated_at"))
    for table in (
        "call_daily",
        "speed_daily",
        "funnel_daily",
        "contact_milestones",
        "rollup_contacts",
        "rollup_watermarks",
    ):
        op.drop_table(table)
