"""How a simulated customer responds to a plan, in a world whose parameters can be drawn.

These are the simulator's response curves (training/simulator.py draws the incidents and the
outcomes); `#n` cites row n of docs/research.md's table. Their numbers are the literature's
central reading, and the literature itself says how far they vary: distributive justice's
effect on satisfaction ranged r = .06-.97 across 60 studies and interactional justice's .05-.92
(#2), senior staff's contact had no effect found (#26), overcompensation turns "a smaller
portion" of customers against it (#4), recovery pays more in some industries than in others
(#24). A company's customers sit somewhere in those ranges, not at their centre.

So the responses read a `World`: `HOME` is the centre, the world the bundled models were
trained in (every multiplier 1, the shares as documented, the exact curves of before); a
deployment's world is one drawn from the ranges (`World.drawn(seed)`). A learning loop is only
shown to learn when the world it serves is not the one its prior was fitted in: a prior fitted
on 30,000 decisions of the very world it is judged in has nothing left to learn from 3,000
(benchmarks/README.md, champion/challenger).

Everything is in floats: these are simulated probabilities, not money that changes hands.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import asdict, dataclass

import numpy as np

from remedy.domain import CONTACT_LEVELS, DEFAULT_REACH, FaultType, Incident, Kind, Plan


@dataclass(frozen=True, slots=True)
class World:
    """What a company's customers are like, as multipliers of the literature's central effects.

    Each field's range in `drawn` is the literature's spread where it gives one (#2, #4, #26)
    and an assumption of the same width where it does not (companions, word of mouth, #10's
    size).
    """

    compensation: float = 1.0  # weight of compensation in loyalty (#2: DJ r .06-.97)
    interaction: float = 1.0  # weight of apology and personal contact (#2: IJ r .05-.92)
    seniority: float = 1.0  # what a manager or executive adds over an agent (#26: not found)
    averse_share: float = 0.2  # share turned against any overcompensation (#4: "smaller portion")
    companion_share: float = 0.35  # share with people around them a gift means something to
    word_of_mouth: float = 1.0  # referrals per satisfied customer (#20)
    repeat_trust: float = 1.0  # trust each earlier failure costs (#10: prior complaints aggravate)

    @classmethod
    def drawn(cls, seed: int) -> World:
        """Return a world drawn from the ranges the literature leaves open, for `seed`."""
        rng = np.random.default_rng([seed, 0x5EED])

        def log_uniform(low: float, high: float) -> float:
            return round(float(math.exp(rng.uniform(math.log(low), math.log(high)))), 3)

        return cls(
            compensation=log_uniform(0.35, 1.75),
            interaction=log_uniform(0.35, 1.75),
            seniority=round(float(rng.uniform(0.0, 1.5)), 3),
            averse_share=round(float(rng.uniform(0.05, 0.5)), 3),
            companion_share=round(float(rng.uniform(0.15, 0.6)), 3),
            word_of_mouth=log_uniform(0.5, 2.0),
            repeat_trust=log_uniform(0.5, 2.0),
        )

    def describe(self) -> dict[str, float]:
        """Return the world's parameters, for a benchmark's printout."""
        return asdict(self)


HOME = World()  # the literature's centre: the world the bundled models were trained in

# #8: compensation raised repurchase only where the firm was responsible; otherwise n.s.
_FAULT_COMPENSATION = {
    FaultType.COMPANY: 1.0,
    FaultType.PARTNER: 0.65,
    FaultType.UNKNOWN: 0.45,
    FaultType.CUSTOMER: 0.1,
}
# #15, #16: the matched resource works best; otherwise store credit is the best of the rest.
_FIX_MATCH = {
    "product_defect": {Kind.REPLACEMENT: 1.0, Kind.REFUND: 0.8, Kind.CREDIT: 0.7},
    "delivery": {Kind.REPLACEMENT: 1.0, Kind.REFUND: 0.75, Kind.CREDIT: 0.75},
    "wrong_item": {Kind.REPLACEMENT: 1.0, Kind.REFUND: 0.85, Kind.CREDIT: 0.6},
    "billing": {Kind.REFUND: 1.0, Kind.CREDIT: 0.8, Kind.REPLACEMENT: 0.4},
    "subscription": {Kind.CREDIT: 1.0, Kind.REFUND: 0.85, Kind.REPLACEMENT: 0.3},
    "outage": {Kind.CREDIT: 1.0, Kind.REFUND: 0.8, Kind.REPLACEMENT: 0.4},
    # #13, #1: a process (interactional) failure is mended by people more than by money
    "service_rudeness": {Kind.CREDIT: 0.55, Kind.REFUND: 0.5, Kind.REPLACEMENT: 0.3},
    "other": {Kind.CREDIT: 0.9, Kind.REFUND: 0.8, Kind.REPLACEMENT: 0.7},
}
_EXPEDITE_MATCH = {
    "delivery": 0.45,
    "wrong_item": 0.35,
    "product_defect": 0.25,
}  # #15: speed is the matched resource
# By contact rank (none, agent, manager, executive, a leader's direct line); #26: in person or by
# phone preferred. A direct line is an executive's call plus a number to keep: a little more.
_CONTACT_EFFECT = (0.0, 0.15, 0.35, 0.55, 0.6)


@dataclass(frozen=True, slots=True)
class HiddenTraits:
    """What the simulated customer is like beyond anything the features record."""

    overcompensation_averse: bool  # #4: a "smaller portion" react negatively to overcompensation
    rejects_service: bool  # #3: S-shaped response to compensation instead of concave
    has_companions: bool  # a gift for the people around them means something
    bond: float  # relationship strength in [-1, 1]; a strong bond buffers (#22)


def hidden_traits(incident: Incident, world: World = HOME) -> HiddenTraits:
    """Derive the customer's hidden traits deterministically from the customer id."""
    return _traits(
        incident.customer_id, incident.severity, world.averse_share, world.companion_share
    )


@functools.lru_cache(maxsize=4096)  # every candidate plan of a decision asks again
def _traits(
    customer_id: str, severity: int, averse_share: float, companion_share: float
) -> HiddenTraits:
    """Derive hidden traits from a stable hash (not `hash()`, which is salted per process)."""
    digest = hashlib.blake2b(customer_id.encode(), digest_size=16).digest()
    u = [int.from_bytes(digest[4 * i : 4 * i + 4], "big") / 2**32 for i in range(4)]
    return HiddenTraits(
        overcompensation_averse=u[0] < averse_share,
        # #3: rejecting the flawed service is likelier the worse it went
        rejects_service=u[1] < 0.1 + 0.18 * (severity - 1),
        has_companions=u[2] < companion_share,
        bond=2.0 * u[3] - 1.0,
    )


@dataclass(frozen=True, slots=True)
class _PlanSummary:
    """The simulator's own reading of a plan, in multiples of the loss."""

    fix: Kind | None
    fix_ratio: float
    compensation: float  # distributive value to the customer / loss (#3, #5)
    apology: bool
    contact_rank: int
    upgrade: bool
    expedite: bool
    companion_gift: bool


def _summarise(plan: Plan, loss: float) -> _PlanSummary:
    """Reduce a plan to what the response curves need."""
    fix: Kind | None = None
    fix_value = compensation = 0.0
    apology = upgrade = expedite = companions = False
    rank = 0
    for action in plan.actions:
        value = float(action.value) / loss
        kind = Kind(action.kind)
        if kind in (Kind.REFUND, Kind.REPLACEMENT):
            fix, fix_value = kind, fix_value + value
            compensation += value
        elif kind == Kind.CREDIT:
            fix, fix_value = kind, fix_value + value
            compensation += 0.75 * value  # #5: credit no fairer than full compensation; #15
        elif kind == Kind.GIFT:
            if action.audience == "companions":
                companions = True
                compensation += 0.3 * value  # mostly for others; a little for the customer
            else:
                compensation += value
        elif kind in (Kind.UPGRADE, Kind.EXPEDITE):
            upgrade = upgrade or kind == Kind.UPGRADE
            expedite = expedite or kind == Kind.EXPEDITE
            compensation += 0.5 * value  # in kind, valued below face
        elif kind == Kind.APOLOGY:
            apology = True
        elif kind == Kind.PERSONAL_CONTACT and action.level in CONTACT_LEVELS:
            rank = max(rank, CONTACT_LEVELS.index(action.level) + 1)
    return _PlanSummary(fix, fix_value, compensation, apology, rank, upgrade, expedite, companions)


def _loss(incident: Incident) -> float:
    """Return the loss as a positive float (a thousandth of annual value if there is none)."""
    return max(float(incident.loss_amount), 0.001 * float(incident.customer_value), 1e-6)


def _value_weight(incident: Incident) -> float:
    """Return how much the relationship outweighs the loss, in [0, 1] (#23 best customers)."""
    log_ratio = math.log(max(float(incident.customer_value), 1e-6) / _loss(incident))
    return min(1.0, max(0.0, (log_ratio - 1.0) / 4.0))


def _sigmoid(x: float) -> float:
    """Return the logistic function of x."""
    return 1.0 / (1.0 + math.exp(-x))


def compensation_response(ratio: float, traits: HiddenTraits) -> float:
    """Return the appeal of compensation worth `ratio` x the loss, about 0 to 1."""
    if traits.rejects_service:
        # #3: S-shape, steepest between 60% and 120% of the price, when the service is rejected
        floor = _sigmoid(-0.9 / 0.17)
        response = (_sigmoid((ratio - 0.9) / 0.17) - floor) / (1.0 - floor)
    else:
        response = 1.0 - math.exp(-ratio / 0.6)  # #3: concave, the first dollars pay most
    # #4: inverted U peaking near 150%; most plateau, a minority turn against any surplus (#6)
    response -= 0.06 * max(0.0, ratio - 1.5)
    if traits.overcompensation_averse:
        response -= 0.45 * max(0.0, ratio - 1.0)
    return response


def _immediate(incident: Incident, summary: _PlanSummary) -> bool:
    """Tell whether the response reaches the customer at once (live channel or expedited)."""
    return incident.channel in ("chat", "phone") or summary.expedite


def _retention_logit(
    incident: Incident, summary: _PlanSummary, traits: HiddenTraits, world: World
) -> float:
    """Return the log-odds that the customer stays after this plan."""
    severity = incident.severity
    value_weight = _value_weight(incident)
    # Unresolved baseline: #18/#19 unresolved complainers return 46% (small loss) down to 19%
    # (large loss); #25 severity lowers repurchase; #10 prior purchases mitigate; #22 a bond
    # buffers.
    logit = 0.35 - 0.45 * (severity - 1) + 0.5 * value_weight + 0.5 * traits.bond
    if incident.churn_threat or incident.customer_status == "leaving":
        logit -= 0.8
    if incident.customer_status == "left":
        logit -= 1.8  # "stays" is "comes back": far rarer than staying (a win-back)
    # #10: each earlier failure costs more trust than the one before (bounded at four).
    repeats = min(max(incident.prior_incidents, 0), 4)
    logit -= world.repeat_trust * (0.3 * repeats + 0.05 * repeats * repeats)
    category = incident.category if incident.category in _FIX_MATCH else "other"
    if summary.fix is not None:
        # #17-#19: resolution is the biggest lever (TARP: 19% -> 54% for large losses), and more
        # so for severe failures; a partial refund resolves only partly.
        resolution = _FIX_MATCH[category][summary.fix] * (1.0 + 0.15 * (severity - 1))
        resolution *= math.sqrt(min(1.0, summary.fix_ratio))
        if incident.fault_type == FaultType.CUSTOMER:
            resolution *= 0.7
        logit += resolution
    # #12: compensation adds little with an apology and an immediate response, or with neither.
    immediate = _immediate(incident, summary)
    timing = {(True, True): 0.4, (False, False): 0.5}.get((summary.apology, immediate), 1.0)
    weight = 1.6 * _FAULT_COMPENSATION[incident.fault_type] * timing  # #8
    weight *= 0.8 + 0.4 * value_weight  # #23: best customers respond more to compensation
    weight *= world.compensation
    if incident.fault_type in (FaultType.COMPANY, FaultType.PARTNER):
        weight *= 1.0 + 0.15 * repeats  # #8: compensation counts where failures are frequent
    logit += weight * compensation_response(summary.compensation, traits)
    if summary.apology:
        # #14: r = .23 on purchase intent; #13: an apology matters most for process failures
        logit += world.interaction * (0.8 if category == "service_rudeness" else 0.4)
    if summary.contact_rank:
        # #23, #26: personal contact pays for severe failures and valued customers, and for
        # interactional failures most (#1). Senior-staff contact is "not found" in #26: that
        # an executive call over a trifle reads as odd is this simulator's assumption.
        severity_weight = 0.2 + 0.8 * (severity - 1) / 4
        effect = _contact_effect(summary.contact_rank, world) * severity_weight
        effect *= 0.3 + 0.7 * value_weight
        if category == "service_rudeness":
            effect *= 1.5
        if summary.contact_rank == 3 and severity <= 2 and not repeats:
            effect -= 0.2
        if summary.contact_rank >= 2:
            # repeat victims value seniority more (an assumption, see the module docstring)
            effect *= 1.0 + 0.4 * repeats
        if incident.customer_status == "left":
            effect *= 1.3  # someone reaching out after they left
        logit += world.interaction * effect
    if repeats and summary.contact_rank < 2:
        # failed again and no one senior: trust falls further
        logit -= world.repeat_trust * 0.2 * repeats
    if summary.expedite:
        logit += _EXPEDITE_MATCH.get(category, 0.05)  # #15, #16 matched remedy
    if summary.upgrade:
        logit += 0.3 * value_weight  # #22, #24: a relationship gesture, worth more to the loyal
    if summary.companion_gift and traits.has_companions:
        logit += 0.25
    return logit


def _contact_effect(rank: int, world: World) -> float:
    """Return the base effect of contact at `rank`, senior ranks' surplus over an agent scaled by
    the world's `seniority` (exactly the table's value in the home world)."""
    if rank < 2 or world.seniority == 1.0:
        return _CONTACT_EFFECT[rank]
    return _CONTACT_EFFECT[1] + world.seniority * (_CONTACT_EFFECT[rank] - _CONTACT_EFFECT[1])


def _stay(incident: Incident, summary: _PlanSummary, traits: HiddenTraits, world: World) -> float:
    """Return P(stay) from the plan summary and the customer's traits."""
    p = _sigmoid(_retention_logit(incident, summary, traits, world))
    return min(0.99, max(0.01, p))


def _referral_rate(
    incident: Incident, summary: _PlanSummary, traits: HiddenTraits, world: World
) -> float:
    """Return the expected referrals from the plan summary and the customer's traits."""
    # #1, #2: distributive justice drives transaction satisfaction, which drives word of mouth.
    justice = _FAULT_COMPENSATION[incident.fault_type] * max(
        0.0, compensation_response(summary.compensation, traits)
    )
    rate = world.word_of_mouth * 0.04 * math.exp(1.2 * justice + 0.15 * summary.contact_rank)
    if summary.fix is None:
        rate *= 0.5
    rate *= 0.85 ** min(max(incident.prior_incidents, 0), 4)  # a repeat victim recommends less
    if incident.is_public:
        rate *= 2.0 * _public_word_of_mouth(incident, summary, justice)
    if traits.overcompensation_averse and summary.compensation > 1.0:
        rate *= 0.5  # #4, #6
    if summary.companion_gift and traits.has_companions:
        rate *= 2.0  # an assumption: the people who shared the failure now share the gift
    return rate


def _public_word_of_mouth(incident: Incident, summary: _PlanSummary, justice: float) -> float:
    """Return how a public recovery's audience multiplies referrals: above 1 when it delights,
    below 1 when it disappoints (#20: experiences are retold, bad ones to twice as many; #1,
    #2: distributive justice drives word of mouth), more so the larger the audience."""
    reach = incident.reach if incident.reach is not None else DEFAULT_REACH
    audience = math.log10(1 + max(0, reach))
    tone = justice + 0.15 * summary.contact_rank + (0.3 if summary.fix is not None else -0.4)
    return math.exp(min(3.0, 0.45 * audience * (tone - 0.7)))


def true_response(incident: Incident, plan: Plan, world: World = HOME) -> tuple[float, float]:
    """Return the true P(stay) and expected referrals after `plan` in `world` (deterministic)."""
    summary = _summarise(plan, _loss(incident))
    traits = hidden_traits(incident, world)
    return _stay(incident, summary, traits, world), _referral_rate(incident, summary, traits, world)
