"""Speed of structure learning and of training learned structures (run on a quiet machine).

Prints, for the shared DEBD data sets (default ../shared/data/debd):
- LearnSPN learning time (factorised and Chow-Liu leaves, `--min-instances`) and HCLT structure
  time (`--states`), with the number of decisions;
- online-EM throughput (samples/s) of a learned NLTCS structure (LearnSPN with Chow-Liu leaves
  and an HCLT) through `GraphModel.fit`, per batch size, the first (tracing) epoch left out;
- the latency of a structure Step in the workbench's `StructureRun` (with the next decision
  prepared ahead, a user pausing `--pause` s between steps) on NLTCS and plants.

    python benchmarks/bench_structure_speed.py
    python benchmarks/bench_structure_speed.py --smoke      # tiny synthetic data (the tests)
"""
import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "debd"))


def learning_times(args, names):
    from spnlab.structure import HCLT, LearnSPN, load_debd
    print("| data set | learner | seconds | decisions |")
    print("|---|---|---|---|")
    for name in names:
        data = load_debd(name, args.data)
        for leaves in ("factorized", "chow_liu"):
            start = time.perf_counter()
            learner = LearnSPN(data.train, min_instances_slice=args.min_instances, leaves=leaves)
            learner.learn()
            print(f"| {name} | LearnSPN ({leaves}, min_instances_slice={args.min_instances}) | "
                  f"{time.perf_counter() - start:.1f} | {len(learner.decisions)} |", flush=True)
        start = time.perf_counter()
        hclt = HCLT(data.train, args.states, init="random")
        hclt.learn()
        print(f"| {name} | HCLT structure (k={args.states}) | {time.perf_counter() - start:.2f} | "
              f"{len(hclt.decisions)} |", flush=True)


def em_throughput(args, name):
    import spnlab.core as spnk
    from spnlab.graph import GraphModel
    from spnlab.structure import HCLT, LearnSPN, load_debd
    data = load_debd(name, args.data)
    graphs = {"LearnSPN (chow_liu, min_instances_slice=300)":
              LearnSPN(data.train, min_instances_slice=300, leaves="chow_liu").learn(),
              f"HCLT k={args.states}": HCLT(data.train, args.states, init="random").learn()}
    print(f"\n| {name} structure | batch | EM samples/s |")
    print("|---|---|---|")
    for label, root in graphs.items():
        for batch in args.batches:
            model = GraphModel(root, sum_op=spnk.SumOpEMBackprop())
            model.compile(optimizer=spnk.OnlineExpectationMaximization(0.1),
                          loss=spnk.losses.NegativeLogLikelihood())
            model.fit(data.train, batch_size=batch, epochs=1, verbose=0)        # traces
            start = time.perf_counter()
            model.fit(data.train, batch_size=batch, epochs=args.epochs, verbose=0)
            rate = args.epochs * len(data.train) / (time.perf_counter() - start)
            print(f"| {label} | {batch} | {rate:,.0f} |", flush=True)


def step_latency(args, names):
    import numpy as np
    from spnlab.lab.structure_run import StructureRun
    from spnlab.structure import load_debd
    print("\n| data set | Steps | median ms | p90 ms | max ms | over 200 ms |")
    print("|---|---|---|---|---|---|")
    for name in names:
        run = StructureRun("learnspn", load_debd(name, args.data), min_instances_slice=200,
                           prepare_ahead=True)
        times = []
        for _ in range(args.steps):
            time.sleep(args.pause)
            start = time.perf_counter()
            if run.step() is None:
                break
            run.dot()                                # what the view builds after a Step
            times.append(1000 * (time.perf_counter() - start))
        t = np.array(times)
        print(f"| {name} | {len(t)} | {np.median(t):.1f} | {np.percentile(t, 90):.1f} | "
              f"{t.max():.1f} | {(t > 200).sum()} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--datasets", default="nltcs,accidents,dna")
    parser.add_argument("--min-instances", type=int, default=100)
    parser.add_argument("--states", type=int, default=16)
    parser.add_argument("--batches", default="512,2048,8192")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--pause", type=float, default=0.25)
    parser.add_argument("--latency-datasets", default="nltcs,plants")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    args.batches = [int(b) for b in args.batches.split(",")]
    datasets, latency = args.datasets.split(","), args.latency_datasets.split(",")
    if args.smoke:
        from _smoke_data import tiny_debd
        args.data = tiny_debd()
        datasets = latency = ["tiny"]
        args.batches, args.epochs, args.steps, args.pause, args.states = [64], 1, 3, 0.0, 2
    import tensorflow as tf
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; TensorFlow {tf.__version__}\n")
    learning_times(args, datasets)
    em_throughput(args, datasets[0])
    step_latency(args, latency)


if __name__ == "__main__":
    main()
