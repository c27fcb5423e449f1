"""specialists and referrals: the specialist directory, referrals and the match email

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_TIMELINE_KINDS = ['created', 'reengaged', 'possible_duplicate', 'email_queued', 'email_sent',
                   'email_failed', 'email_dead', 'email_cancelled', 'email_bounced',
                   'email_requeued', 'unsubscribed', 'callback_due', 'callback_escalated',
                   'guide_to_print', 'corrected', 'note_added', 'stage_changed', 'assigned',
                   'do_not_contact', 'guide_resent', 'merged', 'not_duplicate', 'guide_printed',
                   'guide_shipped']
_NEW_TIMELINE_KINDS = ['referral_sent', 'referral_updated']
_AUDIT_ACTIONS = ['sign_in', 'sign_in_failed', 'sign_in_throttled', 'sign_out',
                  'session_expired', 'access_denied', 'contact_viewed', 'search', 'note_added',
                  'stage_changed', 'do_not_contact', 'guide_resent', 'contact_assigned',
                  'contacts_merged', 'not_duplicate', 'spam_viewed', 'spam_released',
                  'spam_deleted', 'fulfilment_viewed', 'fulfilment_updated', 'labels_printed',
                  'audit_viewed', 'user_created', 'user_updated', 'user_disabled',
                  'guide_uploaded', 'guide_version_chosen', 'call_claimed']
_NEW_AUDIT_ACTIONS = ['specialist_created', 'specialist_updated', 'referral_sent',
                      'referral_updated', 'referrals_viewed']
_OUTBOX_KINDS = ['guide_email', 'callback_confirmation', 'specialist_confirmation',
                 'guide_check_in', 'specialist_offer', 'callback_escalation',
                 'undelivered_digest']
_NEW_OUTBOX_KINDS = ['specialist_match']
# The trails guarded by append-only triggers whose CHECK this revision widens.
_GUARDED = ['timeline_events', 'audit_events']


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


def _checks(new):
    """Widen (or, with new=False, narrow back) the three enum CHECKs this revision touches."""
    checks = [('timeline_events', 'kind', _TIMELINE_KINDS, _NEW_TIMELINE_KINDS),
              ('audit_events', 'action', _AUDIT_ACTIONS, _NEW_AUDIT_ACTIONS),
              ('outbox', 'kind', _OUTBOX_KINDS, _NEW_OUTBOX_KINDS)]
    for table, column, values, added in checks:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
            batch_op.create_check_constraint(op.f(f'ck_{table}_{column}'),
                                             sa.column(column).in_(values + (added if new else [])))
    if op.get_bind().dialect.name == 'sqlite':
        for table in _GUARDED:
            for statement in _sqlite_append_only_triggers(table):
                op.execute(statement)


def upgrade():
    op.create_table('specialists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', _enum('doctor', 'centre', name='kind'), nullable=False),
    sa.Column('specialties', sa.JSON(), nullable=False),
    sa.Column('organisation', sa.String(length=160), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('zip_code', sa.String(length=5), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('accepts_va', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_specialists'))
    )
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('specialist_id', sa.Integer(), nullable=True),
    sa.Column('kind', _enum('specialist', 'va_claims_handoff', name='kind'), nullable=False),
    sa.Column('status', _enum('sent', 'appointment_scheduled', 'seen', 'declined',
                              name='status'), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'specialist') = (specialist_id IS NOT NULL)",
                       name=op.f('ck_referrals_specialist_matches_kind')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                            name=op.f('fk_referrals_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['specialist_id'], ['specialists.id'],
                            name=op.f('fk_referrals_specialist_id_specialists'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'],
                            name=op.f('fk_referrals_created_by_user_id_users'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'],
                            name=op.f('fk_referrals_outbox_id_outbox'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_contact_id'), ['contact_id'])
        batch_op.create_index(batch_op.f('ix_referrals_specialist_id'), ['specialist_id'])
        batch_op.create_index('ix_referrals_status_created_at', ['status', 'created_at'])
    _checks(new=True)


def _in(values):
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


def downgrade():
    dialect = op.get_bind().dialect.name
    # The trails are append-only: their guard steps aside for the rows this revision's kinds
    # wrote, and for the events of the match emails that go with them.
    for table in _GUARDED:
        if dialect == 'postgresql':
            op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        else:
            op.execute(f"DROP TRIGGER {table}_no_delete")
    op.execute(f"DELETE FROM timeline_events WHERE kind IN {_in(_NEW_TIMELINE_KINDS)} "
               f"OR outbox_id IN (SELECT id FROM outbox WHERE kind IN {_in(_NEW_OUTBOX_KINDS)})")
    op.execute(f"DELETE FROM audit_events WHERE action IN {_in(_NEW_AUDIT_ACTIONS)}")
    for table in _GUARDED:
        if dialect == 'postgresql':
            op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")
        else:
            op.execute(_sqlite_append_only_triggers(table)[1])
    op.drop_table('referrals')
    op.drop_table('specialists')
    op.execute(f"DELETE FROM outbox WHERE kind IN {_in(_NEW_OUTBOX_KINDS)}")
    _checks(new=False)
