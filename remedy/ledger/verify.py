"""Recompute every balance from the ledger entries and check the invariants.

`verify` replays the entries in id order (the order the locks serialised them in) and checks:

- every entry belongs to a known reservation and agrees with it (pool, customer, currency);
- no reservation's reserved or committed amount ever goes below zero, and each ends in a state
  its amounts agree with (open; committed with nothing left reserved; released or expired with
  nothing held) and equal to what its row says;
- every entry's fix part lies between zero and its amount, and no reservation's fix part
  exceeds what it holds;
- no pool period (or, for a pool version split into a fix line and an overdelivery line, no
  line of it), customer window or day's contact capacity was ever past its limit after an
  entry that raised it, by the pool and caps versions the entry names (each in effect then);
- the counters the service keeps (per pool period, per customer, per contact level and day)
  equal the sums derived from the entries.

It returns failures as sentences; an empty list means the ledger verifies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from remedy.ledger.entries import KINDS, RESERVATION_STATES, Entry
from remedy.ledger.periods import day_key, period_kind
from remedy.ledger.settings import LimitSettings
from remedy.moments import as_utc


@dataclass(frozen=True, slots=True)
class ReservationRow:
    """A reservation as its row stores it."""

    id: str
    state: str
    currency: str
    pool_team: str
    period_key: str
    customer_id: str
    contact_level: str | None
    reserved_minor: int
    committed_minor: int
    fix_reserved_minor: int = 0
    fix_committed_minor: int = 0
    contact_team: str = ""  # whose day of contacts its personal contact counts in


@dataclass(frozen=True)
class PoolLimit:
    """One pool version's limit (and its fix line's, when finance split it)."""

    period: str
    limit_minor: int
    effective_at: datetime
    fix_limit_minor: int | None = None


@dataclass(frozen=True)
class CapsLimits:
    """One caps version's shared limits and when it took effect."""

    effective_at: datetime
    limits: LimitSettings


class LimitsAt(Protocol):
    """The versioned limits entries name."""

    def pool(self, team: str, currency: str, version: int) -> PoolLimit | None:
        """Return a pool version's limit, or None if there is no such version."""
        ...

    def caps(self, version: int) -> CapsLimits | None:
        """Return a caps version's shared limits, or None if there is no such version."""
        ...


@dataclass
class _Held:
    """A reservation's running balance during the replay."""

    start: datetime
    customer: tuple[str, str]
    reserved: int = 0
    committed: int = 0
    contacts: int = 0
    fix_reserved: int = 0
    fix_committed: int = 0


@dataclass
class Counters:
    """The service's counter rows, to compare with the replay."""

    # (reserved, committed, fix reserved, fix committed)
    pools: dict[tuple[str, str, str], tuple[int, int, int, int]] = field(default_factory=dict)
    customers: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    capacities: dict[tuple[str, str, str], int] = field(default_factory=dict)  # team, level, day


@dataclass
class Report:
    """What `verify` found."""

    entries: int = 0
    reservations: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether the ledger verifies."""
        return not self.failures


def verify(
    entries: Iterable[Entry],
    reservations: dict[str, ReservationRow],
    counters: Counters,
    limits: LimitsAt,
) -> Report:
    """Replay `entries` (in id order) and return every failed invariant."""
    report = Report(reservations=len(reservations))
    fail = report.failures.append
    held: dict[str, _Held] = {}
    pools: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    customers: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    capacities: dict[tuple[str, str, str], int] = defaultdict(int)
    by_customer: dict[tuple[str, str], list[_Held]] = defaultdict(list)
    for entry in entries:
        report.entries += 1
        row = reservations.get(entry.reservation_id)
        where = f"entry {entry.id} ({entry.kind}, reservation {entry.reservation_id})"
        if row is None:
            fail(f"{where}: no such reservation")
            continue
        if entry.kind not in KINDS:
            fail(f"{where}: unknown kind")
            continue
        if entry.kind != "adjust" and entry.amount_minor < 0:
            fail(f"{where}: negative amount {entry.amount_minor}")
        if not _fix_part_within(entry.fix_minor, entry.amount_minor):
            fail(f"{where}: fix part {entry.fix_minor} outside its amount {entry.amount_minor}")
        if (entry.pool_team, entry.period_key, entry.currency, entry.customer_id) != (
            row.pool_team,
            row.period_key,
            row.currency,
            row.customer_id,
        ):
            fail(f"{where}: pool, currency or customer differ from the reservation's")
        at = as_utc(entry.at)
        state = held.get(entry.reservation_id)
        if state is None:
            if entry.kind != "reserve":
                fail(f"{where}: the reservation's first entry is not a reserve")
            state = _Held(start=at, customer=(entry.customer_id, entry.currency))
            held[entry.reservation_id] = state
            by_customer[state.customer].append(state)
        d_reserved, d_committed = entry.effect()
        f_reserved, f_committed = entry.fix_effect()
        state.reserved += d_reserved
        state.committed += d_committed
        state.fix_reserved += f_reserved
        state.fix_committed += f_committed
        state.contacts += entry.contacts
        if state.reserved < 0 or state.committed < 0:
            fail(f"{where}: reserved {state.reserved} or committed {state.committed} below zero")
        if not (
            0 <= state.fix_reserved <= max(state.reserved, 0)
            and 0 <= state.fix_committed <= max(state.committed, 0)
        ):
            fail(
                f"{where}: fix part reserved {state.fix_reserved}, committed "
                f"{state.fix_committed} outside what it holds"
            )
        pool_key = (entry.pool_team, entry.currency, entry.period_key)
        pool = pools[pool_key]
        pool[0] += d_reserved
        pool[1] += d_committed
        pool[2] += f_reserved
        pool[3] += f_committed
        customer = customers[state.customer]
        customer[0] += d_reserved
        customer[1] += d_committed
        capacity_key = (row.contact_team, entry.contact_level or "", day_key(state.start))
        if entry.contact_level is not None:
            capacities[capacity_key] += entry.contacts
        fix_raise = f_reserved + f_committed
        if d_reserved + d_committed > 0 or fix_raise > 0:
            raised = (fix_raise > 0, d_reserved + d_committed - fix_raise > 0)
            _check_raise(entry, at, pool, raised, state, by_customer, limits, fail)
        caps = limits.caps(entry.caps_version)
        if caps is None or caps.effective_at > at:
            fail(f"{where}: names caps version {entry.caps_version}, not in effect then")
        elif entry.contacts > 0 and entry.contact_level is not None:
            allowed = caps.limits.capacity_for(entry.contact_level, row.contact_team)
            used = capacities[capacity_key]
            if allowed is not None and used > allowed:
                fail(
                    f"{where}: contact capacity {entry.contact_level} of team "
                    f"{row.contact_team!r} on {day_key(state.start)} at {used} of {allowed}"
                )
    for row in reservations.values():
        _check_reservation(row, held.get(row.id), fail)
    _compare(counters.pools, pools, "pool", fail, (0, 0, 0, 0))
    _compare(counters.customers, customers, "customer", fail, (0, 0))
    _compare(counters.capacities, capacities, "contact capacity", fail, 0)
    return report


def _fix_part_within(fix_minor: int, amount_minor: int) -> bool:
    """Tell whether an entry's fix part has its amount's sign and is no larger than it."""
    return 0 <= fix_minor <= amount_minor or amount_minor <= fix_minor <= 0


def _check_raise(
    entry: Entry,
    at: datetime,
    pool: list[int],
    raised: tuple[bool, bool],
    state: _Held,
    by_customer: dict[tuple[str, str], list[_Held]],
    limits: LimitsAt,
    fail: Callable[[str], None],
) -> None:
    """Check the pool (each line it `raised`: fix, overdelivery, when the version splits it)
    and the customer window after an entry that raised what is held."""
    where = f"entry {entry.id} ({entry.kind}, reservation {entry.reservation_id})"
    label = f"pool {entry.pool_team}/{entry.period_key} ({entry.currency})"
    limit = limits.pool(entry.pool_team, entry.currency, entry.pool_version)
    if limit is None or limit.effective_at > at:
        fail(f"{where}: names {label} version {entry.pool_version}, not in effect then")
    elif limit.period != period_kind(entry.period_key):
        fail(f"{where}: {label} version {entry.pool_version} is per {limit.period}")
    elif limit.fix_limit_minor is not None:
        fix_held = pool[2] + pool[3]
        lines = (
            ("fix", raised[0], fix_held, limit.fix_limit_minor),
            (
                "overdelivery",
                raised[1],
                pool[0] + pool[1] - fix_held,
                limit.limit_minor - limit.fix_limit_minor,
            ),
        )
        for name, up, held_minor, line_limit in lines:
            if up and held_minor > line_limit:
                fail(f"{where}: {name} line of {label} at {held_minor} of {line_limit}")
    elif pool[0] + pool[1] > limit.limit_minor:
        fail(f"{where}: {label} at {pool[0] + pool[1]} of {limit.limit_minor}")
    caps = limits.caps(entry.caps_version)
    window_limit = None if caps is None else caps.limits.window_limit_minor(entry.currency)
    if caps is None or window_limit is None:
        return
    since = at - timedelta(days=caps.limits.window_days)
    # Starts are in lock order, so almost but not exactly in time order: scan them all.
    used = sum(
        other.reserved + other.committed
        for other in by_customer[state.customer]
        if other.start > since
    )
    if used > window_limit:
        fail(
            f"{where}: customer {entry.customer_id} ({entry.currency}) at {used} of "
            f"{window_limit} in {caps.limits.window_days} days"
        )


def _check_reservation(
    row: ReservationRow, state: _Held | None, fail: Callable[[str], None]
) -> None:
    """Check that a reservation's row, state and replayed amounts agree."""
    where = f"reservation {row.id} ({row.state})"
    if row.state not in RESERVATION_STATES:
        fail(f"{where}: unknown state")
        return
    if state is None:
        fail(f"{where}: has no ledger entries")
        return
    if (row.reserved_minor, row.committed_minor) != (state.reserved, state.committed):
        fail(
            f"{where}: row says reserved {row.reserved_minor}, committed {row.committed_minor}; "
            f"the ledger says {state.reserved}, {state.committed}"
        )
    if (row.fix_reserved_minor, row.fix_committed_minor) != (
        state.fix_reserved,
        state.fix_committed,
    ):
        fail(
            f"{where}: row says fix reserved {row.fix_reserved_minor}, fix committed "
            f"{row.fix_committed_minor}; the ledger says {state.fix_reserved}, "
            f"{state.fix_committed}"
        )
    expected_contacts = 1 if row.contact_level else 0
    if row.state in ("released", "expired"):
        if state.reserved or state.committed or state.contacts:
            fail(f"{where}: still holds money or a contact")
    elif row.state == "committed":
        if state.reserved:
            fail(f"{where}: committed but {state.reserved} still reserved")
        if state.contacts != expected_contacts:
            fail(f"{where}: holds {state.contacts} contacts, expected {expected_contacts}")
    elif state.contacts != expected_contacts:
        fail(f"{where}: holds {state.contacts} contacts, expected {expected_contacts}")


def _compare(
    stored: dict[Any, Any],
    derived: dict[Any, Any],
    what: str,
    fail: Callable[[str], None],
    zero: Any,
) -> None:
    """Compare counter rows with the sums derived from the ledger (a missing row counts as
    `zero`)."""
    for key in sorted(set(stored) | set(derived)):
        value = derived.get(key, zero)
        value = tuple(value) if isinstance(zero, tuple) else value
        counter = stored.get(key, zero)
        if counter != value:
            fail(f"{what} {'/'.join(key)}: counter says {counter}, the ledger says {value}")
