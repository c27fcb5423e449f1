"""Declarative base, naming convention and column types shared by every model."""

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so that migrations diff cleanly on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC timestamps on every backend (SQLite keeps no offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_type(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """Store an enum by its value in a short string column guarded by a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


def created_at_column():
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class AppendOnlyError(ValueError):
    """A row of an append-only table was about to change or go."""


def append_only(model):
    """Class decorator: the ORM refuses to update or delete rows (a database trigger does too)."""
    from sqlalchemy import event

    def refuse(mapper, connection, target):
        raise AppendOnlyError(f"{model.__tablename__} rows are append-only; add a new row instead")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)
    model.__append_only__ = True  # the migrations test checks each has its trigger
    return model


class bytewise(sa.sql.functions.FunctionElement):
    """Text compared and ordered byte by byte, whatever the database's default collation.

    A "starts with" search is then one index range, and an index on the expression hands
    rows over in page order. PostgreSQL spells it COLLATE "C"; SQLite's default (BINARY)
    already compares bytes and knows no "C".
    """

    type = sa.String()
    inherit_cache = True


@compiles(bytewise)
def _compile_bytewise(element, compiler, **kw):
    return compiler.process(_only_argument(element), **kw)


@compiles(bytewise, "postgresql")
def _compile_bytewise_postgresql(element, compiler, **kw):
    return f'{compiler.process(_only_argument(element), **kw)} COLLATE "C"'


def _only_argument(element):
    (argument,) = element.clauses
    return argument
