"""chat roll-ups: chats per start day, measure, advocate and value; how far each chat is counted

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-28 01:00:00

Ordinary tables derived from chats and their system messages
(crm/services/rollups/chat_fold.py): no append-only triggers, and `flask crm rebuild-rollups`
refills them. They start empty; the first periodic refresh folds in every chat already there.
No enum or CHECK list changes (report_exported is already an audit action).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic. 0021_chat.py's revision id is "0021".
revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rollup_chats",
        sa.Column("chat_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("stage", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_rollup_chats")),
    )
    op.create_table(
        "chat_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(16), nullable=False),
        sa.Column("advocate_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("value", sa.String(32), nullable=False),
        sa.Column("chats", sa.Integer(), nullable=False),
        sa.Column("seconds_total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "measure", "advocate_id", "value", name=op.f("pk_chat_daily")
        ),
    )


def downgrade():
    op.drop_table("chat_daily")
    op.drop_table("rollup_chats")
