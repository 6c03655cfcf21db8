"""Ledger entries: the append-only record every balance is derived from.

Each entry belongs to one reservation and moves money between two buckets of it:

    kind      amount_minor       reserved   committed   when
    reserve   >= 0               + amount               a plan is accepted (or approved)
    adjust    signed             + amount               finance approves a higher actual cost
    commit    >= 0               - amount   + amount    the plan is fulfilled
    release   >= 0               - amount               cancel, expiry, or fulfilled for less

`fix_minor` is the part of the amount on the pool's fix line (same sign, never more than the
amount); the rest is on the overdelivery line. A pool of one line counts both together, but
the parts are kept all the same, so reports can say what went to fixes and what to gifts.

`contacts` is the change to the personal contacts the reservation holds (+1 on reserve of a plan
with a personal contact, -1 when it is released unused). A pool's, a customer's or a day's
balance is the sum of these effects over its entries, and each entry names the pool and caps
versions whose limits it was checked against, so the counters the service keeps to
serialise writers can always be recomputed and checked (`remedy ledger verify`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

KINDS = ("reserve", "adjust", "commit", "release")
# kind -> (sign on reserved, sign on committed)
EFFECTS: dict[str, tuple[int, int]] = {
    "reserve": (1, 0),
    "adjust": (1, 0),
    "commit": (-1, 1),
    "release": (-1, 0),
}
# A reservation is open until it ends committed, released (cancel, reject) or expired.
RESERVATION_STATES = ("open", "committed", "released", "expired")


def effect(kind: str, amount_minor: int) -> tuple[int, int]:
    """Return the change an entry of `kind` makes to (reserved, committed)."""
    reserved_sign, committed_sign = EFFECTS[kind]
    return reserved_sign * amount_minor, committed_sign * amount_minor


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry as stored."""

    id: int
    at: datetime
    kind: str
    amount_minor: int
    contacts: int
    currency: str
    pool_team: str
    period_key: str
    customer_id: str
    decision_id: str
    reservation_id: str
    contact_level: str | None
    pool_version: int
    caps_version: int
    fix_minor: int = 0

    def effect(self) -> tuple[int, int]:
        """Return the change to (reserved, committed) in minor units."""
        return effect(self.kind, self.amount_minor)

    def fix_effect(self) -> tuple[int, int]:
        """Return the change to the fix line's (reserved, committed) in minor units."""
        return effect(self.kind, self.fix_minor)
