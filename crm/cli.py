"""`flask crm ...`: operator commands."""

import click
from flask.cli import with_appcontext

from crm.cli_api_keys import api_key_cli
from crm.cli_keys import new_data_key, rotate_keys
from crm.cli_outbox import outbox_cli
from crm.cli_privacy import privacy_cli

crm_cli = click.Group("crm", help="Advocate CRM operator commands.")
crm_cli.add_command(api_key_cli)
crm_cli.add_command(outbox_cli)
crm_cli.add_command(new_data_key)
crm_cli.add_command(rotate_keys)
crm_cli.add_command(privacy_cli)


@crm_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["advocate", "manager", "admin"]), required=True)
@click.password_option()
@with_appcontext
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a staff user."""
    from crm.extensions import db
    from crm.models.enums import Role
    from crm.services.passwords import PasswordRefused
    from crm.services.users import UserRefused
    from crm.services.users import create_user as create

    try:
        user = create(email=email, name=name, role=Role(role), password=password)
    except (UserRefused, PasswordRefused) as refused:
        raise click.ClickException(str(refused)) from refused
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email}")


@crm_cli.command("seed-demo")
@click.option("--contacts", default=300, show_default=True)
@click.option("--seed", default=7, show_default=True)
@with_appcontext
def seed_demo(contacts: int, seed: int) -> None:
    """Load demo users and realistic contacts through the capture service (once)."""
    from flask import current_app

    from crm.services.demo import seed_demo_data

    if current_app.config["CRM_ENV"] == "production":
        raise click.ClickException("Demo data has fixed passwords: never load it in production.")
    report = seed_demo_data(contacts=contacts, seed=seed)
    for line in report:
        click.echo(line)


@crm_cli.command("rebuild-rollups")
@with_appcontext
def rebuild_rollups() -> None:
    """Recompute the report roll-ups from the raw contacts, events, calls and chats."""
    from crm.services import rollups

    folded = rollups.rebuild()
    click.echo(f"Roll-ups rebuilt from {folded} rows.")


@crm_cli.command("send-due")
@click.option(
    "--hours-ahead", default=0.0, show_default=True, help="Pretend the clock is this far ahead."
)
@with_appcontext
def send_due(hours_ahead: float) -> None:
    """Send, in this process, every email due by now (+ hours ahead): to see sequences move."""
    from datetime import timedelta

    from flask import current_app

    from crm.models import utcnow
    from crm.services import delivery, outbox

    if hours_ahead and current_app.config["CRM_ENV"] == "production":
        raise click.ClickException("Moving the clock would send emails early: not in production.")
    at = utcnow() + timedelta(hours=hours_ahead)
    ids = outbox.claim_due(at, limit=10_000)
    outcomes = [delivery.deliver_outbox_message(message_id, at) for message_id in ids]
    click.echo(
        f"{len(ids)} due by {at:%Y-%m-%d %H:%M} UTC: "
        + (", ".join(f"{outcomes.count(o)} {o}" for o in sorted(set(outcomes))) or "nothing to do")
    )


@crm_cli.command("callbacks")
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def list_callbacks(limit: int) -> None:
    """List open callbacks, soonest first, with their due time in the contact's own zone."""
    import sqlalchemy as sa

    from crm.extensions import db
    from crm.models import CallTask, Contact
    from crm.models.enums import CallTaskStatus
    from crm.services.callback_times import contact_zone

    rows = db.session.execute(
        sa.select(CallTask, Contact.time_zone)
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(CallTask.status == CallTaskStatus.open)
        .order_by(CallTask.due_at)
        .limit(limit)
    ).all()
    for task, time_zone in rows:
        local = task.due_at.astimezone(contact_zone(time_zone))
        flag = "  ESCALATED" if task.escalated_at else ""
        click.echo(
            f"call {task.id:>5}  contact {task.contact_id:>5}  {task.best_time.value:<9} "
            f"due {task.due_at:%Y-%m-%d %H:%M} UTC = {local:%a %H:%M} {local.tzname()}{flag}"
        )
    if not rows:
        click.echo("No open callbacks.")


spam_cli = click.Group("spam", help="Submits kept apart as suspected spam.")
crm_cli.add_command(spam_cli)


@spam_cli.command("list")
@click.option("--limit", default=50, show_default=True)
@with_appcontext
def list_spam(limit: int) -> None:
    """List the newest kept submits (ids and reasons only: no personal data on screen)."""
    import sqlalchemy as sa

    from crm.extensions import db
    from crm.models import SuspectedSpam

    rows = db.session.scalars(
        sa.select(SuspectedSpam).order_by(SuspectedSpam.id.desc()).limit(limit)
    ).all()
    for row in rows:
        state = f"released {row.released_at:%Y-%m-%d %H:%M}" if row.released_at else "kept"
        click.echo(
            f"{row.id:>6}  {row.form.value:<16} {row.reason:<13} "
            f"{row.created_at:%Y-%m-%d %H:%M} UTC  {state}"
        )
    if not rows:
        click.echo("No suspected spam.")


@spam_cli.command("release")
@click.argument("spam_id", type=int)
@with_appcontext
def release_spam(spam_id: int) -> None:
    """Turn a kept submit into the lead it should have been (consents, emails, callback)."""
    from crm.extensions import db
    from crm.services import spam

    try:
        released = spam.release(spam_id)
    except spam.ReleaseRefused as refused:
        raise click.ClickException(str(refused)) from refused
    db.session.commit()
    verb = "was already released as" if released.already else "released as"
    click.echo(f"Suspected spam {spam_id} {verb} submission {released.submission_public_id}")
