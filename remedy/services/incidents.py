"""An incident in the catalog's words: its category and touchpoint in their closed vocabularies.

The rules, the items' fit, the stored decision and the reports all see the canonical category
(catalog/vocabulary.py), so "shipping" is delivery everywhere and an unknown word is refused
before anything is decided or written.
"""

from __future__ import annotations

import dataclasses

from catalog.items import Catalog
from catalog.vocabulary import UnknownTerm
from remedy.domain import Incident
from remedy.errors import InvalidInput


def canonical_incident(catalog: Catalog, incident: Incident) -> Incident:
    """Return `incident` with its category's and touchpoint's canonical names; InvalidInput
    (422, naming `incident.category` or `incident.touchpoint` and the known words) when the
    catalog does not know one."""
    errors: dict[str, list[str]] = {}
    category, touchpoint = incident.category, incident.touchpoint
    try:
        category = catalog.vocabulary.canonical(incident.category)
    except UnknownTerm as error:
        message = f"unknown category {error.word!r}; known categories: {', '.join(error.known)}"
        errors["incident.category"] = [message]
    if touchpoint is not None:
        try:
            touchpoint = catalog.touchpoints.canonical(touchpoint)
        except UnknownTerm as error:
            known = ", ".join(error.known)
            errors["incident.touchpoint"] = [
                f"unknown touchpoint {error.word!r}; known touchpoints: {known}"
            ]
    if errors:
        raise InvalidInput("; ".join(m for ms in errors.values() for m in ms), errors)
    if (category, touchpoint) == (incident.category, incident.touchpoint):
        return incident
    return dataclasses.replace(incident, category=category, touchpoint=touchpoint)
