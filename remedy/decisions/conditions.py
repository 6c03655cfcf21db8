"""Rule conditions, checked for cost before they are accepted, so no rule can stall or break
every recommendation.

rule-engine folds constant parts of an expression while it parses (`1 << 99999999` is computed
then: minutes of CPU), and evaluates the rest per incident (`loss_amount ** 99999999` overflows
for every loss above 1). A condition is therefore accepted only when

1. its text, checked before rule-engine sees it, holds nothing but the small language business
   rules need: names (rule-engine refuses any that is not a symbol), string literals, plain
   numbers of at most 15 digits before the dot and 12 after, comparisons, `+ - * / // %`,
   `**`, brackets, `? :` and the attributes `length`, `as_lower`, `as_upper`; no bitwise or
   shift operators, functions (`$range`), comprehensions, `inf`/`nan`, date or byte literals,
   or regular expressions (a pattern can take exponential time even on a short field); and at
   most MAX_TOKENS tokens and MAX_DEPTH levels of brackets, so parsing itself stays small;
2. its parsed tree has at most MAX_NODES nodes and MAX_DEPTH levels, and every `**` has a
   literal whole exponent from 0 to MAX_POWER and no `**` in its base, so no value grows past
   what Decimal holds;
3. it evaluates without error on PROBES, incidents at the edges of what the API accepts
   (customer value 0, the largest loss, ...): a division by a field that can be zero is
   refused here, not answered with a 500 for every such incident.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import rule_engine
from rule_engine.ast import (
    ArithmeticComparisonExpression,
    ComparisonExpression,
    ExpressionBase,
    FloatExpression,
    SymbolExpression,
)

MAX_TOKENS = 200
MAX_NODES = 200
MAX_DEPTH = 24
MAX_POWER = 4
# rule-engine's other reserved words: comprehensions, `inf` and `nan`. Any other name is a symbol,
# which rule-engine itself refuses unless it is one of the incident's.
UNSUPPORTED_WORDS = frozenset({"for", "if", "inf", "nan"})
ATTRIBUTES = frozenset({"length", "as_lower", "as_upper"})

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\\n]|\\.){0,500}"|'(?:[^'\\\n]|\\.){0,500}')
  | (?P<number>[0-9]{1,15}(?:\.[0-9]{1,12})?)(?![0-9A-Za-z_.])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]{0,63})
  | (?P<shift><<|>>)
  | (?P<operator>==|!=|<=|>=|\*\*|//|[-+*/%<>()\[\],.?:])
    """,
    re.VERBOSE,
)


class ConditionTooCostly(ValueError):
    """A condition outside the accepted language or bounds; the message says what."""


def check_text(text: str) -> None:
    """Refuse text outside the accepted language (step 1), before rule-engine parses it."""
    position, previous, tokens, depth = 0, "", 0, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            snippet = text[position : position + 12]
            raise ConditionTooCostly(f"unsupported syntax at {position}: {snippet!r}")
        kind, lexeme = match.lastgroup, match.group()
        if kind == "shift":
            raise ConditionTooCostly(f"unsupported operator {lexeme!r} at {position}")
        if kind == "name" and previous == "." and lexeme not in ATTRIBUTES:
            raise ConditionTooCostly(f"unsupported attribute {lexeme!r}")
        prefix = text[match.end() : match.end() + 1] in ("'", '"')  # d"...", t"...", b"..."
        if kind == "name" and previous != "." and (lexeme in UNSUPPORTED_WORDS or prefix):
            raise ConditionTooCostly(f"unsupported word or literal {lexeme!r} at {position}")
        if kind != "space":
            previous, tokens = lexeme, tokens + 1
            depth += 1 if lexeme in ("(", "[") else -1 if lexeme in (")", "]") else 0
            if tokens > MAX_TOKENS:
                raise ConditionTooCostly(f"more than {MAX_TOKENS} tokens")
            if depth > MAX_DEPTH:
                raise ConditionTooCostly(f"brackets nested deeper than {MAX_DEPTH} levels")
        position = match.end()


def check_tree(expression: ExpressionBase) -> None:
    """Refuse a parsed condition that is too large or raises a value too far (step 2)."""
    for nodes, (node, depth) in enumerate(_walk(expression, 1), start=1):
        if nodes > MAX_NODES:
            raise ConditionTooCostly(f"more than {MAX_NODES} terms")
        if depth > MAX_DEPTH:
            raise ConditionTooCostly(f"nested deeper than {MAX_DEPTH} levels")
        if getattr(node, "type", None) == "pow":
            exponent = node.right
            if not (
                isinstance(exponent, FloatExpression)
                and exponent.value == exponent.value.to_integral_value()
                and 0 <= exponent.value <= MAX_POWER
            ):
                raise ConditionTooCostly(
                    f"'**' needs a literal whole exponent from 0 to {MAX_POWER}"
                )
            if any(getattr(inner, "type", None) == "pow" for inner, _ in _walk(node.left, 1)):
                raise ConditionTooCostly("'**' may not be nested in the base of another '**'")


def check_probes(rule: rule_engine.Rule, probes: list[dict[str, Any]]) -> None:
    """Refuse a condition that fails on an incident the API accepts (step 3)."""
    for probe in probes:
        try:
            rule.matches(probe)
        except (rule_engine.errors.EngineError, ArithmeticError) as error:
            message = getattr(error, "message", None) or str(error) or type(error).__name__
            shown = ", ".join(f"{k}={v}" for k, v in probe.items() if k in _SHOWN)
            raise ConditionTooCostly(f"fails for an incident with {shown}: {message}") from None


def symbols(expression: ExpressionBase) -> set[str]:
    """Return the names of the context symbols a parsed condition reads.

    Walks every attribute, slotted ones too (`ContainsExpression` keeps its operands in
    `__slots__`, which `vars` does not show).
    """
    found: set[str] = set()
    pending: list[Any] = [expression]
    while pending:
        node = pending.pop()
        if isinstance(node, SymbolExpression):
            found.add(node.name)
        names = set(getattr(node, "__dict__", {}))
        for cls in type(node).__mro__:
            slots = cls.__dict__.get("__slots__", ())
            names.update((slots,) if isinstance(slots, str) else slots)
        for name in names:
            value = getattr(node, name, None)
            for child in value if isinstance(value, list | tuple) else (value,):
                if isinstance(child, ExpressionBase):
                    pending.append(child)
    return found


def _children(node: Any) -> Iterator[ExpressionBase]:
    """Yield a node's child expressions (slotted attributes too, as `symbols` reads them)."""
    names = set(getattr(node, "__dict__", {}))
    for cls in type(node).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names.update((slots,) if isinstance(slots, str) else slots)
    for name in names:
        value = getattr(node, name, None)
        for child in value if isinstance(value, list | tuple) else (value,):
            if isinstance(child, ExpressionBase):
                yield child


def thresholds(expression: ExpressionBase, names: set[str]) -> dict[str, tuple[Any, ...]] | None:
    """Return, per symbol of `names`, the literals a condition compares it with, when each of
    its uses is a comparison with a number literal (`customer_value >= 5000`); else None.

    The condition's answer then depends on those symbols only through which side of each
    literal their values fall, so `Rule.fires` can remember it per those sides: a what-if's
    thousands of incidents with different amounts but the same few sides walk it once each.
    """
    found: dict[str, set[Any]] = {name: set() for name in names}
    compared: set[int] = set()
    uses = 0
    pending: list[Any] = [expression]
    while pending:
        node = pending.pop()
        if isinstance(node, SymbolExpression) and node.name in names:
            uses += 1
        if isinstance(node, ComparisonExpression | ArithmeticComparisonExpression):
            for symbol, other in ((node.left, node.right), (node.right, node.left)):
                if (
                    isinstance(symbol, SymbolExpression)
                    and symbol.name in names
                    and isinstance(other, FloatExpression)
                ):
                    found[symbol.name].add(other.value)
                    compared.add(id(symbol))
        pending.extend(_children(node))
    if uses != len(compared):  # some use is not a comparison with a literal
        return None
    return {name: tuple(sorted(values)) for name, values in found.items()}


def _walk(node: Any, depth: int) -> Iterator[tuple[ExpressionBase, int]]:
    """Yield every expression node under `node` with its depth."""
    yield node, depth
    for value in vars(node).values():
        children = value if isinstance(value, list | tuple) else (value,)
        for child in children:
            if isinstance(child, ExpressionBase):
                yield from _walk(child, depth + 1)


_SHOWN = ("severity", "customer_value", "loss_amount", "churn_threat")


def _probes() -> list[dict[str, Any]]:
    """Incidents at the edges of what the API accepts, one low and one high per severity."""
    base = {
        "fault_type": "company",
        "currency": "EUR",
        "category": "other",
        "channel": "email",
        "locale": "en",
        "language": "en",
        "team": "default",
    }
    low = {
        "customer_value": Decimal(0),
        "loss_amount": Decimal("0.01"),
        "churn_threat": False,
        "public": False,
        "reach": 0,
        "prior_incidents": 0,
        "customer_status": "active",
        "no_loss": False,
    }
    high = {
        "customer_value": Decimal(10**9),
        "loss_amount": Decimal(10**7),
        "churn_threat": True,
        "public": True,
        "reach": 10**10,
        "prior_incidents": 1000,
        "customer_status": "left",
        "no_loss": True,
    }
    return [
        {**base, **edge, "severity": severity} for severity in range(1, 6) for edge in (low, high)
    ]


PROBES = _probes()
