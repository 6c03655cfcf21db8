"""The limits shared across decisions, as one caps version sets them: the customer window, the
contact capacity per day and budget pacing. Typed once here; the caps loader, the ledger, its
verification and the what-if replay all read this one type."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from remedy.ledger.pacing import PacingSettings
from remedy.money import to_minor

DEFAULT_WINDOW_DAYS = 90


# A team without a pool of its own in a currency spends from this team's pool.
DEFAULT_TEAM = "default"


@dataclass(frozen=True)
class LimitSettings:
    """Window, capacity and pacing of one caps version (absent parts mean no limit)."""

    window_days: int = DEFAULT_WINDOW_DAYS
    window_limit: dict[str, Decimal] = field(default_factory=dict)  # no currency: no limit
    # Each team's daily personal contacts per level (counted per team, never across teams).
    contact_capacity: dict[str, int] = field(default_factory=dict)  # no level: unlimited
    # Per-team overrides of `contact_capacity`: {team: {level: contacts a day}}.
    team_contact_capacity: dict[str, dict[str, int]] = field(default_factory=dict)
    pacing: PacingSettings = PacingSettings()

    def window_limit_minor(self, currency: str) -> int | None:
        """The window's limit in minor units of `currency`, or None when there is none."""
        limit = self.window_limit.get(currency)
        return None if limit is None else to_minor(limit, currency)

    def capacity_for(self, level: str, team: str) -> int | None:
        """Return `team`'s daily personal-contact capacity at `level`, or None when unlimited.

        A team's own entry wins; otherwise every team has the document's `contact_capacity`
        to itself: one team's busy day never uses up another team's managers."""
        own = self.team_contact_capacity.get(team)
        if own is not None and level in own:
            return own[level]
        return self.contact_capacity.get(level)

    def capacities_for(self, team: str) -> dict[str, int]:
        """Every level with a capacity for `team`, and that capacity."""
        return {**self.contact_capacity, **self.team_contact_capacity.get(team, {})}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> LimitSettings:
        """Read the shared limits of a caps document already validated by `load_caps`."""
        window = document.get("customer_window")
        pacing = document.get("pacing") or {}
        defaults = PacingSettings()
        return cls(
            window_days=int(window["days"]) if window else DEFAULT_WINDOW_DAYS,
            window_limit=(
                {c: Decimal(str(v)) for c, v in window["limit"].items()} if window else {}
            ),
            contact_capacity={
                k: int(v) for k, v in (document.get("contact_capacity") or {}).items()
            },
            team_contact_capacity={
                team: {k: int(v) for k, v in levels.items()}
                for team, levels in (document.get("team_contact_capacity") or {}).items()
            },
            pacing=PacingSettings(
                Decimal(str(pacing.get("strength", defaults.strength))),
                Decimal(str(pacing.get("max_price", defaults.max_price))),
            ),
        )
