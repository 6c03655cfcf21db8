"""Which part of the caps document governs each slice of incidents, and which term binds.

Overrides replace the default terms for the incidents they match (later overrides win), so a
default value may govern almost nothing: sweeping it then changes nothing. Finance needs to see,
per severity and fault type, where each term comes from (the default or override n) and, over
logged incidents, which of the three terms set the cap. Pure Python over `CapSettings`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from remedy.decisions.caps import CapSettings
from remedy.domain import FaultType, Incident

SEVERITIES = (1, 2, 3, 4, 5)
FAULTS = tuple(f.value for f in FaultType)
TERMS = ("loss_multiple", "value_share", "absolute")
DEFAULT = "incident_caps.default"


@dataclass(frozen=True)
class TermSource:
    """A term's value in a slice and the caps-document path it comes from."""

    value: Decimal
    path: str  # e.g. "incident_caps.overrides.2.set.loss_multiple"

    @property
    def source(self) -> str:
        """'default' or 'override n' (n counted from 0, as in the document's list)."""
        if self.path.startswith(DEFAULT):
            return "default"
        return f"override {self.path.split('.')[2]}"


@dataclass
class Slice:
    """One severity and fault type: matching overrides, term sources, what bound the cap."""

    severity: int
    fault_type: str
    overrides: tuple[int, ...]
    terms: dict[str, TermSource]  # loss_multiple, value_share
    absolute: dict[str, TermSource]  # per currency
    incidents: int = 0
    binding: Counter[str] = field(default_factory=Counter)

    def governs(self, path: str) -> bool:
        """Tell whether the document field at `path` sets a term of this slice."""
        sources = [*self.terms.values(), *self.absolute.values()]
        return any(source.path == path for source in sources)

    def as_dict(self) -> dict[str, Any]:
        """Serialise with decimal strings."""

        def term(source: TermSource) -> dict[str, str]:
            return {"value": str(source.value), "source": source.source, "path": source.path}

        return {
            "severity": self.severity,
            "fault_type": self.fault_type,
            "overrides": list(self.overrides),
            "loss_multiple": term(self.terms["loss_multiple"]),
            "value_share": term(self.terms["value_share"]),
            "absolute": {c: term(s) for c, s in sorted(self.absolute.items())},
            "incidents": self.incidents,
            "binding": {t: self.binding.get(t, 0) for t in TERMS},
        }


def _matches(when: dict[str, Any], severity: int, fault_type: str) -> bool:
    """Tell whether an override's `when` holds for the slice (as CapSettings.terms_for)."""
    if "severity" in when and severity not in when["severity"]:
        return False
    return not ("fault_type" in when and fault_type not in when["fault_type"])


def slice_of(caps: CapSettings, severity: int, fault_type: str) -> Slice:
    """Resolve where every term of one slice comes from."""
    terms = {
        name: TermSource(caps.default[name], f"{DEFAULT}.{name}")
        for name in ("loss_multiple", "value_share")
    }
    absolute = {
        currency: TermSource(amount, f"{DEFAULT}.absolute.{currency}")
        for currency, amount in caps.default["absolute"].items()
    }
    matching = []
    for index, override in enumerate(caps.overrides):
        if not _matches(override["when"], severity, fault_type):
            continue
        matching.append(index)
        base = f"incident_caps.overrides.{index}.set"
        for name, value in override["set"].items():
            if name == "absolute":
                for currency, amount in value.items():
                    absolute[currency] = TermSource(amount, f"{base}.absolute.{currency}")
            else:
                terms[name] = TermSource(value, f"{base}.{name}")
    return Slice(severity, fault_type, tuple(matching), terms, absolute)


def governing(caps: CapSettings, incidents: Iterable[Incident] = ()) -> list[Slice]:
    """Every slice (severity x fault type) with its term sources; with `incidents`, how many
    fall in each slice and which term set their cap (incidents in currencies without caps are
    left out: they get no plan)."""
    slices = {(s, f): slice_of(caps, s, f) for s in SEVERITIES for f in FAULTS}
    for incident in incidents:
        if not caps.supports(incident.currency):
            continue
        found = slices[(incident.severity, str(incident.fault_type))]
        found.incidents += 1
        found.binding[caps.incident_cap(incident).binding] += 1
    return list(slices.values())


def reach(slices: Iterable[Slice], path: str) -> list[Slice]:
    """The slices whose cap the document field at `path` sets."""
    return [s for s in slices if s.governs(path)]
