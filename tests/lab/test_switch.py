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
