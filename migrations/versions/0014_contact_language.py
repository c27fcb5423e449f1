"""contact language and lead round robin: contacts.preferred_language, users.last_lead_turn and
users.last_lead_assigned_at

Revision ID: 0014_contact_language
Revises: 0013_queue_rank
Create Date: 2026-11-27 20:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_contact_language"
# TODO(lead): re-chain onto "0013_queue_rank" when merging; "0012" only while 0013 is elsewhere.
down_revision = "0012"
branch_labels = None
depends_on = None

_LANGUAGES = ["en", "es"]


def upgrade():
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        # Every contact so far was asked in English: the default fills the existing rows.
        batch_op.add_column(
            sa.Column(
                "preferred_language",
                sa.Enum(
                    *_LANGUAGES,
                    name="preferred_language",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="en",
                nullable=False,
            )
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_lead_turn", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("last_lead_assigned_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_lead_assigned_at")
        batch_op.drop_column("last_lead_turn")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        # SQLite's rebuild would otherwise copy the CHECK onto a table without its column.
        batch_op.drop_constraint(batch_op.f("ck_contacts_preferred_language"), type_="check")
        batch_op.drop_column("preferred_language")
