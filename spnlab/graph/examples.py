"""Small classic SPNs built node by node, for teaching, tests and notebooks.

Each function returns `ExampleSPN(root, variables)`; indicator outputs follow the var-major
layout of `IndicatorLeaf` (output `2 * v + k` is `[X_v = k]` for binary variables).
"""
from typing import NamedTuple

import numpy as np

from spnlab.graph._checks import check_positive_int, is_int
from spnlab.graph.leaves import IndicatorLeaf, NormalLeaf
from spnlab.graph.products import Product
from spnlab.graph.sums import ParallelSums, Sum


class ExampleSPN(NamedTuple):
    """An example graph: its `root` node and its `variables` (tuple of `Variable`)."""

    root: object
    variables: tuple


def _check_seed(seed):
    if seed is not None and not is_int(seed):
        raise TypeError(f"Expected `seed` to be an int or None. Received: seed={seed!r}")
    return np.random.default_rng(seed)


def _names(num_vars):
    """Names X1..Xn for fresh variables (each call makes new `Variable` objects)."""
    return [f"X{v + 1}" for v in range(num_vars)]


def poon_domingos_example(latent=False, variables=None):
    """A sum over two products of indicator sums over two binary variables X1, X2:

        S  = 0.7 * P1 + 0.3 * P2
        P1 = S11 * S21,   P2 = S12 * S22
        S11 = 0.6 [X1=0] + 0.4 [X1=1],   S12 = 0.9 [X1=0] + 0.1 [X1=1]
        S21 = 0.3 [X2=0] + 0.7 [X2=1],   S22 = 0.2 [X2=0] + 0.8 [X2=1]

    so p(X1=0, X2=0) = 0.7 * 0.6 * 0.3 + 0.3 * 0.9 * 0.2 = 0.18 (in the style of Poon and
    Domingos, 2011, Fig. 2). Scopes: every S1* is {X1}, every S2* {X2}, P1, P2 and S {X1, X2}.

    Args:
        latent: attach latent indicators to the root (its latent variable `Z_S`, whose value
            k selects product P(k+1)).
        variables: None (fresh binary X1, X2) or two binary `Variable`s / names.
    """
    leaf = IndicatorLeaf(2, 2, variables=variables or ["X1", "X2"], name="X")
    s11 = Sum((leaf, [0, 1]), weights=[0.6, 0.4], name="S11")
    s12 = Sum((leaf, [0, 1]), weights=[0.9, 0.1], name="S12")
    s21 = Sum((leaf, [2, 3]), weights=[0.3, 0.7], name="S21")
    s22 = Sum((leaf, [2, 3]), weights=[0.2, 0.8], name="S22")
    root = Sum(Product(s11, s21, name="P1"), Product(s12, s22, name="P2"), weights=[0.7, 0.3],
               name="S")
    if latent:
        root.generate_latent_indicators()
    return ExampleSPN(root, leaf.variables)


def naive_bayes_mixture(num_vars, num_components, num_vals=2, seed=0, variables=None):
    """A mixture of `num_components` fully factorised categorical distributions:

        root = sum_k w_k P_k,   P_k = prod_v S_v[k],   S_v[k] = sum_x theta[v, k, x] [X_v = x]

    with one `ParallelSums` `S_<var>` of `num_components` sums per variable (product k uses
    output k of each). Weights are Dirichlet(1) draws from `np.random.default_rng(seed)`.
    Scopes: `S_<var>` outputs {X_v}; every product and the root all variables.
    """
    num_vars = check_positive_int(num_vars, "num_vars")
    num_components = check_positive_int(num_components, "num_components")
    num_vals = check_positive_int(num_vals, "num_vals")
    rng = _check_seed(seed)
    leaf = IndicatorLeaf(num_vars, num_vals, variables=variables or _names(num_vars), name="X")
    per_var = [
        ParallelSums((leaf, range(v * num_vals, (v + 1) * num_vals)), num_sums=num_components,
                     weights=rng.dirichlet(np.ones(num_vals), size=num_components),
                     name=f"S_{var.name}")
        for v, var in enumerate(leaf.variables)]
    products = [Product(*[(sums, k) for sums in per_var], name=f"P{k + 1}")
                for k in range(num_components)]
    root = Sum(*products, weights=rng.dirichlet(np.ones(num_components)), name="root")
    return ExampleSPN(root, leaf.variables)


def normal_mixture(num_vars, num_components, seed=0, variables=None):
    """A mixture of `num_components` diagonal Gaussians over continuous variables:
    `root = sum_k w_k prod_v N(x_v; loc[v, k], scale[v, k])`, one `NormalLeaf` holding all
    components (product k uses output `v * num_components + k` of every variable v).
    Locations are standard normal draws, scales 1, weights Dirichlet(1) (all from `seed`).
    """
    num_vars = check_positive_int(num_vars, "num_vars")
    num_components = check_positive_int(num_components, "num_components")
    rng = _check_seed(seed)
    leaf = NormalLeaf(num_vars, num_components, loc=rng.normal(size=(num_vars, num_components)),
                      scale=1.0, variables=variables or _names(num_vars), name="N")
    products = [Product(*[(leaf, v * num_components + k) for v in range(num_vars)],
                        name=f"P{k + 1}") for k in range(num_components)]
    root = Sum(*products, weights=rng.dirichlet(np.ones(num_components)), name="root")
    return ExampleSPN(root, leaf.variables)
