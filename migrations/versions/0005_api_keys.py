"""api keys: a credential for the JSON API, idempotency keys scoped per API key

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    # "api:<api key id>:<Idempotency-Key>" needs room for the id beside a 190-character key.
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.alter_column('idempotency_key', existing_type=sa.String(length=200),
                              type_=sa.String(length=255), existing_nullable=True)


def downgrade():
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.alter_column('idempotency_key', existing_type=sa.String(length=255),
                              type_=sa.String(length=200), existing_nullable=True)
    op.drop_table('api_keys')
