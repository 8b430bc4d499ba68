"""Flask CLI commands: init, seed-demo, seed-bench."""
from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from app.extensions import appbuilder, db
from app.security import ALL_ROLES, ROLE_ADMIN


def ensure_roles() -> None:
    """Create the builtin roles' rows (their permissions are declared in config)."""
    sm = appbuilder.sm
    for name in ALL_ROLES:
        if sm.find_role(name) is None:
            sm.add_role(name)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create roles, parameters, message templates and the admin from ADMIN_USERNAME/ADMIN_PASSWORD (idempotent).

    Without ADMIN_PASSWORD the admin gets a random password, printed once, when it is created.
    """
    from app.domain.notifications.templates import ensure_defaults as ensure_default_templates
    from app.domain.params import get_parameters
    from app.security_views import generate_password

    ensure_roles()
    get_parameters(db.session)
    ensure_default_templates(db.session)
    db.session.commit()
    username = os.environ.get("ADMIN_USERNAME", "admin")
    sm = appbuilder.sm
    if sm.find_user(username=username) is not None:
        click.echo(f"Administrador {username} já existe.")
        return
    password = os.environ.get("ADMIN_PASSWORD") or generate_password()
    user = sm.add_user(username, "Administrador", "Atende", f"{username}@atende.local", sm.find_role(ROLE_ADMIN),
                       password)  # the password policy applies (a pt-BR error for a weak ADMIN_PASSWORD)
    if not user:
        raise click.ClickException("Não foi possível criar o administrador.")
    if os.environ.get("ADMIN_PASSWORD"):
        click.echo(f"Administrador {username} criado com a senha de ADMIN_PASSWORD.")
    else:
        click.echo(f"Administrador {username} criado com a senha gerada: {password}\n"
                   "Anote-a agora: ela não será mostrada de novo. Troque-a em Meus dados → Alterar minha senha.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load realistic pt-BR demo data once (idempotent)."""
    from app.demo.seed import seed_demo

    ensure_roles()
    click.echo(seed_demo(db.session))


@click.command("seed-bench")
@click.option("--tickets", "ticket_count", type=int, default=100_000, show_default=True)
@click.option("--customers", "customer_count", type=int, default=20_000, show_default=True)
@with_appcontext
def seed_bench_command(ticket_count: int, customer_count: int) -> None:
    """Bulk synthetic data for benchmarks."""
    from app.demo.bench import seed_bench

    ensure_roles()
    seed_bench(db.session, ticket_count, customer_count, echo=click.echo)


commands = [init_command, seed_demo_command, seed_bench_command]
