"""`flask crm outbox ...`: operator commands for emails that could not be delivered."""

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

outbox_cli = click.Group("outbox", help="Undelivered emails.")


def _utc_moment(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        message = "expected a time like 2026-11-27T00:00 (UTC unless an offset)"
        raise click.BadParameter(message) from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@outbox_cli.command("requeue")
@click.option("--id", "ids", type=int, multiple=True, help="An outbox row id (repeatable).")
@click.option(
    "--dead-since",
    callback=_utc_moment,
    help="Every row given up at or after this time (ISO 8601; UTC unless an offset).",
)
@click.option(
    "--include-bounced",
    is_flag=True,
    help="Also rows the recipient's server refused (the address stays suppressed for nurture).",
)
@with_appcontext
def requeue(ids: tuple[int, ...], dead_since: datetime | None, include_bounced: bool) -> None:
    """Send dead emails again, now, under the same Message-ID."""
    from crm.models import utcnow
    from crm.services.undelivered import requeue as requeue_rows

    if not ids and dead_since is None:
        raise click.UsageError("name rows with --id and/or --dead-since")
    requeued = requeue_rows(
        utcnow(), ids=ids, given_up_since=dead_since, include_bounced=include_bounced
    )
    missed = sorted(set(ids) - set(requeued))
    if missed:
        click.echo(
            "Not requeued (no such row, or not dead"
            + ("" if include_bounced else "; bounced rows need --include-bounced")
            + "): "
            + ", ".join(map(str, missed))
        )
    click.echo(f"Requeued {len(requeued)} email{'' if len(requeued) == 1 else 's'}.")
