"""call queue: why each call is owed, who holds it and until when; Next call is audited

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

_AUDIT_ACTIONS = ['sign_in', 'sign_in_failed', 'sign_in_throttled', 'sign_out',
                  'session_expired', 'access_denied', 'contact_viewed', 'search', 'note_added',
                  'stage_changed', 'do_not_contact', 'guide_resent', 'contact_assigned',
                  'contacts_merged', 'not_duplicate', 'spam_viewed', 'spam_released',
                  'spam_deleted', 'fulfilment_viewed', 'fulfilment_updated', 'labels_printed',
                  'audit_viewed', 'user_created', 'user_updated', 'user_disabled',
                  'guide_uploaded', 'guide_version_chosen']
_NEW_AUDIT_ACTIONS = ['call_claimed']
_REASONS = ('requested_callback', 'call_back_at', 'new_lead', 'retry')


def _sqlite_append_only_triggers():
    # SQLite rebuilds a table to change a CHECK, and the rebuild drops its triggers.
    return [
        """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events rows are append-only'); END""",
        """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events rows are append-only'); END""",
    ]


def _audit_actions(actions):
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_audit_events_action'), type_='check')
        batch_op.create_check_constraint(op.f('ck_audit_events_action'),
                                         sa.column('action').in_(actions))
    if op.get_bind().dialect.name == 'sqlite':
        for statement in _sqlite_append_only_triggers():
            op.execute(statement)


def upgrade():
    with op.batch_alter_table('call_tasks', schema=None) as batch_op:
        # Every call task so far came from a callback request.
        batch_op.add_column(sa.Column('reason', sa.Enum(*_REASONS, name='reason', native_enum=False, create_constraint=True, length=32), server_default='requested_callback', nullable=False))
        batch_op.add_column(sa.Column('claimed_by_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_call_tasks_claimed_by_user_id_users'), 'users', ['claimed_by_user_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(batch_op.f('ck_call_tasks_claim_has_lease'),
                                         '(claimed_by_user_id IS NULL) = (lease_expires_at IS NULL)')
        batch_op.create_index(batch_op.f('ix_call_tasks_claimed_by_user_id'), ['claimed_by_user_id'], unique=False)
        batch_op.drop_index('ix_call_tasks_status_due_at')
        batch_op.create_index('ix_call_tasks_queue', ['status', 'due_at', 'lease_expires_at'], unique=False)
    _audit_actions(_AUDIT_ACTIONS + _NEW_AUDIT_ACTIONS)


def downgrade():
    dialect = op.get_bind().dialect.name
    # The trail is append-only: its guard steps aside for the rows this revision's action wrote.
    if dialect == 'postgresql':
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    else:
        op.execute("DROP TRIGGER audit_events_no_delete")
    op.execute("DELETE FROM audit_events WHERE action IN ("
               + ", ".join(f"'{action}'" for action in _NEW_AUDIT_ACTIONS) + ")")
    if dialect == 'postgresql':
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")
    else:
        op.execute(_sqlite_append_only_triggers()[1])
    _audit_actions(_AUDIT_ACTIONS)
    # Calls owed for other reasons than a callback request did not exist before this revision.
    op.execute("DELETE FROM call_tasks WHERE reason != 'requested_callback'")
    with op.batch_alter_table('call_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_call_tasks_queue')
        batch_op.create_index('ix_call_tasks_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.drop_index(batch_op.f('ix_call_tasks_claimed_by_user_id'))
        batch_op.drop_constraint(batch_op.f('ck_call_tasks_claim_has_lease'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_call_tasks_claimed_by_user_id_users'), type_='foreignkey')
        batch_op.drop_column('lease_expires_at')
        batch_op.drop_column('claimed_by_user_id')
        batch_op.drop_constraint(batch_op.f('ck_call_tasks_reason'), type_='check')
        batch_op.drop_column('reason')
