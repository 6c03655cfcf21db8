"""The remedy catalog: what can be offered, and how each item is priced for an incident."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from catalog.validation import (
    AmountsByCurrency,
    DataFileError,
    DecimalText,
    StrictBoolean,
    describe,
    load_entries,
)
from catalog.vocabulary import (
    Vocabulary,
    default_touchpoints,
    derived_vocabulary,
    load_touchpoints,
    load_vocabulary,
)
from remedy.domain import CHANNELS, CONTACT_LEVELS, FIX_KINDS, Action, Incident, Kind
from remedy.facts import Fact, Level, Money, fact
from remedy.money import is_currency, quantize

VALUE_BASES = ("none", "fixed", "loss_fraction", "loss_multiple")
COST_BASES = ("none", "fixed", "loss_fraction", "loss_multiple", "value_fraction", "staff_time")


def _check_currencies(amounts: dict[str, Decimal]) -> None:
    """Refuse unknown currency codes (the amounts themselves were read by remedy.money)."""
    for code in amounts:
        if not is_currency(code):
            raise ValidationError(f"unknown currency {code!r}")


class PricingSchema(Schema):
    """How a value or cost is computed."""

    basis = fields.String(required=True, validate=validate.OneOf(COST_BASES))
    factor = DecimalText(validate=validate.Range(min=0, max=100))
    amounts = AmountsByCurrency()
    minutes = fields.Integer(validate=validate.Range(min=1, max=480))

    @validates_schema
    def check_basis(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require exactly the parameters the basis needs."""
        basis = data["basis"]
        needs = {
            "fixed": "amounts",
            "loss_fraction": "factor",
            "loss_multiple": "factor",
            "value_fraction": "factor",
            "staff_time": "minutes",
        }.get(basis)
        if needs and needs not in data:
            raise ValidationError(f"basis {basis!r} needs {needs!r}", needs)
        if basis == "loss_fraction" and data["factor"] > 1:
            raise ValidationError("a loss_fraction factor must be at most 1", "factor")
        if "amounts" in data:
            try:
                _check_currencies(data["amounts"])
            except ValidationError as error:
                raise ValidationError(error.messages, "amounts") from None


class ItemSchema(Schema):
    """One catalog item."""

    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,63}$"))
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in Kind]))
    level = fields.String(validate=validate.OneOf(CONTACT_LEVELS))
    audience = fields.String(
        load_default="customer", validate=validate.OneOf(["customer", "companions"])
    )
    labels = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    value = fields.Nested(PricingSchema, required=True)
    cost = fields.Nested(PricingSchema, required=True)
    requires_approval = StrictBoolean(load_default=False)
    enabled_by_default = StrictBoolean(load_default=True)
    # Where the item fits: absent, every incident; else only these categories / channels.
    categories = fields.List(
        fields.String(validate=validate.Regexp(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")),
        load_default=None,
        validate=validate.Length(min=1),
    )
    # Channels are the API's closed list (remedy.domain.CHANNELS): an item on a channel no
    # incident can come from would silently never be offered.
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)),
        load_default=None,
        validate=validate.Length(min=1),
    )
    # No token amounts: below this face value (per currency) the item is not offered.
    min_value = AmountsByCurrency(load_default=dict)

    @validates_schema
    def check_item(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Check the rules that tie fields together."""
        try:
            _check_currencies(data.get("min_value", {}))
        except ValidationError as error:
            raise ValidationError(error.messages, "min_value") from None
        if data["kind"] == Kind.PERSONAL_CONTACT and "level" not in data:
            raise ValidationError("personal contact needs a level", "level")
        if data["kind"] != Kind.PERSONAL_CONTACT and "level" in data:
            raise ValidationError("only personal contact has a level", "level")
        if data["value"]["basis"] in ("value_fraction", "staff_time"):
            raise ValidationError(f"basis must be one of {VALUE_BASES}", "value")
        if data["cost"]["basis"] == "staff_time" and data["kind"] != Kind.PERSONAL_CONTACT:
            raise ValidationError("staff_time cost is for personal contact", "cost")
        if "en" not in data["labels"]:
            raise ValidationError("an English label is required", "labels")


class CatalogSchema(Schema):
    """The catalog document; items are validated one by one to name the bad one."""

    version = fields.Integer(required=True, validate=validate.Range(min=1))
    staff_rates = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CONTACT_LEVELS)),
        values=AmountsByCurrency(),
        load_default=dict,
    )
    items = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1))
    # The closed vocabulary of incident categories (catalog/vocabulary.py); optional so that
    # documents written before it still load.
    categories = fields.Raw(load_default=None)
    # The closed vocabulary of touchpoints (where a failure happened); optional: a document
    # without it gets the bundled default catalog's.
    touchpoints = fields.Raw(load_default=None)


@dataclass(frozen=True)
class Pricing:
    """A validated pricing rule."""

    basis: str
    factor: Decimal | None = None
    amounts: dict[str, Decimal] = field(default_factory=dict)
    minutes: int | None = None


class NotPriceable(Exception):
    """The item has no price in this incident's currency."""

    def __init__(self, item_id: str, currency: str, level: str | None = None) -> None:
        """Say which item (or staff `level`, for personal contact) has no price in `currency`."""
        self.item_id, self.currency, self.level = item_id, currency, level
        where = f"no {level} staff rate" if level else f"{item_id} has no price"
        super().__init__(f"{where} in {currency}")

    def fact(self) -> Fact:
        """Why the item is left out, as data (the presenter says it)."""
        if self.level:
            return fact("no_staff_rate", level=Level(self.level), currency=self.currency)
        return fact("no_price", currency=self.currency)


@dataclass(frozen=True)
class CatalogItem:
    """A remedy that can go into a plan."""

    id: str
    kind: Kind
    level: str | None
    audience: str
    labels: dict[str, str]
    value: Pricing
    cost: Pricing
    requires_approval: bool
    enabled_by_default: bool
    categories: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    min_value: dict[str, Decimal] = field(default_factory=dict)

    def misfit(self, incident: Incident) -> Fact | None:
        """Why this item does not fit the incident's category or channel, if it does not."""
        if self.categories is not None and incident.category not in self.categories:
            only = ", ".join(sorted(self.categories))
            return fact("not_for_category", category=incident.category, only=only)
        if self.channels is not None and incident.channel not in self.channels:
            only = ", ".join(sorted(self.channels))
            return fact("not_on_channel", channel=incident.channel, only=only)
        return None

    def below_minimum(self, action: Action, currency: str) -> Fact | None:
        """Why a priced item is a token amount (under its minimum face value), if it is."""
        floor = self.min_value.get(currency)
        if floor is not None and action.value < floor:
            return fact(
                "below_minimum", value=Money(action.value, currency), minimum=Money(floor, currency)
            )
        return None

    def price(self, incident: Incident, staff_rates: dict[str, dict[str, Decimal]]) -> Action:
        """Price this item for `incident`; raise NotPriceable if its currency has no price."""
        value = self._amount(self.value, incident, Decimal(0), staff_rates)
        cost = self._amount(self.cost, incident, value, staff_rates)
        return Action(
            item_id=self.id,
            kind=self.kind,
            level=self.level,
            value=quantize(value, incident.currency),
            cost=quantize(cost, incident.currency),
            requires_approval=self.requires_approval,
            audience=self.audience,
        )

    def _amount(
        self,
        pricing: Pricing,
        incident: Incident,
        value: Decimal,
        staff_rates: dict[str, dict[str, Decimal]],
    ) -> Decimal:
        """Compute one amount from its pricing rule."""
        basis = pricing.basis
        if basis == "none":
            return Decimal(0)
        if basis in ("loss_fraction", "loss_multiple"):
            # A fix gives back what was lost (nothing, when nothing was); a gesture is sized on
            # the loss, or on the no-loss basis when nothing was lost.
            loss = incident.loss_amount if self.kind in FIX_KINDS else incident.sizing_loss
            return loss * pricing.factor
        if basis == "value_fraction":
            return value * pricing.factor
        if basis == "fixed":
            if incident.currency not in pricing.amounts:
                raise NotPriceable(self.id, incident.currency)
            return pricing.amounts[incident.currency]
        # staff_time: the level's hourly rate in the incident's currency
        rate = staff_rates.get(self.level or "", {}).get(incident.currency)
        if rate is None:
            raise NotPriceable(self.id, incident.currency, self.level)
        return rate * pricing.minutes / 60


@dataclass(frozen=True)
class Catalog:
    """A validated catalog version."""

    version: int
    items: tuple[CatalogItem, ...]
    staff_rates: dict[str, dict[str, Decimal]]
    document: dict[str, Any]
    vocabulary: Vocabulary = field(default_factory=lambda: derived_vocabulary(()))
    touchpoints: Vocabulary = field(default_factory=lambda: default_touchpoints())

    def item(self, item_id: str) -> CatalogItem:
        """Return the item with `item_id` (KeyError if absent)."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


def _pricing(data: dict[str, Any]) -> Pricing:
    """Build a Pricing from validated data."""
    return Pricing(
        basis=data["basis"],
        factor=data.get("factor"),
        amounts=dict(data.get("amounts", {})),
        minutes=data.get("minutes"),
    )


def load_catalog(document: dict[str, Any]) -> Catalog:
    """Validate a catalog document; a bad one raises DataFileError naming item and field."""
    if not isinstance(document, dict):
        raise DataFileError("catalog: the document must be a mapping")
    try:
        top = CatalogSchema().load(document)
    except ValidationError as error:
        raise DataFileError(describe(error, "catalog")) from None
    for level, rates in top["staff_rates"].items():
        try:
            _check_currencies(rates)
        except ValidationError as error:
            raise DataFileError(f"catalog: staff_rates.{level}: {error.messages[0]}") from None
    items: list[CatalogItem] = []
    for _name, data in load_entries(top["items"], ItemSchema(), "catalog item"):
        items.append(
            CatalogItem(
                id=data["id"],
                kind=Kind(data["kind"]),
                level=data.get("level"),
                audience=data["audience"],
                labels=data["labels"],
                value=_pricing(data["value"]),
                cost=_pricing(data["cost"]),
                requires_approval=data["requires_approval"],
                enabled_by_default=data["enabled_by_default"],
                categories=None if data["categories"] is None else frozenset(data["categories"]),
                channels=None if data["channels"] is None else frozenset(data["channels"]),
                min_value=data["min_value"],
            )
        )
    named = {category for item in items for category in item.categories or ()}
    if top["categories"] is None:
        vocabulary = derived_vocabulary(named)
    else:
        vocabulary = load_vocabulary(top["categories"])
        outside = sorted(named - set(vocabulary.names))
        if outside:
            where = [
                f"catalog item {item.id!r}: categories: {category!r} is not a category of the "
                f"catalog's vocabulary (known: {', '.join(vocabulary.names)})"
                for item in items
                for category in sorted(item.categories or ())
                if category in outside
            ]
            raise DataFileError("; ".join(where), {"categories": where})
    touchpoints = (
        default_touchpoints()
        if top["touchpoints"] is None
        else load_touchpoints(top["touchpoints"])
    )
    return Catalog(
        version=top["version"],
        items=tuple(items),
        staff_rates=top["staff_rates"],
        document=document,
        vocabulary=vocabulary,
        touchpoints=touchpoints,
    )
