"""Say facts in one reader's language: the one place where a decision becomes words.

A `Presenter` is made per reader at the edge (an API answer, a console page, the CLI, a
report): the reader's locale picks the gettext catalog and the money format, `finance` picks
what internal numbers the reader sees (`words.WORDS`), and `labels` say catalog items by the
labels the decision priced them with. Facts of record versions 1-4 were sentences already; they
read as `text` facts and are said as they were written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from remedy.facts import (
    Fact,
    Item,
    KindName,
    Level,
    Many,
    Money,
    Number,
    Param,
    Seconds,
    Share,
)
from remedy.i18n import Messages, messages_for
from remedy.presenting.words import KIND_NAMES, LEVEL_NAMES, WORDS

# An item's labels by language; "en" is the message id translated for other languages.
Labels = Mapping[str, Mapping[str, str]]


class Presenter:
    """Say facts, names and amounts for one reader."""

    def __init__(self, locale: str, *, finance: bool = False, labels: Labels | None = None):
        """Speak `locale`'s language; `finance`: show internal numbers; `labels`: item labels."""
        self.m: Messages = messages_for(locale)
        self.finance = finance
        self.labels: Labels = labels or {}
        self._said_labels: dict[str, str] = {}  # an item is said in several plans

    @property
    def language(self) -> str:
        """The language spoken ('en' when the locale's has no catalog)."""
        return self.m.language

    @property
    def fallback(self) -> bool:
        """Whether the reader's language has no catalog, so English is spoken."""
        return self.m.fallback

    def say(self, fact: Fact) -> str | None:
        """Say one fact; None when this reader does not read it (finance's numbers)."""
        if fact.code == "text":  # recorded as words (record versions 1-4)
            return str(fact.params.get("text", ""))
        words = WORDS.get(fact.code)
        if words is None:  # a code of a newer release: say it as data rather than fail
            return fact.code
        msgid = words.msgid(self.finance)
        if msgid is None:
            return None
        params = {name: self.param(value) for name, value in fact.params.items()}
        if words.plural is not None:
            n = int(fact.params.get("n", 0))  # type: ignore[call-overload]
            params.pop("n", None)
            return self.m.plural(msgid, words.plural, n, **params)
        return self.m(msgid, **params) if params else self.m(msgid)

    def say_all(self, facts: Iterable[Fact]) -> list[str]:
        """Say every fact this reader reads, in order."""
        said = (self.say(f) for f in facts)
        return [s for s in said if s is not None]

    def param(self, value: Param) -> str:
        """Say one parameter of a fact."""
        if isinstance(value, str):
            return value
        if isinstance(value, bool | int):
            return str(value)
        if isinstance(value, Money):
            return self.m.money(value.amount, value.currency)
        if isinstance(value, Item):
            return self.label(value.item_id)
        if isinstance(value, Level):
            return self.level(value.level)
        if isinstance(value, KindName):
            name = KIND_NAMES.get(value.kind)
            return self.m(name) if name else value.kind
        if isinstance(value, Seconds):
            return self.m.duration(value.seconds)
        if isinstance(value, Share):
            return self.m.percent(value.share)
        if isinstance(value, Number):
            return self.m.number(value.value)
        if isinstance(value, Many):
            return value.sep.join(self.param(v) for v in value.values)
        if isinstance(value, Fact):
            return self.say(value) or ""
        return str(value)

    def label(self, item_id: str) -> str:
        """An item's label: its own label in this language, else the English one translated."""
        said = self._said_labels.get(item_id)
        if said is None:
            said = self._said_labels[item_id] = self._label(item_id)
        return said

    def _label(self, item_id: str) -> str:
        """Say an item's label (uncached)."""
        labels = self.labels.get(item_id)
        if not labels:
            return item_id
        own = labels.get(self.m.language)  # 'pt-BR'; else one for the whole language ('pt')
        if not own and not self.m.fallback:
            own = labels.get(self.m.requested)
        if own:
            return own
        english = labels.get("en")
        if english is None:  # record versions 1-4 kept one label, in the customer's language
            return next(iter(labels.values()))
        return self.m(english)

    def level(self, level: str) -> str:
        """Name a contact level ('manager'); an unknown level is said as it is."""
        name = LEVEL_NAMES.get(level)
        return self.m(name) if name else level
