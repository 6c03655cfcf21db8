"""Factories for the test data of every package: incidents, engines, stored decisions, priced
actions and plans by hand, pools and caps."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Flask
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder

import catalog as bundled
from catalog.items import Catalog, load_catalog
from models.features import CATEGORICAL_COLUMNS, categories
from remedy.decisions.caps import CapSettings, load_caps
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import HeuristicPrior, PlanRanker
from remedy.decisions.record import (
    DecisionRecord,
    DroppedBy,
    Presentation,
    PricedItem,
    StoredCandidate,
    StoredCap,
)
from remedy.decisions.rules import RuleSet, load_rules
from remedy.domain import Action, FaultType, Incident, Kind, Plan
from remedy.extensions import db
from remedy.facts import Fact
from remedy.ledger.book import verify_ledger
from remedy.ledger.budgets import BudgetService
from remedy.ledger.verify import Report
from remedy.services import app_services
from remedy.services.configs import ConfigService
from remedy.services.keys import KeyService
from remedy.store.tables import Decision


def make_incident(**overrides: Any) -> Incident:
    """An incident with sensible defaults; money given as strings becomes Decimal."""
    fields: dict[str, Any] = {
        "customer_id": "cust-1",
        "severity": 3,
        "fault_type": FaultType.COMPANY,
        "customer_value": Decimal("1200.00"),
        "loss_amount": Decimal("60.00"),
        "currency": "EUR",
        "category": "delivery",
        "channel": "chat",
        "locale": "en",
    }
    fields.update(overrides)
    fields["fault_type"] = FaultType(fields["fault_type"])
    for name in ("customer_value", "loss_amount"):
        fields[name] = Decimal(str(fields[name]))
    return Incident(**fields)


def default_document(kind: str) -> dict[str, Any]:
    """A deep copy of a bundled default document, safe to edit."""
    return copy.deepcopy(bundled.read_default(kind))


def default_catalog() -> Catalog:
    """The bundled catalog."""
    return load_catalog(default_document("catalog"))


def default_rules(catalog: Catalog | None = None) -> RuleSet:
    """The bundled rules, checked against the catalog."""
    catalog = catalog or default_catalog()
    return load_rules(default_document("rules"), {item.id for item in catalog.items})


def default_caps() -> CapSettings:
    """The bundled caps."""
    return load_caps(default_document("caps"))


def default_engine(
    rules: RuleSet | None = None, caps: CapSettings | None = None, catalog: Catalog | None = None
) -> DecisionEngine:
    """An engine on the bundled documents and the heuristic prior."""
    catalog = catalog or default_catalog()
    return DecisionEngine(
        catalog,
        rules or default_rules(catalog),
        caps or default_caps(),
        PlanRanker(HeuristicPrior()),
    )


# Items a stored decision's plans are made of: kind, contact level, cost.
PRICED_ITEMS: dict[str, tuple[str, str | None, str]] = {
    "apology": ("apology", None, "0.00"),
    "gift_1x": ("gift", None, "10.00"),
    "credit": ("credit", None, "27.00"),
    "refund": ("refund", None, "4000.00"),  # a large make-whole
    "contact_manager": ("personal_contact", "manager", "23.33"),
    "contact_executive": ("personal_contact", "executive", "83.33"),
}


def decision_row(
    plans: dict[str, tuple[str, bool]],
    customer_id: str = "cust-1",
    team: str = "emea",
    currency: str = "EUR",
    dropped: dict[str, tuple[str, str]] | None = None,
    at: datetime | None = None,
    promises: dict[str, str] | None = None,
    **incident: Any,
) -> Decision:
    """A stored decision whose candidates are `plans`: plan id -> (total cost, needs approval).

    A plan id is its item ids joined by '+'; `dropped` maps plan ids to (reason, dropped_by),
    the reason as words (a text fact). `at` is when it was made (default now), `promises` the
    talking points' `respond_within` and `fix_within` of its shown plans, and `incident`
    overrides the incident's fields (external_id, touchpoint, customer_value, ...).
    Written through `DecisionRecord`, like every decision the service stores.
    """
    dropped = dropped or {}
    items = {item for plan_id in plans for item in plan_id.split("+")}
    candidates = []
    for plan_id, (cost, approval) in plans.items():
        reason, by = dropped.get(plan_id, (None, None))
        candidates.append(
            StoredCandidate(
                plan_id=plan_id,
                items=tuple(plan_id.split("+")),
                total_cost=Decimal(cost),
                total_value=Decimal(cost),
                expected_net_value=Decimal("100.00"),
                p_stay=Decimal("0.9"),
                referrals=Decimal("0.05"),
                requires_approval=approval,
                dropped_reason=None if reason is None else Fact("text", {"text": reason}),
                dropped_by=None if by is None else DroppedBy(by),
            )
        )
    shown = [c.plan_id for c in candidates if c.dropped_reason is None]
    record = DecisionRecord(
        incident=make_incident(customer_id=customer_id, team=team, currency=currency, **incident),
        cap=StoredCap(Decimal("300.00"), currency, "absolute", {}, Decimal(1), Decimal("250.00")),
        fired_rules=[],
        excluded_items={},
        notes=[],
        priced_items={
            item: PricedItem(
                Kind(PRICED_ITEMS[item][0]),
                PRICED_ITEMS[item][1],
                {"en": item},
                Decimal(0),
                Decimal(PRICED_ITEMS[item][2]),
            )
            for item in items
        },
        candidates=candidates,
        shown=shown,
        presentation={plan_id: Presentation([], dict(promises)) for plan_id in shown}
        if promises
        else None,
    )
    row = Decision(
        created_at=at,
        external_id=record.incident.external_id,
        customer_id=customer_id,
        team=team,
        currency=currency,
        severity=3,
        fault_type=str(record.incident.fault_type),
        catalog_version=1,
        rules_version=1,
        caps_version=1,
        model_version="test",
        requested_by="test",
    )
    record.attach(row)
    return row


def store(app: Flask, *rows: Any) -> list[str]:
    """Insert rows (decisions, ...) in one transaction; return their ids."""
    with db.database(app).unit_of_work() as session:
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def set_pool(
    app: Flask,
    team: str,
    limit: str | None,
    currency: str = "EUR",
    period: str = "month",
    lines: tuple[str, str] | None = None,
) -> None:
    """Give `team` a pool in effect now: one `limit`, or `lines` (fix line, overdelivery line)."""
    fix, overdelivery = (Decimal(x) for x in lines) if lines else (None, None)
    with db.database(app).unit_of_work() as session:
        BudgetService(session).set_pool(
            team,
            period,
            None if limit is None else Decimal(limit),
            currency,
            "test",
            fix_limit=fix,
            overdelivery_limit=overdelivery,
        )


def set_caps(app: Flask, **changes: Any) -> None:
    """Store a new caps version: the defaults with top-level keys replaced."""
    document = {**default_document("caps"), **changes}
    with db.database(app).unit_of_work() as session:
        ConfigService(session).replace("caps", document, "test")


def verify(app: Flask) -> Report:
    """Verify the app's ledger."""
    with db.database(app).unit_of_work() as session:
        report, _ = verify_ledger(session)
    return report


# -- priced actions and plans by hand (model and training tests) ---------------------------


def action(
    item_id: str,
    kind: Kind,
    value: str = "0",
    cost: str = "0",
    level: str | None = None,
    audience: str = "customer",
) -> Action:
    """Return a priced action."""
    return Action(item_id, kind, level, Decimal(value), Decimal(cost), audience=audience)


def plan(*actions: Action, currency: str = "EUR") -> Plan:
    """Return a plan of the given actions."""
    return Plan(actions=tuple(actions), currency=currency)


def one_hot_encoder() -> ColumnTransformer:
    """Return the encoder the pipelines had before native categories (artifact sim-1)."""
    codes = OneHotEncoder(
        categories=categories(), handle_unknown="ignore", sparse_output=False, dtype=float
    )
    return ColumnTransformer(
        [("categorical", codes, list(CATEGORICAL_COLUMNS))],
        remainder="passthrough",
        sparse_threshold=0.0,
    )


def run_jobs(app: Flask) -> int:
    """Run every queued job in this process, as `remedy worker --once` does; return how many."""
    from remedy.services.job_runner import JobRunner

    runner = JobRunner(
        db.database(app), app_services.jobs(app), app.config, app_services.services(app), poll=0
    )
    with app.app_context():
        return runner.run(once=True)


def simulated(app: Flask, client: Any, body: dict[str, Any], headers: dict[str, str]) -> Any:
    """Queue a what-if (202 + Location), run it, and return the succeeded job's result."""
    queued = client.post("/v1/budgets/simulate", json=body, headers=headers)
    assert queued.status_code == 202, queued.json
    run_jobs(app)
    job = client.get(queued.headers["Location"], headers=headers)
    assert job.status_code == 200, job.json
    assert job.json["status"] == "succeeded", job.json
    return job.json["result"]


def said(facts, locale: str = "en", finance: bool = True, labels=None):  # type: ignore[no-untyped-def]
    """Say facts (one, a list, or a dict of them) in English with finance's numbers, as the
    presenter would, so tests can read what a decision says (labels: the default catalog's)."""
    from remedy.facts import Fact
    from remedy.presenting import Presenter

    if labels is None:
        labels = {item.id: item.labels for item in default_engine().catalog.items}
    say = Presenter(locale, finance=finance, labels=labels)
    if facts is None:
        return None
    if isinstance(facts, Fact):
        return say.say(facts)
    if isinstance(facts, dict):
        return {k: say.say(v) for k, v in facts.items()}
    return say.say_all(facts)


# -- keys by name ---------------------------------------------------------------------------

# The people of two teams most API tests need: emea's and apac's agent and lead, unscoped
# finance and an admin.
TWO_TEAMS = (
    ("agent", "agent", "emea"),
    ("lead", "lead", "emea"),
    ("apac agent", "agent", "apac"),
    ("apac lead", "lead", "apac"),
    ("finance", "finance", None),
    ("admin", "admin", None),
)


def key_headers(
    app: Flask, people: Iterable[tuple[str, str, str | None]] = TWO_TEAMS
) -> Callable[[str], dict[str, str]]:
    """Create a key for each (name, role, team) and return the request headers by name."""
    tokens = {}
    with db.database(app).unit_of_work() as session:
        keys = KeyService(session)
        for name, role, team in people:
            tokens[name], _ = keys.create(role, team, name)
    return lambda name: {"Authorization": f"Bearer {tokens[name]}"}
