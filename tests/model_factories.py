"""Factories for the model and training tests: incidents, priced actions and plans by hand."""

from __future__ import annotations

from decimal import Decimal

from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder

from models.features import CATEGORICAL_COLUMNS, categories
from remedy.domain import Action, FaultType, Incident, Kind, Plan


def make_incident(**overrides: object) -> Incident:
    """Return an incident with sensible defaults, overridden by keyword."""
    fields: dict[str, object] = {
        "customer_id": "cust-1",
        "severity": 3,
        "fault_type": FaultType.COMPANY,
        "customer_value": Decimal("1000.00"),
        "loss_amount": Decimal("100.00"),
        "currency": "EUR",
        "category": "delivery",
        "channel": "email",
    }
    fields.update(overrides)
    return Incident(**fields)  # type: ignore[arg-type]


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
