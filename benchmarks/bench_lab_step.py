"""Milliseconds per `Session.step()` on the teaching-size model, with all taps on and off.

The model is the lab's default: a RAT-SPN (depth 3, 4 repetitions, 4 input distributions, 4 sums)
on the 64 binarised pixels of scikit-learn's digits, 3,652 weights, batch 64. For each sum op:
ms per step after warm-up with every tap on (forward statistics and histograms, signals to
inputs and weights, counts, entropy, dead children), with taps off, with taps on and the
unfused pass that also taps the product layers, and Keras' own `train_on_batch` on the same
model for reference. Target (issue 4): < 50 ms per step with all taps on, on a 2-core CPU.

    python benchmarks/bench_lab_step.py                  # em, hard_em, grad
    python benchmarks/bench_lab_step.py --ops hard_em --steps 100
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def ms_per_step(step, steps, warmup):
    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1e3


def bench_op(op, steps, warmup, batch_size):
    import numpy as np

    import spnlab.core as spnk            # first: it sets TensorFlow's logging up
    from spnlab.lab import Session

    import keras

    row = {"op": op}
    for label, taps in (("taps_on", {"enabled": True}), ("taps_off", {"enabled": False}),
                        ("taps_on_unfused", {"enabled": True, "products": True})):
        session = Session("digits", sum_op=op, test_every=0, batch_size=batch_size, taps=taps)
        row[label] = ms_per_step(session.step, steps, warmup)
        row["weights"] = sum(int(np.prod(v.shape)) for v in session.model.trainable_variables)
    # the default cadence: test log-likelihood every 10 steps, taps on (the warm-up includes
    # one evaluation, so its tracing is not timed)
    session = Session("digits", sum_op=op, batch_size=batch_size)
    row["taps_on_with_test_ll"] = ms_per_step(session.step, steps,
                                              max(warmup, session.config.test_every))
    # Keras' own training step on the same model, for reference
    model = Session("digits", sum_op=op).model
    model.compile(loss=spnk.losses.NegativeLogLikelihood(),
                  optimizer=(spnk.OnlineExpectationMaximization(0.05) if op != "grad"
                             else keras.optimizers.Adam(0.05)))
    x = session.data.train[:batch_size]
    row["keras_train_on_batch"] = ms_per_step(lambda: model.train_on_batch(x), steps, warmup)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", nargs="+", default=["em", "hard_em", "grad"])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    columns = ["taps_on", "taps_off", "taps_on_unfused", "taps_on_with_test_ll",
               "keras_train_on_batch"]
    print(f"ms per step, batch {args.batch_size}, mean of {args.steps} steps after "
          f"{args.warmup} warm-up steps; cores: {os.cpu_count()}")
    print(f"{'op':<10}{'weights':>8}" + "".join(f"{c:>22}" for c in columns))
    for op in args.ops:
        row = bench_op(op, args.steps, args.warmup, args.batch_size)
        print(f"{op:<10}{row['weights']:>8}" + "".join(f"{row[c]:>22.1f}" for c in columns),
              flush=True)


if __name__ == "__main__":
    main()
