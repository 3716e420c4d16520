"""StructureRun: a learner stepped for the workbench; the curve is the validation LL of the
partial structure after every decision, the structure hands over to a training Session, and a
saved run reloads to the same graph (errors name the file)."""
import json

import numpy as np
import pytest

from spnlab.graph import graph_to_config, log_value, topological_order
from spnlab.lab.structure_run import CurvePoint, StructureRun, load_graph
from spnlab.structure import LearnSPN


def _data(rows=900, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.integers(2, size=rows)
    return np.column_stack([z ^ (rng.random(rows) < p) for p in (0.1, 0.2, 0.3, 0.5)]) \
        .astype(np.int32)


def test_the_curve_is_the_validation_log_likelihood_after_every_decision():
    run = StructureRun("learnspn", _data(), min_instances_slice=60)
    assert len(run.train) + len(run.valid) + len(run.test) == 900 and len(run.test) == 180
    reference = LearnSPN(run.train, min_instances_slice=60, seed=0)
    expected = [np.mean(reference.log_likelihood(run.valid))]
    for _ in range(6):
        decision = run.step()
        assert decision.kind == reference.step().kind
        expected.append(np.mean(reference.log_likelihood(run.valid)))
    assert [p.decisions for p in run.curve] == list(range(7))
    np.testing.assert_allclose([p.valid_ll for p in run.curve], expected, rtol=1e-12)
    # the graph so far evaluates to the same validation log-likelihood
    np.testing.assert_allclose(np.mean(log_value(run.graph(), run.valid)), expected[-1],
                               rtol=1e-5)
    run.run()
    assert run.done and run.step() is None and run.curve[-1].decisions == len(run.decisions)
    run.reset()
    assert run.curve == [CurvePoint(0, pytest.approx(expected[0]))] and not run.decisions


def test_digits_and_tuples_and_learners():
    run = StructureRun("hclt", "digits", num_latent_states=2)
    assert run.image_shape == (8, 8) and run.train.shape[1] == 64
    run.run(3)
    assert [d.kind for d in run.decisions] == ["tree", "edge", "edge"]
    data = _data()
    run = StructureRun("learnspn_clt", (data[:600], data[600:]), min_instances_slice=1000)
    assert len(run.test) == 0
    assert run.step().details["leaf"] == "chow_liu"
    with pytest.raises(ValueError, match="learner"):
        StructureRun("learn_everything", data)
    with pytest.raises(ValueError, match="same number of columns"):
        StructureRun("learnspn", (data, data[:, :3]))
    with pytest.raises(ValueError, match="data"):
        StructureRun("learnspn", "mnist")


def test_a_finished_structure_trains_in_a_session():
    run = StructureRun("learnspn", _data(), min_instances_slice=100)
    run.run()
    session = run.to_session(batch_size=len(run.train), test_every=0, seed=0, sum_op="em",
                             em_learning_rate=1.0)
    before = np.mean(log_value(run.graph(), run.train))
    records = [session.step() for _ in range(3)]
    np.testing.assert_allclose(records[0].train_ll, before, rtol=1e-5)
    assert records[-1].train_ll >= records[0].train_ll - 1e-6


def test_save_and_load_replay_the_same_structure(tmp_path):
    data = _data()
    run = StructureRun("learnspn", data, min_instances_slice=80, seed=3)
    run.run(5)
    path = run.save(tmp_path / "run.json")
    again = StructureRun.load(path, data)
    assert len(again.decisions) == 5
    assert graph_to_config(again.graph()) == graph_to_config(run.graph())
    np.testing.assert_allclose(log_value(load_graph(path), data[:20]),
                               log_value(run.graph(), data[:20]), rtol=1e-6)
    with pytest.raises(ValueError, match="another structure"):
        StructureRun.load(path, _data(seed=5))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        load_graph(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"learner": "x"}))
    with pytest.raises(ValueError, match="other.json.*missing"):
        load_graph(tmp_path / "other.json")
    with pytest.raises(FileNotFoundError, match="nowhere.json"):
        load_graph(tmp_path / "nowhere.json")


def test_node_names_follow_slices_and_the_new_part_is_the_last_decision():
    run = StructureRun("learnspn", _data(), min_instances_slice=60)
    assert run.new_part() is None
    first = run.step()                                  # the root slice 0
    names = {n.name for n, _ in run.new_part().nodes}
    assert first.kind == "product" and "P0" in names
    assert all(n[-1:].isdigit() for n in names)
    before = {n.name for n in topological_order(run.graph())}
    second = run.step()
    part = run.new_part()
    new_names = {n.name for n, _ in part.nodes}
    labels = {second.slice_id, *second.children}
    assert new_names and all(any(name[1:].split("_")[0] == str(s) for s in labels)
                             for name in new_names)
    after = {n.name for n in topological_order(run.graph())}
    # nodes of slices that were not decided keep their names
    assert {n for n in before if not n[1:].split("_")[0] == str(second.slice_id)} <= after
    for (parent, _), (child, _) in part.edges:
        assert parent in {n for n, _ in part.nodes} and child in {n for n, _ in part.nodes}
    svg = run.svg()
    assert "<svg" in svg and "#1565c0" in svg.lower()           # the new part, in blue


def test_preparing_ahead_gives_the_same_decisions():
    data = _data()
    plain = StructureRun("learnspn", data, min_instances_slice=60, seed=2)
    ahead = StructureRun("learnspn", data, min_instances_slice=60, seed=2, prepare_ahead=True)
    plain.run()
    ahead.run()
    assert [d.reason for d in ahead.decisions] == [d.reason for d in plain.decisions]
    assert graph_to_config(ahead.graph()) == graph_to_config(plain.graph())
    assert [p.valid_ll for p in ahead.curve] == [p.valid_ll for p in plain.curve]


class _Frame:
    """The two things a DataFrame offers here: `columns` and conversion to an array."""

    def __init__(self, values, columns):
        self.values, self.columns = values, columns

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)


def test_a_data_frame_names_the_variables():
    data = _data()
    run = StructureRun("learnspn", _Frame(data, ["smoker", "cough", "fever", "age>60"]),
                       min_instances_slice=100)
    run.run()
    from spnlab.graph import get_scope
    names = {v.name for v in get_scope(run.graph())[0]}
    assert names == {"smoker", "cough", "fever", "age>60"}


def test_the_overview_draws_one_box_per_split_and_groups_leaves():
    import re
    run = StructureRun("learnspn", _data(rows=2000), min_instances_slice=40)
    assert run.overview_dot().count("pending #0") == 1            # before the first step
    run.run(12)
    dot = run.overview_dot()
    splits = [d for d in run.decisions if d.kind in ("sum", "product")]
    boxes = re.findall(r'  s(\d+) \[label="(\+|\\u00d7|×)', dot)
    assert sorted(int(i) for i, _ in boxes) == sorted(d.slice_id for d in splits)
    # every decided leaf sits in its parent's "leaves" box, with its variables counted
    leaves = [d for d in run.decisions if d.kind == "leaf"]
    counted = sum(int(n) for n in re.findall(r'label="(\d+) lea(?:f|ves), ', dot))
    assert counted == len(leaves)
    # the last decision is blue, and nothing else is
    last = run.decisions[-1]
    blue = re.findall(r"\n  (\w+) \[label=[^\n]*#1565c0", dot)
    assert blue and all(name.startswith(("s", "leaves", "wait")) for name in blue)
    assert (f"s{last.slice_id}" in blue) or last.kind == "leaf"
    small = StructureRun("learnspn", _data(rows=2000), min_instances_slice=40)
    small.run()
    assert "+" in small.overview_dot(max_splits=2) and "more" in small.overview_dot(max_splits=2)
    assert StructureRun("hclt", _data(), num_latent_states=2).overview_dot() is None
