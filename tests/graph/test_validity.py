"""Scopes of the examples by hand; validity of random valid graphs; every injected violation of
random invalid graphs is found and named exactly."""
import numpy as np
import pytest

from spnlab.graph import (BaseSum, IndicatorLeaf, NormalLeaf, ParallelSums, Product, Sum,
                          assert_valid, get_scope, get_scopes, is_valid, naive_bayes_mixture,
                          normal_mixture, poon_domingos_example, random_spn, topological_order,
                          validate)
from spnlab.graph.variables import sorted_variables


def _by_name(root):
    return {node.name: node for node in topological_order(root)}


def test_scopes_of_the_poon_domingos_example():
    ex = poon_domingos_example()
    x1, x2 = ex.variables
    nodes = _by_name(ex.root)
    scopes = get_scopes(ex.root)
    assert scopes[nodes["X"]] == ({x1}, {x1}, {x2}, {x2})
    for name, scope in {"S11": {x1}, "S12": {x1}, "S21": {x2}, "S22": {x2},
                        "P1": {x1, x2}, "P2": {x1, x2}, "S": {x1, x2}}.items():
        assert scopes[nodes[name]] == (scope,), name
    assert validate(ex.root).is_valid


def test_scope_of_the_latent_root_includes_its_latent_variable():
    ex = poon_domingos_example(latent=True)
    (z,) = ex.root.latent_indicators.node.variables
    assert get_scope(ex.root) == ({*ex.variables, z},)
    assert is_valid(ex.root)


def test_scopes_of_the_naive_bayes_mixture():
    ex = naive_bayes_mixture(3, 2)
    nodes = _by_name(ex.root)
    for var in ex.variables:
        assert get_scope(nodes[f"S_{var.name}"]) == ({var}, {var})
    assert get_scope(nodes["P1"]) == get_scope(nodes["P2"]) == get_scope(ex.root) == \
        (frozenset(ex.variables),)
    assert is_valid(ex.root)
    assert is_valid(normal_mixture(4, 3).root)


def test_latent_indicators_below_a_sum_make_the_parent_incomplete():
    ex = poon_domingos_example()
    nodes = _by_name(ex.root)
    z = nodes["S11"].generate_latent_indicators().variables[0]
    (violation,) = validate(ex.root)
    assert violation.kind == "incomplete" and violation.node is ex.root
    assert violation.children == ((nodes["P1"], 0), (nodes["P2"], 0))
    assert violation.variables == (z,)
    assert violation.message == "Sum 'S' is not complete: children 'P1' and 'P2' differ in Z_S11"


def test_latent_variable_inside_the_children_is_reported():
    leaf = IndicatorLeaf(1, 2, variables=["A"])
    s = Sum(leaf, latent_indicators=leaf, name="S")
    (violation,) = validate(s)
    assert violation.kind == "latent_overlap" and violation.variables == leaf.variables
    assert "Sum 'S' has latent variable A" in violation.message


def test_message_names_node_children_and_variables():
    x = IndicatorLeaf(3, 2, variables=["X1", "X2", "X3"], name="X")
    s1 = Sum((x, [0, 1]), (x, [2, 3]), name="S1")
    s2 = Sum((x, [2, 3]), (x, [4, 5]), name="S2")
    p3 = Product(s1, s2, name="P3")
    report = validate(p3)
    # Every child of another scope than the reference (the first of the most common scope,
    # here X1 for S1 and X2 for S2) is one violation.
    assert [v.kind for v in report] == ["incomplete"] * 4 + ["not_decomposable"]
    assert [v.message for v in report][:4] == [
        "Sum 'S1' is not complete: children 'X[0]' and 'X[2]' differ in X1, X2",
        "Sum 'S1' is not complete: children 'X[0]' and 'X[3]' differ in X1, X2",
        "Sum 'S2' is not complete: children 'X[2]' and 'X[4]' differ in X2, X3",
        "Sum 'S2' is not complete: children 'X[2]' and 'X[5]' differ in X2, X3"]
    assert report.violations[4].message == \
        "Product 'P3' is not decomposable: children 'S1' and 'S2' both contain X2"
    with pytest.raises(ValueError) as info:
        assert_valid(p3)
    assert "5 violations" in str(info.value)
    assert "Product 'P3' is not decomposable: children 'S1' and 'S2' both contain X2" \
        in str(info.value)
    empty = Sum(name="E")
    assert [v.message for v in validate(Product(empty, name="P"))] == ["Sum 'E' has no inputs"]


def test_most_common_scope_is_the_reference_of_a_sum():
    x = IndicatorLeaf(2, 2, variables=["A", "B"], name="X")
    odd, p1, p2 = Sum((x, [0, 1]), name="odd"), Product((x, 0), (x, 2), name="p1"), \
        Product((x, 1), (x, 3), name="p2")
    (violation,) = validate(Sum(odd, p1, p2, name="S"))
    assert violation.children == ((p1, 0), (odd, 0))
    assert [v.name for v in violation.variables] == ["B"]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("leaf", ["indicator", "normal"])
def test_random_valid_graphs_pass(seed, leaf):
    ex = random_spn(7, seed=seed, leaf=leaf, latent_root=seed % 3 == 0)
    report = validate(ex.root)
    assert report.is_valid, str(report)
    assert get_scope(ex.root)[0] >= set(ex.variables)


def test_random_graphs_are_dags_with_shared_and_parallel_sums():
    shared = parallel = 0
    for seed in range(10):
        parents = {}
        for node in topological_order(random_spn(8, seed=seed).root):
            parallel += isinstance(node, ParallelSums)
            for inp in node.all_inputs:
                parents.setdefault(inp.node, set()).add(node)
        shared += sum(len(p) > 1 for n, p in parents.items() if isinstance(n, BaseSum))
    assert shared > 0 and parallel > 0


# -- injected violations ---------------------------------------------------------------------
def _leaf_output(leaf, var, rng):
    v = leaf.variables.index(var)
    return leaf, v * leaf.num_per_var + int(rng.integers(leaf.num_per_var))


def _inject_overlap(root, leaf, rng, exclude):
    """Add to a random product a leaf output of a variable one of its children has."""
    scopes = get_scopes(root)
    products = [n for n in scopes if isinstance(n, Product) and n not in exclude]
    product = products[rng.integers(len(products))]
    pos = int(rng.integers(product.num_children))
    child, index = product.child_outputs[pos]
    variables = sorted_variables(scopes[child][index])
    var = variables[rng.integers(len(variables))]
    extra = _leaf_output(leaf, var, rng)
    product.add_inputs(extra)
    return product, ((child, index), extra), (var,)


def _inject_mismatch(root, leaf, rng, exclude):
    """Add to a random sum over 2+ variables a leaf output of one of its variables."""
    scopes = get_scopes(root)
    sums = [n for n in scopes if isinstance(n, BaseSum) and len(scopes[n][0]) >= 2
            and n.latent_indicators is None and n not in exclude]
    node = sums[rng.integers(len(sums))]
    variables = sorted_variables(scopes[node][0])
    var = variables[rng.integers(len(variables))]
    extra = _leaf_output(leaf, var, rng)
    node.add_inputs(extra)
    rest = tuple(v for v in variables if v is not var)
    return node, (node.child_outputs[0], extra), rest


@pytest.mark.parametrize("seed", range(15))
@pytest.mark.parametrize("inject", [_inject_overlap, _inject_mismatch])
def test_one_injected_violation_is_named_exactly(seed, inject):
    ex = random_spn(8, seed=seed, leaf="normal" if seed % 4 == 0 else "indicator")
    leaf = next(n for n in topological_order(ex.root) if isinstance(n, (IndicatorLeaf, NormalLeaf)))
    assert is_valid(ex.root)
    node, children, variables = inject(ex.root, leaf, np.random.default_rng(seed), ())
    (violation,) = validate(ex.root).violations
    kind = "not_decomposable" if inject is _inject_overlap else "incomplete"
    assert violation.kind == kind
    assert violation.node is node and violation.children == children
    assert violation.variables == variables
    names = [f"'{c.output_name(i)}'" for c, i in children]
    assert f"'{node.name}' is not" in violation.message
    assert f"children {names[0]} and {names[1]}" in violation.message
    assert violation.message.endswith(", ".join(v.name for v in variables))


@pytest.mark.parametrize("seed", range(8))
def test_every_one_of_several_violations_is_listed(seed):
    ex = random_spn(9, seed=100 + seed)
    leaf = next(n for n in topological_order(ex.root) if isinstance(n, IndicatorLeaf))
    rng = np.random.default_rng(seed)
    expected, touched = set(), []
    for inject in (_inject_overlap, _inject_mismatch, _inject_overlap):
        node, children, variables = inject(ex.root, leaf, rng, touched)
        touched.append(node)
        expected.add((node, children, variables))
    found = {(v.node, v.children, v.variables) for v in validate(ex.root)}
    assert found == expected
