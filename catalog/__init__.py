"""The remedy catalog, the rules and the caps: data files, their schemas and their loaders."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml


def read_default(name: str) -> dict[str, Any]:
    """Read one of the bundled default documents: 'catalog', 'rules' or 'caps'."""
    text = resources.files("catalog").joinpath(f"default_{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)
