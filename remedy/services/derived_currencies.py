"""Every currency with an exchange rate can be decided in: its amounts derived from the base's.

Finance prices the catalog and sets the caps in a handful of currencies. A customer paying in
Korean won or Brazilian reais is still a customer: when the exchange-rates document (finance's,
versioned, audited; its base is the US dollar, `per_usd`) has a rate for a currency that the
caps or the catalog do not name, each amount-by-currency of the documents (the caps' absolute
terms, approval tiers, fix ceiling, customer window, no-loss basis; the catalog's fixed prices,
minimum values and staff rates) gets that currency's amount converted from the base's, rounded
to the currency's minor unit (half up). An amount finance set stays as set: derivation only
fills gaps. A currency with neither amounts nor a rate stays unsupported (422), and pools are
never derived: money is spent from a pool in its own currency, which finance sets.
"""

from __future__ import annotations

import copy
from decimal import Decimal, InvalidOperation
from typing import Any

from remedy.money import ceiling, is_currency, quantize

BASE = "USD"  # the exchange-rates document gives units of each currency per US dollar


def derive_currencies(documents: dict[str, Any], per_usd: dict[str, Decimal]) -> dict[str, Any]:
    """Return copies of `documents` with each rated currency's missing amounts derived."""
    targets = {c: r for c, r in per_usd.items() if c != BASE and is_currency(c)}
    if not targets:
        return documents
    return {kind: _walk(copy.deepcopy(doc), targets) for kind, doc in documents.items()}


def _walk(node: Any, targets: dict[str, Decimal]) -> Any:
    """Fill every amounts-by-currency mapping under `node` (in place) and return it."""
    if isinstance(node, dict):
        if _is_amounts(node):
            _fill(node, targets)
        else:
            for value in node.values():
                _walk(value, targets)
    elif isinstance(node, list):
        for value in node:
            _walk(value, targets)
    return node


def _is_amounts(node: dict[Any, Any]) -> bool:
    """An amounts-by-currency mapping: every key an ISO 4217 code, the base among them."""
    return BASE in node and all(isinstance(k, str) and is_currency(k) for k in node)


def _fill(amounts: dict[str, Any], targets: dict[str, Decimal]) -> None:
    """Add each target currency's amount, converted from the base's, where it is missing."""
    try:
        base = Decimal(str(amounts[BASE]))
    except (InvalidOperation, ValueError):
        return  # not money: validation will say so
    if not base.is_finite():
        return
    for currency, rate in targets.items():
        if currency in amounts:
            continue
        converted = quantize(base * rate, currency)
        if converted < ceiling(currency):
            amounts[currency] = str(converted)
