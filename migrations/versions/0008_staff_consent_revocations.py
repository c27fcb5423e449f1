"""staff consent revocations: a consent record written by staff has no submission or form;
contacts.possible_duplicate_of_id indexed (the contact page looks the link up from both sides)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

_HAS_SOURCE = ("(submission_id IS NOT NULL AND form IS NOT NULL) "
               "OR recorded_by_user_id IS NOT NULL")
# Consent records stay evidence throughout (0001, 0003): SQLite rebuilds the table in batch
# mode and its triggers go with the old copy, so they are written again after each rebuild.
_SQLITE_TRIGGERS = [
    """CREATE TRIGGER consent_records_no_update BEFORE UPDATE ON consent_records
    BEGIN SELECT RAISE(ABORT, 'consent records are immutable'); END""",
    """CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records
    BEGIN SELECT RAISE(ABORT, 'consent records are immutable'); END""",
]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    op.create_index(op.f('ix_contacts_possible_duplicate_of_id'), 'contacts',
                    ['possible_duplicate_of_id'])
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_consent_records_recorded_by_user_id_users'), 'users',
            ['recorded_by_user_id'], ['id'], ondelete='RESTRICT')
        batch_op.alter_column('submission_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('form', existing_type=sa.String(length=32), nullable=True)
        batch_op.create_check_constraint(op.f('ck_consent_records_has_source'), _HAS_SOURCE)
    if _sqlite():
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    # The staff-written records have no place in the older schema: they go, past the guard
    # that refuses every DELETE (dropped here, written again below).
    if _sqlite():
        op.execute("DROP TRIGGER consent_records_no_update")
        op.execute("DROP TRIGGER consent_records_no_delete")
    else:
        op.execute("ALTER TABLE consent_records DISABLE TRIGGER consent_records_no_update")
    op.execute("DELETE FROM consent_records WHERE submission_id IS NULL OR form IS NULL")
    if not _sqlite():
        op.execute("ALTER TABLE consent_records ENABLE TRIGGER consent_records_no_update")
    with op.batch_alter_table('consent_records', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_consent_records_has_source'), type_='check')
        batch_op.alter_column('form', existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column('submission_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(
            batch_op.f('fk_consent_records_recorded_by_user_id_users'), type_='foreignkey')
        batch_op.drop_column('recorded_by_user_id')
    if _sqlite():
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
    op.drop_index(op.f('ix_contacts_possible_duplicate_of_id'), table_name='contacts')
