"""Dotted paths into a caps document: what a sweep varies and what finance reads back.

`incident_caps.default.loss_multiple`, `contact_capacity.manager`; a number indexes a list
(`incident_caps.overrides.2.set.loss_multiple`).
"""

from __future__ import annotations

import copy
from typing import Any


def get_path(document: dict[str, Any], path: str) -> Any:
    """Return the value at the dotted `path` of `document`, or None where it is absent."""
    node: Any = document
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _child(node: Any, part: str, path: str) -> Any:
    """Step into a mapping by key or a list by index (`incident_caps.overrides.2`)."""
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise KeyError(path)


def set_path(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Return a copy of `document` with the dotted `path` (which must exist) set to `value`.

    A number in the path indexes a list: `incident_caps.overrides.2.set.loss_multiple`.

    Sweep values arrive as text; an integer field (`customer_window.days`,
    `contact_capacity.manager`) gets text that is an integer as an integer, so it validates.
    """
    parts = path.split(".")
    updated = copy.deepcopy(document)
    node: Any = updated
    for part in parts[:-1]:
        node = _child(node, part, path)
    _child(node, parts[-1], path)  # it must exist
    if isinstance(node, list):
        raise KeyError(path)  # a whole list entry (an override) is not a sweepable value
    old = node[parts[-1]]
    digits = value.strip().lstrip("-") if isinstance(value, str) else ""
    if type(old) is int and digits.isascii() and digits.isdigit():
        value = int(value)
    node[parts[-1]] = value
    return updated
