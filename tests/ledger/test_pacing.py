"""Pacing's shadow price: 1 at or below pace, rising as spending runs ahead, capped."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from remedy.ledger.pacing import PacingSettings, pace
from remedy.ledger.periods import day_key, period_at, period_kind

SETTINGS = PacingSettings(strength=Decimal("1"), max_price=Decimal("3"))


@pytest.mark.parametrize(
    ("held", "elapsed", "price"),
    [
        (0, 0.5, "1"),  # nothing spent
        (400, 0.5, "1"),  # below pace: generosity is not held back
        (500, 0.5, "1"),  # exactly on pace
        (600, 0.5, "1.25"),  # 10% ahead with 40% left: 1 + 0.10 / 0.40
        (900, 0.5, "3"),  # 40% ahead with 10% left: 5, capped at 3
        (990, 0.99, "1"),  # nearly all spent near the end: on pace
        (1000, 0.5, "3"),  # exhausted halfway: the cap
    ],
)
def test_price_is_one_on_pace_and_rises_ahead_of_it(held, elapsed, price):
    assert pace(held, 1000, elapsed, SETTINGS).price == Decimal(price)


def test_strength_scales_the_price_and_a_zero_pool_is_fully_spent():
    strong = PacingSettings(strength=Decimal("2"), max_price=Decimal("10"))
    assert pace(600, 1000, 0.5, strong).price == Decimal("1.50")
    assert pace(0, 0, 0.5, SETTINGS).spent_share == 1


def test_months_and_iso_weeks_in_utc():
    month = period_at("month", datetime(2026, 12, 31, 23, 59, tzinfo=UTC))
    assert (month.key, month.start.day, month.end.year) == ("2026-12", 1, 2027)
    week = period_at("week", datetime(2027, 1, 1, tzinfo=UTC))  # a Friday in ISO week 53
    assert week.key == "2026-W53"
    assert week.start == datetime(2026, 12, 28, tzinfo=UTC)
    assert week.elapsed_share(datetime(2026, 12, 31, 12, tzinfo=UTC)) == pytest.approx(0.5)
    assert (period_kind(week.key), period_kind(month.key)) == ("week", "month")
    assert day_key(datetime(2026, 11, 24, 23, 30)) == "2026-11-24"
    with pytest.raises(ValueError):
        period_at("fortnight", datetime(2026, 1, 1, tzinfo=UTC))


def test_shares_and_prices_round_half_up_at_their_places():
    # 1/20000 = 0.00005: half a step of 0.0001, rounded up.
    assert pace(1, 20_000, 0.0, SETTINGS).spent_share == Decimal("0.0001")
    # 0.123456 of the period, kept to 4 places.
    assert pace(0, 1000, 0.123456, SETTINGS).elapsed_share == Decimal("0.1235")
    # 1 + 0.05 / 0.4 = 1.125: half a cent, rounded up.
    assert str(pace(600, 1000, 0.55, SETTINGS).price) == "1.13"
    # 12.5% spent is kept as 0.1250 (words are budget_fit's, through gettext).
    assert pace(125, 1000, 0.0, SETTINGS).spent_share == Decimal("0.1250")


def test_on_pace_the_price_is_exactly_one():
    assert str(pace(500, 1000, 0.5, SETTINGS).price) == "1"


def test_a_pool_spent_past_its_limit_and_a_one_unit_pool():
    over = pace(1500, 1000, 0.5, SETTINGS)
    assert over.spent_share == Decimal(1) and over.price == Decimal(3)
    assert pace(0, 1, 0.5, SETTINGS).spent_share == Decimal(0)
    assert pace(0, 1, 0.5, SETTINGS).price == Decimal(1)
    assert pace(1, 1, 0.5, SETTINGS).spent_share == Decimal(1)
