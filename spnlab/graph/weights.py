"""Sum weights: a parameter node holding several normalised weight sets, shareable by sums."""
import numbers

import numpy as np

from spnlab.graph._checks import (as_float_array, check_finite, check_name, check_positive_int,
                                  is_int, read_only, short_repr)
from spnlab.graph.nodes import auto_name


class Weights:
    """`num_sets` weight sets over `num_children` children: `values` `[num_sets, num_children]`.

    Each row is normalised (non-negative, sums to 1). Rows passed in unnormalised are divided by
    their sum, so counts are accepted; a row summing to 0 is an error. A sum node uses one row
    (a `ParallelSums` one row per sum); several sums may use the same `Weights` (tied weights).
    `Weights` is a parameter holder, not part of the value graph that traversals walk.

    Args:
        values: array-like `[num_sets, num_children]`, or `[num_children]` for one set.
        name: default `Weights_<k>`.
    """

    def __init__(self, values, name=None):
        self.name = auto_name("Weights") if name is None else check_name(name)
        self._values = None
        self.assign(values)

    @classmethod
    def uniform(cls, num_sets, num_children, name=None):
        """Every set uniform: `1 / num_children` (the default of `Sum`, as in LibSPN)."""
        num_sets = check_positive_int(num_sets, "num_sets")
        num_children = check_positive_int(num_children, "num_children")
        weights = cls.__new__(cls)  # valid by construction: skip `assign` (graphs of 10^4 sums)
        weights.name = auto_name("Weights") if name is None else check_name(name)
        weights._values = read_only(np.full((num_sets, num_children), 1.0 / num_children))
        return weights

    @classmethod
    def dirichlet(cls, num_sets, num_children, alpha=1.0, seed=0, name=None):
        """Every set drawn from Dirichlet(alpha, ..., alpha) with `np.random.default_rng(seed)`."""
        num_sets = check_positive_int(num_sets, "num_sets")
        num_children = check_positive_int(num_children, "num_children")
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not alpha > 0 \
                or not np.isfinite(alpha):
            raise ValueError(f"Expected `alpha` to be a positive float. Received: alpha={alpha!r}")
        if seed is not None and not is_int(seed):
            raise TypeError(f"Expected `seed` to be an int or None. Received: seed={seed!r}")
        rng = np.random.default_rng(seed)
        return cls(rng.dirichlet(np.full(num_children, float(alpha)), size=num_sets), name=name)

    @classmethod
    def from_normalized(cls, values, name=None):
        """Saved, already normalised values kept bit for bit (checked as `assign` does; rows
        must sum to 1 within 1e-9, where `assign` would divide by the sum)."""
        weights = cls(values, name=name)
        raw = np.asarray(values, np.float64).reshape(weights.values.shape)
        if not np.allclose(raw.sum(axis=1), 1.0, rtol=0, atol=1e-9):
            raise ValueError(f"Expected normalised weight sets (rows summing to 1). "
                             f"Received: row sums {short_repr(raw.sum(axis=1))}")
        weights._values = read_only(raw)
        return weights

    @property
    def values(self):
        """Read-only float64 `[num_sets, num_children]`, rows normalised."""
        return self._values

    @property
    def num_sets(self):
        return self._values.shape[0]

    @property
    def num_children(self):
        return self._values.shape[1]

    def assign(self, values):
        """Replace the values (validated and normalised; the shape must stay the same)."""
        array = as_float_array(values, "weights")
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] == 0:
            raise ValueError("Expected `weights` of shape [num_children] or [num_sets, "
                             f"num_children]. Received: weights.shape={np.shape(values)}")
        if self._values is not None and array.shape != self._values.shape:
            raise ValueError(f"Expected `weights` of shape {list(self._values.shape)}. "
                             f"Received: weights.shape={list(array.shape)}")
        check_finite(array, "weights")
        if np.any(array < 0):
            raise ValueError(f"Expected non-negative `weights`. "
                             f"Received: weights={short_repr(array)}")
        peaks = array.max(axis=1, keepdims=True)
        if np.any(peaks <= 0):
            row = int(np.argmin(peaks[:, 0]))
            raise ValueError(f"Expected every weight set to have a positive sum. "
                             f"Received: weights[{row}]={short_repr(array[row])}")
        # scaled by the largest entry first: [1e308, 1e308] sums to inf, which made it [0, 0]
        array = array / peaks
        self._values = read_only(array / array.sum(axis=1, keepdims=True))

    def __repr__(self):
        return f"Weights({self.name!r}, shape={list(self._values.shape)})"
