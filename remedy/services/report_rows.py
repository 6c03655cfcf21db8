"""The reports' rows: typed values the API's schemas write as JSON or CSV (remedy/services/
reports.py computes them; amounts in minor units per currency, shares and minutes rounded
as reported)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

SHARE = Decimal("0.0001")  # shares are reported to four places


MINUTES = Decimal("0.1")  # durations to a tenth of a minute


@dataclass(frozen=True)
class SpendLine:
    """What one line of the pools (fix or overdelivery money) spent for a group."""

    currency: str
    committed_minor: int
    reserved_minor: int


@dataclass(frozen=True)
class SpendRow:
    """Spend of one group in one currency, and its fix part (the rest is overdelivery)."""

    group: str
    currency: str
    committed_minor: int
    reserved_minor: int
    plans: int
    fix_committed_minor: int = 0
    fix_reserved_minor: int = 0

    @property
    def fix(self) -> SpendLine:
        """What fixes (refunds, credits, redos) spent: the pools' fix lines."""
        return SpendLine(self.currency, self.fix_committed_minor, self.fix_reserved_minor)

    @property
    def overdelivery(self) -> SpendLine:
        """What overdelivery (gifts, upgrades, contact) spent: the pools' overdelivery lines."""
        return SpendLine(
            self.currency,
            self.committed_minor - self.fix_committed_minor,
            self.reserved_minor - self.fix_reserved_minor,
        )


@dataclass(frozen=True)
class DiagnoseRow:
    """Tickets, remedy cost and retention of one month, category and fault in one currency.

    `incidents` counts tickets (a ticket asked twice is one incident, in the month and category
    of its first decision), `decisions` the decisions they took; a ticket has an outcome when any
    of its decisions has one, and is lost (its customer's annual value counted once) when any
    outcome says the customer left."""

    month: str
    category: str
    fault_type: str
    currency: str
    incidents: int
    remedy_cost_minor: int
    outcomes: int
    retained: int
    lost_customer_value_minor: int
    decisions: int = 0

    @property
    def retention(self) -> Decimal | None:
        """Share of recorded outcomes that stayed (None without outcomes)."""
        if not self.outcomes:
            return None
        return (Decimal(self.retained) / self.outcomes).quantize(SHARE)

    @property
    def cost_to_company_minor(self) -> int:
        """What the remedies cost plus the annual value of the customers who left."""
        return self.remedy_cost_minor + self.lost_customer_value_minor


@dataclass(frozen=True)
class AuditRow:
    """What one touchpoint's failures cost in one currency over the range, and the trend.

    Counted by ticket: remedies given (committed money plus what open reservations hold), the
    annual value of customers lost (tickets whose outcome says the customer left), promises
    broken (per ticket, the answer promise and the fix promise each count once when any of its
    outcomes records a time later than promised: 0 to 2 a ticket), and repeat victims
    (customers with two or more tickets at this touchpoint in the range). `previous_*` is the
    period of equal length just before."""

    touchpoint: str | None
    currency: str
    tickets: int
    decisions: int
    remedies_minor: int
    lost_customers: int
    lost_customer_value_minor: int
    respond_broken: int
    fix_broken: int
    repeat_victims: int
    previous_tickets: int
    previous_cost_minor: int

    @property
    def promises_broken(self) -> int:
        """Answer and fix promises broken, each counted once a ticket."""
        return self.respond_broken + self.fix_broken

    @property
    def cost_minor(self) -> int:
        """What the touchpoint's failures cost: remedies given plus customer value lost."""
        return self.remedies_minor + self.lost_customer_value_minor

    @property
    def cost_change_minor(self) -> int:
        """The cost against the previous period (positive: it got worse)."""
        return self.cost_minor - self.previous_cost_minor

    @property
    def cost_change_share(self) -> Decimal | None:
        """The change as a share of the previous period's cost (None when it cost nothing)."""
        if not self.previous_cost_minor:
            return None
        return (Decimal(self.cost_change_minor) / self.previous_cost_minor).quantize(SHARE)


@dataclass(frozen=True)
class AuditReport:
    """The touchpoints, costliest first, and the two periods compared."""

    start: datetime
    end: datetime
    previous_start: datetime
    rows: list[AuditRow]


@dataclass(frozen=True)
class Kept:
    """How one promise was kept: how many, the share kept, p50 and p90 in minutes."""

    count: int
    kept_share: Decimal | None
    p50_minutes: Decimal | None
    p90_minutes: Decimal | None


@dataclass(frozen=True)
class PromisesRow:
    """Time to respond and to fix for one category and team."""

    category: str
    team: str
    respond: Kept
    fix: Kept
