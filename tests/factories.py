"""Factories for domain objects used across the tests."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import catalog as bundled
from catalog.items import Catalog, load_catalog
from remedy.decisions.caps import CapSettings, load_caps
from remedy.decisions.engine import DecisionEngine
from remedy.decisions.ranker import HeuristicPrior, PlanRanker
from remedy.decisions.rules import RuleSet, load_rules
from remedy.decisions.types import FaultType, Incident


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
