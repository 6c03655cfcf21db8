"""Try a proposed configuration before it is stored: decide real and synthetic incidents with it.

Schema validation cannot see every way a catalog, rules and caps can fail together (a rule that
divides by a field only for one fault type, an item whose label or value breaks for one
currency, a cap term that overflows for one severity). A configuration that passes validation
but raises while deciding would turn every matching recommendation into a 500, so `PUT
/v1/caps`, `/v1/rules` and `/v1/catalog` first decide, with the proposed documents and the
model in use:

- the incidents of the last `RECENT` logged decisions (what the service really sees), and
- a fixed synthetic set: every severity x fault type, cycling through the currencies the caps
  know, the categories and channels the catalog names (plus `other` and `email`), public and
  private, and the edges of what the API accepts (no customer value, the smallest and the
  largest loss, the largest reach), with and without pacing's highest price and with every
  personal-contact level used up,

and refuse the change (422) naming the first incident whose decision raised and the error.
It runs inside the request: a few hundred decisions of a few milliseconds each, bounded by
`RECENT` and the size of the synthetic set (at most `MAX_SYNTHETIC`).

A document can also be valid and slow: a catalog within `REMEDY_MAX_PLANS` whose rules and
items make every decision cost many times today's would slow every recommendation after it.
The trial counts the CPU time of its own thread per decision (not the wall clock: a loaded
machine does not refuse a document) and refuses a document whose decisions average more than
`REMEDY_TRIAL_MS_PER_DECISION` (default 100 ms; the default documents take a few), stopping as
soon as the trial as a whole has spent what that average allows, so the request stays bounded.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.engine import CurrencyNotConfigured, DecisionEngine
from remedy.decisions.stored import incident_from_json
from remedy.decisions.talking_points import talking_points
from remedy.domain import (
    CHANNELS,
    CONTACT_LEVELS,
    MAX_CUSTOMER_VALUE,
    MAX_LOSS,
    MAX_REACH,
    FaultType,
    Incident,
    Part,
    part_of,
)
from remedy.errors import InvalidInput
from remedy.i18n import LANGUAGES
from remedy.money import minor_exponent
from remedy.store.tables import Decision

RECENT = 200
MAX_SYNTHETIC = 240
MAX_MS_PER_DECISION = 100.0  # CPU per trial decision (REMEDY_TRIAL_MS_PER_DECISION)
SEVERITIES = range(1, 6)


@dataclass(frozen=True)
class TrialIncident:
    """One incident to decide, and how to name it if its decision fails."""

    incident: Incident
    name: str
    cost_price: Decimal = Decimal(1)
    used_up: frozenset[str] = frozenset()


# The most candidate plans one decision may enumerate (REMEDY_MAX_PLANS). The default catalog
# with max_extras 4 reaches 1,930; 60 extra gifts made every recommendation ~10x slower and the
# trial itself take 69 s before this bound.
MAX_PLANS = 2000


def plan_space(engine: DecisionEngine) -> int:
    """The most plans the planner can enumerate for any incident under `engine`'s catalog and
    `max_extras`: every item eligible, at most one fix, up to `max_extras` overdelivery actions
    with at most one per (kind, audience) (remedy/decisions/planner.py)."""
    fixes = 0
    slots: dict[tuple[str, str], int] = {}
    for item in engine.catalog.items:
        part = part_of(item.kind)
        if part == Part.FIX:
            fixes += 1
        elif part == Part.OVERDELIVERY:
            key = (str(item.kind), item.audience)
            slots[key] = slots.get(key, 0) + 1
    # Ways to pick j slots and one item in each: the elementary symmetric sums of slot sizes.
    ways = [1] + [0] * engine.caps.max_extras
    for size in slots.values():
        for j in range(len(ways) - 1, 0, -1):
            ways[j] += ways[j - 1] * size
    return (fixes + 1) * sum(ways)


class ConfigTrial:
    """Decides recent and synthetic incidents with a proposed engine; refuses one that raises
    or whose plan space is larger than `max_plans`."""

    def __init__(
        self,
        session: Session,
        recent: int = RECENT,
        max_plans: int = MAX_PLANS,
        max_ms_per_decision: float = MAX_MS_PER_DECISION,
    ) -> None:
        """Read the recent incidents from `session` (the last `recent` decisions)."""
        self.session = session
        self.recent = recent
        self.max_plans = max_plans
        self.max_ms_per_decision = max_ms_per_decision

    def check_plan_space(self, engine: DecisionEngine, kind: str) -> None:
        """Refuse (naming `kind`) a configuration whose decisions could enumerate more than
        `max_plans` candidates, before deciding anything with it."""
        plans = plan_space(engine)
        if plans > self.max_plans:
            message = (
                f"the proposed {kind} document lets one decision enumerate up to {plans} plans, "
                f"more than {self.max_plans}: use fewer overdelivery items of a kind and "
                "audience, or a lower caps max_extras"
            )
            raise InvalidInput(message, {kind: [message]})

    def run(self, engine: DecisionEngine, kind: str) -> int:
        """Decide every trial incident with `engine`; return how many were decided.

        Raises InvalidInput naming `kind` (the document being replaced), the first incident
        whose decision raised and the error."""
        self.check_plan_space(engine, kind)
        decided = tried = 0
        spent = 0.0  # CPU seconds of this thread
        allowed = self.max_ms_per_decision / 1000 * (self.recent + MAX_SYNTHETIC)
        for trial in itertools.chain(self.logged(), synthetic(engine)):
            started = time.thread_time()
            try:
                decided += _decide(engine, trial)
            except Exception as error:  # noqa: BLE001 - any error here would be a 500 later
                message = (
                    f"the proposed {kind} document fails deciding {trial.name}: "
                    f"{type(error).__name__}: {error}"
                )
                raise InvalidInput(message, {kind: [message]}) from None
            spent += time.thread_time() - started
            tried += 1
            if spent > allowed:
                break
        self.check_cost(kind, spent, tried)
        return decided

    def check_cost(self, kind: str, spent: float, tried: int) -> None:
        """Refuse (naming `kind`) a document whose trial decisions averaged more CPU than the
        budget per decision."""
        each_ms = spent * 1000 / max(tried, 1)
        if each_ms > self.max_ms_per_decision:
            message = (
                f"the proposed {kind} document makes each decision cost {each_ms:.1f} ms of CPU "
                f"in the trial, more than {self.max_ms_per_decision:g} ms "
                "(REMEDY_TRIAL_MS_PER_DECISION): every recommendation would slow down as much; "
                "use fewer items or rules, or a lower caps max_extras"
            )
            raise InvalidInput(message, {kind: [message]})

    def logged(self) -> Iterator[TrialIncident]:
        """The incidents of the most recent decisions, newest first."""
        rows = self.session.execute(
            sa.select(Decision.id, Decision.incident)
            .order_by(Decision.created_at.desc(), Decision.id.desc())
            .limit(self.recent)
        )
        for decision_id, data in rows:
            try:
                incident = incident_from_json(data)
            except (KeyError, TypeError, ValueError, ArithmeticError):
                continue  # a record too old to replay says nothing about the proposal
            yield TrialIncident(incident, f"the incident of decision {decision_id}")


def synthetic(engine: DecisionEngine) -> Iterator[TrialIncident]:
    """The fixed synthetic incidents for `engine`'s catalog and caps (see the module's doc)."""
    caps = engine.caps
    currencies = sorted(c for c in caps.default["absolute"] if caps.supports(c)) or ["EUR"]
    categories = sorted({"other"}.union(*(item.categories or () for item in engine.catalog.items)))
    channels = sorted({"email"}.union(CHANNELS, *(i.channels or () for i in engine.catalog.items)))
    edges = _edges()
    pairs = list(itertools.product(SEVERITIES, FaultType))
    rounds = max(len(currencies), len(categories), len(channels), len(edges))
    count = min(MAX_SYNTHETIC, len(pairs) * rounds)
    highest_price = caps.limits.pacing.max_price if caps.limits.pacing else Decimal(1)
    for n in range(count):
        severity, fault = pairs[n % len(pairs)]
        step = n // len(pairs) + n
        currency = currencies[step % len(currencies)]
        value, loss, public, reach = edges[step % len(edges)]
        incident = Incident(
            customer_id=f"trial-{n}",
            severity=severity,
            fault_type=fault,
            customer_value=value,
            loss_amount=max(loss, Decimal(1).scaleb(-minor_exponent(currency))),
            currency=currency,
            category=categories[step % len(categories)],
            channel=channels[step % len(channels)],
            locale=LANGUAGES[step % len(LANGUAGES)],
            churn_threat=bool(step % 2),
            team="default",
            public=public,
            reach=reach,
            prior_incidents=step % 3,
        )
        stressed = n % 3 == 2
        yield TrialIncident(
            incident,
            f"a synthetic incident (severity {severity}, fault {fault}, {currency}, category "
            f"{incident.category}, channel {incident.channel}, customer value {value}, loss "
            f"{incident.loss_amount}"
            + (", at pacing's highest price, no contacts left)" if stressed else ")"),
            cost_price=highest_price if stressed else Decimal(1),
            used_up=frozenset(CONTACT_LEVELS) if stressed else frozenset(),
        )


def _edges() -> list[tuple[Decimal, Decimal, bool, int | None]]:
    """(customer value, loss, public, reach): ordinary incidents and the API's extremes."""
    return [
        (Decimal("2400"), Decimal("80"), False, None),
        (Decimal(0), Decimal(0), False, None),  # raised to the currency's smallest unit
        (MAX_CUSTOMER_VALUE, MAX_LOSS, True, MAX_REACH),
        (Decimal("150"), Decimal("1500"), True, None),
        (Decimal(1), Decimal(1), True, 0),
    ]


def _decide(engine: DecisionEngine, trial: TrialIncident) -> int:
    """Decide one incident as a recommendation would, reasons and talking points included; 0
    for an unsupported currency (the service answers that with a 422, not a 500)."""
    try:
        result = engine.decide(trial.incident, trial.cost_price, trial.used_up)
    except CurrencyNotConfigured:
        return 0
    for candidate in result.kept[:3]:
        result.reasons(candidate)
        talking_points(trial.incident, candidate.scored.plan, engine.caps.promises)
    generous = result.generous
    if generous is not None:
        result.reasons(generous)
    return 1
