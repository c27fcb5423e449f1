"""`flask crm privacy export|erase`: a person's data requests, answered from the shell."""

import json

import click
from flask.cli import with_appcontext

privacy_cli = click.Group("privacy", help="A person's requests to see or erase their data.")


@privacy_cli.command("export")
@click.option("--email", required=True)
@with_appcontext
def export(email: str) -> None:
    """Print everything held about the person with this email, as JSON."""
    from crm.extensions import db
    from crm.models.enums import AuditAction
    from crm.services import audit, privacy

    try:
        held = privacy.export_person(email)
    except privacy.PersonNotFound as missing:
        raise click.ClickException(str(missing)) from missing
    for contact in held["contacts"]:
        audit.record(
            AuditAction.privacy_exported, None, None, contact_id=contact["id"], detail={"cli": True}
        )
    db.session.commit()
    click.echo(json.dumps(held, indent=2, ensure_ascii=False, default=str))


@privacy_cli.command("erase")
@click.option("--email", required=True)
@click.option("--yes", is_flag=True, help="Erase without asking (there is no undo).")
@with_appcontext
def erase(email: str, yes: bool) -> None:
    """Anonymise the person with this email: their words and identity go, counts stay."""
    from crm.extensions import db
    from crm.models import utcnow
    from crm.services import privacy

    try:
        contacts = privacy.contacts_of(email)
    except privacy.PersonNotFound as missing:
        raise click.ClickException(str(missing)) from missing
    if not yes:
        click.confirm(f"Erase contact(s) {[c.id for c in contacts]}? There is no undo", abort=True)
    counts = privacy.erase_contacts(contacts, None, None, utcnow())
    db.session.commit()
    for what, count in counts.items():
        click.echo(f"{what}: {count}")
