"""`remedy init`: migrate, load the defaults, starter pools, bundled models, first admin key."""

from __future__ import annotations

import click
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from remedy.cli.common import current_or_new_app, model_cache_dir
from remedy.extensions import db
from remedy.ledger.budgets import BudgetService
from remedy.services.configs import ConfigService
from remedy.services.keys import KeyService
from remedy.services.rollup_rebuild import rebuild
from remedy.store.migrate import upgrade
from remedy.store.tables import ApiKey, BudgetPool, Decision, ReportTicket

# A starting budget so a new install can accept plans at once: per currency with caps, a
# monthly `default` pool of this many times the absolute per-incident cap. Finance replaces it.
STARTER_POOL_MULTIPLE = 50


@click.command()
@click.option("--admin-label", default="first admin", help="Label of the first admin key.")
def init(admin_label: str) -> None:
    """Migrate the database, load catalog, rules and caps, and create the first admin key."""
    # The model registry brings scikit-learn and skops: import it when used, not at CLI start.
    from remedy.services.model_registry import ModelRegistry, seed_bundled

    app = current_or_new_app()
    url = app.config["DATABASE_URL"]
    click.echo(f"migrating {_redact(url)}")
    upgrade(url)
    with app.app_context(), db.database(app).unit_of_work() as session:
        seeded = ConfigService(session).seed_defaults()
        click.echo(f"loaded defaults: {', '.join(seeded) or 'none needed'}")
        pools = _seed_default_pools(session)
        if pools:
            click.echo(f"default monthly pools (finance should set real ones): {', '.join(pools)}")
        if _rollup_missing(session):  # decisions logged before the rollup (0013d_touchpoints)
            click.echo(f"reports' rollup: {rebuild(session)} tickets rolled up")
        models = seed_bundled(session, model_cache_dir(app))
        current = ModelRegistry(session).current()
        click.echo(
            f"bundled models registered: {', '.join(models) or 'none needed'}; "
            f"in use: {current or 'heuristic prior'}"
        )
        has_admin = session.scalar(
            sa.select(sa.func.count())
            .select_from(ApiKey)
            .where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))
        )
        if not has_admin:
            token, _ = KeyService(session).create("admin", label=admin_label, actor="init")
            click.echo(f"admin key (shown once, keep it safe): {token}")
        else:
            click.echo(
                "an admin key exists already; `remedy keys create --role admin` makes another"
            )


def _rollup_missing(session: Session) -> bool:
    """Whether decisions exist and the reports' ticket rollup is empty."""
    rolled = session.scalar(sa.select(sa.func.count()).select_from(ReportTicket))
    return not rolled and bool(session.scalar(sa.select(Decision.id).limit(1)))


def _seed_default_pools(session: Session) -> list[str]:
    """Create `default` monthly pools when no pool exists at all; return what was created."""
    if session.scalar(sa.select(sa.func.count()).select_from(BudgetPool)):
        return []
    caps = ConfigService(session).load_active().caps
    created = []
    for currency, cap in sorted(caps.default["absolute"].items()):
        limit = cap * STARTER_POOL_MULTIPLE
        BudgetService(session).set_pool("default", "month", limit, currency, "init")
        created.append(f"{limit} {currency}")
    return created


def _redact(url: str) -> str:
    """Hide a password in a database URL."""
    return make_url(url).render_as_string(hide_password=True)
