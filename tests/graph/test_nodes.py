"""Nodes: construction, input normalisation, parameters, latent indicators, bad arguments."""
import re

import numpy as np
import pytest

from spnlab.graph import (IndicatorLeaf, Input, NormalLeaf, ParallelSums, Product, Sum,
                          Variable, Weights, get_scope)


def test_indicator_leaf_is_var_major_with_global_variables():
    leaf = IndicatorLeaf(2, 3, variables=["A", "B"])
    assert leaf.num_outputs == 6 and leaf.num_vars == 2 and leaf.num_vals == 3
    assert [leaf.output_label(i) for i in range(6)] == ["A=0", "A=1", "A=2", "B=0", "B=1", "B=2"]
    a, b = leaf.variables
    assert leaf.output_index(b, 1) == 4 and leaf.output_variable(4) is b
    # Same names, different objects: different variables. Sharing needs the same objects.
    other = IndicatorLeaf(2, 3, variables=["A", "B"])
    assert not set(other.variables) & set(leaf.variables)
    shared = IndicatorLeaf(variables=leaf.variables)
    assert shared.variables == leaf.variables and shared.num_vals == 3
    fresh = IndicatorLeaf(2, 2)
    assert all(re.fullmatch(r"X\d+", v.name) for v in fresh.variables)
    assert fresh.variables[0].sort_key() < fresh.variables[1].sort_key()


def test_normal_leaf_parameters_follow_the_output_layout():
    leaf = NormalLeaf(2, 3, loc=[[0, 1, 2], [3, 4, 5]], scale=2.0, variables=["U", "V"])
    assert leaf.loc.shape == leaf.scale.shape == (2, 3)
    assert leaf.loc.reshape(-1)[4] == 4.0 and leaf.output_label(4) == "N1(V)"
    assert np.all(leaf.scale == 2.0)
    with pytest.raises(ValueError):
        leaf.loc[0, 0] = 7.0  # read-only: parameters change only through set_parameters
    leaf.set_parameters(loc=np.zeros((2, 3)))
    assert np.all(leaf.loc == 0) and np.all(leaf.scale == 2.0)
    default = NormalLeaf(1, 3)
    np.testing.assert_allclose(default.loc, [[-1.0, 0.0, 1.0]])
    assert NormalLeaf(1).output_label(0).startswith("N(")


def test_inputs_are_normalised_to_node_and_indices():
    leaf = IndicatorLeaf(2, 2)
    s = Sum(leaf, (leaf, 2), (leaf, [3, 1]), (leaf, np.array([0])), Input(leaf, (np.int64(2),)))
    assert s.inputs[0] == Input(leaf, (0, 1, 2, 3))
    assert s.inputs[1] == Input(leaf, (2,)) and s.inputs[2] == Input(leaf, (3, 1))
    assert s.inputs[4].indices == (2,) and type(s.inputs[4].indices[0]) is int
    assert s.child_outputs[:6] == ((leaf, 0), (leaf, 1), (leaf, 2), (leaf, 3), (leaf, 2), (leaf, 3))
    assert s.num_children == 9 and s.weight_values.shape == (1, 9)


def test_sum_weights_default_uniform_and_are_normalised():
    leaf = IndicatorLeaf(1, 4)
    s = Sum(leaf)
    np.testing.assert_allclose(s.weight_values, [[0.25] * 4])
    counts = Sum(leaf, weights=[1, 1, 2, 0])
    np.testing.assert_allclose(counts.weight_values, [[0.25, 0.25, 0.5, 0.0]])
    w = Weights.dirichlet(3, 4, seed=1)
    np.testing.assert_allclose(w.values.sum(axis=1), 1.0)
    np.testing.assert_array_equal(w.values, Weights.dirichlet(3, 4, seed=1).values)
    assert np.all(w.values > 0)


def test_weights_are_shared_between_sums():
    leaf = IndicatorLeaf(1, 2)
    w = Weights([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]], name="W")
    tied_a, tied_b = Sum(leaf, weights=(w, 1)), Sum(leaf, weights=(w, 1))
    assert tied_a.weights is tied_b.weights is w and tied_a.weight_sets == (1,)
    ps = ParallelSums(leaf, num_sums=3, weights=w)
    np.testing.assert_allclose(ps.weight_values, w.values)
    w.assign([[1, 3], [1, 1], [0, 2]])
    np.testing.assert_allclose(tied_a.weight_values, [[0.5, 0.5]])
    np.testing.assert_allclose(ps.weight_values[2], [0.0, 1.0])
    picked = ParallelSums(leaf, num_sums=2, weights=(w, [2, 0]))
    np.testing.assert_allclose(picked.weight_values, [[0.0, 1.0], [0.25, 0.75]])


def test_parallel_sums_have_one_output_per_sum():
    leaf = IndicatorLeaf(1, 2, variables=["A"])
    ps = ParallelSums(leaf, num_sums=3)
    assert ps.num_outputs == 3 and ps.weight_values.shape == (3, 2)
    p = Product((ps, 2), IndicatorLeaf(1, 2, variables=["B"]))
    assert p.inputs[0] == Input(ps, (2,))
    assert [s for s in get_scope(ps)] == [frozenset(leaf.variables)] * 3


def test_latent_indicators_are_a_real_variable_in_the_scope():
    leaf = IndicatorLeaf(1, 3, variables=["A"])
    s = Sum(leaf, name="S")
    latent = s.generate_latent_indicators()
    (z,) = latent.variables
    assert z.name == "Z_S" and z.num_vals == 3 and latent.num_outputs == 3
    assert s.latent_indicators == Input(latent, (0, 1, 2))
    assert s.all_inputs[-1].node is latent and s.inputs == (Input(leaf, (0, 1, 2)),)
    assert get_scope(s) == (frozenset({leaf.variables[0], z}),)
    given = IndicatorLeaf(1, 3, variables=[Variable("H", num_vals=3)])
    t = Sum(leaf, latent_indicators=given)
    assert t.latent_indicators.node is given
    ps = ParallelSums(leaf, num_sums=2)
    zs = ps.generate_latent_indicators()
    assert [v.name for v in zs.variables] == [f"Z_{ps.name}[0]", f"Z_{ps.name}[1]"]
    assert [len(sc) for sc in get_scope(ps)] == [2, 2]
    s.set_latent_indicators(None)
    assert s.latent_indicators is None and get_scope(s) == (frozenset(leaf.variables),)


def test_inputs_can_be_set_after_construction():
    leaf = IndicatorLeaf(1, 2)
    s, p = Sum(), Product()
    assert s.num_children == 0 and s.weights is None
    s.set_inputs(leaf, weights=[3, 1])
    np.testing.assert_allclose(s.weight_values, [[0.75, 0.25]])
    s.add_inputs((leaf, 0))
    np.testing.assert_allclose(s.weight_values, [[1 / 3] * 3])  # rebound: uniform
    p.add_inputs(s)
    assert p.child_outputs == ((s, 0),)
    with pytest.raises(ValueError, match="weights"):
        s.set_inputs(leaf, weights=[1, 2, 3])
    assert s.num_children == 3  # a failed set_inputs leaves the node as it was


def test_auto_names_are_unique_and_readable():
    a, b = Sum(), Sum()
    assert re.fullmatch(r"Sum_\d+", a.name) and a.name != b.name
    assert re.fullmatch(r"Product_\d+", Product().name)
    assert Sum(name="root").name == "root"


LEAF = IndicatorLeaf(2, 2, variables=["L1", "L2"], name="L")


def _bad_cases():
    z2 = IndicatorLeaf(2, 2)
    return [
        (lambda: IndicatorLeaf(0, 2), ValueError, "num_vars", "num_vars=0"),
        (lambda: IndicatorLeaf(2, 0), ValueError, "num_vals", "num_vals=0"),
        (lambda: IndicatorLeaf(2.5, 2), TypeError, "num_vars", "num_vars=2.5"),
        (lambda: IndicatorLeaf(True, 2), TypeError, "num_vars", "num_vars=True"),
        (lambda: IndicatorLeaf(2, 2, variables=["A"]), ValueError, "variables", "len(variables)=1"),
        (lambda: IndicatorLeaf(1, 2, variables=[Variable("A", num_vals=3)]), ValueError,
         "variables[0]", "num_vals=3"),
        (lambda: IndicatorLeaf(1, 2, variables=[Variable("C")]), ValueError, "variables[0]",
         "Variable('C')"),
        (lambda: IndicatorLeaf(1, 2, variables=[3]), TypeError, "variables[0]", "variables[0]=3"),
        (lambda: IndicatorLeaf(1, 2, variables="A"), TypeError, "variables", "variables='A'"),
        (lambda: IndicatorLeaf(2, 2, name=""), ValueError, "name", "name=''"),
        (lambda: IndicatorLeaf(2, 2, name=3), TypeError, "name", "name=3"),
        (lambda: NormalLeaf(2, 0), ValueError, "num_components", "num_components=0"),
        (lambda: NormalLeaf(2, scale=0.0), ValueError, "scale", "scale="),
        (lambda: NormalLeaf(2, loc=[np.nan, 0]), ValueError, "loc", "loc="),
        (lambda: NormalLeaf(2, 2, loc=[1, 2, 3]), ValueError, "loc", "loc.shape=(3,)"),
        (lambda: NormalLeaf(1, loc="a"), TypeError, "loc", "loc='a'"),
        (lambda: Sum("x"), TypeError, "inputs[0]", "inputs[0]='x'"),
        (lambda: Sum([LEAF]), TypeError, "inputs[0]", "inputs[0]=["),
        (lambda: Sum((LEAF, 4)), ValueError, "inputs[0]", "indices=(4,)"),
        (lambda: Sum((LEAF, [])), ValueError, "inputs[0]", "indices=()"),
        (lambda: Sum((LEAF, 1.0)), TypeError, "inputs[0]", "indices=1.0"),
        (lambda: Product(LEAF, (LEAF, -1)), ValueError, "inputs[1]", "indices=(-1,)"),
        (lambda: Sum(LEAF, weights=[1, 2]), ValueError, "weights", "weights.num_children=2"),
        (lambda: Sum(LEAF, weights=[1, -1, 1, 1]), ValueError, "weights", "weights="),
        (lambda: Sum(LEAF, weights=[np.inf, 1, 1, 1]), ValueError, "weights", "weights="),
        (lambda: Sum(LEAF, weights=[0, 0, 0, 0]), ValueError, "weight set", "weights[0]="),
        (lambda: Sum(LEAF, weights="abc"), TypeError, "weights", "weights='abc'"),
        (lambda: Sum(LEAF, weights=Weights.uniform(2, 4)), ValueError, "weights",
         "weights.num_sets=2"),
        (lambda: Sum(LEAF, weights=(Weights.uniform(2, 4), 5)), ValueError, "weights",
         "rows=5"),
        (lambda: ParallelSums(LEAF, num_sums=0), ValueError, "num_sums", "num_sums=0"),
        (lambda: ParallelSums(LEAF, num_sums=2, weights=[1, 1, 1, 1]), ValueError, "weights",
         "weights.shape=[1, 4]"),
        (lambda: Sum(LEAF, latent_indicators=Sum(LEAF)), TypeError, "latent_indicators",
         "latent_indicators=Sum("),
        (lambda: Sum(LEAF, latent_indicators=IndicatorLeaf(1, 3)), ValueError,
         "latent_indicators", "Received: 3 outputs"),
        (lambda: Sum((LEAF, [0, 1]), latent_indicators=(z2, [0, 2])), ValueError,
         "latent indicators", "Received: X"),
        (lambda: Sum(weights=[1.0]), ValueError, "weights", "weights=[1.0]"),
        (lambda: Weights.dirichlet(2, 2, alpha=0), ValueError, "alpha", "alpha=0"),
        (lambda: Weights.uniform(0, 2), ValueError, "num_sets", "num_sets=0"),
        (lambda: Weights(np.ones((2, 2, 2))), ValueError, "weights", "weights.shape=(2, 2, 2)"),
        (lambda: Variable(num_vals=0), ValueError, "num_vals", "num_vals=0"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_cases())))
def test_bad_arguments_name_the_argument_and_the_value(case):
    make, error, arg, received = _bad_cases()[case]
    with pytest.raises(error) as info:
        make()
    message = str(info.value)
    assert arg in message and received in message, message
    if "Received" not in message:
        pytest.fail(f"message lacks 'Received': {message}")
