"""Say when a what-if or a sweep changes nothing, and why, in words finance can act on.

The usual reason is that the changed field governs no slice the replayed incidents fall in
(an override replaces the default for every one of them), or that it governs them but another
term of the cap is always lower, so it never sets the cap. Pure Python over replay reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from remedy.decisions.caps import CapSettings
from remedy.decisions.governing import Slice, governing, reach
from remedy.domain import Incident

# What a sweep point reports besides its value: enough to tell every setting's effect apart.
POINT_FIELDS = (
    "chosen",
    "no_plan",
    "spend",
    "expected_net_value",
    "expected_retention",
    "capped_share",
    "approvals_needed",
    "skipped_for_budget",
    "skipped_for_pool",
    "skipped_for_fix_line",
    "skipped_for_overdelivery_line",
    "skipped_for_customer_window",
    "skipped_for_contact_capacity",
)


def curve_point(value: Any, report: dict[str, Any]) -> dict[str, Any]:
    """One sweep point: the value and what the replay under it gave."""
    return {"value": str(value), **{name: report[name] for name in POINT_FIELDS}}


def _same(reports: Sequence[dict[str, Any]]) -> bool:
    """Tell whether every report gave the same result (values aside)."""
    first = {k: reports[0][k] for k in POINT_FIELDS}
    return all({k: r[k] for k in POINT_FIELDS} == first for r in reports[1:])


def _slice_name(found: Slice) -> str:
    """'severity 4 company'."""
    return f"severity {found.severity} {found.fault_type}"


def _source(found: Slice, path: str) -> str | None:
    """Where the slice takes the term that `path` names ('default', 'override n'), if any."""
    last = path.rsplit(".", 1)[1]
    term = found.absolute.get(last) if ".absolute." in path else found.terms.get(last)
    return term.source if term else None


def why_unchanged(path: str, caps: CapSettings, incidents: Sequence[Incident]) -> str:
    """Explain why changing the caps field at `path` changed nothing over `incidents`."""
    if not incidents:
        return "No decisions were logged in the range, so no setting can change anything."
    if not path.startswith("incident_caps."):
        if path.startswith(("approval_threshold.", "approvals.")):
            return (
                f"No chosen plan's cost crosses {path} at any value swept, so the same plans "
                "need approval."
            )
        return f"None of the {len(incidents)} replayed decisions came up against {path}."
    used = [s for s in governing(caps, incidents) if s.incidents]
    governed = reach(used, path)
    if not governed:
        sources = sorted(
            {f"{_slice_name(s)} by {_source(s, path)}" for s in used if _source(s, path)}
        )
        where = "; ".join(sources) if sources else ", ".join(_slice_name(s) for s in used)
        return (
            f"{path} is overridden in every slice the {len(incidents)} replayed decisions fall "
            f"in ({where}): change the override instead."
        )
    term = "absolute" if ".absolute." in path else path.rsplit(".", 1)[1]
    count = sum(s.incidents for s in governed)
    bound = sum(s.binding.get(term, 0) for s in governed)
    if bound == 0:
        others = {
            t: sum(s.binding.get(t, 0) for s in governed)
            for t in ("loss_multiple", "value_share", "absolute")
        }
        lower = ", ".join(f"{t} {n}" for t, n in others.items() if n)
        return (
            f"{path} governs {count} replayed decision(s) but set the cap of none of them "
            f"(today the cap was set by {lower}): another term is always lower."
        )
    return (
        f"{path} sets the cap of {bound} of the {count} replayed decision(s) it governs, but "
        "the best plan kept did not change at any value: the cap was not what limited them."
    )


def notes_for(
    result: dict[str, Any],
    proposed_caps: CapSettings,
    current_caps_document: dict[str, Any],
    incidents: Sequence[Incident],
    pools_proposed: bool = False,
) -> list[str]:
    """The notes a what-if answer carries: what changed nothing, and why."""
    notes: list[str] = []
    current, proposed = result["current"], result["proposed"]
    if not current["decisions"]:
        return ["No decisions were logged in the range: choose another range to replay."]
    changed_caps = proposed_caps.document != current_caps_document
    if changed_caps and _same([current, proposed]):
        paths = _changed_paths(current_caps_document, proposed_caps.document)
        notes.append(
            "The proposed settings give the same result as the current ones over these "
            f"{current['decisions']} decision(s)."
        )
        notes += [why_unchanged(p, proposed_caps, incidents) for p in paths[:3]]
    if pools_proposed and not changed_caps and _same([current, proposed]):
        notes.append(
            "The proposed pools give the same result as today's: no replayed plan came up "
            "against a pool's limit either way."
        )
    sweep = result.get("sweep")
    if sweep and len(sweep["curve"]) > 1 and _same(sweep["curve"]):
        notes.append(f"Every value of {sweep['path']} gives the same result.")
        notes.append(why_unchanged(sweep["path"], proposed_caps, incidents))
    return notes


def _changed_paths(old: Any, new: Any, prefix: str = "") -> list[str]:
    """The dotted paths where two documents differ (version and effective_at aside)."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths = []
        for key in sorted(set(old) | set(new), key=str):
            if not prefix and key in ("version", "effective_at"):
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            paths += _changed_paths(old.get(key), new.get(key), path)
        return paths
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            p
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for p in _changed_paths(a, b, f"{prefix}.{i}")
        ]
    return [] if str(old) == str(new) else [prefix]
