"""The `remedy` command: init, serve, suggest, keys, budgets, ledger."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import datetime

import click
from flask import Flask, current_app

from remedy.decisions.types import FaultType, Incident


def _app() -> Flask:
    """Return the current app, creating one outside a Flask context."""
    try:
        return current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        from remedy import create_app

        return create_app()


@click.group()
def cli() -> None:
    """Service-recovery decisions: ranked remedy plans inside the budget."""


@cli.command()
@click.option("--admin-label", default="first admin", help="Label of the first admin key.")
def init(admin_label: str) -> None:
    """Migrate the database, load catalog, rules and caps, and create the first admin key."""
    import sqlalchemy as sa

    from remedy.extensions import db
    from remedy.services.configs import ConfigService
    from remedy.services.keys import KeyService
    from remedy.store.migrate import upgrade
    from remedy.store.models import ApiKey

    app = _app()
    url = app.config["DATABASE_URL"]
    click.echo(f"migrating {_redact(url)}")
    upgrade(url)
    with app.app_context(), db.database(app).unit_of_work() as session:
        seeded = ConfigService(session).seed_defaults()
        click.echo(f"loaded defaults: {', '.join(seeded) or 'none needed'}")
        pools = _seed_default_pools(session)
        if pools:
            click.echo(f"default monthly pools (finance should set real ones): {', '.join(pools)}")
        from remedy.services.model_registry import ModelRegistry, seed_bundled

        models = seed_bundled(session, _cache(app))
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


# A starting budget so a new install can accept plans at once: per currency with caps, a
# monthly `default` pool of this many times the absolute per-incident cap. Finance replaces it.
STARTER_POOL_MULTIPLE = 50


def _seed_default_pools(session) -> list[str]:  # type: ignore[no-untyped-def]
    """Create `default` monthly pools when no pool exists at all; return what was created."""
    import sqlalchemy as sa

    from remedy.services.budgets import BudgetService
    from remedy.services.configs import ConfigService
    from remedy.store.models import BudgetPool

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
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--dev", is_flag=True, help="Use Flask's development server instead of gunicorn.")
def serve(host: str, port: int, workers: int, dev: bool) -> None:
    """Serve the API (gunicorn; --dev for Flask's reloading server)."""
    if dev:
        _app().run(host=host, port=port, debug=True)
        return
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Workers write their metric samples here so /metrics can add them up.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="remedy-metrics-")
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}"]
    # A what-if replay runs inside its request (up to REMEDY_WHATIF_MAX_INCIDENTS incidents):
    # give workers 120 s before gunicorn calls them hung. SIGTERM is graceful: requests in
    # flight finish within the graceful timeout.
    args += ["--timeout", "120", "--graceful-timeout", "30"]
    # Request lines up to gunicorn's maximum, so those over the app's own limit (4096 bytes)
    # get its 414 in the JSON envelope; longer ones get gunicorn's HTML 414 (its parser
    # answers before the app runs; see docs/deployment.md).
    args += ["--limit-request-line", "8190"]
    args += ["--workers", str(workers), "remedy:create_app()"]
    os.execv(sys.executable, args)  # noqa: S606 - replace this process with gunicorn


@cli.command()
@click.option("--customer", "customer_id", default="cli-customer", show_default=True)
@click.option("--severity", type=click.IntRange(1, 5), required=True)
@click.option(
    "--fault", "fault_type", type=click.Choice([f.value for f in FaultType]), required=True
)
@click.option("--value", "customer_value", required=True, help="Annual customer value.")
@click.option("--loss", "loss_amount", required=True, help="What the failure cost them.")
@click.option("--currency", default="EUR", show_default=True)
@click.option("--category", default="other", show_default=True)
@click.option("--channel", default="email", show_default=True)
@click.option("--locale", default="en", show_default=True)
@click.option("--churn-threat", is_flag=True)
@click.option("--team", default="default", show_default=True)
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 10))
def suggest(limit: int, **fields: str) -> None:
    """Print ranked plans for an incident given as flags (nothing is stored)."""
    from remedy.decisions.engine import CurrencyNotConfigured
    from remedy.extensions import db
    from remedy.money import MoneyError, is_currency, parse_amount

    try:
        incident = Incident(
            customer_id=fields["customer_id"],
            severity=int(fields["severity"]),
            fault_type=FaultType(fields["fault_type"]),
            customer_value=parse_amount(fields["customer_value"]),
            loss_amount=parse_amount(fields["loss_amount"]),
            currency=fields["currency"].upper(),
            category=fields["category"],
            channel=fields["channel"],
            locale=fields["locale"],
            churn_threat=bool(fields["churn_threat"]),
            team=fields["team"],
        )
    except MoneyError as error:
        raise click.BadParameter(str(error)) from None
    if not is_currency(incident.currency):
        raise click.BadParameter(f"unknown currency {incident.currency}", param_hint="--currency")
    app = _app()
    with app.app_context():
        session = db.database(app).sessions()
        try:
            engine = app.extensions["remedy.engines"].engine(session)
            result = engine.decide(incident)
        except CurrencyNotConfigured:
            raise click.ClickException(f"no caps configured for {incident.currency}") from None
        finally:
            session.close()
    click.echo(_table(result, limit))


def _table(result, limit: int) -> str:  # type: ignore[no-untyped-def]
    """Render ranked plans as a plain-text table."""
    cap = result.cap
    lines = [
        f"cap {cap.amount} {cap.currency} ({cap.binding}); approval above "
        f"{cap.approval_threshold}; rules fired: {', '.join(result.fired_rules) or 'none'}",
        f"{'#':>2}  {'plan':<52} {'cost':>10} {'net value':>11} {'P(stay)':>8}  approval",
    ]
    for i, candidate in enumerate(result.kept[:limit], 1):
        scored = candidate.scored
        lines.append(
            f"{i:>2}  {scored.plan.plan_id:<52} {scored.plan.total_cost:>10} "
            f"{scored.expected_net_value:>11} {scored.p_stay:>8.3f}  "
            f"{'yes' if candidate.requires_approval else 'no'}"
        )
    lines += [f"note: {note}" for note in result.notes]
    dropped = len(result.dropped)
    if dropped:
        lines.append(f"{dropped} plan(s) dropped by the incident cap")
    return "\n".join(lines)


@cli.group()
def keys() -> None:
    """Create, list and revoke API keys."""


@keys.command("create")
@click.option("--role", type=click.Choice(["agent", "finance", "admin"]), required=True)
@click.option("--team", default=None, help="Scope the key to one team.")
@click.option("--label", default="", help="Who or what uses the key.")
def keys_create(role: str, team: str | None, label: str) -> None:
    """Create a key and print it (it is shown only once)."""
    from remedy.extensions import db
    from remedy.services.keys import KeyService

    app = _app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        token, row = KeyService(session).create(role, team, label, actor="cli")
    click.echo(token)


@keys.command("list")
def keys_list() -> None:
    """List keys (prefix, role, team, label, state); secrets are never shown."""
    from remedy.extensions import db
    from remedy.services.keys import KeyService

    app = _app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        for row in KeyService(session).list():
            state = "revoked" if row.revoked_at else "active"
            click.echo(f"{row.prefix}  {row.role:<8} {row.team or '-':<12} {state:<8} {row.label}")


@keys.command("revoke")
@click.argument("prefix")
def keys_revoke(prefix: str) -> None:
    """Revoke the key with PREFIX."""
    from remedy.errors import NotFound
    from remedy.extensions import db
    from remedy.services.keys import KeyService

    app = _app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            KeyService(session).revoke(prefix, actor="cli")
    except NotFound as error:
        raise click.ClickException(error.message) from None
    click.echo(f"revoked {prefix}")


@cli.group()
def budgets() -> None:
    """Set and list budget pools."""


@budgets.command("set")
@click.argument("team")
@click.option("--period", type=click.Choice(["week", "month"]), required=True)
@click.option("--limit", "limit", required=True, help="Decimal amount, e.g. 5000.00.")
@click.option("--currency", required=True, help="ISO 4217 code, e.g. EUR.")
@click.option("--effective-at", type=click.DateTime(), default=None, help="UTC; default now.")
def budgets_set(
    team: str, period: str, limit: str, currency: str, effective_at: datetime | None
) -> None:
    """Set TEAM's pool in a currency (a new, audited version; `default` is the fallback pool)."""
    from datetime import UTC

    from remedy.errors import InvalidInput
    from remedy.extensions import db
    from remedy.moments import MomentError, to_utc
    from remedy.money import MoneyError, parse_amount
    from remedy.services.budgets import BudgetService

    try:
        amount = parse_amount(limit)
    except MoneyError as error:
        raise click.BadParameter(str(error), param_hint="--limit") from None
    try:
        when = to_utc(effective_at.replace(tzinfo=UTC)) if effective_at else None
    except MomentError as error:
        raise click.BadParameter(str(error), param_hint="--effective-at") from None
    app = _app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            pool = BudgetService(session).set_pool(
                team, period, amount, currency.upper(), "cli", when
            )
            click.echo(
                f"{pool.team} {pool.currency}: {amount} per {pool.period} "
                f"(version {pool.version}, from {pool.effective_at:%Y-%m-%d %H:%M} UTC)"
            )
    except InvalidInput as error:
        raise click.ClickException(f"{error.message}: {error.errors}") from None


@budgets.command("list")
def budgets_list() -> None:
    """List every pool in effect: limit, reserved, committed, remaining and pace."""
    from remedy.extensions import db
    from remedy.services.budgets import BudgetService
    from remedy.store.models import utcnow

    app = _app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        pacing = app.extensions["remedy.engines"].engine(session).caps.pacing
        for pool in BudgetService(session).overview(utcnow(), pacing):
            click.echo(
                f"{pool['team']:<12} {pool['period_key']:<9} {pool['currency']} "
                f"limit {pool['limit']:>12} reserved {pool['reserved']:>12} committed "
                f"{pool['committed']:>12} remaining {pool['remaining']:>12} "
                f"price {pool['pace']['cost_price']}"
            )


@cli.group()
def ledger() -> None:
    """Verify the ledger and release expired reservations."""


@ledger.command("verify")
@click.option("--show", default=50, show_default=True, help="Failures to print at most.")
def ledger_verify(show: int) -> None:
    """Recompute every balance from the ledger and check the invariants; exit 1 on failure."""
    from remedy.extensions import db
    from remedy.services.ledger import verify_ledger

    app = _app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        report, seconds = verify_ledger(session)
    summary = f"{report.entries} entries, {report.reservations} reservations in {seconds:.2f} s"
    if report.ok:
        click.echo(f"ledger verifies: {summary}")
        return
    for failure in report.failures[:show]:
        click.echo(f"FAIL {failure}")
    if len(report.failures) > show:
        click.echo(f"... and {len(report.failures) - show} more")
    click.echo(f"ledger does NOT verify: {len(report.failures)} failure(s); {summary}")
    sys.exit(1)


@ledger.command("expire")
def ledger_expire() -> None:
    """Release every reservation past its time, one pool and batch per transaction."""
    from datetime import timedelta

    from remedy.extensions import db
    from remedy.services.lifecycle import LifecycleService

    app = _app()
    ttl = timedelta(seconds=app.config["RESERVATION_TTL_SECONDS"])
    total = 0
    with app.app_context():
        database = db.database(app)
        with database.unit_of_work() as session:
            caps = app.extensions["remedy.engines"].engine(session).caps
            pools = LifecycleService(session, caps, ttl).overdue_pools()
        for team, currency in pools:
            while True:
                with database.unit_of_work() as session:
                    service = LifecycleService(session, caps, ttl)
                    service.begin()
                    released = service.expire_overdue(team, currency)
                total += released
                if not released:
                    break
    click.echo(f"released {total} expired reservation(s)")


@cli.group()
def idempotency() -> None:
    """Housekeeping of stored Idempotency-Key answers."""


@idempotency.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=7,
    show_default=True,
    help="Keep keys claimed within this many days; a retry after that runs afresh.",
)
def idempotency_purge(days: int) -> None:
    """Delete stored Idempotency-Key answers older than --days (run it from cron)."""
    from datetime import timedelta

    from remedy.extensions import db
    from remedy.services.idempotency import IdempotencyService
    from remedy.store.models import utcnow

    app = _app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        purged = IdempotencyService(session).purge(utcnow() - timedelta(days=days))
    click.echo(f"purged {purged} idempotency key(s) older than {days} day(s)")


def _cache(app: Flask):  # type: ignore[no-untyped-def]
    """The folder this process materialises model artifacts into."""
    from pathlib import Path

    return Path(app.config["MODEL_DIR"]) / "cache"


@cli.group()
def models() -> None:
    """List, promote and roll back ranking model versions."""


@models.command("list")
def models_list() -> None:
    """List model versions (newest first); * marks the one in use."""
    from remedy.extensions import db
    from remedy.services.model_registry import ModelRegistry

    app = _app()
    with app.app_context(), db.database(app).unit_of_work() as session:
        registry = ModelRegistry(session)
        current = registry.current()
        click.echo(f"in use: {current or 'heuristic prior (no model promoted)'}")
        for row in registry.versions():
            holdout = row.card.get("metrics", {}).get("holdout", {}).get("retention", {})
            auc = holdout.get("auc")
            mark = "*" if row.version == current else " "
            click.echo(
                f"{mark} {row.version:<28} {row.created_at:%Y-%m-%d %H:%M}  "
                f"AUC {auc:.3f}  rows {row.card.get('training_window', {}).get('rows', '?')}"
                if auc is not None
                else f"{mark} {row.version:<28} {row.created_at:%Y-%m-%d %H:%M}"
            )


@models.command("promote")
@click.argument("version")
@click.option("--reason", default="", help="Why (kept in the audit log).")
def models_promote(version: str, reason: str) -> None:
    """Make VERSION rank plans on every worker from their next request."""
    from remedy.errors import DomainError
    from remedy.extensions import db
    from remedy.services.model_registry import ModelRegistry

    app = _app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            ModelRegistry(session).promote(version, "cli", reason, _cache(app))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"promoted {version}")


@models.command("rollback")
def models_rollback() -> None:
    """Promote again the version in use before the current one."""
    from remedy.errors import DomainError
    from remedy.extensions import db
    from remedy.services.model_registry import ModelRegistry

    app = _app()
    try:
        with app.app_context(), db.database(app).unit_of_work() as session:
            promotion = ModelRegistry(session).rollback("cli", _cache(app))
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"rolled back to {promotion.version}")


@cli.command()
@click.option("--version", default=None, help="Version name (default: logged-<timestamp>).")
@click.option(
    "--promote-if-better",
    is_flag=True,
    help="Promote only if the new model's doubly robust lower bound beats the current "
    "model's estimate on the holdout.",
)
@click.option("--min-rows", default=200, show_default=True, type=click.IntRange(10))
@click.option("--seed", default=0, show_default=True)
@click.option("--no-progress", is_flag=True)
def train(
    version: str | None, promote_if_better: bool, min_rows: int, seed: int, no_progress: bool
) -> None:
    """Retrain from logged decisions and outcomes; evaluate; register the new version."""
    from pathlib import Path

    from remedy.decisions.ranker import ValueSettings
    from remedy.extensions import db
    from remedy.services.model_registry import ModelRegistry
    from training.from_logs import now_version, promotion_verdict, train_from_logs

    app = _app()
    version = version or now_version()
    out = Path(app.config["MODEL_DIR"]) / "trained" / version
    values = ValueSettings(app.config["HORIZON_YEARS"], app.config["REFERRAL_SHARE"])
    with app.app_context(), db.database(app).unit_of_work() as session:
        current = app.extensions["remedy.scorer"](session)
        try:
            card = train_from_logs(
                session,
                out,
                current,
                values,
                version=version,
                min_rows=min_rows,
                seed=seed,
                progress=not no_progress,
            )
        except ValueError as error:
            raise click.ClickException(str(error)) from None
        ModelRegistry(session).register(out, "train")
    holdout = card["metrics"]["holdout"]["retention"]
    click.echo(f"wrote {out} and registered {version}")
    click.echo(
        f"holdout: log loss {holdout['log_loss']:.4f}, AUC {holdout['auc'] or 0:.3f}, "
        f"Brier {holdout['brier']:.4f}"
    )
    for policy, estimates in card["metrics"].get("policy_values", {}).items():
        text = ", ".join(
            f"{e['method']} {e['value']:.1f} [{e['low']:.1f}, {e['high']:.1f}]" for e in estimates
        )
        click.echo(f"policy value ({policy}, USD per decision): {text}")
    if not promote_if_better:
        return
    promote, why = promotion_verdict(card)
    if not promote:
        click.echo(f"not promoted: {why}")
        return
    with app.app_context(), db.database(app).unit_of_work() as session:
        ModelRegistry(session).promote(version, "train", why, _cache(app))
    click.echo(f"promoted {version}: {why}")


@cli.command()
@click.option("--incidents", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--team", default="sim", show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--no-progress", is_flag=True)
def simulate(incidents: int, team: str, seed: int, no_progress: bool) -> None:
    """Drive the service with simulated customers: decisions, accepts, outcomes (for demos)."""
    from training.drive import drive

    report = drive(_app(), incidents, team, seed, progress=not no_progress)
    click.echo(
        f"{report.decisions} decisions, {report.accepted} accepted, {report.refused} refused by "
        f"budget limits, {report.retained} customers retained"
    )


def main() -> None:
    """Entry point of the `remedy` console script."""
    cli()


if __name__ == "__main__":
    main()


@cli.command()
@click.option("--from", "start", required=True, help="First day (YYYY-MM-DD, UTC) replayed.")
@click.option("--to", "end", required=True, help="Day after the last one replayed.")
@click.option("--caps", "caps_file", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--rules", "rules_file", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--sweep", default=None, help="PATH=V1,V2,... over the caps document.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Sweep curve PNG.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def whatif(
    start: str,
    end: str,
    caps_file: str | None,
    rules_file: str | None,
    sweep: str | None,
    plot: str | None,
    workers: int,
) -> None:
    """Replay logged decisions under proposed caps or rules vs the current ones; writes nothing."""
    from pathlib import Path

    import yaml
    from tqdm.auto import tqdm

    from remedy.decisions.ranker import ValueSettings
    from remedy.errors import DomainError
    from remedy.extensions import db
    from remedy.finance.dates import parse_moment
    from remedy.moments import OUT_OF_RANGE, to_utc
    from remedy.money import MoneyError, parse_decimal
    from remedy.services.whatif import WhatIfService

    try:
        start_at, end_at = to_utc(parse_moment(start)), to_utc(parse_moment(end))
    except OverflowError:  # moved to UTC, it left datetime's range
        raise click.BadParameter(OUT_OF_RANGE) from None
    except ValueError as error:  # MomentError is a ValueError
        raise click.BadParameter(str(error)) from None
    proposed = {
        kind: yaml.safe_load(Path(path).read_text())
        for kind, path in (("caps", caps_file), ("rules", rules_file))
        if path
    }
    sweep_spec = None
    if sweep:
        path, _, values = sweep.partition("=")
        if not values:
            raise click.BadParameter("use PATH=V1,V2,...", param_hint="--sweep")
        sweep_spec = {"path": path, "values": [v.strip() for v in values.split(",")]}
        for value in sweep_spec["values"]:
            try:  # the API's rule for sweep values: plain decimal text (remedy.money)
                parse_decimal(value, signed=True)
            except MoneyError as error:
                raise click.BadParameter(f"{value!r}: {error}", param_hint="--sweep") from None
    app = _app()
    bars = []

    def progress(total: int):  # type: ignore[no-untyped-def]
        bar = tqdm(total=total, desc="replaying", unit="decision")
        bars.append(bar)
        return bar.update

    with app.app_context():
        session = db.database(app).sessions()
        try:
            scorer = app.extensions["remedy.scorer"](session)
            values = ValueSettings(app.config["HORIZON_YEARS"], app.config["REFERRAL_SHARE"])
            result = WhatIfService(session, scorer, values, workers).simulate(
                start_at, end_at, proposed, None, sweep_spec, progress
            )
        except DomainError as error:
            raise click.ClickException(f"{error.message}: {error.errors}") from None
        finally:
            session.close()
            for bar in bars:
                bar.close()
    click.echo(_comparison(result))
    if plot and "sweep" in result:
        from remedy.finance.plot import plot_sweep

        plot_sweep(result["sweep"], Path(plot))
        click.echo(f"sweep curve written to {plot}")


def _comparison(result: dict) -> str:  # type: ignore[type-arg]
    """Render current vs proposed side by side, then the sweep curve."""
    current, proposed = result["current"], result["proposed"]

    def money(amounts: dict) -> str:  # type: ignore[type-arg]
        return ", ".join(f"{v} {c}" for c, v in amounts.items()) or "-"

    rows = [
        ("decisions replayed", current["decisions"], proposed["decisions"]),
        ("plans chosen", current["chosen"], proposed["chosen"]),
        ("no plan", current["no_plan"], proposed["no_plan"]),
        ("skipped for budget", current["skipped_for_budget"], proposed["skipped_for_budget"]),
        ("  broke the pool", current["skipped_for_pool"], proposed["skipped_for_pool"]),
        (
            "  broke customer window",
            current["skipped_for_customer_window"],
            proposed["skipped_for_customer_window"],
        ),
        (
            "  contacts full",
            current["skipped_for_contact_capacity"],
            proposed["skipped_for_contact_capacity"],
        ),
        ("spend", money(current["spend"]), money(proposed["spend"])),
        (
            "expected net value",
            money(current["expected_net_value"]),
            money(proposed["expected_net_value"]),
        ),
        ("expected retention", current["expected_retention"], proposed["expected_retention"]),
        ("share hitting the cap", current["capped_share"], proposed["capped_share"]),
        ("approvals needed", current["approvals_needed"], proposed["approvals_needed"]),
    ]
    lines = [f"what-if {result['from']} .. {result['to']} (model {result['model']})"]
    lines.append(f"{'':24}  {'current':<40}  proposed")
    lines += [f"{name:24}  {str(a):<40}  {b}" for name, a, b in rows]
    for label, key in (("by kind", "spend_by_kind"), ("by fault type", "spend_by_fault_type")):
        for group in sorted(set(current[key]) | set(proposed[key])):
            lines.append(
                f"{'spend ' + label + ' ' + group:24}  "
                f"{money(current[key].get(group, {})):<40}  {money(proposed[key].get(group, {}))}"
            )
    if "sweep" in result:
        lines.append(f"sweep of {result['sweep']['path']}:")
        for point in result["sweep"]["curve"]:
            lines.append(
                f"  {point['value']:>8}  spend {money(point['spend'])}  "
                f"expected net value {money(point['expected_net_value'])}"
            )
    return "\n".join(lines)
