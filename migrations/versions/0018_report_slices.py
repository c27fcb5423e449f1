"""report slices: the roll-ups summed per dimension over power-of-two blocks of days

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27 22:20:00

A report over any range of days reads a handful of blocks per value instead of one row per
day and combination of dimensions (crm/services/rollups/slices.py). Derived like the other
roll-up tables; the upgrade fills it from the daily tables already there (as the set-based
rebuild does, in SQL both backends run), so the reports show the same figures after it.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_slices",
        sa.Column("family", sa.String(16), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("span", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("measure", sa.String(48), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "family",
            "dimension",
            "span",
            "day",
            "value",
            "measure",
            name=op.f("pk_report_slices"),
            postgresql_include=["n", "total"],
        ),
    )
    _fill_slices()


# (dimension, value) pairs each daily row is spread to, per family; frozen here on purpose.
_FAMILIES = {
    "funnel": (
        "funnel_daily",
        "stage",
        "contacts",
        "0",
        [
            ("''", "''"),
            *((f"'{name}'", name) for name in ("form", "source", "medium", "campaign", "diagnosis")),
            ("'is_veteran'", "CASE WHEN is_veteran THEN 'true' ELSE 'false' END"),
            ("'state'", "state"),
            ("'advocate_id'", "CAST(advocate_id AS VARCHAR(20))"),
        ],
    ),
    "speed": (
        "speed_daily",
        "CAST(minutes_bucket AS VARCHAR(20))",
        "contacts",
        "0",
        [("''", "''"), ("'form'", "form"), ("'advocate_id'", "CAST(advocate_id AS VARCHAR(20))")],
    ),
    "calls": (
        "call_daily",
        "outcome || '/' || CAST(seconds_bucket AS VARCHAR(20))",
        "calls",
        "seconds_total",
        [("'user_id'", "CAST(user_id AS VARCHAR(20))")],
    ),
}
_COLUMNS = "family, dimension, span, day, value, measure, n, total"


def _block_start(span: int) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return f"day - (day - DATE '1970-01-01') % {span}"
    return f"date(day, '-' || (CAST(julianday(day) - 2440587.5 AS INTEGER) % {span}) || ' days')"


def _fill_slices():
    for family, (table, measure, n, total, pairs) in _FAMILIES.items():
        spread = " UNION ALL ".join(
            f"SELECT {dimension} AS dimension, day, {value} AS value, {measure} AS measure, "
            f"{n} AS n, {total} AS total FROM {table}"
            for dimension, value in pairs
        )
        op.execute(
            f"INSERT INTO report_slices ({_COLUMNS}) "
            f"SELECT '{family}', dimension, 1, day, value, measure, sum(n), sum(total) "
            f"FROM ({spread}) AS spread GROUP BY dimension, day, value, measure"
        )
    for power in range(1, 11):
        span, half = 2**power, 2 ** (power - 1)
        op.execute(
            f"INSERT INTO report_slices ({_COLUMNS}) "
            f"SELECT family, dimension, {span}, {_block_start(span)}, value, measure, "
            f"sum(n), sum(total) FROM report_slices WHERE span = {half} "
            f"GROUP BY family, dimension, {_block_start(span)}, value, measure"
        )


def downgrade():
    op.drop_table("report_slices")
