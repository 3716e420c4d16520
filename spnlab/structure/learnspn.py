"""LearnSPN (Gens and Domingos, 2013) as a sequence of recorded, steppable decisions.

A *slice* is a set of rows and columns of the training data. Learning starts with one slice
(all rows, all columns) and takes one pending slice per step, breadth first:

1. one column: a univariate leaf (Laplace-smoothed categorical);
2. fewer than `min_instances_slice` rows: a leaf over its columns, fully factorised or a
   Chow-Liu tree (`leaves="chow_liu"`, LearnSPN with CLT leaves, Vergari et al. 2015);
3. a *variable split*: the pairwise independence test (G-test p-value below `threshold` means
   dependent; or RDC above `threshold`) gives a dependency graph; if it has several connected
   components, a product over them (same rows, disjoint columns);
4. otherwise an *instance split*: the rows are clustered ("kmeans" or "em", `num_clusters`) and
   a sum over the clusters weighted by their sizes (same columns); when the rows do not split
   (identical rows, one cluster), a factorised leaf.

After every step the structure is a valid SPN: pending slices count as fully factorised leaves
fitted on their rows, so `log_likelihood` can be followed step by step.

    learner = LearnSPN(train, min_instances_slice=200)
    for decision in learner.steps():
        print(decision.kind, decision.reason, learner.log_likelihood(valid).mean())
    root = learner.graph()                  # an spnlab.graph node graph
"""
import hashlib
import threading
from collections import deque
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from spnlab._args import check_number
from spnlab.graph._checks import check_positive_int, is_int
from spnlab.structure.blocks import (ChowLiuLeaf, FactorizedLeaf, NormalFactorizedLeaf,
                                     ProductBlock, SumBlock, to_graph)
from spnlab.structure.chow_liu import fit_chow_liu
from spnlab.structure.clustering import CLUSTERINGS, cluster_rows
from spnlab.structure.data import (check_continuous_data, check_discrete_data,
                                   values_per_variable)
from spnlab.structure.independence import dependency_components, g_test, rdc

LEAVES = ("factorized", "chow_liu")
INDEPENDENCE_TESTS = ("g_test", "rdc")
DATA_TYPES = ("discrete", "continuous")


class Decision(NamedTuple):
    """One step of a structure learner.

    Attributes:
        step: 1, 2, ... in the order taken.
        slice_id: the slice decided (0 is the root slice).
        parent_id: the slice it came from (None for the root).
        rows: `[n]` row indices of the training data in the slice.
        cols: the column positions of the slice (tuple of ints).
        kind: "product" (variable split), "sum" (instance split) or "leaf".
        reason: one sentence saying why, with the numbers.
        children: the new pending slices' ids (empty for a leaf).
        details: the evidence: for a product `statistic` `[n_cols, n_cols]`, `p_values` (G-test),
            `dependent` (bool matrix), `components` (lists of columns); for a sum `labels [n]`,
            `sizes`, `weights`, `centers [clusters, n_cols]` (mean value per cluster); for a
            leaf `leaf` ("factorized" / "chow_liu") and `probabilities [n_cols, K]` or `tree`;
            a failed variable split before a sum is kept under the same keys.
    """

    step: int
    slice_id: int
    parent_id: object
    rows: np.ndarray
    cols: tuple
    kind: str
    reason: str
    children: tuple
    details: dict


class _Slice:
    __slots__ = ("id", "parent_id", "rows", "cols", "kind", "children", "weights", "leaf",
                 "_pending_leaf")

    def __init__(self, slice_id, parent_id, rows, cols):
        self.id, self.parent_id, self.rows, self.cols = slice_id, parent_id, rows, tuple(cols)
        self.kind, self.children, self.weights, self.leaf = "pending", (), None, None
        self._pending_leaf = None


def _check_choice(value, choices, arg):
    if value not in choices:
        raise ValueError(f"Expected `{arg}` to be one of {choices}. Received: {arg}={value!r}")
    return value


class LearnSPN:
    """A LearnSPN run over int data `[rows, num_vars]`, taken one decision at a time.

    Args:
        data: training data: int values `0..num_vals-1`, or real values (continuous).
        data_type: "discrete" (categorical leaves; fractional values are an error, never
            guessed to mean continuous data) or "continuous" (normal leaves; RDC splits,
            k-means on the standardised slice).
        num_vals: values per variable (default: the largest value + 1, at least 2).
        min_instances_slice: slices with fewer rows become leaves.
        threshold: G-test p-value below which a pair is dependent (default 0.001), or the RDC
            value above which it is (default 0.3 with `independence="rdc"`).
        independence: "g_test" (discrete data) or "rdc".
        clustering: "kmeans" or "em"; `num_clusters`: clusters per instance split.
        leaves: "factorized" or "chow_liu" (slices below `min_instances_slice`).
        alpha: Laplace smoothing of the leaves' counts.
        seed: seeds the clustering; equal arguments give equal structures.
        min_scale: smallest scale of the normal leaves (continuous data).
        variables: names (or `Variable`s) of the columns for the node graph.
    """

    def __init__(self, data, num_vals=None, min_instances_slice=200, threshold=None,
                 independence=None, clustering="kmeans", num_clusters=2,
                 leaves="factorized", alpha=1.0, seed=0, variables=None, data_type="discrete",
                 min_scale=1e-3):
        self.data_type = _check_choice(data_type, DATA_TYPES, "data_type")
        self.continuous = data_type == "continuous"
        if independence is None:
            independence = "rdc" if self.continuous else "g_test"
        self.independence = _check_choice(independence, INDEPENDENCE_TESTS, "independence")
        if self.continuous:
            self.data = check_continuous_data(data, "data")
            self.num_vals = None
            for arg, value, allowed in (("independence", independence, "rdc"),
                                        ("clustering", clustering, "kmeans"),
                                        ("leaves", leaves, "factorized")):
                if value != allowed:
                    raise ValueError(f"Expected `{arg}={allowed!r}` for continuous data. "
                                     f"Received: {arg}={value!r}")
        else:
            self.data = check_discrete_data(data, "data")
            self.num_vals = values_per_variable(self.data, num_vals)
        self.min_scale = check_number("min_scale", min_scale, 0.0, low_open=True)
        self.min_instances_slice = check_positive_int(min_instances_slice, "min_instances_slice")
        if threshold is None:
            threshold = 0.001 if independence == "g_test" else 0.3
        self.threshold = check_number("threshold", threshold, 0.0, 1.0)
        self.clustering = _check_choice(clustering, CLUSTERINGS, "clustering")
        self.num_clusters = check_positive_int(num_clusters, "num_clusters")
        if self.num_clusters < 2:
            raise ValueError(f"Expected `num_clusters` >= 2. Received: num_clusters="
                             f"{num_clusters}")
        self.leaves = _check_choice(leaves, LEAVES, "leaves")
        self.alpha = check_number("alpha", alpha, 0.0, low_open=True)
        if not is_int(seed):
            raise TypeError(f"Expected `seed` to be an int. Received: seed={seed!r}")
        self.seed = int(seed)
        self.variables = variables
        self.num_vars = self.data.shape[1]
        self._rng = np.random.default_rng(self.seed)
        root = _Slice(0, None, np.arange(len(self.data)), range(self.num_vars))
        self._slices = [root]
        self._queue = deque([root])
        self.decisions = []
        self._ll_cache = (None, {})             # (data key, {slice id: [rows] log-values})
        self._prepared = None                   # (queue head, its decision) computed ahead
        self._prepare_lock = threading.Lock()

    # --- stepping ---------------------------------------------------------------------------

    @property
    def done(self):
        return not self._queue

    @property
    def pending(self):
        """The slices still to decide, as `(slice_id, rows, cols)` in the order they will be."""
        return [(s.id, s.rows, s.cols) for s in self._queue]

    def prepare(self):
        """Compute the next decision without taking it (the expensive part of a step: the
        test and the clustering), so that the following `step()` only applies it. A UI calls
        this on a background thread while the user looks at the last step; the decision is
        the same as without preparing (the slices are decided in the same order)."""
        with self._prepare_lock:
            if self._queue and (self._prepared is None or self._prepared[0] is not self._queue[0]):
                head = self._queue[0]
                self._prepared = (head, self._decide(head))

    def step(self):
        """Decide the next pending slice; returns its `Decision` (None when done)."""
        if not self._queue:
            return None
        self.prepare()
        with self._prepare_lock:               # a prepare() on another thread waits
            return self._apply()

    def _apply(self):
        current, (kind, reason, details, children) = self._prepared
        self._prepared = None
        self._queue.popleft()
        current.kind = kind
        for child in children:
            self._slices.append(child)
            self._queue.append(child)
        current.children = tuple(children)
        self._forget(current)
        decision = Decision(len(self.decisions) + 1, current.id, current.parent_id,
                            current.rows, current.cols, kind, reason,
                            tuple(c.id for c in children), details)
        self.decisions.append(decision)
        return decision

    def steps(self):
        """Iterate the remaining decisions until the structure is complete."""
        while self._queue:
            yield self.step()

    def learn(self):
        """Take every remaining step; returns the node graph's root."""
        for _ in self.steps():
            pass
        return self.graph()

    # --- the decisions ----------------------------------------------------------------------

    def _decide(self, current):
        rows, cols = current.rows, list(current.cols)
        n = len(rows)
        if len(cols) == 1:
            return self._leaf(current, "factorized", f"one variable ({n} rows)")
        if n < self.min_instances_slice:
            return self._leaf(current, self.leaves,
                              f"{n} rows < min_instances_slice={self.min_instances_slice}")
        values = self.data[np.ix_(rows, cols)]
        split = self._variable_split(values)
        components = split["components"] = [[cols[i] for i in c] for c in split["components"]]
        if len(components) > 1:
            sizes = ", ".join(str(len(c)) for c in components)
            children = self._children(current, [rows] * len(components), components)
            return "product", (f"variable split: {len(components)} independent groups of "
                               f"{sizes} variables ({self._test_label()})"), split, children
        clustered = values
        if self.continuous:                   # k-means on standardised columns
            clustered = (values - values.mean(axis=0)) / np.maximum(values.std(axis=0), 1e-12)
        labels = cluster_rows(clustered, self.clustering, self.num_clusters,
                              int(self._rng.integers(2 ** 31)), self.num_vals)
        num = int(labels.max()) + 1
        if num < 2:
            current_details = dict(split)
            kind, reason, details, children = self._leaf(
                current, "factorized",
                f"the {n} rows do not cluster (identical rows) and their variables are "
                f"dependent")
            details.update(current_details)
            return kind, reason, details, children
        sizes = np.bincount(labels, minlength=num)
        current.weights = sizes / n
        centers = np.stack([values[labels == c].mean(axis=0) for c in range(num)])
        children = self._children(current, [rows[labels == c] for c in range(num)],
                                  [cols] * num)
        details = dict(split, labels=labels, sizes=sizes, weights=current.weights,
                       centers=centers)
        return "sum", (f"instance split: {num} clusters of {', '.join(map(str, sizes))} rows "
                       f"({self.clustering}); the variables were all connected"), details, \
            children

    def _test_label(self):
        if self.independence == "g_test":
            return f"G-test, p < {self.threshold:g} is dependent"
        return f"RDC > {self.threshold:g} is dependent"

    def _variable_split(self, values):
        if self.independence == "g_test":
            statistic, p_values = g_test(values, self.num_vals)
            dependent = p_values < self.threshold
            details = {"statistic": statistic, "p_values": p_values}
        else:
            statistic = rdc(values, seed=int(self._rng.integers(2 ** 31)))
            dependent = statistic > self.threshold
            details = {"statistic": statistic, "p_values": None}
        np.fill_diagonal(dependent, False)
        details["dependent"] = dependent
        details["components"] = [list(c) for c in dependency_components(dependent)]
        return details

    def _children(self, current, row_sets, col_sets):
        start = len(self._slices)              # ids are positions in self._slices
        children = []
        for i, (rows, cols) in enumerate(zip(row_sets, col_sets)):
            children.append(_Slice(start + i, current.id, np.asarray(rows), cols))
        return children

    def _leaf(self, current, leaf_kind, reason):
        rows, cols = current.rows, list(current.cols)
        if self.continuous:
            current.leaf = NormalFactorizedLeaf.fit(self.data, rows, cols, self.min_scale)
            return "leaf", f"{reason}: a factorised leaf of normals", {
                "leaf": "normal", "loc": current.leaf.loc, "scale": current.leaf.scale}, []
        if leaf_kind == "chow_liu" and len(cols) > 1:
            tree = fit_chow_liu(self.data[np.ix_(rows, cols)], self.num_vals, self.alpha)
            current.leaf = ChowLiuLeaf(cols, tree)
            details = {"leaf": "chow_liu", "tree": tree}
            reason = f"{reason}: a Chow-Liu tree over {len(cols)} variables"
        else:
            current.leaf = FactorizedLeaf.fit(self.data, rows, cols, self.num_vals, self.alpha)
            details = {"leaf": "factorized", "probabilities": np.exp(current.leaf.log_probs)}
            reason = f"{reason}: a factorised leaf"
        return "leaf", reason, details, []

    # --- the structure so far ---------------------------------------------------------------

    def _block(self, s):
        block = self._unlabelled_block(s)
        block.label = s.id                    # node names follow the slice ids
        return block

    def _unlabelled_block(self, s):
        if s.kind == "leaf":
            return s.leaf
        if s.kind == "pending":
            if s._pending_leaf is None and self.continuous:
                s._pending_leaf = NormalFactorizedLeaf.fit(self.data, s.rows, list(s.cols),
                                                           self.min_scale)
            elif s._pending_leaf is None:
                s._pending_leaf = FactorizedLeaf.fit(self.data, s.rows, list(s.cols),
                                                     self.num_vals, self.alpha)
            return s._pending_leaf
        children = [self._block(self._slices[c.id]) for c in s.children]
        if s.kind == "product":
            return ProductBlock(children)
        return SumBlock(children, s.weights)

    def structure(self):
        """The current structure as a block tree (pending slices as factorised leaves)."""
        return self._block(self._slices[0])

    def graph(self, node_labels=None):
        """The current structure as an `spnlab.graph` node graph (its root node). Node names
        carry the id of the slice that made them (`S3`: the sum of slice 3; `L5_7`: the leaf
        of variable 7 in slice 5), so they stay put as the structure grows; `node_labels`, a
        dict, is filled with `{node: slice id}`."""
        return to_graph(self.structure(), self.num_vars, self.num_vals, self.variables,
                        node_labels)

    def log_likelihood(self, data):
        """`[rows]` log-likelihoods of `data` under the current structure (NumPy).

        The per-slice values of the last data evaluated are kept: after a step only the slice
        decided and its ancestors are evaluated again (a validation curve costs one leaf fit
        and a path to the root per step, not the whole structure).
        """
        if self.continuous:
            data = check_continuous_data(data, "data", self.num_vars)
        else:
            data = check_discrete_data(data, "data", self.num_vars, self.num_vals)
        key = (data.shape, hashlib.blake2b(data.tobytes(), digest_size=16).digest())
        if self._ll_cache[0] != key:
            self._ll_cache = (key, {})
        return self._slice_ll(self._slices[0], data, self._ll_cache[1]).copy()

    def _slice_ll(self, s, data, cache):
        if s.id not in cache:
            if s.kind in ("leaf", "pending"):
                value = self._block(s).log_likelihood(data)
            else:
                parts = [self._slice_ll(self._slices[c.id], data, cache) for c in s.children]
                value = sum(parts) if s.kind == "product" else logsumexp(
                    np.stack(parts, axis=1) + np.log(s.weights), axis=1)
            cache[s.id] = value
        return cache[s.id]

    def _forget(self, s):
        """Drop the kept values of slice `s` and its ancestors (it was just decided)."""
        cache = self._ll_cache[1]
        while s is not None:
            cache.pop(s.id, None)
            s = None if s.parent_id is None else self._slices[s.parent_id]


def learn_spn(data, **kwargs):
    """Run `LearnSPN(data, **kwargs)` to the end; returns the node graph's root."""
    return LearnSPN(data, **kwargs).learn()
