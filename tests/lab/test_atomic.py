"""A step, switch or setting change that raises leaves the session exactly as it was."""
import numpy as np
import pytest

from tests.lab.helpers import all_variable_values, assert_same_values, tiny_session


def observable_state(s):
    return (all_variable_values(s), s._stream.state(), s.step_count, s.wall_time,
            [r.to_dict() for r in s.history.steps], list(s.history.switches),
            [r.step for r in s.taps], s.config, s.sum_ops)


def assert_same_state(a, b):
    assert_same_values(a[0], b[0])
    assert a[1:] == b[1:]


def make_twins(**kw):
    settings = dict(rows=50, batch_size=16, test_every=1, em_learning_rate=0.3)
    settings.update(kw)
    return tiny_session("hard_em", **settings), tiny_session("hard_em", **settings)


def test_a_step_failing_after_the_update_is_undone(monkeypatch):
    s, twin = make_twins()
    s.run(2, progress=False)
    twin.run(2, progress=False)
    before = observable_state(s)

    def failing_evaluation(rows):           # runs after the weights have been updated
        raise RuntimeError("forced failure in the middle of a step")

    monkeypatch.setattr(type(s._evaluator), "__call__", lambda self, rows: failing_evaluation(rows))
    with pytest.raises(RuntimeError, match="forced failure"):
        s.step()
    assert_same_state(observable_state(s), before)
    monkeypatch.undo()
    # and it continues exactly like a session that never failed
    a, b = s.run(3, progress=False), twin.run(3, progress=False)
    def lls(records):
        return [(r.step, r.train_ll, r.test_ll) for r in records]

    assert lls(a) == lls(b)
    assert_same_values(all_variable_values(s), all_variable_values(twin))


def test_a_step_failing_inside_the_compiled_update_is_undone():
    s, _ = make_twins(taps={"enabled": True})
    s.step()
    before = observable_state(s)
    compiled = s._compiled_step()

    class Exploding:
        points = compiled.points

        def __call__(self, x):
            compiled(x)                       # weights, optimiser and generators all move
            raise FloatingPointError("forced failure after the update")

    s._compiled = Exploding()
    with pytest.raises(FloatingPointError):
        s.step()
    assert_same_state(observable_state(s), before)


def test_a_failing_switch_or_config_change_is_undone(monkeypatch):
    s = tiny_session("em", rows=50, batch_size=16)
    s.run(2, progress=False)
    before = observable_state(s)
    spaces = [l.logspace_accumulators for l in s.model.sum_layers]

    import spnlab.core as spnk            # what the session's switch check calls
    real = spnk.log_likelihood
    calls = []

    def fails_after_the_conversion(model, x):   # the check after the accumulators moved
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("forced failure during the switch")
        return real(model, x)

    monkeypatch.setattr(spnk, "log_likelihood", fails_after_the_conversion)
    with pytest.raises(RuntimeError, match="during the switch"):
        s.set_sum_op("all", "grad")

    def failing_rates(config):
        raise RuntimeError("forced failure during the config change")

    monkeypatch.setattr(s._optimizers, "set_learning_rates", failing_rates)
    with pytest.raises(RuntimeError, match="config change"):
        s.update_config(accumulate_batches=3, em_learning_rate=0.9)
    monkeypatch.undo()
    assert_same_state(observable_state(s), before)
    assert [l.logspace_accumulators for l in s.model.sum_layers] == spaces
    assert s.history.switches == [] and s.config.accumulate_batches == 1
    s.step()                                       # still trains


def test_nan_log_likelihood_is_a_clear_error_and_the_step_is_undone():
    s = tiny_session("em")
    s.step()
    before = observable_state(s)
    s.model.sum_layers[0].accumulators.assign(np.full(s.model.sum_layers[0].accumulators.shape,
                                                      np.nan, np.float32))
    poisoned = observable_state(s)
    with pytest.raises(FloatingPointError, match="NaN"):
        s.step()
    assert_same_state(observable_state(s), poisoned)
    assert poisoned[2:] == before[2:]


def test_a_step_that_makes_weights_non_finite_is_undone():
    import numpy as np
    from spnlab.lab import Session
    session = Session("classroom", seed=3)
    session.step()
    before = [w.copy() for w in session.model.get_weights()]
    real = session._compiled_step

    class Poisoned:                     # the real step, then an overflow in one weight
        def __init__(self, inner):
            self._inner = inner

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def __call__(self, x):
            out = self._inner(x)
            variable = session.model.trainable_variables[0]
            variable.assign(np.full(variable.shape, np.inf, "float32"))
            return out

    session._compiled_step = lambda: Poisoned(real())
    with pytest.raises(FloatingPointError, match=r"NaN or \+inf"):
        session.step()
    assert session.step_count == 1
    for got, want in zip(session.model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_capture_and_restore_state_are_public_and_all_or_nothing():
    from tests.lab.helpers import all_variable_values, assert_same_values
    session = tiny_session("hard_em")
    session.run(2, progress=False)
    state = session.capture_state()
    before = all_variable_values(session)
    records = session.run(3, progress=False)
    session.restore_state(state)
    assert session.step_count == 2
    assert_same_values(all_variable_values(session), before)
    again = session.run(3, progress=False)                      # the same three steps
    assert [r.train_ll for r in again] == [r.train_ll for r in records]
    other = tiny_session("em", num_vars=6)                      # another structure
    moved = all_variable_values(session)
    with pytest.raises(ValueError, match="variables|sum layers|shape"):
        session.restore_state(other.capture_state())
    assert_same_values(all_variable_values(session), moved)
