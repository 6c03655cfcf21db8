"""The caps document: the guardrails one decision must respect, and the shared limits finance sets.

Per incident: the cap on a plan's cost and the approval threshold. Across decisions (enforced by
the ledger when a plan is accepted): each customer's rolling window, the daily capacity of
personal contact per level, and how strongly budget pacing prices cost. A version may carry an
`effective_at` (ISO 8601 with a time zone): it takes effect then, not when it is stored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from catalog.validation import (
    AmountsByCurrency,
    DataFileError,
    DecimalText,
    UtcDateTime,
    describe,
    field_errors,
)
from remedy.decisions.approvals import ApprovalsSchema, ApprovalTiers, read_approvals
from remedy.decisions.durations import Duration
from remedy.domain import CONTACT_LEVELS, FaultType, Incident
from remedy.ledger.settings import LimitSettings
from remedy.money import is_currency, quantize

_FAULTS = [f.value for f in FaultType]


class CapTermsSchema(Schema):
    """The three terms of a cap; any may be overridden."""

    loss_multiple = DecimalText(validate=validate.Range(min=0, max=100))
    value_share = DecimalText(validate=validate.Range(min=0, max=1))
    absolute = AmountsByCurrency()


class DefaultTermsSchema(CapTermsSchema):
    """The default terms must all be present."""

    loss_multiple = DecimalText(required=True, validate=validate.Range(min=0, max=100))
    value_share = DecimalText(required=True, validate=validate.Range(min=0, max=1))
    absolute = AmountsByCurrency(required=True)


class MatchSchema(Schema):
    """Which incidents an override applies to."""

    severity = fields.List(fields.Integer(validate=validate.Range(min=1, max=5)))
    fault_type = fields.List(fields.String(validate=validate.OneOf(_FAULTS)))


class OverrideSchema(Schema):
    """Terms that replace the defaults for matching incidents."""

    when = fields.Nested(MatchSchema, required=True)
    set = fields.Nested(CapTermsSchema, required=True)


class IncidentCapsSchema(Schema):
    """Defaults plus ordered overrides."""

    default = fields.Nested(DefaultTermsSchema, required=True)
    overrides = fields.List(fields.Nested(OverrideSchema), load_default=list)


class CustomerWindowSchema(Schema):
    """What one customer may receive over a rolling window of days, per currency."""

    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=3660))
    limit = AmountsByCurrency(required=True)


class PacingSchema(Schema):
    """How budget pacing prices cost (see remedy/ledger/pacing.py)."""

    strength = DecimalText(load_default=Decimal("1"), validate=validate.Range(min=0, max=10))
    max_price = DecimalText(load_default=Decimal("3"), validate=validate.Range(min=1, max=100))


class PromisesSchema(Schema):
    """How fast we answer and fix (ISO 8601 durations): what talking points promise."""

    respond_within = Duration(load_default="PT30M")
    respond_within_severe = Duration(load_default="PT15M")  # severity 4 and 5
    fix_within = Duration(load_default="PT1H")  # company and partner fault


class CapsSchema(Schema):
    """The caps document. Pools per team are set apart (PUT /v1/budgets/<team>)."""

    version = fields.Integer(required=True, validate=validate.Range(min=1))
    effective_at = UtcDateTime(load_default=None)
    max_extras = fields.Integer(load_default=2, validate=validate.Range(min=0, max=4))
    incident_caps = fields.Nested(IncidentCapsSchema, required=True)
    # Who approves a plan by its cost (remedy/decisions/approvals.py). Documents written
    # before tiers have one `approval_threshold` instead, read as a single tier.
    approvals = fields.Nested(ApprovalsSchema, load_default=None)
    approval_threshold = AmountsByCurrency(load_default=None)
    # Optional, so documents written before the ledger still load: absent means no limit.
    customer_window = fields.Nested(CustomerWindowSchema, load_default=None)
    # Each team's personal contacts a day per level, counted per team.
    contact_capacity = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CONTACT_LEVELS)),
        values=fields.Integer(strict=True, validate=validate.Range(min=0)),
        load_default=dict,
    )
    # A team's own capacities where they differ: {team: {level: contacts a day}}.
    team_contact_capacity = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        values=fields.Dict(
            keys=fields.String(validate=validate.OneOf(CONTACT_LEVELS)),
            values=fields.Integer(strict=True, validate=validate.Range(min=0)),
        ),
        load_default=dict,
        validate=validate.Length(max=1000),
    )
    pacing = fields.Nested(PacingSchema, load_default=lambda: PacingSchema().load({}))
    promises = fields.Nested(PromisesSchema, load_default=lambda: PromisesSchema().load({}))
    # The most a fix may cost per currency (absent currency: no ceiling). The per-incident cap
    # never limits the fix; only this, the pool and the customer window can.
    fix_ceiling = AmountsByCurrency(load_default=dict)
    # When nothing was lost: the notional loss per severity point that gestures (gifts priced on
    # the loss) and the cap's loss term are sized on, per currency (absent: gestures at their
    # minimum values only). Severity 3 with 20.00 EUR: gestures as for a 60.00 EUR loss.
    no_loss_basis = AmountsByCurrency(load_default=dict)
    # Earlier incidents of the customer with a plan given, counted over this many days.
    repeat_window_days = fields.Integer(
        load_default=60, strict=True, validate=validate.Range(min=1, max=3660)
    )


@dataclass(frozen=True)
class IncidentCap:
    """The cap for one incident, with each term so agents and finance see why."""

    amount: Decimal
    currency: str
    terms: dict[str, Decimal]
    binding: str  # the term that set the cap
    factor: Decimal  # product of cap_modifier rules
    approval_threshold: Decimal


@dataclass(frozen=True)
class Promises:
    """Response and fix targets, as ISO 8601 durations."""

    respond_within: str = "PT30M"
    respond_within_severe: str = "PT15M"
    fix_within: str = "PT1H"

    def respond_by(self, incident: Incident) -> str:
        """How soon the agent answers this incident."""
        return self.respond_within_severe if incident.severity >= 4 else self.respond_within

    def fix_by(self, incident: Incident) -> str | None:
        """How soon the fix is done: promised when we or a partner are at fault."""
        ours = incident.fault_type in (FaultType.COMPANY, FaultType.PARTNER)
        return self.fix_within if ours else None


@dataclass(frozen=True)
class CapSettings:
    """A validated caps version."""

    version: int
    max_extras: int
    default: dict[str, Any]
    overrides: tuple[dict[str, Any], ...]
    approvals: ApprovalTiers
    document: dict[str, Any]
    effective_at: datetime | None = None
    # The limits shared across decisions (window, capacity, pacing), enforced by the ledger.
    limits: LimitSettings = field(default_factory=LimitSettings)
    promises: Promises = Promises()
    fix_ceiling: dict[str, Decimal] = field(default_factory=dict)
    repeat_window_days: int = 60
    no_loss_basis: dict[str, Decimal] = field(default_factory=dict)

    def sized(self, incident: Incident) -> Incident:
        """The incident with what its gestures are sized on when nothing was lost."""
        if incident.loss_amount > 0 or incident.gesture_basis is not None:
            return incident
        per_point = self.no_loss_basis.get(incident.currency)
        if per_point is None:
            return incident
        return dataclasses.replace(incident, gesture_basis=per_point * incident.severity)

    @property
    def approval_threshold(self) -> dict[str, Decimal]:
        """Per currency, the most a plan may cost without approval (the agent's tier)."""
        return self.approvals.agent_up_to

    def supports(self, currency: str) -> bool:
        """Tell whether caps are configured for `currency`."""
        return currency in self.default["absolute"] and currency in self.approval_threshold

    def terms_for(self, incident: Incident) -> dict[str, Any]:
        """Resolve the cap terms for an incident: defaults, then matching overrides in order."""
        terms = {**self.default, "absolute": dict(self.default["absolute"])}
        for override in self.overrides:
            when = override["when"]
            if "severity" in when and incident.severity not in when["severity"]:
                continue
            if "fault_type" in when and incident.fault_type not in when["fault_type"]:
                continue
            for key, value in override["set"].items():
                if key == "absolute":
                    terms["absolute"].update(value)
                else:
                    terms[key] = value
        return terms

    def incident_cap(self, incident: Incident, factor: Decimal = Decimal(1)) -> IncidentCap:
        """Compute the least of the three terms, times the rules' cap factor."""
        terms = self.terms_for(incident)
        currency = incident.currency
        values = {
            "loss_multiple": incident.sizing_loss * terms["loss_multiple"],
            "value_share": incident.customer_value * terms["value_share"],
            "absolute": terms["absolute"][currency],
        }
        binding = min(values, key=lambda k: values[k])
        return IncidentCap(
            amount=quantize(values[binding] * factor, currency),
            currency=currency,
            terms={k: quantize(v, currency) for k, v in values.items()},
            binding=binding,
            factor=factor,
            approval_threshold=self.approval_threshold[currency],
        )


def load_caps(document: dict[str, Any]) -> CapSettings:
    """Validate a caps document; errors name the field."""
    if not isinstance(document, dict):
        raise DataFileError("caps: the document must be a mapping")
    try:
        data = CapsSchema().load(document)
    except ValidationError as error:
        raise DataFileError(describe(error, "caps"), field_errors(error.messages)) from None
    try:
        approvals = read_approvals(data)
    except ValidationError as error:
        raise DataFileError(describe(error, "caps"), field_errors(error.messages)) from None
    currencies = list(data["incident_caps"]["default"]["absolute"])
    currencies += list(approvals["agent_up_to"]) + list(approvals["lead_up_to"])
    currencies += list(approvals.get("fix_without_approval") or {})
    for override in data["incident_caps"]["overrides"]:
        currencies += list(override["set"].get("absolute", {}))
    window = data["customer_window"]
    if window is not None:
        currencies += list(window["limit"])
    currencies += list(data["fix_ceiling"]) + list(data["no_loss_basis"])
    unknown = sorted({c for c in currencies if not is_currency(c)})
    if unknown:
        raise DataFileError(f"caps: unknown currency code(s) {', '.join(unknown)}")
    return CapSettings(
        version=data["version"],
        max_extras=data["max_extras"],
        default=data["incident_caps"]["default"],
        overrides=tuple(data["incident_caps"]["overrides"]),
        approvals=ApprovalTiers.from_section(approvals),
        document=document,
        effective_at=data["effective_at"],
        limits=LimitSettings.from_document(data),
        promises=Promises(**data["promises"]),
        fix_ceiling=data["fix_ceiling"],
        repeat_window_days=data["repeat_window_days"],
        no_loss_basis=data["no_loss_basis"],
    )
