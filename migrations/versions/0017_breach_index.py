"""breach index: the live board finds missed callbacks without reading every call task

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28 21:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_BREACHED = "status = 'open' AND escalated_at IS NOT NULL AND attempts = 0"


def upgrade():
    op.create_index(
        "ix_call_tasks_breached",
        "call_tasks",
        ["due_at", "id"],
        postgresql_where=sa.text(_BREACHED),
        sqlite_where=sa.text(_BREACHED),
    )


def downgrade():
    op.drop_index("ix_call_tasks_breached", table_name="call_tasks")
