"""contact search: a folding function and the indexes staff search reads, on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Lower case without accents, so that "jose alvarez" finds "José Álvarez". unaccent() is
# only STABLE (its rules file could change), so an index needs this IMMUTABLE wrapper; the
# dictionary is named with its schema so that the search_path cannot change the result.
# The argument is taken back to the database's collation first: under the "C" collation of
# the search keys, lower() would only know A-Z.
_FOLD_FUNCTION = """
CREATE FUNCTION search_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1 COLLATE "default")) $$
"""

# Each key, then the id newest first: a page of results is one short range of one index.
# COLLATE "C" orders the keys byte by byte, so "starts with" is a range on any database.
_INDEXES = {
    'ix_contacts_search_name':
        """search_fold((first_name || ' ') || (last_name COLLATE "C")), id DESC""",
    'ix_contacts_search_surname':
        """search_fold((last_name || ' ') || (first_name COLLATE "C")), id DESC""",
    'ix_contacts_search_email': """lower(email COLLATE "C"), id DESC""",
    'ix_contacts_search_phone': """reverse(phone_e164 COLLATE "C"), id DESC""",
}


def upgrade():
    # SQLite, the embedded default, has no such indexes: its few contacts are scanned, and
    # the app gives each connection search_fold() and reverse() (crm/__init__.py).
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public')
    op.execute(_FOLD_FUNCTION)
    # CONCURRENTLY, outside a transaction: a plain CREATE INDEX would hold up every submit
    # (they insert contacts) for the whole build, seconds at a million contacts.
    with op.get_context().autocommit_block():
        for name, columns in _INDEXES.items():
            op.execute(f'CREATE INDEX CONCURRENTLY {name} ON contacts ({columns})')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for name in _INDEXES:
        op.execute(f'DROP INDEX {name}')
    op.execute('DROP FUNCTION search_fold(text)')
    # The unaccent extension stays: it may have been there before us, and costs nothing.
