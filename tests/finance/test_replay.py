"""The replay's pure parts: dotted paths and pool fallback."""

from __future__ import annotations

from decimal import Decimal

import pytest

from remedy.finance.replay import PoolLimit, pool_for, set_path


def test_set_path_copies_and_sets():
    """A copy is changed, the original is not."""
    document = {"a": {"b": "1"}}
    assert set_path(document, "a.b", "2") == {"a": {"b": "2"}}
    assert document == {"a": {"b": "1"}}


@pytest.mark.parametrize("path", ["a.c", "x", "a.b.c"])
def test_set_path_refuses_unknown_paths(path):
    """Only fields that exist may be swept."""
    with pytest.raises(KeyError):
        set_path({"a": {"b": "1"}}, path, "2")


def test_pool_for_falls_back_to_default():
    """A team without a pool spends from the default team's."""
    limit = PoolLimit("month", Decimal(10))
    assert pool_for({("default", "EUR"): limit}, "emea", "EUR") == ("default", limit)
    assert pool_for({("default", "EUR"): limit}, "emea", "USD") is None
