"""identity: phone not unique, corrections, spam release, consent records refuse DELETE

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# Consent records are evidence: from here the database refuses DELETE as well as UPDATE.
_CONSENT_TRIGGERS = {
    "postgresql": (
        ["DROP TRIGGER consent_records_no_update ON consent_records",
         """CREATE TRIGGER consent_records_no_update BEFORE UPDATE OR DELETE ON consent_records
         FOR EACH ROW EXECUTE FUNCTION consent_records_immutable()"""],
        ["DROP TRIGGER consent_records_no_update ON consent_records",
         """CREATE TRIGGER consent_records_no_update BEFORE UPDATE ON consent_records
         FOR EACH ROW EXECUTE FUNCTION consent_records_immutable()"""],
    ),
    "sqlite": (
        ["""CREATE TRIGGER consent_records_no_delete BEFORE DELETE ON consent_records
         BEGIN SELECT RAISE(ABORT, 'consent records are immutable'); END"""],
        ["DROP TRIGGER consent_records_no_delete"],
    ),
}


_TIMELINE_KINDS = ['created', 'reengaged', 'possible_duplicate', 'email_queued', 'email_sent',
                   'email_failed', 'email_dead', 'email_cancelled', 'unsubscribed', 'callback_due',
                   'callback_escalated', 'guide_to_print']
_FULFILMENT_STATUSES = ['to_print', 'printed', 'shipped']
# Enum columns whose CHECK constraint gains values here: (table, column) -> (before, after).
_ENUM_CHECKS = {
    ('timeline_events', 'kind'): (_TIMELINE_KINDS, _TIMELINE_KINDS + ['corrected']),
    ('guide_fulfilments', 'status'): (_FULFILMENT_STATUSES, _FULFILMENT_STATUSES + ['cancelled']),
}


def _replace_enum_checks(which):
    for (table, column), values in _ENUM_CHECKS.items():
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
            batch_op.create_check_constraint(
                op.f(f'ck_{table}_{column}'), sa.column(column).in_(values[which]))


def upgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_contacts_phone_e164'), type_='unique')
        batch_op.create_index(batch_op.f('ix_contacts_phone_e164'), ['phone_e164'], unique=False)

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('corrects_submission_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_submissions_corrects_submission_id_submissions'), 'submissions',
            ['corrects_submission_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('suspected_spam', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('released_submission_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_suspected_spam_released_submission_id_submissions'), 'submissions',
            ['released_submission_id'], ['id'], ondelete='SET NULL')

    _replace_enum_checks(1)
    for statement in _CONSENT_TRIGGERS.get(op.get_bind().dialect.name, ([], []))[0]:
        op.execute(statement)


def downgrade():
    for statement in _CONSENT_TRIGGERS.get(op.get_bind().dialect.name, ([], []))[1]:
        op.execute(statement)
    _replace_enum_checks(0)

    with op.batch_alter_table('suspected_spam', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_suspected_spam_released_submission_id_submissions'), type_='foreignkey')
        batch_op.drop_column('released_submission_id')
        batch_op.drop_column('released_at')

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_submissions_corrects_submission_id_submissions'), type_='foreignkey')
        batch_op.drop_column('corrects_submission_id')
        batch_op.drop_column('content_digest')

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_phone_e164'))
        batch_op.create_unique_constraint(batch_op.f('uq_contacts_phone_e164'), ['phone_e164'])
