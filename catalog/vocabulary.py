"""The closed vocabulary of incident categories: the canonical names and their synonyms.

A category decides which remedies fit (an item's `categories`), which rules fire and how the
reports group incidents, so a free-text category ("shipping" beside "delivery") silently
changes the offer and splits the reports. The catalog document names its categories, each with
the words agents may also send for it:

    categories:
      delivery: [shipping, shipment, parcel]
      other: []

Every incident's category is normalised to its canonical name before the rules see it (case
and `-` or spaces are ignored: "Late-Delivery" reads as late_delivery); a word that is neither a
name nor a synonym is refused, naming the known ones. A catalog document written before the
vocabulary (no `categories`) gets the bundled default catalog's vocabulary plus every category
its items name, so the categories it was built for keep working and nothing else is taken.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from catalog.validation import DataFileError

# The category an incident without one gets (the API's default): every vocabulary has it.
DEFAULT_CATEGORY = "other"
NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")
_SEPARATORS = re.compile(r"[-\s]+")


class UnknownTerm(ValueError):
    """A word that is neither a canonical name nor a synonym of a vocabulary."""

    noun = "term"

    def __init__(self, word: str, known: Iterable[str]) -> None:
        """Keep the word and the canonical names, to say both."""
        self.word = word
        self.known = tuple(known)
        super().__init__(f"unknown {self.noun} {word!r}; known: {', '.join(self.known)}")

    @property
    def category(self) -> str:
        """The refused word (the name callers of the category vocabulary know it by)."""
        return self.word


class UnknownCategory(UnknownTerm):
    """A category that is neither a canonical name nor a synonym of the vocabulary."""

    noun = "category"


class UnknownTouchpoint(UnknownTerm):
    """A touchpoint that is neither a canonical name nor a synonym of the vocabulary."""

    noun = "touchpoint"


def spelled(word: str) -> str:
    """The form a category is compared in: lower case, `-` and spaces as `_`."""
    return _SEPARATORS.sub("_", word.strip().lower())


@dataclass(frozen=True)
class Vocabulary:
    """The canonical categories (sorted) and each synonym's canonical name."""

    names: tuple[str, ...]
    synonyms: dict[str, str] = field(default_factory=dict)
    declared: bool = True  # False: derived for a document written before vocabularies
    # What an unknown word is refused with (categories or touchpoints).
    unknown: type[UnknownTerm] = UnknownCategory

    def canonical(self, category: str) -> str:
        """Return the canonical name of `category` (a name or a synonym); raise the
        vocabulary's UnknownTerm (UnknownCategory for categories)."""
        word = spelled(category)
        if word in self.synonyms:
            return self.synonyms[word]
        if word in self.names:
            return word
        raise self.unknown(category, self.names)

    def canonical_or_same(self, category: str) -> str:
        """Return the canonical name, or `category` unchanged when it is unknown (replays of
        incidents logged before the vocabulary: decided as they were)."""
        try:
            return self.canonical(category)
        except UnknownCategory:
            return category

    def as_document(self) -> dict[str, list[str]]:
        """The vocabulary as the catalog document writes it."""
        by_name: dict[str, list[str]] = {name: [] for name in self.names}
        for synonym, name in sorted(self.synonyms.items()):
            by_name[name].append(synonym)
        return by_name


def load_vocabulary(
    raw: Any,
    field: str = "categories",
    noun: str = "category",
    required: str | None = DEFAULT_CATEGORY,
    unknown: type[UnknownTerm] = UnknownCategory,
) -> Vocabulary:
    """Validate a document's `categories` (or another closed vocabulary of the same shape,
    under `field`: the touchpoints); raise DataFileError naming each bad entry."""
    if not isinstance(raw, dict) or not raw:
        message = f"a mapping of {noun} names to lists of synonyms is required"
        raise DataFileError(f"catalog: {field}: {message}", {field: [message]})
    errors: dict[str, list[str]] = {}
    synonyms: dict[str, str] = {}
    for name, words in raw.items():
        path = f"{field}.{name}"
        if not isinstance(name, str) or not NAME.match(name):
            errors.setdefault(path, []).append(
                f"a {noun} name is a lower-case slug (a-z, 0-9 and _)"
            )
            continue
        if words is None:
            words = []
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            errors.setdefault(path, []).append("synonyms must be a list of words")
            continue
        for word in words:
            synonym = spelled(word)
            if not NAME.match(synonym):
                errors.setdefault(path, []).append(f"synonym {word!r} is not a slug")
            elif synonym in raw:
                errors.setdefault(path, []).append(f"synonym {word!r} is itself a {noun}")
            elif synonym in synonyms and synonyms[synonym] != name:
                errors.setdefault(path, []).append(
                    f"synonym {word!r} is already a synonym of {synonyms[synonym]!r}"
                )
            else:
                synonyms[synonym] = name
    if required is not None and required not in raw:
        errors.setdefault(field, []).append(
            f"{required!r} is required: the {noun} of an incident that gives none"
        )
    if errors:
        lines = "; ".join(f"{path}: {m}" for path, texts in errors.items() for m in texts)
        raise DataFileError(f"catalog: {lines}", errors)
    return Vocabulary(tuple(sorted(raw)), synonyms, unknown=unknown)


def load_touchpoints(raw: Any) -> Vocabulary:
    """Validate a document's `touchpoints`: where a failure happened (the sign-in page, the
    billing run, the courier), the honesty audit's unit. The same shape as `categories`; none
    is required, since an incident need not say where it happened."""
    return load_vocabulary(raw, "touchpoints", "touchpoint", None, UnknownTouchpoint)


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """The bundled default catalog's vocabulary (read once)."""
    import catalog as bundled  # the package's reader; imported here, not at module import

    return load_vocabulary(bundled.read_default("catalog")["categories"])


@lru_cache(maxsize=1)
def default_touchpoints() -> Vocabulary:
    """The bundled default catalog's touchpoints (read once): what a catalog document without
    `touchpoints` (every one written before them) knows."""
    import catalog as bundled

    return load_touchpoints(bundled.read_default("catalog")["touchpoints"])


def derived_vocabulary(item_categories: Iterable[str]) -> Vocabulary:
    """The vocabulary of a document without one: the default's plus every category its items
    name (those items' categories were accepted before; they stay names, never synonyms)."""
    default = default_vocabulary()
    names = set(default.names).union(item_categories)
    synonyms = {word: name for word, name in default.synonyms.items() if word not in names}
    return Vocabulary(tuple(sorted(names)), synonyms, declared=False)
