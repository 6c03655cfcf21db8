"""The default catalog, rules and caps as data files; the catalog's item model and the checks
every loader shares. The rules and caps loaders live beside the pipeline that uses them
(`remedy/decisions/rules.py`, `remedy/decisions/caps.py`)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def read_default(name: str) -> dict[str, Any]:
    """Read one of the bundled default documents: 'catalog', 'rules' or 'caps'."""
    text = resources.files("catalog").joinpath(f"default_{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)
