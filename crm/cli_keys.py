"""`flask crm rotate-keys` and `flask crm new-data-key`: the keys sealing free text at rest."""

import re

import click
from flask.cli import with_appcontext

from crm.crypto import new_key_entry


@click.command("new-data-key")
@click.option("--id", "key_id", required=True, help="A short name for the key, e.g. 2026-11.")
def new_data_key(key_id: str) -> None:
    """Print a fresh `id=key` entry to put first in DATA_KEYS."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,16}", key_id):
        raise click.BadParameter("1-16 letters, digits, - or _", param_hint="--id")
    click.echo(new_key_entry(key_id))


@click.command("rotate-keys")
@click.option("--batch-size", default=500, show_default=True)
@with_appcontext
def rotate_keys(batch_size: int) -> None:
    """Re-seal every stored value under the first key of DATA_KEYS (safe to run again)."""
    from crm.services.sealed_columns import rotate_keys as reseal

    counts = reseal(batch_size)
    for column, count in counts.items():
        click.echo(f"{column}: {count} re-sealed")
    click.echo(f"Done: {sum(counts.values())} values under the current key.")
