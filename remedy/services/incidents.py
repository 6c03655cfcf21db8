"""An incident in the catalog's words: its category normalised to the closed vocabulary.

The rules, the items' fit, the stored decision and the reports all see the canonical category
(catalog/vocabulary.py), so "shipping" is delivery everywhere and an unknown word is refused
before anything is decided or written.
"""

from __future__ import annotations

import dataclasses

from catalog.items import Catalog
from catalog.vocabulary import UnknownCategory
from remedy.domain import Incident
from remedy.errors import InvalidInput


def canonical_incident(catalog: Catalog, incident: Incident) -> Incident:
    """Return `incident` with its category's canonical name; InvalidInput (422, naming
    `incident.category` and the known categories) when the catalog does not know it."""
    try:
        category = catalog.vocabulary.canonical(incident.category)
    except UnknownCategory as error:
        message = f"unknown category {error.category!r}; known categories: {', '.join(error.known)}"
        raise InvalidInput(message, {"incident.category": [message]}) from None
    if category == incident.category:
        return incident
    return dataclasses.replace(incident, category=category)
