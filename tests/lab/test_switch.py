"""Live sum-op switches: the distribution is kept, and the next step follows the new op's rule."""
import numpy as np
import spnlab.core as spnk
from spnlab.lab import Session
from tests.core.reference import all_states
from tests.lab.helpers import normalised, root_children_log_values, tiny_session


def softmax_rows(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def test_switches_keep_every_probability_and_are_recorded():
    s = tiny_session("em", em_learning_rate=0.3, gradient_learning_rate=0.1)
    s.run(2, progress=False)
    states = all_states(4)
    chain = ["grad", "hard_em", "unweighted_hard_em", "em", "sample", "grad", "em"]
    for n, op in enumerate(chain):
        before = s.log_likelihood(states)
        old = s.config.sum_op
        record = s.set_sum_op("all", op)
        np.testing.assert_allclose(s.log_likelihood(states), before, atol=1e-6)
        assert abs(record.ll_after - record.ll_before) < 1e-6
        assert s.history.switches[-1] is record and len(s.history.switches) == n + 1
        assert record.step == 2
        assert set(record.new.values()) == {op} and set(record.old.values()) == {old}
        assert s.config.sum_op == op
        assert all(l.logspace_accumulators == (op == "grad") for l in s.model.sum_layers)
    assert set(s.step().sum_ops.values()) == {"em"}


def test_switches_on_the_digits_model_keep_the_mean_log_likelihood():
    s = Session("classroom", test_every=0, sum_op="grad", gradient_learning_rate=0.1)
    s.run(3, progress=False)                 # spread the weights out a little
    rows = s.data.test
    for op in ("hard_em", "grad", "unweighted_hard_em", "em", "grad"):
        before = s.log_likelihood(rows)
        record = s.set_sum_op("all", op)
        assert abs(record.ll_after - record.ll_before) < 1e-6, (op, record)
        np.testing.assert_allclose(s.log_likelihood(rows), before, rtol=1e-6)


def test_after_each_switch_the_next_step_follows_the_new_rule():
    lr_em, lr_sgd = 0.3, 0.1
    s = tiny_session("em", em_learning_rate=lr_em, gradient_optimizer="sgd",
                     gradient_learning_rate=lr_sgd)
    root, x = s.model.sum_layers[-1], s.data.train
    s.run(2, progress=False)

    # soft EM -> gradient: one SGD step on the log-space accumulators, then LogNormalized
    s.set_sum_op("all", "grad")
    acc = root.accumulators.numpy()[0, 0, :, 0].astype(np.float64)
    log_w = acc - np.log(np.exp(acc).sum())
    post = softmax_rows(root_children_log_values(s.model, x) + log_w)       # [B, I]
    grad = -(post.mean(0) - np.exp(log_w))          # d mean(-log p) / d acc
    s.step()
    new = acc - lr_sgd * grad
    np.testing.assert_allclose(root.accumulators.numpy()[0, 0, :, 0],
                               new - np.log(np.exp(new).sum()), atol=1e-5)

    # gradient -> soft EM: A <- normalise((1 - lr) A + lr * normalised expected counts)
    s.set_sum_op("all", "em")
    a = root.accumulators.numpy()[0, 0, :, 0].astype(np.float64)            # linear now
    post = softmax_rows(root_children_log_values(s.model, x) + np.log(normalised(a, 0)))
    counts = post.sum(0)
    expected = (1 - lr_em) * a + lr_em * counts / counts.sum()
    s.step()
    np.testing.assert_allclose(root.accumulators.numpy()[0, 0, :, 0], expected / expected.sum(),
                               rtol=1e-5)

    # soft -> hard EM: A <- normalise((1 - lr) A + lr * raw winner counts / B)
    s.set_sum_op("all", "hard_em")
    a = root.accumulators.numpy()[0, 0, :, 0].astype(np.float64)
    scores = root_children_log_values(s.model, x) + np.log(normalised(a, 0))
    counts = np.bincount(np.argmax(scores, axis=1), minlength=len(a)) / len(x)
    expected = (1 - lr_em) * a + lr_em * counts
    s.step()
    np.testing.assert_allclose(root.accumulators.numpy()[0, 0, :, 0], expected / expected.sum(),
                               rtol=1e-5, atol=1e-7)


def test_switching_one_layer_mixes_optimisers_and_each_layer_follows_its_rule():
    lr_em, lr_sgd = 0.5, 0.2
    s = tiny_session("em", em_learning_rate=lr_em, gradient_optimizer="sgd",
                     gradient_learning_rate=lr_sgd)
    s.step()
    record = s.set_sum_op("S4", "grad")                 # only the root goes to gradients
    assert record.layers == ["S4"] and record.optimizers_reset == ["em", "gradient"]
    assert s.config.layer_sum_ops == {"S4": "grad"} and s.config.sum_op == "em"
    root, x = s.model.sum_layers[-1], s.data.train
    acc = root.accumulators.numpy()[0, 0, :, 0].astype(np.float64)
    log_w = acc - np.log(np.exp(acc).sum())
    post = softmax_rows(root_children_log_values(s.model, x) + log_w)
    em_layer = s.model.sum_layers[0]
    em_before = em_layer.accumulators.numpy().copy()
    s.step()
    new = acc + lr_sgd * (post.mean(0) - np.exp(log_w))
    np.testing.assert_allclose(root.accumulators.numpy()[0, 0, :, 0],
                               new - np.log(np.exp(new).sum()), atol=1e-5)
    assert not np.allclose(em_layer.accumulators.numpy(), em_before)    # EM still learns below
    assert np.allclose(em_layer.accumulators.numpy().sum(axis=-2), 1.0, atol=1e-5)
    assert s.history.last.sum_ops == {"S1": "em", "S2": "em", "S3": "em", "S4": "grad"}


def test_layers_can_be_named_by_key_name_index_or_object():
    s = tiny_session("em")
    layer = s.model.sum_layers[1]
    for target in ("S2", layer.name, 1, layer, [layer, "S2"]):
        record = s.set_sum_op(target, "hard_em")
        assert record.layers == ["S2"]
    assert s.set_sum_op(["S1", "S3"], spnk.SumOpUnweightedHardEMBackprop()).layers == ["S1", "S3"]
    assert s.sum_ops["S1"] == "unweighted_hard_em"


def test_trace_ahead_steps_exactly_like_tracing_in_the_step_with_queries_meanwhile():
    """With `trace_ahead` the step after a switch was traced on another thread while queries
    (which swap the layers' ops while they trace) ran: the steps and weights are exactly those
    of a session that traces in the step."""
    import numpy as np

    from spnlab.lab import Session
    from tests.lab.helpers import all_variable_values, assert_same_values

    ahead, inline = (Session("classroom", seed=0, test_every=0) for _ in range(2))
    ahead.trace_ahead = True
    x = ahead.data.test[:3]
    mask = np.repeat(ahead.evidence_mask("bottom"), 3, 0)
    for op in ("hard_em", "grad", "em"):
        records = []
        for s in (ahead, inline):
            s.run(2, progress=False)
            s.set_sum_op("all", op)
            if s is ahead:
                assert s._tracer is not None                # tracing in the background
                for method in ("mpe", "mean", "sample"):
                    s.complete(x, mask, method, seed=0)    # queries meanwhile
            records.append([r.train_ll for r in s.run(2, progress=False)])
        assert records[0] == records[1], op
        assert ahead._compiled._fn.experimental_get_tracing_count() == 1
    assert_same_values(all_variable_values(ahead), all_variable_values(inline))


def _warm_then_step_equals_plain_step(make_session, ops):
    """For each op: warming the fresh step (one call on an empty batch) changes no value at all
    (weights, optimisers, generators), and the steps that follow are bit for bit those of a
    session that never warmed."""
    import numpy as np

    from tests.lab.helpers import all_variable_values, assert_same_values

    warmed, plain = make_session(), make_session()
    for op in ops:
        for s in (warmed, plain):
            s.step()
            s.set_sum_op("all", op)
        before = all_variable_values(warmed)
        compiled = warmed._compiled_step()
        compiled.warm()
        assert_same_values(all_variable_values(warmed), before)
        out = compiled(np.zeros((0, warmed.data.num_vars), warmed.data.train.dtype))
        assert_same_values(all_variable_values(warmed), before)
        assert np.isnan(out["ll"])                        # the mean over no rows
        lls = [[s.step().train_ll for _ in range(2)] for s in (warmed, plain)]
        assert lls[0] == lls[1], op
        assert_same_values(all_variable_values(warmed), all_variable_values(plain))
        assert compiled._fn.experimental_get_tracing_count() == 1


def test_warming_a_step_changes_nothing_under_every_op():
    from tests.lab.helpers import tiny_session

    ops = ("hard_em", {"op": "hard_em", "sample_prob": 0.5}, "sample", "unweighted_hard_em",
           "grad", "em")
    _warm_then_step_equals_plain_step(lambda: tiny_session("em", batch_size=8), ops)


def test_warming_a_node_graph_step_changes_nothing():
    from spnlab.lab import Session

    _warm_then_step_equals_plain_step(lambda: Session("example", seed=0),
                                      ("sample", "grad", "em"))


def test_trace_ahead_warms_the_step_and_the_test_evaluation():
    """After a switch the background thread leaves a traced, warmed step and test pass: the
    next step traces nothing."""
    from spnlab.lab import Session

    s = Session("classroom", seed=0, test_every=1)
    s.trace_ahead = True
    s.step()
    s.set_sum_op("all", "grad")
    s._join_tracer()
    compiled = s._compiled
    evaluators = dict(s._evaluator._fns)
    s.step()
    assert s._compiled is compiled and compiled._fn.experimental_get_tracing_count() == 1
    assert dict(s._evaluator._fns) == evaluators
    assert all(fn.experimental_get_tracing_count() == 1 for fn in evaluators.values())


def _without_reuse(session):
    """Make `session` build fresh ops, optimisers and steps at every switch (the behaviour
    before `spnlab.lab.reuse`): the reference for reuse."""
    from spnlab.lab import reuse

    class FreshOps(reuse.OpPool):
        def _take(self, layer, spec, make):
            return make()

    session._op_pool, session._steps = FreshOps(), reuse.StepCache(0)
    session._optimizers._pool = reuse.LRU(0)
    return session


def test_switching_back_reuses_the_traced_step_and_stays_bit_for_bit():
    """Ops, optimisers and traced steps are reused when a configuration comes back, and the
    run is exactly that of fresh objects: generators reseeded, Adam and online EM restarted."""
    from tests.lab.helpers import all_variable_values, assert_same_values, tiny_session

    reused = tiny_session("em", batch_size=8)
    fresh = _without_reuse(tiny_session("em", batch_size=8))
    plan = [("all", {"op": "hard_em", "sample_prob": 0.5}), ("all", "grad"), ("all", "em"),
            ("all", {"op": "hard_em", "sample_prob": 0.5}), ("S2", "sample"), ("all", "grad"),
            ("S2", "sample"), ("all", "em")]
    compiled = []
    for layer, op in plan:
        lls = []
        for s in (reused, fresh):
            s.set_sum_op(layer, op)
            lls.append([r.train_ll for r in s.run(3, progress=False)])
        assert lls[0] == lls[1], (layer, op)
        assert_same_values(all_variable_values(reused), all_variable_values(fresh))
        assert reused.sum_ops == fresh.sum_ops
        compiled.append(reused._compiled)
    # em, hard_em(0.5), grad, grad + S2 sample, em + S2 sample: five distinct steps, each
    # traced once.
    assert len({id(c) for c in compiled}) == 5
    assert all(c._fn.experimental_get_tracing_count() == 1 for c in compiled)
    assert compiled[2] is compiled[7] and compiled[0] is compiled[3]


def test_restoring_a_state_reuses_ops_and_matches_fresh_objects():
    """A failed step's rollback and a checkpoint-style restore give the ops their saved
    generator states on the pooled objects: the runs after equal those of fresh objects."""
    from tests.lab.helpers import all_variable_values, assert_same_values, tiny_session

    reused = tiny_session("sample", batch_size=8)
    fresh = _without_reuse(tiny_session("sample", batch_size=8))
    for s in (reused, fresh):
        s.run(2, progress=False)
    saved = [s.capture_state() for s in (reused, fresh)]
    first = [[r.train_ll for r in s.run(2, progress=False)] for s in (reused, fresh)]
    assert first[0] == first[1]
    ops_before = [l.sum_op for l in reused.model.sum_layers]
    for s, state in zip((reused, fresh), saved):
        s.restore_state(state)
    assert all(layer.sum_op is op for layer, op in zip(reused.model.sum_layers, ops_before))
    again = [[r.train_ll for r in s.run(2, progress=False)] for s in (reused, fresh)]
    assert again[0] == again[1] == first[0]
    assert_same_values(all_variable_values(reused), all_variable_values(fresh))


def test_trace_ahead_freezes_the_traced_graphs_for_the_collector_and_lets_go():
    """Interactive sessions freeze what is alive after a trace-ahead (Python's full collections
    then skip TensorFlow's graphs) and unfreeze when switched off, so nothing stays frozen."""
    import gc

    from spnlab.lab import Session

    gc.unfreeze()
    s = Session("classroom", seed=0)
    s.trace_ahead = True
    s._join_tracer()
    assert gc.get_freeze_count() > 10_000
    s.trace_ahead = False
    assert gc.get_freeze_count() == 0


def _dropout_model():
    import keras

    import spnlab.core as spnk
    from spnlab.core import layers as L

    init = spnk.initializers.Dirichlet(alpha=1.0, seed=6)
    return spnk.SequentialSumProductNetwork([
        keras.Input(shape=(4,), dtype="int32"), L.FlatToRegions(2, dtype="int32"),
        L.IndicatorLeaf(2), L.DenseSum(2, accumulator_initializer=init),
        L.DenseProduct(2), L.DenseSum(2, accumulator_initializer=init),
        L.LogDropout(0.3, seed=1), L.DenseProduct(2), L.Undecompose(1),
        L.RootSum(return_weighted_child_logits=False, accumulator_initializer=init)])


def test_warming_keeps_a_dropout_layers_random_state():
    """A `LogDropout` draws (and moves its seed) on every training call, also on an empty
    batch: the warm-up puts it back, so tracing ahead never changes the run."""
    import numpy as np

    from spnlab.lab import Session

    x = np.random.default_rng(0).integers(0, 2, (40, 4)).astype(np.int32)
    runs, seeds = [], []
    for ahead in (False, True):
        s = Session(model=_dropout_model(), data=(x, x[:10]), batch_size=8, test_every=0,
                    seed=0, sum_op="em")
        dropout = next(layer for layer in s.model.layers if type(layer).__name__ == "LogDropout")
        state = dropout._seed_generator.state
        s.trace_ahead = ahead
        s._join_tracer()
        seeds.append(np.array(state.numpy()))
        runs.append([s.step().train_ll for _ in range(3)])
        assert not np.array_equal(state.numpy(), seeds[-1])     # the steps did draw
        s.trace_ahead = False
    np.testing.assert_array_equal(seeds[0], seeds[1])
    assert runs[0] == runs[1]


def test_nothing_stays_frozen_when_trace_ahead_is_switched_off_during_a_trace():
    import gc

    from tests.lab.helpers import tiny_session

    s = tiny_session("em")
    s.trace_ahead = True
    s.trace_ahead = False                       # while the background trace still runs
    thread = s._tracer[0] if s._tracer is not None else None
    if thread is not None:
        thread.join()
    assert gc.get_freeze_count() == 0


def test_steps_the_cache_forgets_are_freed_while_tracing_ahead():
    """Forgotten steps are cyclic garbage; a freeze would keep them, so the trace-ahead
    collects them first."""
    import gc
    import weakref

    from spnlab.lab.reuse import StepCache
    from tests.lab.helpers import tiny_session

    s = tiny_session("em")
    s._steps = StepCache(1)
    s.trace_ahead = True
    refs = []
    for op in ("hard_em", "grad", "sample"):
        s._join_tracer()
        refs.append(weakref.ref(s._compiled_step()))
        s.set_sum_op("all", op)
    s._join_tracer()
    assert gc.get_freeze_count() > 0
    assert [r() is None for r in refs] == [True, True, True]
    s.trace_ahead = False
