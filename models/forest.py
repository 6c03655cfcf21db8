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
probe rows and otherwise keeps scikit-learn's path. Multi-class models are not supported
(`NotFlattenable`).

Categorical splits follow scikit-learn's `_predict_from_raw_data`
(`_hist_gradient_boosting/_predictor.pyx`): an estimator fitted with `categorical_features`
first maps each categorical column's values to internal codes 0..k-1 (its own
`OrdinalEncoder`; a value not seen in training becomes NaN) and moves those columns first;
then at a categorical node, NaN or a negative code goes the missing direction, a code in the
node's `raw_left_cat_bitsets` row goes left, another known code goes right, anything else
the missing direction. Here both steps are folded into a table per categorical split, over
the input values 0..width-1 (integers) plus one entry for every other value (negative,
fractional, too large, NaN: never a training category, so the missing direction, as
scikit-learn's encoder and predictor send them). Before the walk, each distinct (input
column, table) becomes one extra 0/1 column of the rows, "goes right", and the split becomes an
ordinary numeric split of that column at 0.5: the walk itself is the same loop whether or not
there are categorical splits. The 2 x 120 trees of sim-2 have ~1,100 categorical splits but
only ~110 distinct tables, so this is one (rows x ~110) lookup per call.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

HistGradientBoosting = HistGradientBoostingClassifier | HistGradientBoostingRegressor


# Widest categorical value table: scikit-learn allows at most 255 categories per feature, but
# their values may be any non-negative integers; a sparse vocabulary wider than this is refused.
MAX_CATEGORY_VALUE = 1023
# From this many rows a prediction walks each tree with scikit-learn's compiled predictor.
COMPILED_ROWS = 1024


class NotFlattenable(ValueError):
    """The estimator uses something the flat evaluator does not implement."""


def _input_layout(estimator: HistGradientBoosting) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Return where each tree feature comes from in the input, and each categorical input's values.

    Without categorical features the trees see the input columns as they are. With them, the
    estimator's own preprocessor puts the categorical columns first, each value replaced by its
    index in `categories_` (sorted training values).
    """
    preprocessor = getattr(estimator, "_preprocessor", None)
    n_features = int(estimator.n_features_in_)
    if preprocessor is None:
        return np.arange(n_features, dtype=np.intp), {}
    is_categorical = np.asarray(estimator.is_categorical_, dtype=bool)
    slices = preprocessor.output_indices_
    if set(slices) - {"encoder", "numerical", "remainder"} or (
        slices.get("remainder", slice(0, 0)).stop != slices.get("remainder", slice(0, 0)).start
    ):
        raise NotFlattenable("an unexpected layout of the estimator's categorical preprocessor")
    source = np.empty(n_features, dtype=np.intp)
    source[slices["encoder"]] = np.flatnonzero(is_categorical)
    source[slices["numerical"]] = np.flatnonzero(~is_categorical)
    values: dict[int, np.ndarray] = {}
    encoder = preprocessor.named_transformers_["encoder"]
    for column, seen in zip(np.flatnonzero(is_categorical), encoder.categories_, strict=True):
        seen = np.asarray(seen, dtype=np.float64)
        seen = seen[~np.isnan(seen)]  # NaN is the missing value, not a category
        if ((seen < 0) | (seen != np.floor(seen)) | (seen > MAX_CATEGORY_VALUE)).any():
            raise NotFlattenable("categories must be integers from 0 to MAX_CATEGORY_VALUE")
        values[int(column)] = seen.astype(np.intp)
    return source, values


def _in_bitset(bitset: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Return which codes are set in a scikit-learn bitset row (eight 32-bit words)."""
    return ((bitset[codes // 32] >> (codes % 32).astype(np.uint32)) & 1).astype(bool)


class FlatForest:
    """Several fitted boosting models' trees, evaluated together on one feature matrix.

    Layout: trees are renumbered breadth-first so that a node's right child is its left child
    plus one (the step down is `left[node] + (x > threshold)`), and ordered deepest first, so
    that after k steps only the first `active[k]` trees still have rows to move: the work is
    the sum of the trees' depths, not the deepest tree's depth times the number of trees.
    """

    def __init__(self, estimators: Sequence[HistGradientBoosting]) -> None:
        """Lay out every tree of `estimators` (each: one tree per iteration)."""
        # (depth, estimator, nodes, categorical go-right tables per node or None, predictor)
        trees: list[tuple[int, int, np.ndarray, np.ndarray | None, object]] = []
        self._baselines: list[float] = []
        self._links = []
        for estimator in estimators:
            if estimator.n_trees_per_iteration_ != 1:
                raise NotFlattenable("multi-class models have several trees per iteration")
        layouts = [_input_layout(estimator) for estimator in estimators]
        # One table width for the forest: input values 0..width-1 can be training categories.
        width = 1 + max(
            (int(v.max(initial=-1)) for _, values in layouts for v in values.values()), default=0
        )
        self._n_inputs = max(int(estimator.n_features_in_) for estimator in estimators)
        for number, (estimator, (source, category_values)) in enumerate(
            zip(estimators, layouts, strict=True)
        ):
            known = f_idx_map = None
            if category_values:
                known, f_idx_map = estimator._bin_mapper.make_known_categories_bitsets()
            for (predictor,) in estimator._predictors:
                nodes = predictor.nodes.copy()
                tables = None
                if nodes["is_categorical"].any():
                    tables = _categorical_tables(
                        nodes,
                        predictor.raw_left_cat_bitsets,
                        (known, f_idx_map),
                        source,
                        category_values,
                        width,
                    )
                nodes["feature_idx"] = source[nodes["feature_idx"]]  # tree feature -> input
                trees.append((int(nodes["depth"].max()), number, nodes, tables, predictor))
            self._baselines.append(float(np.ravel(estimator._baseline_prediction)[0]))
            self._links.append(estimator._loss.link.inverse)
        trees.sort(key=lambda tree: -tree[0])  # stable: estimator order kept within a depth
        feature, threshold, left, missing_right, value, roots = [], [], [], [], [], []
        # distinct (input column, go-right table) of categorical splits -> extra column number
        indicators: dict[tuple[int, bytes], int] = {}
        indicator_source, indicator_table = [], []
        offset = 0
        for _, _, nodes, tree_tables, _ in trees:
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
            if tree_tables is not None:
                tree_tables = tree_tables[order]
                for index in np.flatnonzero(~leaf & (nodes["is_categorical"] == 1)):
                    column = int(nodes["feature_idx"][index])
                    key = (column, tree_tables[index].tobytes())
                    if key not in indicators:
                        indicators[key] = len(indicators)
                        indicator_source.append(column)
                        indicator_table.append(tree_tables[index])
                    # "goes right" is 1.0 in the indicator column, which is never NaN
                    feature[-1][index] = self._n_inputs + indicators[key]
                    threshold[-1][index] = 0.5
                    missing_right[-1][index] = False
            roots.append(offset)
            offset += len(nodes)
        self._feature = np.concatenate(feature).astype(np.intp)
        self._threshold = np.concatenate(threshold).astype(np.float64)
        self._left = np.concatenate(left).astype(np.intp)
        self._missing_right = np.concatenate(missing_right)
        self._value = np.concatenate(value)
        self._roots = np.asarray(roots, dtype=np.intp)
        # Categorical splits: indicator column k is `_indicator_table[k, value]`, value read
        # from input column `_indicator_source[k]`; a value outside 0..width-1 reads entry
        # `width`, the split's missing direction.
        self._width = width
        self._indicator_source = np.asarray(indicator_source, dtype=np.intp)
        self._indicator_table = (
            np.asarray(indicator_table, dtype=np.float64)
            if indicator_table
            else np.empty((0, width + 1))
        )
        depths = np.array([tree[0] for tree in trees])
        self.depth = int(depths.max(initial=0))
        # active[k]: trees deeper than k, a prefix of the deepest-first order.
        self._active = [int((depths > k).sum()) for k in range(self.depth)]
        owner = np.array([tree[1] for tree in trees], dtype=np.intp)
        self._members = [np.flatnonzero(owner == n) for n in range(len(estimators))]
        self.n_nodes = offset
        # For large batches: each tree in this order walked by scikit-learn's own compiled
        # predictor (`compiled_from`), once `check_compiled` has found it gives these leaves.
        self._estimators = list(estimators)
        self._predictors = [(tree[1], tree[4]) for tree in trees]
        self.compiled = False

    def _with_indicators(self, x: np.ndarray) -> np.ndarray:
        """Return the rows with one "goes right" column per distinct categorical split."""
        if not len(self._indicator_source):
            return x
        code = x[:, self._indicator_source]
        # NaN, negative, fractional or too large: never a training category, the missing way.
        inside = (code >= 0) & (code < self._width) & (code == np.floor(code))
        index = np.where(inside, code, self._width).astype(np.intp)
        columns = np.arange(len(self._indicator_source))
        return np.hstack([x[:, : self._n_inputs], self._indicator_table[columns, index]])

    def _leaves(self, x: np.ndarray) -> np.ndarray:
        """Return the leaf each row reaches in each tree, shape (trees, rows)."""
        x = self._with_indicators(x)
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

    def _compiled_values(self, x: np.ndarray) -> np.ndarray:
        """Return each tree's leaf value per row, shape (trees, rows), every tree walked over
        all rows by scikit-learn's compiled predictor (one thread)."""
        inputs = []
        for estimator in self._estimators:
            known, f_idx_map = estimator._bin_mapper.make_known_categories_bitsets()
            inputs.append((estimator._preprocess_X(x, reset=False), known, f_idx_map))
        values = np.empty((len(self._predictors), len(x)))
        for tree, (number, predictor) in enumerate(self._predictors):
            encoded, known, f_idx_map = inputs[number]
            values[tree] = predictor.predict(encoded, known, f_idx_map, 1)  # type: ignore[attr-defined]
        return values

    def check_compiled(self, probe: np.ndarray) -> bool:
        """Use the compiled walk for large batches if it reaches exactly this layout's leaves
        on `probe` (every code, an unknown one, varied numbers); return whether it does."""
        try:
            same = np.array_equal(
                self._compiled_values(probe), self._value[self._leaves(probe)], equal_nan=True
            )
        except (AttributeError, TypeError, ValueError):  # a scikit-learn without these internals
            same = False
        self.compiled = bool(same)
        return self.compiled

    def raw_predict(self, x: np.ndarray) -> list[np.ndarray]:
        """Return each estimator's raw prediction (baseline + sum of its trees' leaves).

        The leaves are the same whichever walk finds them; the sums are taken in the same
        order, tree by tree, so a row's prediction is the same bits in a batch of any size. A
        single row is walked as two copies of itself: numpy would sum one row's column
        pairwise, and offline evaluation batches decisions of one plan with the others
        (`ModelScorer.predict_many`). The NumPy walk steps every (row,
        tree) pair down together, one gather per level: fast for one decision's rows, slow once
        the rows outgrow the cache; from `COMPILED_ROWS` rows (a what-if's chunk of incidents)
        each tree is walked by scikit-learn's compiled predictor, ~2x less CPU per row
        (benchmarks/README.md, issue 26).
        """
        if len(x) == 1:
            return [raw[:1] for raw in self.raw_predict(np.repeat(x, 2, axis=0))]
        if self.compiled and len(x) >= COMPILED_ROWS:
            leaf_values = self._compiled_values(x)
        else:
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
        return self.response(self.raw_predict(x))

    def response(self, raw: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Return each estimator's inverse link of its raw prediction (`raw_predict` order).

        Apart from `predict` so that a caller may use the raw score too: the retention
        model's calibration step maps the raw score (models/calibration.py).
        """
        return [link(r) for link, r in zip(self._links, raw, strict=True)]


def _categorical_tables(
    nodes: np.ndarray,
    raw_left_cat_bitsets: np.ndarray,
    known: tuple[np.ndarray, np.ndarray],
    source: np.ndarray,
    category_values: dict[int, np.ndarray],
    width: int,
) -> np.ndarray:
    """Return, per node of one tree, whether input values 0..width-1, then any other, go right.

    Only the rows of categorical split nodes mean anything. A value that is one of the
    column's training categories becomes that category's internal code; the code goes left if
    the node's left bitset holds it, right if it is a known category of the feature, else the
    missing way. Every other value (the last entry stands for those outside 0..width-1) goes
    the missing way. `known` is the estimator's `make_known_categories_bitsets()`.
    """
    known_cat_bitsets, f_idx_map = known
    missing_right = nodes["missing_go_to_left"] == 0
    go_right = np.repeat(missing_right[:, None], width + 1, axis=1)
    for index in np.flatnonzero(nodes["is_categorical"] & ~nodes["is_leaf"].astype(bool)):
        feature = int(nodes["feature_idx"][index])
        seen = category_values[int(source[feature])]
        codes = np.arange(len(seen))
        left = _in_bitset(raw_left_cat_bitsets[nodes["bitset_idx"][index]], codes)
        is_known = _in_bitset(known_cat_bitsets[f_idx_map[feature]], codes)
        go_right[index, seen] = np.where(
            left, False, np.where(is_known, True, missing_right[index])
        )
    return go_right


def _breadth_first(nodes: np.ndarray) -> np.ndarray:
    """Return the tree's node indices breadth-first, each right child just after its left."""
    order = [0]
    for index in order:  # grows while iterating: a queue
        if not nodes["is_leaf"][index]:
            order.extend((int(nodes["left"][index]), int(nodes["right"][index])))
    return np.asarray(order, dtype=np.int64)
