"""Verification recomputes balances from the entries and names each broken invariant."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from remedy.ledger.entries import Entry
from remedy.ledger.settings import LimitSettings
from remedy.ledger.verify import CapsLimits, Counters, PoolLimit, ReservationRow, verify

T0 = datetime(2026, 11, 10, tzinfo=UTC)


class Limits:
    """Pool emea v1: 100.00 a month; caps v1: 50.00 per customer in 30 days, 1 manager a day."""

    def pool(self, team, currency, version):
        return PoolLimit("month", 10000, T0) if (team, version) == ("emea", 1) else None

    def caps(self, version):
        if version != 1:
            return None
        return CapsLimits(T0, LimitSettings(30, {"EUR": Decimal("50.00")}, {"manager": 1}))


def entry(id, kind, amount, reservation="r1", customer="c1", at=T0, contacts=0, level=None):
    return Entry(
        id, at + timedelta(minutes=id), kind, amount, contacts, "EUR", "emea", "2026-11",
        customer, "d-" + reservation, reservation, level, 1, 1,
    )  # fmt: skip


def row(id="r1", state="open", reserved=0, committed=0, customer="c1", level=None):
    return ReservationRow(id, state, "EUR", "emea", "2026-11", customer, level, reserved, committed)


def counters(reserved, committed, customers=None, capacities=None):
    return Counters(
        pools={("emea", "EUR", "2026-11"): (reserved, committed, 0, 0)},
        customers=customers or {("c1", "EUR"): (reserved, committed)},
        capacities=capacities or {},
    )


def test_a_consistent_ledger_verifies():
    entries = [entry(1, "reserve", 4000), entry(2, "commit", 3000), entry(3, "release", 1000)]
    report = verify(
        entries, {"r1": row(state="committed", committed=3000)}, counters(0, 3000), Limits()
    )
    assert report.ok, report.failures
    assert (report.entries, report.reservations) == (3, 1)


def test_counters_that_disagree_with_the_entries_fail():
    report = verify(
        [entry(1, "reserve", 4000)], {"r1": row(reserved=4000)}, counters(3000, 0), Limits()
    )
    assert report.failures == [
        "pool emea/EUR/2026-11: counter says (3000, 0, 0, 0), the ledger says (4000, 0, 0, 0)",
        "customer c1/EUR: counter says (3000, 0), the ledger says (4000, 0)",
    ]


def test_a_pool_past_its_limit_fails():
    entries = [entry(1, "reserve", 4000, "r1", "c1"), entry(2, "reserve", 7000, "r2", "c2")]
    rows = {"r1": row("r1", reserved=4000), "r2": row("r2", reserved=7000, customer="c2")}
    customers = {("c1", "EUR"): (4000, 0), ("c2", "EUR"): (7000, 0)}
    report = verify(entries, rows, counters(11000, 0, customers), Limits())
    assert any("pool emea/2026-11 (EUR) at 11000 of 10000" in f for f in report.failures)
    assert any("customer c2 (EUR) at 7000 of 5000 in 30 days" in f for f in report.failures)


def test_a_window_counts_only_the_last_days():
    old = T0 - timedelta(days=40)
    entries = [entry(1, "reserve", 4000, "r1", at=old), entry(2, "reserve", 4000, "r2")]
    rows = {"r1": row("r1", reserved=4000), "r2": row("r2", reserved=4000)}
    report = verify(entries, rows, counters(8000, 0), Limits())
    assert not any("customer" in f for f in report.failures)
    assert any("caps version 1, not in effect then" in f for f in report.failures)  # 40 days ago


def test_contact_capacity_and_held_contacts_are_checked():
    entries = [
        entry(1, "reserve", 100, "r1", "c1", contacts=1, level="manager"),
        entry(2, "reserve", 100, "r2", "c2", contacts=1, level="manager"),
    ]
    rows = {
        "r1": row("r1", reserved=100, level="manager"),
        "r2": row("r2", reserved=100, customer="c2", level="manager"),
    }
    customers = {("c1", "EUR"): (100, 0), ("c2", "EUR"): (100, 0)}
    capacities = {("", "manager", "2026-11-10"): 2}
    report = verify(entries, rows, counters(200, 0, customers, capacities), Limits())
    assert report.failures == [
        "entry 2 (reserve, reservation r2): contact capacity manager of team '' on 2026-11-10 "
        "at 2 of 1"
    ]


def test_reservation_rows_and_states_must_agree_with_their_entries():
    entries = [entry(1, "reserve", 4000), entry(2, "release", 4000), entry(3, "commit", 10, "r2")]
    rows = {
        "r1": row("r1", state="open", reserved=4000),
        "r2": row("r2", state="committed"),
        "r3": row("r3", state="lost"),
    }
    report = verify(entries, rows, counters(-10, 10, {("c1", "EUR"): (-10, 10)}), Limits())
    text = "\n".join(report.failures)
    assert (
        "reservation r1 (open): row says reserved 4000, committed 0; the ledger says 0, 0" in text
    )
    assert (
        "entry 3 (commit, reservation r2): the reservation's first entry is not a reserve" in text
    )
    assert "below zero" in text
    assert "reservation r3 (lost): unknown state" in text


def test_entries_of_unknown_reservations_or_versions_fail():
    report = verify([entry(1, "reserve", 10, "ghost")], {}, counters(0, 0), Limits())
    assert report.failures == ["entry 1 (reserve, reservation ghost): no such reservation"]
    bad = Entry(1, T0, "reserve", 10, 0, "EUR", "emea", "2026-11", "c1", "d", "r1", None, 9, 9)
    report = verify([bad], {"r1": row(reserved=10)}, counters(10, 0), Limits())
    assert any("names pool emea/2026-11 (EUR) version 9" in f for f in report.failures)
    assert any("names caps version 9" in f for f in report.failures)


class SplitLimits(Limits):
    """Pool emea v1 split: a 60.00 fix line and a 40.00 overdelivery line."""

    def pool(self, team, currency, version):
        return PoolLimit("month", 10000, T0, 6000) if (team, version) == ("emea", 1) else None


def fix_entry(id, kind, amount, fix, reservation="r1"):
    base = entry(id, kind, amount, reservation, customer="c" + reservation)
    return Entry(*[getattr(base, f) for f in Entry.__dataclass_fields__ if f != "fix_minor"], fix)


def test_each_line_of_a_split_pool_is_checked_when_raised():
    entries = [fix_entry(1, "reserve", 5000, 1000), fix_entry(2, "reserve", 5000, 5000, "r2")]
    rows = {
        "r1": ReservationRow("r1", "open", "EUR", "emea", "2026-11", "cr1", None, 5000, 0, 1000),
        "r2": ReservationRow("r2", "open", "EUR", "emea", "2026-11", "cr2", None, 5000, 0, 5000),
    }
    stored = Counters(
        pools={("emea", "EUR", "2026-11"): (10000, 0, 6000, 0)},
        customers={("cr1", "EUR"): (5000, 0), ("cr2", "EUR"): (5000, 0)},
    )
    assert verify(entries, rows, stored, SplitLimits()).ok  # fix 60.00 of 60.00, rest 40.00
    over = [fix_entry(1, "reserve", 5000, 0), fix_entry(2, "reserve", 5000, 5000, "r2")]
    rows["r1"] = ReservationRow("r1", "open", "EUR", "emea", "2026-11", "cr1", None, 5000, 0, 0)
    stored.pools[("emea", "EUR", "2026-11")] = (10000, 0, 5000, 0)
    failures = verify(over, rows, stored, SplitLimits()).failures
    assert failures == [
        "entry 1 (reserve, reservation r1): overdelivery line of pool emea/2026-11 (EUR) at "
        "5000 of 4000"
    ]


def test_a_fix_part_outside_its_entry_fails():
    entries = [fix_entry(1, "reserve", 1000, 2000)]
    rows = {
        "r1": ReservationRow("r1", "open", "EUR", "emea", "2026-11", "cr1", None, 1000, 0, 2000)
    }
    stored = Counters(
        pools={("emea", "EUR", "2026-11"): (1000, 0, 2000, 0)},
        customers={("cr1", "EUR"): (1000, 0)},
    )
    failures = verify(entries, rows, stored, Limits()).failures
    assert "entry 1 (reserve, reservation r1): fix part 2000 outside its amount 1000" in failures
