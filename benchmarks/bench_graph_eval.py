"""Speed of node-graph evaluation in TensorFlow (spnlab.graph) on ~10,000-node graphs.

Two graphs, batch 1,000 (default):
- "random": `random_spn(38, seed=3)`, 11,787 nodes, a DAG 27 levels deep with shared sums,
  ParallelSums and sums of 2-3 children.
- "ratspn": the node graph of a RAT-SPN layer model (64 binary variables, depth 4,
  26 repetitions, 4 input distributions, 4 sums per region), ~10,000 nodes.

For each: graph build and compile times, then milliseconds per evaluation of the batch
(median of `--repeats` after a warm-up):
    values eager      `log_value(model, x)`: checks the data, forward values only, eager
    values tf.function  the same forward pass traced once (trace time reported separately)
    sum op tf.function  `model(x)`: the forward pass through the core sum op (`SumOpEMBackprop`)
    EM train step     `train_on_batch` with online EM: forward and backward through the sum op

    python benchmarks/bench_graph_eval.py
    python benchmarks/bench_graph_eval.py --batch 100 --repeats 10
"""
import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def median_ms(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def build(name):
    import spnlab.core as spnk
    from spnlab.graph import from_layer_model, random_spn
    if name == "random":
        ex = random_spn(38, seed=3)
        return ex.root, None, 38
    layer_model = spnk.ratspn(64, depth=4, num_repetitions=26, num_input_distributions=4,
                              num_sums=4, seed=0)
    graph = from_layer_model(layer_model)
    return graph.root, graph.variables, 64


def run(name, batch, repeats):
    import numpy as np
    import tensorflow as tf

    import spnlab.core as spnk
    from spnlab.graph import GraphModel, log_value, node_heights

    start = time.perf_counter()
    root, variables, num_vars = build(name)
    built = time.perf_counter() - start
    heights = node_heights(root)
    start = time.perf_counter()
    model = GraphModel(root, sum_op=spnk.SumOpEMBackprop(), variables=variables)
    compiled = time.perf_counter() - start
    x = np.random.default_rng(0).integers(0, 2, size=(batch, num_vars))
    xt = tf.constant(x, tf.float32)

    values = tf.function(lambda t: model.upward(model.leaf_log_values(t), None))
    start = time.perf_counter()
    values.get_concrete_function(xt)
    traced = time.perf_counter() - start
    with_op = tf.function(lambda t: model(t))
    model.compile(optimizer=spnk.OnlineExpectationMaximization(0.05),
                  loss=spnk.losses.NegativeLogLikelihood())
    row = {
        "graph": name, "nodes": len(heights), "levels": max(heights.values()),
        "build s": built, "compile s": compiled, "trace s": traced,
        "values eager ms": median_ms(lambda: log_value(model, x), repeats),
        "values tf.function ms": median_ms(lambda: values(xt).numpy(), repeats),
        "sum op tf.function ms": median_ms(lambda: with_op(xt).numpy(), repeats),
        "EM train step ms": median_ms(lambda: model.train_on_batch(x), repeats),
    }
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--graphs", nargs="+", default=["random", "ratspn"],
                        choices=["random", "ratspn"])
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"# batch {args.batch}, {os.cpu_count()} CPU cores, load average {load:.2f} at start")
    for name in args.graphs:
        row = run(name, args.batch, args.repeats)
        print("  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
