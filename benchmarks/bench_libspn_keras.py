"""The same RAT-SPN benchmark run by LibSPN-Keras 0.6 itself, for a same-machine baseline.

LibSPN-Keras 0.6 does not run on current TensorFlow; it still runs on TF 2.15 (the last
release with Keras 2 as tf.keras) once its optimiser is pointed at the legacy base class.
Run it in a separate environment (nothing here is part of spnlab's install):

    python3 -m venv /tmp/lsk && /tmp/lsk/bin/pip install tensorflow-cpu==2.15.1 \\
        tensorflow-probability==0.23.0 libspn-keras==0.6.0
    /tmp/lsk/bin/python benchmarks/bench_libspn_keras.py --ops em grad

Prints the same columns as bench_sum_ops.py: the "Benchmark With Einsum Networks" RAT-SPN
(111 binary variables, depth 5, 32 repetitions / input distributions / sums, batch 100),
ms per `train_on_batch` and per forward pass, and peak memory, one process per op.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

OPS = ["grad", "em", "hard", "unweighted", "sample"]


def run_one(op_name, steps, batch):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    # LibSPN-Keras 0.6 subclasses the pre-2.11 optimiser API.
    tf.keras.optimizers.Optimizer = tf.keras.optimizers.legacy.Optimizer
    import libspn_keras as lsk

    ops = {"grad": lsk.SumOpGradBackprop, "em": lsk.SumOpEMBackprop,
           "hard": lsk.SumOpHardEMBackprop, "unweighted": lsk.SumOpUnweightedHardEMBackprop,
           "sample": lsk.SumOpSampleBackprop}
    lsk.set_default_sum_op(ops[op_name]())
    lsk.set_default_accumulator_initializer(tf.keras.initializers.RandomUniform(0.05, 1.0))
    num_vars, depth = 111, 5
    layers = [lsk.layers.FlatToRegions(num_decomps=32, input_shape=[num_vars], dtype=tf.int32),
              lsk.layers.IndicatorLeaf(num_components=2), lsk.layers.DenseSum(num_sums=32),
              lsk.layers.PermuteAndPadScopesRandom(), lsk.layers.ReduceProduct(num_factors=4)]
    for level in range(depth):
        layers += [lsk.layers.DenseProduct(num_factors=2),
                   lsk.layers.DenseSum(num_sums=32 if level < depth - 1 else 1)]
    layers.append(lsk.layers.RootSum(return_weighted_child_logits=False))
    model = lsk.models.SequentialSumProductNetwork(layers)
    optimizer = (tf.keras.optimizers.legacy.Adam(1e-2) if op_name == "grad"
                 else lsk.optimizers.OnlineExpectationMaximization(learning_rate=0.05))
    model.compile(loss=lsk.losses.NegativeLogLikelihood(), optimizer=optimizer)
    x = np.random.default_rng(0).integers(0, 2, size=(batch, num_vars)).astype("int32")
    forward = tf.function(lambda x: model(x, training=False))
    for _ in range(2):
        model.train_on_batch(x)
        forward(x).numpy()
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x)
    train_ms = (time.perf_counter() - t0) / steps * 1e3
    t0 = time.perf_counter()
    for _ in range(steps):
        forward(x).numpy()
    forward_ms = (time.perf_counter() - t0) / steps * 1e3
    return {"op": op_name, "tf": tf.__version__, "train_ms": train_ms, "forward_ms": forward_ms,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "weights": int(sum(np.prod(w.shape) for w in model.trainable_weights))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", nargs="*", default=OPS, choices=OPS)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.steps, args.batch)))
        return
    print(f"LibSPN-Keras 0.6, RAT-SPN 111 vars, depth 5, 32 reps/inputs/sums, batch {args.batch}, "
          f"{os.cpu_count()} CPUs, {args.steps} timed steps")
    print(f"{'sum op':<12}{'weights':>12}{'train ms/step':>15}{'forward ms':>12}{'peak MiB':>10}")
    for op in args.ops:
        cmd = [sys.executable, __file__, "--child", op, "--steps", str(args.steps),
               "--batch", str(args.batch)]
        out = subprocess.run(cmd, capture_output=True, text=True)
        lines = out.stdout.strip().splitlines()
        if out.returncode or not lines:
            err = (out.stderr.strip().splitlines() or [f"exit code {out.returncode}"])[-1]
            print(f"{op:<12} failed: {err}")
            continue
        r = json.loads(lines[-1])
        print(f"{op:<12}{r['weights']:>12,}{r['train_ms']:>15.1f}{r['forward_ms']:>12.1f}"
              f"{r['peak_mib']:>10.0f}")


if __name__ == "__main__":
    main()
