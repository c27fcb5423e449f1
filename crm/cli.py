"""`flask crm ...`: operator commands."""

import click
from flask.cli import with_appcontext

crm_cli = click.Group("crm", help="Advocate CRM operator commands.")


@crm_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["advocate", "manager", "admin"]), required=True)
@click.password_option()
@with_appcontext
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a staff user."""
    from crm.models.enums import Role
    from crm.services.users import create_user as create

    user = create(email=email, name=name, role=Role(role), password=password)
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
