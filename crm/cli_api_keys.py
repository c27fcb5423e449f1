"""`flask crm api-key ...`: the credentials of the JSON API's clients."""

import click
from flask.cli import with_appcontext

api_key_cli = click.Group("api-key", help="Create, list and revoke JSON API keys.")


@api_key_cli.command("create")
@click.option("--name", required=True, help='The client that will hold it ("marketing-site").')
@with_appcontext
def create(name: str) -> None:
    """Create a key and print it, alone on the last line: it is shown only this once."""
    from crm.services.api_keys import create_api_key

    try:
        api_key, key = create_api_key(name)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--name") from None
    click.echo(f"Created API key {api_key.id} ({api_key.prefix}) for {api_key.name}.", err=True)
    click.echo(
        "Store it now: only its hash is kept. Send it as Authorization: Bearer KEY.", err=True
    )
    click.echo(key)


@api_key_cli.command("list")
@with_appcontext
def list_keys() -> None:
    """List every key: id, prefix, client, created, last used, revoked (never the key)."""
    from crm.services.api_keys import list_api_keys

    keys = list_api_keys()
    if not keys:
        click.echo("No API keys. Create one with: flask crm api-key create --name CLIENT")
        return
    click.echo(
        f"{'id':>4}  {'prefix':<12}  {'name':<24}  {'created (UTC)':<16}  {'last used':<16}  status"
    )
    for api_key in keys:
        status = f"revoked {_when(api_key.revoked_at)}" if api_key.revoked_at else "active"
        click.echo(
            f"{api_key.id:>4}  {api_key.prefix:<12}  {api_key.name[:24]:<24}  "
            f"{_when(api_key.created_at):<16}  {_when(api_key.last_used_at):<16}  {status}"
        )


@api_key_cli.command("revoke")
@click.argument("prefix_or_id")
@with_appcontext
def revoke(prefix_or_id: str) -> None:
    """Revoke a key by its prefix (crm_3f9a1c2b) or id: its next call answers 401."""
    from crm.services.api_keys import revoke_api_key

    api_key = revoke_api_key(prefix_or_id)
    if api_key is None:
        raise click.ClickException(f"No API key {prefix_or_id!r}; see `flask crm api-key list`.")
    click.echo(
        f"Revoked API key {api_key.id} ({api_key.prefix}) of {api_key.name}"
        f" at {_when(api_key.revoked_at)} UTC."
    )


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "never"
