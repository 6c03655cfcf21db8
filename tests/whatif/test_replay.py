"""The replay's pure parts: dotted paths, pool fallback, and spending against every limit."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from remedy.decisions.caps import CapSettings
from remedy.domain import FaultType, Incident
from remedy.ledger.settings import LimitSettings
from remedy.money import to_minor
from remedy.whatif.deciding import Choice, Decided, undominated
from remedy.whatif.paths import set_path
from remedy.whatif.replay import (
    LoggedIncident,
    PoolLimit,
    ReplayReport,
    pool_for,
    spend,
)
from tests.factories import default_caps

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday morning
POOLS = {("default", "EUR"): PoolLimit("month", Decimal("100000"))}


def test_set_path_copies_and_sets():
    """A copy is changed, the original is not."""
    document = {"a": {"b": "1"}}
    assert set_path(document, "a.b", "2") == {"a": {"b": "2"}}
    assert document == {"a": {"b": "1"}}


def test_set_path_gives_integer_fields_integers():
    """Sweeps of the window's days or a contact capacity validate: their fields are integers."""
    document = {"days": 90, "limit": "1.5", "flag": True}
    assert set_path(document, "days", "30") == {**document, "days": 30}
    assert set_path(document, "days", "x")["days"] == "x"  # left for validation to name
    assert set_path(document, "limit", "2") == {**document, "limit": "2"}
    assert set_path(document, "flag", "1")["flag"] == "1"


@pytest.mark.parametrize("path", ["a.c", "x", "a.b.c"])
def test_set_path_refuses_unknown_paths(path):
    """Only fields that exist may be swept."""
    with pytest.raises(KeyError):
        set_path({"a": {"b": "1"}}, path, "2")


def test_pool_for_falls_back_to_default():
    """A team without a pool spends from the default team's."""
    limit = PoolLimit("month", Decimal(10))
    assert pool_for({("default", "EUR"): limit}, "emea", "EUR") == ("default", limit)
    assert pool_for({("default", "EUR"): limit}, "emea", "USD") is None


# -- spending against the pool, the customer window and contact capacity -----------------------


def _incident(customer: str) -> Incident:
    return Incident(
        customer_id=customer,
        severity=3,
        fault_type=FaultType.COMPANY,
        customer_value=Decimal(1000),
        loss_amount=Decimal(100),
        currency="EUR",
    )


def _choice(cost: int | str, level: str | None = None, label: str = "refund") -> Choice:
    amount = Decimal(cost)
    return Choice(
        amount, to_minor(amount, "EUR"), level, amount, Decimal("0.5"), False, ((label, amount),)
    )


def _decided(*choices: Choice) -> Decided:
    """Kept plans best first, pruned as `decide` prunes them."""
    return Decided(True, False, tuple(undominated(choices, lambda c: (c.cost, c.contact_level))))


def _caps(
    days: int = 30, window: str | None = None, capacity: dict[str, int] | None = None
) -> CapSettings:
    limits = LimitSettings(
        window_days=days,
        window_limit={} if window is None else {"EUR": Decimal(window)},
        contact_capacity=capacity or {},
    )
    return dataclasses.replace(default_caps(), limits=limits)


def _spend(
    steps: list[tuple[timedelta, str, Decided]], caps: CapSettings, pools=POOLS
) -> ReplayReport:
    logged = [LoggedIncident(T0 + after, _incident(customer)) for after, customer, _ in steps]
    return spend(logged, [d for _, _, d in steps], pools, caps)


def test_the_window_blocks_a_second_incident_inside_it_and_allows_it_after():
    """150 EUR per 30 days: the second incident gets the cheaper plan; 30 days after the first,
    the first no longer counts (the ledger counts what was reserved after at - 30 days)."""
    steps = [
        (timedelta(0), "c1", _decided(_choice(100))),
        (timedelta(days=10), "c1", _decided(_choice(100), _choice(40))),
        (timedelta(days=10), "c2", _decided(_choice(100))),  # another customer: own window
        (timedelta(days=30), "c1", _decided(_choice(100))),  # 40 + 100 <= 150
    ]
    report = _spend(steps, _caps(days=30, window="150"))
    assert report.spend == {"EUR": Decimal(340)}
    assert (report.chosen, report.no_plan) == (4, 0)
    assert report.skipped_for_budget == report.skipped_for_customer_window == 1
    assert report.skipped_for_pool == report.skipped_for_contact_capacity == 0


def test_the_window_still_counts_a_minute_before_it_ends():
    """At 30 days less a minute the first 100 still counts: 100 + 40 + 100 > 150."""
    steps = [
        (timedelta(0), "c1", _decided(_choice(100))),
        (timedelta(days=10), "c1", _decided(_choice(100), _choice(40))),
        (timedelta(days=30, minutes=-1), "c1", _decided(_choice(100))),
    ]
    report = _spend(steps, _caps(days=30, window="150"))
    assert report.spend == {"EUR": Decimal(140)}
    assert (report.chosen, report.no_plan) == (2, 1)
    assert report.skipped_for_customer_window == 2


def test_no_window_limit_for_the_currency_means_none():
    """A currency without a window limit (or no caps at all) is not limited per customer."""
    steps = [(timedelta(hours=h), "c1", _decided(_choice(100))) for h in range(3)]
    assert _spend(steps, _caps()).spend == {"EUR": Decimal(300)}
    assert _spend(steps, None).spend == {"EUR": Decimal(300)}  # type: ignore[arg-type]


def test_capacity_blocks_the_second_manager_call_of_the_day():
    """One manager call a day: the second incident takes the dearer plan without the call; the
    next day there is a call again; executives have their own (unlimited) capacity."""
    call_or_gift = _decided(_choice(50, "manager"), _choice(80, None, "gift"))
    steps = [
        (timedelta(0), "c1", _decided(_choice(50, "manager"))),
        (timedelta(hours=1), "c2", call_or_gift),
        (timedelta(days=1), "c3", call_or_gift),
        (timedelta(days=1, hours=1), "c4", _decided(_choice(60, "executive"))),
    ]
    report = _spend(steps, _caps(capacity={"manager": 1}))
    assert call_or_gift.kept == (_choice(50, "manager"), _choice(80, None, "gift"))
    assert report.spend == {"EUR": Decimal(240)}
    assert report.by_kind == {"refund": {"EUR": Decimal(160)}, "gift": {"EUR": Decimal(80)}}
    assert report.chosen == 4
    assert report.skipped_for_budget == report.skipped_for_contact_capacity == 1
    assert report.skipped_for_pool == report.skipped_for_customer_window == 0


def test_a_full_pool_and_a_full_window_both_count():
    """The best plan may break several limits; each is counted once for the incident."""
    pools = {("default", "EUR"): PoolLimit("month", Decimal(100))}
    steps = [
        (timedelta(0), "c1", _decided(_choice(80))),
        (timedelta(hours=1), "c1", _decided(_choice(60), _choice(10))),
    ]
    report = _spend(steps, _caps(window="95"), pools)
    assert report.spend == {"EUR": Decimal(90)}
    assert report.skipped_for_budget == 1
    assert report.skipped_for_pool == report.skipped_for_customer_window == 1


def test_pruning_keeps_dearer_plans_without_the_contact():
    """A plan is left out only when a better one costs no more and takes no other contact."""
    plans = [
        _choice(50, "manager"),
        _choice(80),  # no contact: kept, a manager call may be full
        _choice(90, "manager"),  # the 50 manager plan fits whenever this does
        _choice(70),  # cheaper than every better plan without a call
        _choice(100, "executive"),  # the 70 plan without contact fits whenever this does
        _choice(60, "agent"),  # cheaper than the no-contact plans
        _choice(60, "executive"),  # the executive capacity is apart from the agent's
    ]
    kept = tuple(undominated(plans, lambda c: (c.cost, c.contact_level)))
    assert [(c.cost, c.contact_level) for c in kept] == [
        (50, "manager"),
        (80, None),
        (70, None),
        (60, "agent"),
        (60, "executive"),
    ]


def test_the_report_keeps_its_keys_and_adds_the_reasons():
    """Existing keys stay; the reasons are added beside `skipped_for_budget`."""
    assert list(ReplayReport().as_dict()) == [
        "decisions",
        "chosen",
        "no_plan",
        "skipped_for_budget",
        "skipped_for_pool",
        "skipped_for_fix_line",
        "skipped_for_overdelivery_line",
        "skipped_for_customer_window",
        "skipped_for_contact_capacity",
        "spend",
        "spend_by_team",
        "spend_by_fault_type",
        "spend_by_kind",
        "spend_by_line",
        "expected_net_value",
        "expected_retention",
        "capped_share",
        "approvals_needed",
    ]


# -- pruning and the balances against a brute force ---------------------------------------------

LEVELS = [None, "agent", "manager"]
PLAN = st.tuples(st.integers(0, 6), st.sampled_from(LEVELS))
STEP = st.tuples(st.integers(0, 40), st.sampled_from(["a", "b"]), st.lists(PLAN, max_size=5))
CAPACITY = st.dictionaries(st.sampled_from(["agent", "manager"]), st.integers(0, 2))


def _brute_force(steps, pool_limit, days, window, capacity):
    """Choose per incident by recounting every earlier choice, from every (unpruned) plan."""
    history: list[tuple[datetime, str, int, str | None]] = []
    chosen: list[int | None] = []
    reasons = {"pool": 0, "window": 0, "capacity": 0}
    for at, customer, plans in steps:

        def broken(cost, level, at=at, customer=customer):
            month = sum(c for a, _, c, _ in history if (a.year, a.month) == (at.year, at.month))
            got = sum(c for a, who, c, _ in history if who == customer and a > at - days)
            calls = sum(1 for a, _, _, lv in history if lv == level and a.date() == at.date())
            return {
                "pool": month + cost > pool_limit,
                "window": window is not None and got + cost > window,
                "capacity": level in capacity and calls + 1 > capacity[level],
            }

        pick = next((i for i, p in enumerate(plans) if not any(broken(*p).values())), None)
        if plans and pick != 0:
            for name, hit in broken(*plans[0]).items():
                reasons[name] += hit
        chosen.append(pick)
        if pick is not None:
            history.append((at, customer, *plans[pick]))
    return chosen, reasons


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(
    steps=st.lists(STEP, min_size=1, max_size=12),
    pool_limit=st.integers(0, 20),
    days=st.integers(1, 3),
    window=st.none() | st.integers(0, 12),
    capacity=CAPACITY,
)
def test_spending_matches_a_brute_force_over_unpruned_plans(
    steps, pool_limit, days, window, capacity
):
    """Random small cases around a month's end: the pruned replay picks what a brute force over
    every plan picks, and counts the same reasons."""
    at = datetime(2026, 11, 29, tzinfo=UTC)
    timeline = []
    for gap, customer, plans in steps:
        at += timedelta(hours=gap)
        timeline.append((at, customer, [(cost * 10, level) for cost, level in plans]))
    expected, reasons = _brute_force(
        timeline,
        pool_limit * 10,
        timedelta(days=days),
        None if window is None else window * 10,
        capacity,
    )
    logged, decided = [], []
    for index, (moment, customer, plans) in enumerate(timeline):
        logged.append(LoggedIncident(moment, _incident(customer)))
        labelled = [_choice(c, lv, f"{index}:{i}") for i, (c, lv) in enumerate(plans)]
        decided.append(_decided(*labelled))
    caps = _caps(days, None if window is None else str(window * 10), capacity)
    pools = {("default", "EUR"): PoolLimit("month", Decimal(pool_limit * 10))}
    report = spend(logged, decided, pools, caps)
    picked = {int(k.split(":")[0]): int(k.split(":")[1]) for k in report.by_kind}
    assert [picked.get(i) for i in range(len(timeline))] == expected
    assert report.chosen == sum(p is not None for p in expected)
    assert (
        report.skipped_for_pool,
        report.skipped_for_customer_window,
        report.skipped_for_contact_capacity,
    ) == (reasons["pool"], reasons["window"], reasons["capacity"])


def test_two_lines_keep_a_dearer_plan_with_a_smaller_fix():
    """On two lines a plan costing more in all may still be the one that fits (its fix is
    smaller), so pruning compares the fix part and the rest apart; spending then takes it."""
    refund = dataclasses.replace(_choice(100), fix_minor=to_minor(Decimal(90), "EUR"))
    redo_and_gift = dataclasses.replace(_choice(120), fix_minor=to_minor(Decimal(54), "EUR"))
    plans = [refund, redo_and_gift]
    assert list(undominated(plans, lambda c: (c.cost, c.contact_level))) == [refund]
    kept = tuple(
        undominated(
            plans,
            lambda c: (c.cost, c.contact_level),
            lambda c: Decimal(c.fix_minor) / 100,
        )
    )
    assert kept == (refund, redo_and_gift)
    pools = {("default", "EUR"): PoolLimit("month", Decimal(150), fix_limit=Decimal(60))}
    report = spend([LoggedIncident(T0, _incident("a"))], [Decided(True, False, kept)], pools, None)
    assert (report.skipped_for_fix_line, report.skipped_for_overdelivery_line) == (1, 0)
    assert report.as_dict()["spend_by_line"] == {
        "fix": {"EUR": "54.00"},
        "overdelivery": {"EUR": "66.00"},
    }
