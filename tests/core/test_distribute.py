"""tf.distribute: training on two replicas gives the same model as training on one."""
import json
import subprocess
import sys
import textwrap

import numpy as np

SCRIPT = textwrap.dedent("""
    import json, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import keras, numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import spnlab.core as spnk

    x = np.random.default_rng(0).integers(0, 2, size=(400, 8)).astype("int32")

    def train(strategy):
        with strategy.scope():
            model = spnk.ratspn(8, depth=2, num_repetitions=3, num_input_distributions=3,
                                num_sums=3, seed=0, sum_op=spnk.SumOpEMBackprop(),
                                accumulator_initializer=spnk.initializers.Dirichlet(alpha=1.0, seed=0))
            model.compile(loss=spnk.losses.NegativeLogLikelihood(),
                          optimizer=spnk.OnlineExpectationMaximization(0.5))
        model.fit(x, batch_size=100, epochs=2, verbose=0, shuffle=False)
        return [w.tolist() for w in model.get_weights()]

    one = train(tf.distribute.OneDeviceStrategy("/cpu:0"))
    two = train(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print(json.dumps({"one": one, "two": two}))
""")


def test_mirrored_strategy_matches_single_device_training():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(result["one"]) == len(result["two"])
    for a, b in zip(result["one"], result["two"]):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
    # training moved the weights at all (otherwise equality would be vacuous)
    assert any(np.abs(np.asarray(w)).sum() > 0 for w in result["one"])
