"""Reading the report slices: several reads of a page in one statement, cached in shape."""

from dataclasses import dataclass
from datetime import date
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from crm.extensions import db
from crm.models import ReportSlice
from crm.services.rollups.slices import blocks


@dataclass(frozen=True)
class Part:
    """One read of the slices: a family's measures for one dimension over start to end."""

    family: str
    dimension: str
    start: date
    end: date
    value: str | None = None  # one value of the dimension only


def _covering_join(query, number: int, blocks_count: int | None):
    """Join the blocks to read (PostgreSQL: two arrays, any count) or OR them (SQLite)."""
    if blocks_count is None:
        # A join on the blocks, not an OR of them: each block is one range of the primary
        # key, read in key order (index-only once vacuumed) instead of a bitmap per block;
        # and any number of blocks is two array parameters, so one shape fits every range.
        table = (
            sa.func.unnest(
                sa.bindparam(f"spans_{number}", type_=ARRAY(sa.SmallInteger)),
                sa.bindparam(f"days_{number}", type_=ARRAY(sa.Date)),
            )
            .table_valued("span", "day")
            .render_derived(name=f"covering_{number}")
        )
        on = sa.and_(ReportSlice.span == table.c.span, ReportSlice.day == table.c.day)
        return query.join_from(table, ReportSlice, on)
    return query.where(
        sa.or_(
            *(
                sa.and_(
                    ReportSlice.span == sa.bindparam(f"span_{number}_{block}"),
                    ReportSlice.day == sa.bindparam(f"day_{number}_{block}", type_=sa.Date),
                )
                for block in range(blocks_count)
            )
        )
    )


def _select(number: int, valued: bool, blocks_count: int | None):
    def parameter(name: str, type_=sa.String):
        return sa.bindparam(f"{name}_{number}", type_=type_)

    query = sa.select(
        ReportSlice.value,
        ReportSlice.measure,
        sa.func.sum(ReportSlice.n),
        sa.func.sum(ReportSlice.total),
        parameter("label").label("part"),
    )
    query = _covering_join(query, number, blocks_count).where(
        ReportSlice.family == parameter("family"),
        ReportSlice.dimension == parameter("dimension"),
        ReportSlice.day.between(parameter("start", sa.Date), parameter("end", sa.Date)),
    )
    if valued:
        query = query.where(ReportSlice.value == parameter("value"))
    return query.group_by(ReportSlice.value, ReportSlice.measure)


@cache
def _statement(shape: tuple[tuple[bool, int | None], ...]):
    """One SELECT per part, UNION ALL: built once per shape (building costs milliseconds)."""
    selects = [_select(number, *part) for number, part in enumerate(shape)]
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


def read(parts: dict[str, Part]) -> dict[str, list[tuple]]:
    """Several reads in one statement (a round trip each would cost more than the reads).

    Returns label -> rows of (value, measure, n, total).
    """
    on_postgresql = db.session.get_bind().dialect.name == "postgresql"
    shape, parameters = [], {}
    for number, (label, part) in enumerate(parts.items()):
        covering = blocks(part.start, part.end) or [(1, part.start)]  # none, by the BETWEEN
        shape.append((part.value is not None, None if on_postgresql else len(covering)))
        parameters |= {
            f"label_{number}": label,
            f"family_{number}": part.family,
            f"dimension_{number}": part.dimension,
            f"start_{number}": part.start,
            f"end_{number}": part.end,
            f"value_{number}": part.value,
        }
        if on_postgresql:
            parameters[f"spans_{number}"] = [span for span, _ in covering]
            parameters[f"days_{number}"] = [day for _, day in covering]
        else:
            for block, (span, day) in enumerate(covering):
                parameters |= {f"span_{number}_{block}": span, f"day_{number}_{block}": day}
    rows: dict[str, list[tuple]] = {label: [] for label in parts}
    statement = _statement(tuple(shape))
    for value, measure, n, total, label in db.session.execute(statement, parameters).all():
        rows[label].append((value, measure, n, total))
    return rows


def daily(family: str, dimension: str, start: date, end: date, value: str = ""):
    """SELECT day, measure, n of the 1-day blocks from start to end, for one value."""
    return sa.select(ReportSlice.day, ReportSlice.measure, ReportSlice.n).where(
        ReportSlice.family == family,
        ReportSlice.dimension == dimension,
        ReportSlice.span == 1,
        ReportSlice.day.between(start, end),
        ReportSlice.value == value,
    )
