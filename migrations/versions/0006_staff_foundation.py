"""staff foundation: sessions, audit trail, stage changes, notes, append-only timeline

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_TIMELINE_KINDS = ['created', 'reengaged', 'possible_duplicate', 'email_queued', 'email_sent',
                   'email_failed', 'email_dead', 'email_cancelled', 'email_bounced',
                   'email_requeued', 'unsubscribed', 'callback_due', 'callback_escalated',
                   'guide_to_print', 'corrected']
_NEW_TIMELINE_KINDS = ['note_added', 'stage_changed', 'assigned', 'do_not_contact',
                       'guide_resent', 'merged', 'not_duplicate', 'guide_printed',
                       'guide_shipped']
_STAGES = ['new', 'attempting', 'contacted', 'qualified', 'referred', 'closed']
_OUTCOMES = ['helped', 'not_interested', 'unreachable', 'not_eligible', 'duplicate',
             'do_not_contact', 'deceased']
_ACTORS = ['user', 'system', 'visitor']
_AUDIT_ACTIONS = ['sign_in', 'sign_in_failed', 'sign_in_throttled', 'sign_out',
                  'session_expired', 'access_denied', 'contact_viewed', 'search', 'note_added',
                  'stage_changed', 'do_not_contact', 'guide_resent', 'contact_assigned',
                  'contacts_merged', 'not_duplicate', 'spam_viewed', 'spam_released',
                  'spam_deleted', 'fulfilment_viewed', 'fulfilment_updated', 'labels_printed',
                  'audit_viewed', 'user_created', 'user_updated', 'user_disabled',
                  'guide_uploaded']
# Trails and evidence: the database refuses to change or remove a row, whoever asks.
APPEND_ONLY = ['timeline_events', 'stage_changes', 'notes', 'audit_events']


def _append_only_statements(dialect, table):
    if dialect == 'postgresql':
        return ([f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                 FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()"""],
                [f"DROP TRIGGER {table}_append_only ON {table}"])
    return ([f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
             BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END""",
             f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
             BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END"""],
            [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"])


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skills', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('languages', sa.JSON(), nullable=False,
                                      server_default='["en"]'))
        batch_op.add_column(sa.Column('working_hours', sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column('last_sign_in_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False,
                                      server_default=sa.func.now()))
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column in ('skills', 'languages', 'updated_at'):
            batch_op.alter_column(column, server_default=None)

    op.create_table('staff_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_reason', sa.String(length=20), nullable=True),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_staff_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_sessions_token_hash'))
    )
    op.create_index(op.f('ix_staff_sessions_user_id'), 'staff_sessions', ['user_id'])

    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Enum(*_AUDIT_ACTIONS, name='action', native_enum=False,
                                create_constraint=True, length=32), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('target_user_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('ip_address', sa.String(length=45), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_actor_user_id'), 'audit_events', ['actor_user_id'])
    op.create_index(op.f('ix_audit_events_action'), 'audit_events', ['action'])
    op.create_index('ix_audit_events_contact_id_id', 'audit_events', ['contact_id', 'id'])

    op.create_table('stage_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('from_stage', sa.Enum(*_STAGES, name='from_stage', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
    sa.Column('to_stage', sa.Enum(*_STAGES, name='to_stage', native_enum=False,
                                  create_constraint=True, length=32), nullable=False),
    sa.Column('close_outcome', sa.Enum(*_OUTCOMES, name='close_outcome', native_enum=False,
                                       create_constraint=True, length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_kind', sa.Enum(*_ACTORS, name='actor_kind', native_enum=False,
                                    create_constraint=True, length=32), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(to_stage = 'closed') = (close_outcome IS NOT NULL)",
                       name=op.f('ck_stage_changes_closed_has_outcome')),
    sa.CheckConstraint("(actor_kind = 'user') = (actor_user_id IS NOT NULL)",
                       name=op.f('ck_stage_changes_user_actor_named')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                            name=op.f('fk_stage_changes_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'],
                            name=op.f('fk_stage_changes_actor_user_id_users'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_changes'))
    )
    op.create_index(op.f('ix_stage_changes_contact_id'), 'stage_changes', ['contact_id'])
    op.create_index(op.f('ix_stage_changes_to_stage'), 'stage_changes', ['to_stage'])
    op.create_index(op.f('ix_stage_changes_actor_user_id'), 'stage_changes', ['actor_user_id'])

    op.create_table('notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('author_user_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'],
                            name=op.f('fk_notes_contact_id_contacts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_user_id'], ['users.id'],
                            name=op.f('fk_notes_author_user_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notes'))
    )
    op.create_index(op.f('ix_notes_contact_id'), 'notes', ['contact_id'])

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('assigned_user_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_contacts_merged_into_id'), ['merged_into_id'])
        batch_op.create_index(batch_op.f('ix_contacts_assigned_user_id'), ['assigned_user_id'])
        batch_op.create_foreign_key(batch_op.f('fk_contacts_merged_into_id_contacts'),
                                    'contacts', ['merged_into_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_contacts_assigned_user_id_users'),
                                    'users', ['assigned_user_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_kind', sa.Enum(
            *_ACTORS, name='actor_kind', native_enum=False, create_constraint=True, length=32),
            nullable=False, server_default='system'))
        batch_op.drop_constraint(op.f('ck_timeline_events_kind'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_timeline_events_kind'),
            sa.column('kind').in_(_TIMELINE_KINDS + _NEW_TIMELINE_KINDS))
    # What each existing event was: a submit's own events came from the visitor.
    op.execute("UPDATE timeline_events SET actor_kind = 'visitor' "
               "WHERE kind IN ('created', 'reengaged', 'corrected', 'unsubscribed')")
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.alter_column('actor_kind', server_default=None)

    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("""CREATE FUNCTION refuse_append_only_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '% rows are append-only', TG_TABLE_NAME; END $$""")
    for table in APPEND_ONLY:
        for statement in _append_only_statements(dialect, table)[0]:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in _append_only_statements(dialect, table)[1]:
            op.execute(statement)
    if dialect == 'postgresql':
        op.execute("DROP FUNCTION refuse_append_only_change()")

    op.execute("DELETE FROM timeline_events WHERE kind IN ("
               + ", ".join(f"'{kind}'" for kind in _NEW_TIMELINE_KINDS) + ")")
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_timeline_events_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_timeline_events_kind'),
                                         sa.column('kind').in_(_TIMELINE_KINDS))
        batch_op.drop_constraint(op.f('ck_timeline_events_actor_kind'), type_='check')
        batch_op.drop_column('actor_kind')

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_contacts_assigned_user_id_users'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_contacts_merged_into_id_contacts'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_contacts_assigned_user_id'))
        batch_op.drop_index(batch_op.f('ix_contacts_merged_into_id'))
        batch_op.drop_column('assigned_user_id')
        batch_op.drop_column('merged_into_id')

    op.drop_table('notes')
    op.drop_table('stage_changes')
    op.drop_table('audit_events')
    op.drop_table('staff_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        for column in ('updated_at', 'last_sign_in_at', 'working_hours', 'languages', 'skills'):
            batch_op.drop_column(column)
