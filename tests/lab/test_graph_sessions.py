"""Node graphs in a Session: EM steps, winner counts, switches, queries and checkpoints checked
against brute-force enumeration of the Poon-Domingos example and random graphs."""
import itertools

import numpy as np
import pytest

from spnlab.graph import GraphModel, poon_domingos_example, random_spn
from spnlab.lab import Session
from spnlab.lab.graph_model import CountsLayout
from spnlab.lab.tap_records import dead_fraction, selection_entropy
from tests.lab.test_checkpoint import assert_resumes_exactly

# The Poon-Domingos example: S = .7 S11 S21 + .3 S12 S22 over binary X1, X2.
S11, S12, S21, S22, ROOT = [.6, .4], [.9, .1], [.3, .7], [.2, .8], [.7, .3]


def _pd_data():
    rows = [[0, 0]] * 5 + [[0, 1]] * 9 + [[1, 0]] * 2 + [[1, 1]] * 4
    return np.asarray(rows, np.int32)


def _pd_session(sum_op="em", **overrides):
    ex = poon_domingos_example()
    data = _pd_data()
    settings = dict(batch_size=len(data), test_every=0, seed=0, sum_op=sum_op,
                    em_learning_rate=0.5)
    settings.update(overrides)
    return Session(model=ex.root, data=(data, data[:4]), **settings), ex


def _joint(a, b):
    """`(p(P1 branch, x), p(P2 branch, x))` of the example for x = (a, b)."""
    return ROOT[0] * S11[a] * S21[b], ROOT[1] * S12[a] * S22[b]


def _root_column(model):
    layout = CountsLayout(model)
    return layout.column_of_output[layout.outputs_of[model.plan.root][0]]


def test_a_soft_em_step_blends_in_the_brute_force_posterior_counts():
    session, ex = _pd_session()
    x = session.data.train
    record = session.step()
    joint = np.array([_joint(a, b) for a, b in x])                       # [B, 2]
    np.testing.assert_allclose(record.train_ll, np.mean(np.log(joint.sum(1))), rtol=1e-5)
    posterior = joint / joint.sum(1, keepdims=True)
    counts = posterior.mean(0)                                            # normalised counts
    expected = 0.5 * np.array(ROOT) + 0.5 * counts
    root_weights = session.model.weight_values(ex.root.weights)[0]
    np.testing.assert_allclose(root_weights, expected / expected.sum(), rtol=1e-5)
    tap = record.taps.layers["S1"]
    col = _root_column(session.model)
    np.testing.assert_allclose(tap.counts[0, 0, :2, col], posterior.sum(0), rtol=1e-4)


def test_hard_em_winner_counts_are_the_explicit_argmax_and_dead_children_show():
    session, ex = _pd_session("hard_em")
    x = session.data.train
    record = session.step()
    winners = np.array([np.argmax(_joint(a, b)) for a, b in x])
    col = _root_column(session.model)
    tap = record.taps.layers["S1"]
    np.testing.assert_array_equal(tap.counts[0, 0, :2, col], np.bincount(winners, minlength=2))
    # Every sum has 2 children: the padded layout has no NaN; entropy by hand over reached sums.
    assert not np.isnan(tap.counts).any()
    assert tap.entropy == pytest.approx(selection_entropy(tap.counts)[0])


def test_entropy_and_dead_fraction_skip_missing_children():
    counts = np.full((1, 1, 3, 2), np.nan)
    counts[0, 0, :2, 0] = [3.0, 1.0]            # a 2-child set
    counts[0, 0, :, 1] = [0.0, 2.0, 2.0]        # a 3-child set with one dead child
    h0 = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
    h1 = np.log(2.0)
    mean, norm = selection_entropy(counts)
    assert mean == pytest.approx((h0 + h1) / 2)
    assert norm == pytest.approx((h0 / np.log(2) + h1 / np.log(3)) / 2)
    assert dead_fraction([counts]) == pytest.approx(1 / 5)


def test_switches_keep_the_distribution_and_move_the_weights_between_optimisers():
    session, _ = _pd_session()
    session.step()
    for op, group in (("grad", "gradient"), ("unweighted_hard_em", "em"), ("em", "em")):
        switch = session.set_sum_op("all", op)
        assert switch.ll_after == pytest.approx(switch.ll_before, abs=1e-6)
        assert set(session.optimizers) == {group}
        session.step()
    assert [s.new["S1"] for s in session.history.switches] == ["grad", "unweighted_hard_em",
                                                                 "em"]


def test_gradient_op_counts_are_the_posterior_counts():
    """Under the gradient op the tap undoes the normalisation: the counts are the soft-EM
    posterior counts of the batch."""
    session, _ = _pd_session("grad")
    x = session.data.train
    tap = session.step().taps.layers["S1"]
    joint = np.array([_joint(a, b) for a, b in x])
    col = _root_column(session.model)
    np.testing.assert_allclose(tap.counts[0, 0, :2, col],
                               (joint / joint.sum(1, keepdims=True)).sum(0), rtol=1e-4)


def _brute_force(model, evidence, mask):
    """All joint states of the data columns with their probabilities (numpy)."""
    columns = model.plan.columns.data
    states = np.array(list(itertools.product(*[range(v.num_vals) for v in columns])))
    probs = np.exp(model(states.astype(np.int32)).numpy()[:, 0].astype(np.float64))
    keep = np.all((states == evidence) | ~mask, axis=1)
    return states[keep], probs[keep]


def test_queries_equal_brute_force_on_a_random_graph():
    ex = random_spn(5, seed=4)
    data = np.random.default_rng(1).integers(0, 2, size=(50, 5)).astype(np.int32)
    session = Session(model=ex.root, data=data, test_every=0, seed=1)
    session.run(3, progress=False)
    evidence = np.array([1, 0, 0, 0, 1])
    mask = np.array([True, False, False, False, True])
    states, probs = _brute_force(session.model, evidence, mask)
    posterior = probs / probs.sum()
    marginals = session.marginals(evidence, mask)                         # [V, 2]
    for v in range(5):
        np.testing.assert_allclose(marginals[v, 1], posterior[states[:, v] == 1].sum(),
                                   rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(session.complete(evidence, mask, "mean"),
                               posterior @ states, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(session.log_likelihood(evidence, mask), np.log(probs.sum()),
                               rtol=1e-5)
    # The drawn graph shows the learned weights, not the starting ones.
    root = session.graph().graph.root
    np.testing.assert_allclose(root.weight_values, session.model.weight_values(root.weights),
                               rtol=1e-6)
    for method in ("mpe", "hard_em", "sample"):
        completed = session.complete(evidence, mask, method, seed=0)
        assert np.issubdtype(completed.dtype, np.integer)
        assert np.array_equal(completed[mask], evidence[mask])
    bad = np.zeros((10, 3), np.int64)
    bad[4, 1] = 2
    with pytest.raises(ValueError, match=r"'X2' \(column 1\).*\[0, 2\)"):
        Session(model=random_spn(3, seed=0).root, data=bad)


def test_a_graph_session_checkpoint_resumes_bit_for_bit(tmp_path):
    ex = random_spn(4, seed=6)
    data = np.random.default_rng(2).integers(0, 2, size=(60, 4)).astype(np.int32)
    session = Session(model=GraphModel(ex.root), data=data, batch_size=16, seed=3,
                      sum_op="hard_em", accumulate_batches=2)
    session.run(3, progress=False)
    restored = assert_resumes_exactly(session, tmp_path / "ckpt")
    assert restored.sum_ops == {"S1": "hard_em"}
    assert isinstance(restored.model, GraphModel)


@pytest.mark.parametrize("preset", ["classroom", "example"])
def test_session_induced_tree_picks_the_values_of_the_mpe_completion(preset):
    """The MPE induced tree on the drawn graph selects, for each hidden variable, the
    indicator of the value the session's own MPE completion (the layer or graph model's
    max-product pass) fills in; its log-value is at most log p(evidence)."""
    s = Session(preset, seed=0, test_every=0)
    s.run(3, progress=False)
    rows = s.data.test if len(s.data.test) else s.data.train
    x = rows[0]
    mask = np.zeros(s.data.num_vars, bool)
    mask[: s.data.num_vars // 2] = True                     # the first half observed
    tree = s.induced_tree(x, mask)
    completed = s.complete(x, mask, "mpe", seed=0)
    names = [v.name for v in _graph_variables(s)]
    picked = {}
    for node, out in tree.nodes:
        if not node.is_op:
            var = node.output_variable(out)
            picked[names.index(var.name)] = out % node.num_per_var
    hidden = np.flatnonzero(~mask)
    assert set(hidden) <= set(picked)                        # every variable once in the tree
    np.testing.assert_array_equal([picked[v] for v in hidden], completed[hidden])
    assert tree.log_value <= float(s.log_likelihood(x[None], mask[None])[0]) + 1e-5
    with pytest.raises(ValueError, match="one row"):
        s.induced_tree(rows[:2], mask)


def _graph_variables(session):
    from spnlab.graph import GraphModel
    if isinstance(session.model, GraphModel):
        return session.model.plan.columns.data
    return session.graph(None).graph.variables


def test_an_exact_zero_weight_trains_under_the_gradient_op():
    """A zero weight is a log-weight of -inf, legal (DESIGN.md): the session's corruption
    check used to reject it and blame the learning rate. The zero stays zero (its gradient
    through softmax is 0) and the other weights learn."""
    ex = poon_domingos_example()
    ex.root.weights.assign([[1.0, 0.0]])                         # P2 switched off
    data = _pd_data()
    session = Session(model=ex.root, data=(data, data[:4]), batch_size=len(data),
                      test_every=0, seed=0, sum_op="grad")
    before = session.log_likelihood(data).mean()
    session.run(5, progress=False)
    root = session.graph(None).graph.root
    assert root.weight_values[0][1] == 0.0
    assert session.log_likelihood(data).mean() > before          # it learned
    assert np.isfinite([r.train_ll for r in session.history.steps]).all()


def test_huge_weights_normalise_without_overflow():
    from spnlab.graph.weights import Weights
    np.testing.assert_array_equal(Weights([[1e308, 1e308]]).values, [[0.5, 0.5]])
    np.testing.assert_allclose(Weights([[1e308, 3e307, 0.0]]).values,
                               [[1 / 1.3, 0.3 / 1.3, 0.0]], rtol=1e-12)
    ex = poon_domingos_example()
    ex.root.weights.assign([[7e307, 3e307]])                     # the example's 0.7 / 0.3
    assert ex.root.weight_values[0] == pytest.approx([0.7, 0.3])
