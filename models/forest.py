"""Fitted gradient-boosted trees laid flat in NumPy arrays, evaluated for all trees at once.

Why: scikit-learn's `HistGradientBoosting*.predict` walks the trees one at a time, one Cython
call per tree. On the 40-250 rows of one decision the trees themselves take microseconds, and
the 240 calls (two models of 120 trees) cost ~3-4 ms of call overhead: most of a
recommendation's scoring time (benchmarks/README.md). Here every node of every tree of both
models is one row of a few flat arrays, and all (row, tree) pairs step down their trees
together, one NumPy gather per level: ~12 levels of array operations instead of 240 calls.

Nothing is re-learned or approximated: the node tables are the fitted estimators' own
(`_predictors[i][0].nodes`), the split rule is scikit-learn's (`x <= threshold` goes left; a
NaN goes where `missing_go_to_left` says), the baseline and the inverse link are the
estimator's. `ModelScorer` checks at load that this gives the estimators' own predictions on
probe rows and otherwise keeps scikit-learn's path. Categorical splits and multi-class models
are not supported (`NotFlattenable`): the shipped pipelines one-hot encode before the trees.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

HistGradientBoosting = HistGradientBoostingClassifier | HistGradientBoostingRegressor


class NotFlattenable(ValueError):
    """The estimator uses something the flat evaluator does not implement."""


class FlatForest:
    """Several fitted boosting models' trees, evaluated together on one feature matrix.

    Layout: trees are renumbered breadth-first so that a node's right child is its left child
    plus one (the step down is `left[node] + (x > threshold)`), and ordered deepest first, so
    that after k steps only the first `active[k]` trees still have rows to move: the work is
    the sum of the trees' depths, not the deepest tree's depth times the number of trees.
    """

    def __init__(self, estimators: Sequence[HistGradientBoosting]) -> None:
        """Lay out every tree of `estimators` (each: one tree per iteration, numeric splits)."""
        trees: list[tuple[int, int, np.ndarray]] = []  # (depth, estimator, nodes)
        self._baselines: list[float] = []
        self._links = []
        for number, estimator in enumerate(estimators):
            if estimator.n_trees_per_iteration_ != 1:
                raise NotFlattenable("multi-class models have several trees per iteration")
            for (predictor,) in estimator._predictors:
                nodes = predictor.nodes
                if nodes["is_categorical"].any():
                    raise NotFlattenable("categorical splits are not supported")
                trees.append((int(nodes["depth"].max()), number, nodes))
            self._baselines.append(float(np.ravel(estimator._baseline_prediction)[0]))
            self._links.append(estimator._loss.link.inverse)
        trees.sort(key=lambda tree: -tree[0])  # stable: estimator order kept within a depth
        feature, threshold, left, missing_right, value, roots = [], [], [], [], [], []
        offset = 0
        for _, _, nodes in trees:
            order = _breadth_first(nodes)
            new_id = np.empty(len(nodes), dtype=np.int64)
            new_id[order] = np.arange(len(nodes)) + offset
            nodes = nodes[order]
            leaf = nodes["is_leaf"].astype(bool)
            own = np.arange(len(nodes), dtype=np.int64) + offset
            # A leaf points at itself and never steps right (threshold +inf): rows that reached
            # a leaf stay there while deeper rows of the same tree keep stepping.
            feature.append(np.where(leaf, 0, nodes["feature_idx"]))
            threshold.append(np.where(leaf, np.inf, nodes["num_threshold"]))
            left.append(np.where(leaf, own, new_id[np.where(leaf, 0, nodes["left"])]))
            missing_right.append(~leaf & (nodes["missing_go_to_left"] == 0))
            value.append(np.where(leaf, nodes["value"], 0.0))
            roots.append(offset)
            offset += len(nodes)
        self._feature = np.concatenate(feature).astype(np.intp)
        self._threshold = np.concatenate(threshold).astype(np.float64)
        self._left = np.concatenate(left).astype(np.intp)
        self._missing_right = np.concatenate(missing_right)
        self._value = np.concatenate(value)
        self._roots = np.asarray(roots, dtype=np.intp)
        depths = np.array([depth for depth, _, _ in trees])
        self.depth = int(depths.max(initial=0))
        # active[k]: trees deeper than k, a prefix of the deepest-first order.
        self._active = [int((depths > k).sum()) for k in range(self.depth)]
        owner = np.array([number for _, number, _ in trees], dtype=np.intp)
        self._members = [np.flatnonzero(owner == n) for n in range(len(estimators))]
        self.n_nodes = offset

    def _leaves(self, x: np.ndarray) -> np.ndarray:
        """Return the leaf each row reaches in each tree, shape (trees, rows)."""
        rows, columns = x.shape
        flat = np.ascontiguousarray(x, dtype=np.float64).ravel()
        row_start = np.arange(rows, dtype=np.intp) * columns
        node = np.repeat(self._roots[:, None], rows, axis=1)
        has_nan = bool(np.isnan(flat).any())
        for active in self._active:
            moving = node[:active]
            values = flat[row_start + self._feature[moving]]
            go_right = values > self._threshold[moving]  # NaN compares False: see below
            if has_nan:
                go_right |= np.isnan(values) & self._missing_right[moving]
            node[:active] = self._left[moving] + go_right
        return node

    def raw_predict(self, x: np.ndarray) -> list[np.ndarray]:
        """Return each estimator's raw prediction (baseline + sum of its trees' leaves)."""
        leaf_values = self._value[self._leaves(x)]
        return [
            leaf_values[members].sum(axis=0) + baseline
            for members, baseline in zip(self._members, self._baselines, strict=True)
        ]

    def predict(self, x: np.ndarray) -> list[np.ndarray]:
        """Return each estimator's prediction on the response scale (inverse link of raw).

        For a binary classifier this is P(class 1), as `predict_proba(x)[:, 1]`; for a Poisson
        regressor the expected count, as `predict(x)`.
        """
        return [
            link(raw) for link, raw in zip(self._links, self.raw_predict(x), strict=True)
        ]


def _breadth_first(nodes: np.ndarray) -> np.ndarray:
    """Return the tree's node indices breadth-first, each right child just after its left."""
    order = [0]
    for index in order:  # grows while iterating: a queue
        if not nodes["is_leaf"][index]:
            order.extend((int(nodes["left"][index]), int(nodes["right"][index])))
    return np.asarray(order, dtype=np.int64)
