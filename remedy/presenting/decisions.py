"""A stored decision as one reader reads it: the data, and its facts said in their language.

Labels, reasons, notes, dropped plans' and excluded items' reasons are said in the reader's
language (`Accept-Language` on the API, the console's and panel's own setting; the customer's
language when the reader asks for none); the talking points, which the agent says to the
customer, in the customer's. Finance (and admins) read the internal numbers too (pacing's
shadow price, P(stay), exploration's probability); agents and leads read plain words. Each said
list has its data beside it (`*_codes`: the facts as stored), so a tool can act on the code.

Only what the answer returns is said: the plans shown, the dropped plans above them, the notes
and the excluded items, never the dozens of candidates behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remedy.decisions.record import DecisionRecord, ShownAction, ShownPlan, StoredCandidate
from remedy.decisions.stored import incident_to_json
from remedy.facts import Fact, fact
from remedy.moments import to_utc
from remedy.presenting.presenter import Presenter


@dataclass(frozen=True)
class Reader:
    """Who reads a decision: their locale (None: the customer's) and whether they see finance's
    numbers."""

    locale: str | None = None
    finance: bool = False


def presenters(record: DecisionRecord, reader: Reader) -> tuple[Presenter, Presenter]:
    """The reader's presenter and the customer's (for talking points), with the decision's
    item labels."""
    labels = {item_id: item.labels for item_id, item in record.priced_items.items()}
    customer_locale = record.incident.locale
    said_to_reader = Presenter(
        reader.locale or customer_locale, finance=reader.finance, labels=labels
    )
    said_to_customer = Presenter(customer_locale, finance=reader.finance, labels=labels)
    return said_to_reader, said_to_customer


def present_decision(
    decision: Any, reader: Reader, approval: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The answer for a stored decision row (`remedy.store.tables.Decision`), as `reader`
    reads it; `approval` is where its approval stands, if it needed one."""
    record = DecisionRecord.of(decision)
    say, say_to_customer = presenters(record, reader)
    notes = list(record.notes)
    if record.version >= 5 and say_to_customer.fallback:  # older records said it themselves
        notes.insert(0, fact("no_catalog", language=say_to_customer.m.requested))
    dropped = record.dropped_above_shown()
    return {
        "id": decision.id,
        "created_at": to_utc(decision.created_at),
        "status": decision.status,
        "incident": incident_to_json(record.incident),
        "team": decision.team,
        "currency": decision.currency,
        "language": say.language,
        "plans": [_plan(p, say, say_to_customer) for p in record.shown_plans()],
        "dropped": [_dropped(c, say) for c in dropped],
        "candidates_considered": len(record.candidates),
        "caps": record.cap,
        "fired_rules": record.fired_rules,
        "excluded_items": {k: say.say(v) or "" for k, v in record.excluded_items.items()},
        "excluded_codes": {k: v.to_json() for k, v in record.excluded_items.items()},
        **_said("notes", "note_codes", notes, say),
        "versions": {
            "catalog": str(decision.catalog_version),
            "rules": str(decision.rules_version),
            "caps": str(decision.caps_version),
            "model": decision.model_version,
        },
        "propensity": decision.propensity,
        "approval": approval,
    }


def _said(words: str, codes: str, facts: list[Fact], say: Presenter) -> dict[str, list[Any]]:
    """The facts this reader reads (finance's numbers are finance's alone), said once, beside
    their data: {words: [...], codes: [...]}."""
    pairs = [(f, text) for f in facts if (text := say.say(f)) is not None]
    return {words: [text for _, text in pairs], codes: [f.to_json() for f, _ in pairs]}


def _plan(plan: ShownPlan, say: Presenter, say_to_customer: Presenter) -> dict[str, Any]:
    """One shown plan: its data, its reasons for the reader, its talking points for the
    customer."""
    candidate = plan.candidate
    actions = {a.item_id: _action(a, say) for a in plan.actions}
    return {
        "plan_id": candidate.plan_id,
        "rank": plan.rank,
        "actions": list(actions.values()),
        "fix": [actions[a.item_id] for a in plan.fix],
        "overdelivery": [actions[a.item_id] for a in plan.overdelivery],
        "generous": plan.generous,
        "currency": plan.currency,
        "fix_cost": plan.fix_cost,
        "total_cost": candidate.total_cost,
        "total_value": candidate.total_value,
        "expected_net_value": candidate.expected_net_value,
        "p_stay": str(candidate.p_stay),
        "expected_referrals": str(candidate.referrals),
        "requires_approval": candidate.requires_approval,
        "approver": candidate.approver,
        **_said("reasons", "reason_codes", plan.presentation.reasons, say),
        "rules": plan.rules,
        "blocked_by": _blocked(candidate.blocked_by, say),
        "talking_points": _talking_points(plan.presentation.talking_points, say_to_customer),
    }


def _blocked(blocked: dict[str, Any] | None, say: Presenter) -> dict[str, Any] | None:
    """The limit that blocked every other plan, who can lift it and how (words and data)."""
    if not blocked:
        return None
    how = Fact.from_json(blocked["how"])
    return {
        "limit": blocked["limit"],
        "who": blocked["who"],
        "how": say.say(how),
        "how_code": how.to_json(),
    }


def _action(action: ShownAction, say: Presenter) -> dict[str, Any]:
    """One action of a plan, labelled in the reader's language."""
    item = action.item
    return {
        "item_id": action.item_id,
        "kind": str(item.kind),
        "level": item.level,
        "label": say.label(action.item_id),
        "value": item.value,
        "cost": item.cost,
        "requires_approval": item.requires_approval,
        "part": str(action.part),
        "audience": item.audience,
    }


def _dropped(candidate: StoredCandidate, say: Presenter) -> dict[str, Any]:
    """A better-ranked plan the guardrails removed, with why, in the reader's language."""
    reason = candidate.dropped_reason
    return {
        "plan_id": candidate.plan_id,
        "total_cost": candidate.total_cost,
        "expected_net_value": candidate.expected_net_value,
        "reason": say.say(reason) if reason is not None else None,
        "reason_code": reason.to_json() if reason is not None else None,
        "dropped_by": str(candidate.dropped_by) if candidate.dropped_by else None,
    }


def _talking_points(stored: dict[str, Any], say: Presenter) -> dict[str, Any] | None:
    """The talking points in the customer's language (records 1-4 kept them as words)."""
    if not stored:
        return None
    points = stored.get("points", [])
    return {
        "language": say.language if _is_data(points) else stored.get("language", say.language),
        "respond_within": stored.get("respond_within"),
        "fix_within": stored.get("fix_within"),
        # Absolute times counted from reported_at (absent before they were recorded).
        "respond_by": stored.get("respond_by"),
        "fix_by": stored.get("fix_by"),
        "points": say.say_all(points),
    }


def _is_data(points: list[Fact]) -> bool:
    """Whether talking points were stored as facts (record version 5 on)."""
    return any(p.code != "text" for p in points)
