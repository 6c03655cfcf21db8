"""Babel extractor for catalog documents: each item's English label is a message id.

Named in babel.cfg (`[extractors]`), so `pybabel extract` and tests/test_i18n.py find the labels
of catalog/default_catalog.yaml beside the messages in the code.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import yaml


def extract_labels(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any] | Collection[str],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Yield (line, funcname, message, comments) for every item's English label."""
    root = yaml.compose(fileobj.read().decode(options.get("encoding", "utf-8")))
    items = _value(root, "items")
    for item in getattr(items, "value", None) or []:
        label = _value(_value(item, "labels"), "en")
        if isinstance(label, yaml.ScalarNode) and label.value:
            item_id = _value(item, "id")
            note = f"catalog item {item_id.value}" if item_id is not None else "catalog item"
            yield label.start_mark.line + 1, None, label.value, [note]


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value node of `key` in a mapping node (None when absent or not a mapping)."""
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((v for k, v in node.value if getattr(k, "value", None) == key), None)
