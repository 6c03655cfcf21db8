"""What a decision says, as data: a code and typed parameters, never a sentence.

The pipeline, the ledger and the services record *facts* (why a plan was dropped, what a note
says, which limit blocked the rest, what the agent should say to the customer); the presenter
(`remedy.presenting`) renders them once, at the edge, in the reader's language. So the same
stored decision reads in German for the agent and in Japanese for the customer, today and in a
year, and a report can count reasons by code instead of by translated text.

Parameters are typed so that the presenter knows how to say them: `Money` in the reader's
locale, `Item` by the catalog item's label, `Level` and `KindName` by their names, `Seconds` as
a duration, `Share` as a percentage, `Number` with the locale's separators, a nested `Fact`,
and `Many` for a list said as one. Plain `str`, `int` and `bool` are said as they are (ids,
counts). Everything round-trips through JSON (`to_json`/`from_json`) exactly: amounts stay
decimal strings.

Who may read a fact is data too: `FINANCE_ONLY` codes carry internal numbers (the pacing
price, P(stay), referral estimates, exploration probabilities) that stay out of what an agent
reads (issue 20: plain words for agents, numbers for finance).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Union

__all__ = [
    "FINANCE_ONLY",
    "Fact",
    "Item",
    "KindName",
    "Level",
    "Many",
    "Money",
    "Number",
    "Param",
    "Seconds",
    "Share",
    "Text",
    "fact",
]


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of a currency."""

    amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Item:
    """A catalog item, said by its label."""

    item_id: str


@dataclass(frozen=True, slots=True)
class Level:
    """A personal-contact level (agent, manager, executive, leader), said by its name."""

    level: str


@dataclass(frozen=True, slots=True)
class KindName:
    """A kind of remedy (refund, gift, ...), said by its name."""

    kind: str


@dataclass(frozen=True, slots=True)
class Seconds:
    """A duration, said in words ('1 hour')."""

    seconds: int


@dataclass(frozen=True, slots=True)
class Share:
    """A share between 0 and 1, said as a percentage."""

    share: Decimal


@dataclass(frozen=True, slots=True)
class Number:
    """A decimal said with the locale's separators, keeping its digits."""

    value: Decimal


@dataclass(frozen=True, slots=True)
class Many:
    """Several parameters said as one, joined by `sep` (', ' or '; ')."""

    values: tuple[Param, ...]
    sep: str = ", "


@dataclass(frozen=True, slots=True)
class Text:
    """Text recorded before decisions were data (record versions 1-4): said as it was."""

    text: str


Param = Union[str, int, bool, Money, Item, Level, KindName, Seconds, Share, Number, Many, "Fact"]


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing a decision says: a code (a key of the presenter's table) and its parameters."""

    code: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def __hash__(self) -> int:
        """Hash by code and the parameters' names and values (facts are compared and grouped)."""
        return hash((self.code, tuple(sorted(self.params.items()))))

    def to_json(self) -> dict[str, Any]:
        """The stored form: {"code": ..., "params": {...}} (params omitted when empty)."""
        if not self.params:
            return {"code": self.code}
        return {"code": self.code, "params": {k: _param_json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Any) -> Fact:
        """Read the stored form; a plain string (record versions 1-4) reads as `Text`."""
        if isinstance(data, str):
            return cls("text", {"text": data})
        params = data.get("params") or {}
        return cls(data["code"], {k: _param_of(v) for k, v in params.items()})

    def param(self, name: str) -> Param | None:
        """A parameter by name (None if absent)."""
        return self.params.get(name)


def fact(code: str, **params: Param) -> Fact:
    """Build a fact: `fact("over_cap", cap=Money(...), binding="absolute")`."""
    return Fact(code, params)


# Codes whose parameters are internal numbers: finance and admins read them, agents do not.
FINANCE_ONLY = frozenset(
    {
        "net_value",
        "pacing_counted",
        "pacing_price_one",
        "pacing_priced",
        "pacing_changed_top",
        "pacing_kept_top",
        "exploring",
        "cap_binding",
    }
)


def _param_json(value: Param) -> Any:
    """One parameter's stored form: plain JSON for str/int/bool, a one-key object otherwise."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Money):
        return {"money": [str(value.amount), value.currency]}
    if isinstance(value, Item):
        return {"item": value.item_id}
    if isinstance(value, Level):
        return {"level": value.level}
    if isinstance(value, KindName):
        return {"kind": value.kind}
    if isinstance(value, Seconds):
        return {"seconds": value.seconds}
    if isinstance(value, Share):
        return {"share": str(value.share)}
    if isinstance(value, Number):
        return {"number": str(value.value)}
    if isinstance(value, Many):
        return {"many": [_param_json(v) for v in value.values], "sep": value.sep}
    if isinstance(value, Fact):
        return {"fact": value.to_json()}
    raise TypeError(f"not a fact parameter: {value!r}")


def _param_of(data: Any) -> Param:
    """Read one parameter's stored form."""
    if isinstance(data, bool | int | str):
        return data
    if "money" in data:
        amount, currency = data["money"]
        return Money(Decimal(amount), currency)
    if "item" in data:
        return Item(data["item"])
    if "level" in data:
        return Level(data["level"])
    if "kind" in data:
        return KindName(data["kind"])
    if "seconds" in data:
        return Seconds(int(data["seconds"]))
    if "share" in data:
        return Share(Decimal(data["share"]))
    if "number" in data:
        return Number(Decimal(data["number"]))
    if "many" in data:
        return Many(tuple(_param_of(v) for v in data["many"]), data.get("sep", ", "))
    if "fact" in data:
        return Fact.from_json(data["fact"])
    raise ValueError(f"not a stored fact parameter: {data!r}")


def dump_facts(facts: list[Fact]) -> str:
    """Facts as JSON text, for a text column that keeps a reason as data (a mass incident's
    refused customer or chunk); `load_facts` reads it back."""
    return json.dumps([f.to_json() for f in facts], separators=(",", ":"), sort_keys=True)


def load_facts(text: str | None) -> list[Fact] | None:
    """Read `dump_facts`'s text; None when the text is not facts (a person's own words)."""
    if not text or not text.startswith("["):
        return None
    try:
        data = json.loads(text)
        return [Fact.from_json(item) for item in data]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
