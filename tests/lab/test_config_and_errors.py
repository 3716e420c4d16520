"""Settings round-trip; bad arguments are clear errors naming the argument and the value."""
import json

import numpy as np
import pytest

import spnlab.core as spnk
from spnlab.lab import PRESETS, Session, SessionConfig
from tests.lab.helpers import tiny_session


def test_config_round_trips_through_json_and_presets_apply():
    config = SessionConfig.preset("hard_em", batch_size=32,
                                  layer_sum_ops={"S2": spnk.SumOpHardEMBackprop(sample_prob=0.2)})
    again = SessionConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert config.sum_op == "hard_em" and config.layer_sum_ops == {
        "S2": {"op": "hard_em", "sample_prob": 0.2}}
    assert set(PRESETS) >= {"digits", "classroom", "hard_em", "unweighted_hard_em", "gradient"}
    assert SessionConfig.preset("classroom").depth == 2


@pytest.mark.parametrize("changes,exc,message", [
    ({"batch_size": 0}, ValueError, "batch_size=0"),
    ({"em_learning_rate": 1.5}, ValueError, "em_learning_rate=1.5"),
    ({"gradient_optimizer": "lbfgs"}, ValueError, "gradient_optimizer='lbfgs'"),
    ({"sum_op": "newton"}, ValueError, "sum_op='newton'"),
    ({"sum_op": {"op": "hard_em", "sample_prob": 1.5}}, ValueError, "sample_prob=1.5"),
    ({"sum_op": {"op": "em", "seed": 1}}, ValueError, "Unknown arguments"),
    ({"sum_op": 3}, TypeError, "sum_op=3"),
    ({"test_fraction": 0.95}, ValueError, "test_fraction=0.95"),
    ({"taps": {"capacity": 0}}, ValueError, "taps.capacity=0"),
    ({"taps": {"layers": "S1"}}, TypeError, "taps.layers='S1'"),
    ({"depht": 3}, ValueError, "depht"),
    ({"seed": -1}, ValueError, "seed=-1"),
])
def test_bad_settings_name_the_argument_and_value(changes, exc, message):
    with pytest.raises(exc, match=message.replace("(", r"\(").replace("[", r"\[")):
        SessionConfig.from_dict(changes)


def test_bad_session_arguments_are_clear_errors():
    s = tiny_session("em")
    with pytest.raises(ValueError, match="layer='S9'"):
        s.set_sum_op("S9", "em")
    with pytest.raises(ValueError, match="layer=7"):
        s.set_sum_op(7, "em")
    with pytest.raises(TypeError, match="op=1.0"):
        s.set_sum_op("all", 1.0)
    with pytest.raises(ValueError, match="sample_prob=2"):
        s.set_sum_op("all", {"op": "hard_em", "sample_prob": 2})
    with pytest.raises(ValueError, match="num_steps=0"):
        s.run(0)
    with pytest.raises(ValueError, match="rebuild"):
        s.update_config(depth=4)
    with pytest.raises(ValueError, match="bogus"):
        s.update_config(bogus=1)
    with pytest.raises(ValueError, match="event='tick'"):
        s.subscribe("tick", print)
    with pytest.raises(TypeError, match="callback"):
        s.subscribe("step", 3)
    with pytest.raises(ValueError, match="method='viterbi'"):
        s.complete(s.data.test[:2], np.ones((2, 4), bool), method="viterbi")
    with pytest.raises(ValueError, match="split='valid'"):
        s.evaluate("valid")
    with pytest.raises(ValueError, match="signal='grad'"):
        s.node_signal("S1", "grad")
    with pytest.raises(ValueError, match="key='S7'"):
        s.node_signal("S7", "counts")
    with pytest.raises(ValueError, match="structure"):
        s.rebuild(structure="ratspn")
    assert s.history.switches == [] and s.step_count == 0


def test_bad_data_is_a_clear_error():
    model = tiny_session("em").model
    with pytest.raises(ValueError, match="NaN or inf"):
        Session(model=model, data=np.array([[0, 1, np.nan, 0]] * 5))
    with pytest.raises(ValueError, match="4 variables"):
        Session(model=model, data=np.zeros((5, 3), np.int32))
    with pytest.raises(ValueError, match=r"values in \[0, 2\)"):
        Session(model=model, data=np.full((5, 4), 2, np.int32))
    with pytest.raises(TypeError, match="numbers"):
        Session(model=model, data=np.array([["a"] * 4] * 5))
    with pytest.raises(ValueError, match="model"):
        Session(structure="custom")
    with pytest.raises(TypeError, match="config=3"):
        Session(3)


@pytest.mark.parametrize("name", ["em_learning_rate", "gradient_learning_rate", "init_alpha"])
@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_numbers_are_refused(name, value):
    from spnlab.lab.config import SessionConfig
    with pytest.raises(ValueError, match=name):
        SessionConfig(**{name: value})
