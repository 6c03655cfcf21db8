"""What one fact code says to each reader: the `Words` of an entry and the helpers that write
the tables (words_plans.py, words_notes.py, words_points.py; assembled in words.py).

Kept apart from the tables so each table module can build its entries without importing the
others. `plural(...)` is also a keyword of Babel's extractor (babel.cfg: `plural:1,2`): a table
calls it by that name so both of an entry's ids are extracted.
"""

from __future__ import annotations

from dataclasses import dataclass

_SAME = "\x00same"  # finance reads the agent's words


@dataclass(frozen=True, slots=True)
class Words:
    """What one fact code says to an agent (and a lead) and to finance (and an admin)."""

    agent: str | None  # None: agents do not see the fact
    finance: str | None = _SAME  # None: finance does not see it (it reads a fuller fact)
    plural: str | None = None  # the plural id, when the entry counts `n`

    def msgid(self, finance: bool) -> str | None:
        """The message id for a reader (None: this reader does not see the fact)."""
        if finance:
            return self.agent if self.finance == _SAME else self.finance
        return self.agent


def same(msgid: str) -> Words:
    """One message for every reader."""
    return Words(msgid)


def finance_only(msgid: str) -> Words:
    """A message only finance reads."""
    return Words(None, msgid)


def plural(singular: str, plural_id: str) -> Words:
    """One message for every reader whose form depends on its count `n`."""
    return Words(singular, plural=plural_id)
