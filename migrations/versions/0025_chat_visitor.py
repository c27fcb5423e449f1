"""chat visitor: the pre-chat step's submission on its chat, and accepted chats by time

Revision ID: 0025
Revises: 0024
Create Date: 2026-11-28 01:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    # What the visitor typed on the pre-chat step (email, phone, consent boxes), so that the
    # callback form offered after an unanswered chat is filled from what *they* sent, never
    # from the contact it matched.
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_chats_submission_id_submissions"),
            "submissions",
            ["submission_id"],
            ["id"],
            ondelete="SET NULL",
        )
        # The wait estimate's "chats accepted in the last hour".
        batch_op.create_index(batch_op.f("ix_chats_claimed_at"), ["claimed_at"])


def downgrade():
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_claimed_at"))
        batch_op.drop_constraint(
            batch_op.f("fk_chats_submission_id_submissions"), type_="foreignkey"
        )
        batch_op.drop_column("submission_id")
