"""Speed and memory of each sum op on LibSPN-Keras' "Benchmark With Einsum Networks" RAT-SPN.

111 binary variables, depth 5, 32 repetitions, 32 input distributions, 32 sums per region,
batch 100 (31,717,408 weights). For each sum op, in a fresh process: ms per training step
(`train_on_batch` with online EM, or Adam for the gradient op), ms per forward pass, and the
process's peak resident memory. Prints one table row per op.

    python benchmarks/bench_sum_ops.py                 # all five ops
    python benchmarks/bench_sum_ops.py --ops em hard   # some of them
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

OPS = {
    "grad": "SumOpGradBackprop()",
    "em": "SumOpEMBackprop()",
    "hard": "SumOpHardEMBackprop()",
    "unweighted": "SumOpUnweightedHardEMBackprop()",
    "sample": "SumOpSampleBackprop()",
}


def run_one(op_name, steps, batch, jit):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np
    import tensorflow as tf

    import spnlab.core as spnk

    op = eval("spnk." + OPS[op_name])  # noqa: S307 - a fixed table above
    model = spnk.ratspn(111, depth=5, num_repetitions=32, num_input_distributions=32,
                        num_sums=32, sum_op=op, seed=0,
                        accumulator_initializer=keras.initializers.RandomUniform(0.05, 1.0))
    optimizer = (keras.optimizers.Adam(1e-2) if op_name == "grad"
                 else spnk.OnlineExpectationMaximization(0.05))
    model.compile(loss=spnk.losses.NegativeLogLikelihood(), optimizer=optimizer,
                  jit_compile=jit)
    x = np.random.default_rng(0).integers(0, 2, size=(batch, 111)).astype("int32")
    num_weights = int(sum(np.prod(w.shape) for w in model.trainable_weights))

    forward = tf.function(lambda x: model(x, training=False), jit_compile=jit)
    for _ in range(2):                                   # warm-up: tracing and compilation
        model.train_on_batch(x)
        forward(x).numpy()
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = model.train_on_batch(x)
    train_ms = (time.perf_counter() - t0) / steps * 1e3
    t0 = time.perf_counter()
    for _ in range(steps):
        forward(x).numpy()
    forward_ms = (time.perf_counter() - t0) / steps * 1e3
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"op": op_name, "weights": num_weights, "train_ms": train_ms, "forward_ms": forward_ms,
            "peak_mib": peak_mib, "loss": float(np.asarray(loss).reshape(-1)[0]), "jit": jit}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", nargs="*", default=list(OPS), choices=list(OPS))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--jit", action="store_true", help="XLA-compile (grad/em only)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.steps, args.batch, args.jit)))
        return
    print(f"RAT-SPN 111 vars, depth 5, 32 reps/inputs/sums, batch {args.batch}, "
          f"{os.cpu_count()} CPUs, {args.steps} timed steps")
    print(f"{'sum op':<12}{'weights':>12}{'train ms/step':>15}{'forward ms':>12}{'peak MiB':>10}")
    for op in args.ops:
        cmd = [sys.executable, __file__, "--child", op, "--steps", str(args.steps),
               "--batch", str(args.batch)] + (["--jit"] if args.jit else [])
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode:
            print(f"{op:<12} failed: {out.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{op:<12}{r['weights']:>12,}{r['train_ms']:>15.1f}{r['forward_ms']:>12.1f}"
              f"{r['peak_mib']:>10.0f}")


if __name__ == "__main__":
    main()
