"""An independent NumPy evaluator of layer SPNs, written with explicit loops.

It reads only the layers' weights and their documented semantics (DESIGN.md section 2), never
their code paths, so tests can compare the TensorFlow layers against it.
"""
import itertools

import numpy as np

import spnlab.core as spnk
from spnlab.core import layers as L


def _log_weights(layer):
    acc = layer.get_weights()[0].astype(np.float64)
    if layer.logspace_accumulators:
        w = np.exp(acc - acc.max(axis=-2, keepdims=True))
    else:
        w = acc
    w = w / w.sum(axis=-2, keepdims=True)
    with np.errstate(divide="ignore"):
        return np.log(w)


def _combine(vals, mode):
    vals = np.asarray(vals)
    m = vals.max()
    if mode == "max" or not np.isfinite(m):
        return m
    return m + np.log(np.exp(vals - m).sum())


def evaluate(model, x, evidence=None, mode="sum"):
    """log-values `[B]` of a SequentialSumProductNetwork for data `x [B, V]`.

    `evidence[b, v] = False` marginalises variable v (sum mode) or maximises it (max mode).
    Supports FlatToRegions, IndicatorLeaf, CategoricalLeaf, DenseSum, PermuteAndPadScopes(+Random),
    DenseProduct, ReduceProduct, Undecompose and RootSum.
    """
    x = np.asarray(x)
    out = []
    for b in range(x.shape[0]):
        h = None
        for layer in model.layers:
            if isinstance(layer, L.FlatToRegions):
                h = np.repeat(x[b][:, None, None].astype(np.float64), layer.num_decomps, axis=1)
            elif isinstance(layer, (L.IndicatorLeaf, L.CategoricalLeaf)):
                S, D, _ = h.shape
                K = layer.num_components
                new = np.zeros((S, D, K))
                if isinstance(layer, L.CategoricalLeaf):
                    p = layer.get_weights()[0].astype(np.float64)[0, ..., 0, :]   # [S, D, K, C]
                    logp = np.log(p / p.sum(-1, keepdims=True)) if layer.use_accumulators \
                        else p - np.log(np.exp(p).sum(-1, keepdims=True))
                for s, d, k in itertools.product(range(S), range(D), range(K)):
                    observed = evidence is None or evidence[b, s]
                    if isinstance(layer, L.IndicatorLeaf):
                        val = 0.0 if h[s, d, 0] == k else -np.inf
                        new[s, d, k] = val if observed else 0.0
                    else:
                        c = int(h[s, d, 0])
                        if observed:
                            new[s, d, k] = logp[s, d, k, c]
                        else:
                            new[s, d, k] = 0.0 if mode == "sum" else logp[s, d, k].max()
                h = new
            elif isinstance(layer, L.PermuteAndPadScopes):
                perm = layer.get_weights()[0]
                S2 = perm.shape[1]
                new = np.zeros((S2, h.shape[1], h.shape[2]))
                for d in range(h.shape[1]):
                    for s2 in range(S2):
                        new[s2, d] = 0.0 if perm[d, s2] < 0 else h[perm[d, s2], d]
                h = new
            elif isinstance(layer, L.DenseProduct):
                S, D, N = h.shape
                f = layer.num_factors
                new = np.zeros((S // f, D, N ** f))
                for j, d in itertools.product(range(S // f), range(D)):
                    for idx, combo in enumerate(itertools.product(range(N), repeat=f)):
                        new[j, d, idx] = sum(h[j * f + t, d, combo[t]] for t in range(f))
                h = new
            elif isinstance(layer, L.ReduceProduct):
                S, D, N = h.shape
                f = layer.num_factors
                h = np.stack([h[j * f:(j + 1) * f].sum(axis=0) for j in range(S // f)])
            elif isinstance(layer, L.Undecompose):
                S, D, N = h.shape
                h = h.reshape(S, layer.num_decomps, (D // layer.num_decomps) * N)
            elif isinstance(layer, L.RootSum):
                lw = _log_weights(layer)[0, 0, :, 0]
                children = h.reshape(-1)
                h = np.array([_combine(children + lw, mode)])
            elif isinstance(layer, L.DenseSum):
                lw = _log_weights(layer)
                S, D, N = h.shape
                new = np.zeros((S, D, layer.num_sums))
                for s, d, j in itertools.product(range(S), range(D), range(layer.num_sums)):
                    new[s, d, j] = _combine(h[s, d] + lw[s, d, :, j], mode)
                h = new
            else:
                raise TypeError(f"reference evaluator does not know {type(layer).__name__}")
        out.append(float(h.reshape(-1)[0]))
    return np.asarray(out)


def all_states(num_vars, num_values=2):
    """Every joint state `[num_values**num_vars, num_vars]` (int32)."""
    return np.asarray(list(itertools.product(range(num_values), repeat=num_vars)), dtype=np.int32)


def logsumexp(a):
    a = np.asarray(a, dtype=np.float64)
    m = a.max()
    return m + np.log(np.exp(a - m).sum()) if np.isfinite(m) else m


def small_ratspn(num_vars, seed, sum_op=None, depth=2, reps=2, inputs=2, sums=2):
    """A small random RAT-SPN over binary variables with Dirichlet(1) weights."""
    init = spnk.initializers.Dirichlet(alpha=1.0, seed=seed)
    return spnk.ratspn(num_vars, depth=depth, num_repetitions=reps, num_input_distributions=inputs,
                       num_sums=sums, sum_op=sum_op, accumulator_initializer=init, seed=seed)
