"""`remedy suggest`: ranked plans for an incident given as flags, printed as a table."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import click

from catalog.vocabulary import UnknownCategory
from remedy.cli.common import current_or_new_app
from remedy.decisions.engine import CurrencyNotConfigured, DecisionResult
from remedy.decisions.talking_points import Clock
from remedy.domain import FaultType, Incident
from remedy.errors import InvalidInput
from remedy.extensions import db
from remedy.moments import MomentError, to_utc
from remedy.money import MoneyError, is_currency, parse_amount
from remedy.presenting import Presenter
from remedy.services import app_services
from remedy.services.recommendations import reported_at


@click.command()
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
@click.option(
    "--reported-at",
    "reported_at",
    default=None,
    help="When the customer first complained (ISO 8601 with a zone; default: now).",
)
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 10))
def suggest(limit: int, **fields: str) -> None:
    """Print ranked plans for an incident given as flags (nothing is stored)."""
    now = datetime.now(UTC)
    try:
        reported = _reported_at(fields["reported_at"], now)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--reported-at") from None
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
            reported_at=reported,
        )
    except MoneyError as error:
        raise click.BadParameter(str(error)) from None
    if not is_currency(incident.currency):
        raise click.BadParameter(f"unknown currency {incident.currency}", param_hint="--currency")
    app = current_or_new_app()
    with app.app_context():
        session = db.database(app).sessions()
        try:
            engine = app_services.engines(app).engine(session)
            promises = engine.caps.promises
            category = engine.catalog.vocabulary.canonical(incident.category)
            result = engine.decide(dataclasses.replace(incident, category=category))
        except UnknownCategory as error:
            raise click.BadParameter(str(error), param_hint="--category") from None
        except CurrencyNotConfigured:
            raise click.ClickException(f"no caps configured for {incident.currency}") from None
        finally:
            session.close()
    click.echo(_table(result, limit, Clock.of(incident, promises, now)))


def _reported_at(text: str | None, now: datetime) -> datetime:
    """Read --reported-at: ISO 8601 with a zone, within the API's bounds."""
    if text is None:
        return now
    try:
        moment = to_utc(datetime.fromisoformat(text))
    except (ValueError, MomentError) as error:
        raise ValueError(f"{text!r}: {error} (ISO 8601 with a zone: 2026-03-02T09:00Z)") from None
    try:
        return reported_at(moment, now)
    except InvalidInput as error:
        raise ValueError(f"{text!r}: {error}") from None


def _table(result: DecisionResult, limit: int, clock: Clock) -> str:
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
    labels = {item.id: item.labels for item in result.catalog.items}
    say = Presenter(result.incident.locale, finance=True, labels=labels)
    fix_by = f", fix by {clock.fix_by.isoformat()}" if clock.fix_by else ""
    lines.append(f"answer by {clock.respond_by.isoformat()}{fix_by}")
    lines += [f"note: {note}" for note in say.say_all([*clock.notes(), *result.notes])]
    dropped = len(result.dropped)
    if dropped:
        lines.append(f"{dropped} plan(s) dropped by the incident cap")
    return "\n".join(lines)
