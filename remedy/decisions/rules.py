"""Declarative rules: validated when loaded, evaluated per incident with rule-engine (no eval)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import rule_engine
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from catalog.validation import DataFileError, DecimalText, describe, load_entries
from remedy.decisions import conditions
from remedy.domain import CONTACT_LEVELS, Action, Incident, Kind, Part, contact_rank, part_of
from remedy.facts import Item, KindName, Level, Param, fact

EFFECTS = ("forbid", "allow", "require", "bound", "cap_modifier")

_T = rule_engine.DataType
SYMBOLS = {
    "severity": _T.FLOAT,
    "fault_type": _T.STRING,
    "customer_value": _T.FLOAT,
    "loss_amount": _T.FLOAT,
    "currency": _T.STRING,
    "category": _T.STRING,
    "channel": _T.STRING,
    "locale": _T.STRING,
    "language": _T.STRING,
    "churn_threat": _T.BOOLEAN,
    "team": _T.STRING,
    "public": _T.BOOLEAN,
    "reach": _T.FLOAT,
    "prior_incidents": _T.FLOAT,
    "customer_status": _T.STRING,
    "no_loss": _T.BOOLEAN,
}
_CONTEXT = rule_engine.Context(type_resolver=rule_engine.type_resolver_from_dict(SYMBOLS))
_KINDS = [k.value for k in Kind]


class SelectorSchema(Schema):
    """Which items an effect applies to."""

    items = fields.List(fields.String(), load_default=list)
    kinds = fields.List(fields.String(validate=validate.OneOf(_KINDS)), load_default=list)


class RequireSchema(Schema):
    """A requirement: one item, a kind at a minimum level, or the fix part of the plan.

    `{part: fix, covers_loss: true}` asks for a fix worth at least the loss: the customer is
    made whole (fixes worth less are then not offered).
    """

    item = fields.String()
    kind = fields.String(validate=validate.OneOf(_KINDS))
    part = fields.String(validate=validate.OneOf([str(Part.FIX)]))
    min_level = fields.String(validate=validate.OneOf(CONTACT_LEVELS))
    covers_loss = fields.Boolean(load_default=False)

    @validates_schema
    def one_target(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require exactly one of item, kind or part."""
        if sum(name in data for name in ("item", "kind", "part")) != 1:
            raise ValidationError("give exactly one of 'item', 'kind' or 'part'")
        if data.get("covers_loss") and "part" not in data:
            raise ValidationError("covers_loss goes with part: fix", "covers_loss")


class BoundSchema(SelectorSchema):
    """An upper bound on the face value of some items, as a multiple of the loss."""

    max_loss_multiple = DecimalText(required=True, validate=validate.Range(min=0))


class CapModifierSchema(Schema):
    """A factor applied to the per-incident cap."""

    factor = DecimalText(required=True, validate=validate.Range(min=0, max=10))


class RuleSchema(Schema):
    """One rule: id, description, condition and exactly one effect."""

    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9_.-]{1,79}$"))
    description = fields.String(required=True, validate=validate.Length(min=3, max=500))
    when = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    forbid = fields.Nested(SelectorSchema)
    allow = fields.Nested(SelectorSchema)
    require = fields.Nested(RequireSchema)
    bound = fields.Nested(BoundSchema)
    cap_modifier = fields.Nested(CapModifierSchema)

    @validates_schema
    def one_effect(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Require exactly one effect."""
        present = [e for e in EFFECTS if e in data]
        if len(present) != 1:
            raise ValidationError(f"give exactly one effect of {list(EFFECTS)}", "effect")


class RuleSetSchema(Schema):
    """The rules document."""

    version = fields.Integer(required=True, validate=validate.Range(min=1))
    rules = fields.List(fields.Raw(), required=True)


@dataclass(frozen=True)
class Requirement:
    """Something every plan must contain."""

    rule_id: str
    item: str | None = None
    kind: Kind | None = None
    min_level: str | None = None
    part: Part | None = None
    covers_loss: bool = False

    def met_by(self, actions: tuple[Action, ...]) -> bool:
        """Tell whether the actions satisfy this requirement."""
        if self.item:
            return any(a.item_id == self.item for a in actions)
        if self.part is not None:
            return any(part_of(a.kind) == self.part for a in actions)
        floor = contact_rank(self.min_level)
        return any(a.kind == self.kind and contact_rank(a.level) >= floor for a in actions)

    def said(self) -> Param:
        """What is required, as a fact parameter: the item (by its label), a fix, or a kind
        at a level."""
        if self.item:
            return Item(self.item)
        if self.part is not None:
            return fact("fix_req_whole") if self.covers_loss else fact("fix_req")
        kind = KindName(str(self.kind)) if self.kind else ""
        if self.min_level:
            return fact("kind_at_level", kind=kind, level=Level(self.min_level))
        return kind


# Rule-context symbols with few distinct values in practice (codes, flags, small counts), and
# how many combinations one rule remembers at most.
_DISCRETE = frozenset(
    {
        "severity",
        "fault_type",
        "currency",
        "category",
        "channel",
        "locale",
        "language",
        "churn_threat",
        "team",
        "public",
        "prior_incidents",
        "customer_status",
        "no_loss",
    }
)
_MEMO_SIZE = 4096


@dataclass(frozen=True)
class Rule:
    """A validated rule with its compiled condition."""

    id: str
    description: str
    when: str
    effect: str
    params: dict[str, Any]
    condition: rule_engine.Rule = field(compare=False, repr=False)
    # The symbols the condition reads, when all take few values (`_DISCRETE`): its answer is
    # then remembered per their values, so thousands of incidents (a what-if replay) with the
    # same few severities and fault types walk the condition once per combination.
    memo_keys: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    # Amounts the condition only compares with literals (`customer_value >= 5000`): remembered
    # by which side of each literal the value falls (conditions.thresholds), with memo_keys.
    memo_sides: tuple[tuple[str, tuple[Any, ...]], ...] = field(
        default=(), compare=False, repr=False
    )
    _memo: dict[tuple[Any, ...], bool] = field(default_factory=dict, compare=False, repr=False)

    def fires(self, context: dict[str, Any]) -> bool:
        """Tell whether the condition holds for an incident's rule context."""
        if self.memo_keys is None:
            return bool(self.condition.matches(context))
        key = tuple(context[name] for name in self.memo_keys)
        if self.memo_sides:
            key += tuple(
                (value > limit) - (value < limit)
                for name, limits in self.memo_sides
                for value in (context[name],)
                for limit in limits
            )
        fired = self._memo.get(key)
        if fired is None:
            fired = bool(self.condition.matches(context))
            if len(self._memo) < _MEMO_SIZE:
                self._memo[key] = fired
        return fired

    def selects(self, item_id: str, kind: Kind) -> bool:
        """Tell whether this rule's item selector covers an item."""
        return item_id in self.params.get("items", ()) or kind in self.params.get("kinds", ())


@dataclass
class RuleOutcome:
    """What the rules decided for one incident."""

    fired: list[str] = field(default_factory=list)
    forbidden: dict[str, str] = field(default_factory=dict)  # item id -> rule id
    allowed: dict[str, str] = field(default_factory=dict)  # item id -> rule id
    requirements: list[Requirement] = field(default_factory=list)
    bounds: list[tuple[Rule, Decimal]] = field(default_factory=list)
    cap_factor: Decimal = Decimal(1)
    cap_rules: list[str] = field(default_factory=list)

    @property
    def make_whole(self) -> str | None:
        """The rule that requires a fix worth the whole loss, if one fired."""
        return next((r.rule_id for r in self.requirements if r.covers_loss), None)


@dataclass(frozen=True)
class RuleSet:
    """A validated, versioned set of rules."""

    version: int
    rules: tuple[Rule, ...]
    document: dict[str, Any]

    def evaluate(self, incident: Incident, item_kinds: dict[str, Kind]) -> RuleOutcome:
        """Evaluate every rule against the incident; `item_kinds` maps catalog ids to kinds."""
        context = incident.rule_context()
        outcome = RuleOutcome()
        for rule in self.rules:
            if not rule.fires(context):
                continue
            outcome.fired.append(rule.id)
            if rule.effect in ("forbid", "allow"):
                target = outcome.forbidden if rule.effect == "forbid" else outcome.allowed
                for item_id, kind in item_kinds.items():
                    if rule.selects(item_id, kind):
                        target.setdefault(item_id, rule.id)
            elif rule.effect == "require":
                p = rule.params
                kind = Kind(p["kind"]) if "kind" in p else None
                part = Part(p["part"]) if "part" in p else None
                outcome.requirements.append(
                    Requirement(
                        rule.id, p.get("item"), kind, p.get("min_level"), part, p["covers_loss"]
                    )
                )
            elif rule.effect == "bound":
                outcome.bounds.append((rule, rule.params["max_loss_multiple"]))
            else:
                outcome.cap_factor *= rule.params["factor"]
                outcome.cap_rules.append(rule.id)
        return outcome


def _condition(text: str) -> rule_engine.Rule:
    """Compile a condition after checking that it cannot stall or fail (decisions/conditions)."""
    conditions.check_text(text)
    condition = rule_engine.Rule(text, context=_CONTEXT)
    conditions.check_tree(condition.statement.expression)
    conditions.check_probes(condition, conditions.PROBES)
    return condition


def load_rules(document: dict[str, Any], item_ids: set[str] | None = None) -> RuleSet:
    """Validate a rules document; a bad rule raises DataFileError naming the rule.

    When `item_ids` is given, rules that name items missing from the catalog are refused too.
    """
    if not isinstance(document, dict):
        raise DataFileError("rules: the document must be a mapping")
    try:
        top = RuleSetSchema().load(document)
    except ValidationError as error:
        raise DataFileError(describe(error, "rules")) from None
    rules: list[Rule] = []
    for name, data in load_entries(top["rules"], RuleSchema(), "rule"):
        try:
            condition = _condition(data["when"])
        except conditions.ConditionTooCostly as error:
            raise DataFileError(f"rule {name!r}: when: {error}") from None
        except rule_engine.errors.EngineError as error:
            message = getattr(error, "message", str(error))
            raise DataFileError(f"rule {name!r}: when: {type(error).__name__}: {message}") from None
        effect = next(e for e in EFFECTS if e in data)
        params = data[effect]
        named = set(params.get("items", ())) | ({params["item"]} if "item" in params else set())
        if item_ids is not None and named - item_ids:
            unknown = ", ".join(sorted(named - item_ids))
            raise DataFileError(f"rule {name!r}: {effect}: unknown catalog item(s) {unknown}")
        expression = condition.statement.expression
        symbols = conditions.symbols(expression)
        sides = conditions.thresholds(expression, symbols - _DISCRETE)
        memo_keys = tuple(sorted(symbols & _DISCRETE)) if sides is not None else None
        rules.append(
            Rule(
                data["id"],
                data["description"],
                data["when"],
                effect,
                params,
                condition,
                memo_keys,
                tuple(sorted((sides or {}).items())),
            )
        )
    return RuleSet(version=top["version"], rules=tuple(rules), document=document)
