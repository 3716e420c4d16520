"""Structures learned from data on the density-estimation benchmarks (DEBD).

For each dataset in `--data` (default ../shared/data/debd): LearnSPN with factorised leaves,
LearnSPN with Chow-Liu-tree leaves and HCLT. Hyperparameters are chosen on the validation split
only (LearnSPN: `min_instances_slice` by the validation LL of the learned structure; HCLT: the
number of latent states after EM), then the chosen structure's parameters are fine-tuned with
online EM through `GraphModel` (best epoch on validation). Printed per structure: learning
time, graph size (nodes, edges, parameters), validation and test LL (nats per row), bits per
variable, EM samples/s, and the HCLT reference result. SPFlow 1.1's `learn_spn` runs in the
same script when it is installed; its failures are printed, not hidden.

    python benchmarks/bench_structure.py
    python benchmarks/bench_structure.py --datasets nltcs,plants --epochs 20
    python benchmarks/bench_structure.py --datasets dna --hclt 16x8d0.5 --lr 0.1 \
        --final-lr 0.9 --epochs 40 --full-batch-epochs 80 --batch 256 --steps-per-epoch 6
    python benchmarks/bench_structure.py --smoke         # tiny synthetic data (the tests)
"""
import argparse
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Test log-likelihoods of HCLT (Liu and Van den Broeck, 2021; the published run logs).
REFERENCE = {"nltcs": -6.00, "plants": -14.26, "baudio": -39.77, "audio": -39.77,
             "jester": -52.46, "accidents": -26.74, "dna": -79.06}
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "debd"))


def graph_size(root):
    from spnlab.graph import graph_weights, topological_order
    nodes = topological_order(root)
    edges = sum(len(getattr(n, "child_outputs", ())) * max(1, getattr(n, "num_sums", 1))
                for n in nodes)
    params = sum(w.values.size for w in graph_weights(root))
    return len(nodes), edges, params


def learnspn_runs(data, grid, args):
    """Learn every (leaves, min_instances_slice); keep the best by validation per leaves kind."""
    from spnlab.structure import LearnSPN
    best = {}
    for leaves in ("factorized", "chow_liu"):
        for m in grid:
            start = time.perf_counter()
            learner = LearnSPN(data.train, min_instances_slice=m, leaves=leaves, seed=args.seed)
            learner.learn()
            seconds = time.perf_counter() - start
            valid = float(learner.log_likelihood(data.valid).mean())
            print(f"    LearnSPN {leaves:10s} min_instances_slice={m:<5d} {seconds:6.1f} s  "
                  f"{len(learner.decisions):5d} decisions  valid {valid:9.3f}", flush=True)
            if leaves not in best or valid > best[leaves][0]:
                best[leaves] = (valid, learner, seconds, f"min_instances_slice={m}")
    return [(f"LearnSPN ({leaves})", learner.graph(), seconds, label)
            for leaves, (_, learner, seconds, label) in best.items()]


def hclt_runs(data, configs, args):
    """One HCLT per config "k" (k latent states), "kxm" (a mixture of m such trees over the
    Chow-Liu tree) or "kxmdp" (m trees, those after the first with a share p of the pairs
    dropped: `tree_dropout`), e.g. "12x4d0.5"."""
    from spnlab.structure.hclt import HCLT
    runs = []
    for config in configs:
        k, _, rest = config.partition("x")
        m, _, dropout = rest.partition("d")
        k, m, dropout = int(k), int(m or 1), float(dropout or 0)
        start = time.perf_counter()
        root = HCLT(data.train, k, init="random", seed=args.seed, num_components=m,
                    tree_dropout=dropout).learn()
        label = f"k={k}" + (f", {m} components" if m > 1 else "") + \
            (f" (tree dropout {dropout})" if dropout else "")
        runs.append(("HCLT", root, time.perf_counter() - start, label))
    return runs


def spflow_run(data, min_instances_slice=200):
    """SPFlow 1.x's `learn_spn` (PyTorch) with Bernoulli leaves, when SPFlow is installed.
    Its module layout moved between releases, so the known paths are tried in turn; every
    failure is printed with its message."""
    import importlib
    try:
        importlib.import_module("spflow")
    except ImportError:
        return "SPFlow not installed (pip install spflow torch to compare its learn_spn)"
    try:
        import numpy as np
        import torch
        from spflow.meta.data.scope import Scope
        from spflow.modules.leaves import Bernoulli
        learn_spn = None
        for path in ("spflow.learn", "spflow.learn.learn_spn", "spflow.learning"):
            try:
                learn_spn = getattr(importlib.import_module(path), "learn_spn")
                break
            except (ImportError, AttributeError):
                continue
        if learn_spn is None:
            return "SPFlow installed, but no learn_spn found in spflow.learn / spflow.learning"
        start = time.perf_counter()
        leaves = Bernoulli(scope=Scope(list(range(data.num_vars))), out_channels=1)
        model = learn_spn(torch.tensor(data.train, dtype=torch.float64), leaf_modules=leaves,
                          min_instances_slice=min_instances_slice)
        seconds = time.perf_counter() - start
        test = model.log_likelihood(torch.tensor(data.test, dtype=torch.float64))
        return (f"SPFlow learn_spn (min_instances_slice={min_instances_slice}): "
                f"{seconds:.1f} s, test {float(np.mean(test.detach().numpy())):.3f}")
    except Exception as error:                          # report, never hide
        return f"SPFlow learn_spn failed: {type(error).__name__}: {str(error)[:200]}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--datasets", default=None, help="comma-separated (default: all)")
    parser.add_argument("--epochs", type=int, default=30, help="EM epochs of HCLT training")
    parser.add_argument("--learnspn-epochs", type=int, default=5,
                        help="EM epochs of fine-tuning a LearnSPN structure")
    parser.add_argument("--grid", default="100,300,1000", help="min_instances_slice values")
    parser.add_argument("--hclt", default="16,32",
                        help="HCLT configs: k latent states, or kxm for a mixture of m trees")
    parser.add_argument("--full-batch-epochs", type=int, default=0,
                        help="exact-EM epochs after the online ones (HCLT)")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps-per-epoch", type=int, default=16,
                        help="at least this many EM steps per epoch (smaller batches)")
    parser.add_argument("--lr", type=float, default=0.5, help="online EM step size")
    parser.add_argument("--final-lr", type=float, default=0.02,
                        help="step size of the last epoch (geometric decay)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="tiny synthetic data, 1 epoch")
    args = parser.parse_args()

    from spnlab.structure import bits_per_variable, debd_names, load_debd
    from spnlab.structure.fine_tune import fine_tune
    from spnlab.graph import log_value

    if args.smoke:
        from _smoke_data import tiny_debd
        args.data = tiny_debd()
        args.epochs, args.learnspn_epochs, args.grid, args.hclt = 1, 1, "50", "2,2x2d0.5"
        args.full_batch_epochs = 1
    import tensorflow as tf
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or '?'}; "
          f"TensorFlow {tf.__version__}; EM epochs {args.epochs} (HCLT) / {args.learnspn_epochs} "
          f"(LearnSPN), batch {args.batch}, "
          f"step {args.lr} -> {args.final_lr}, then {args.full_batch_epochs} exact-EM epochs "
          f"(HCLT)")
    names = args.datasets.split(",") if args.datasets else debd_names(args.data)
    grid = [int(m) for m in args.grid.split(",")]
    configs = args.hclt.split(",")
    rows = []
    for name in names:
        data = load_debd(name, args.data)
        print(f"{name}: {data.train.shape[0]} / {data.valid.shape[0]} / {data.test.shape[0]} "
              f"rows, {data.num_vars} variables", flush=True)
        candidates = learnspn_runs(data, grid, args) + hclt_runs(data, configs, args)
        results = []
        for label, root, seconds, hyper in candidates:
            nodes, edges, params = graph_size(root)
            epochs = args.epochs if label == "HCLT" else args.learnspn_epochs
            # small data sets get at least --steps-per-epoch steps per epoch (DNA: 1,600 rows,
            # batch 100 at 16)
            batch = min(args.batch, max(32, len(data.train) // args.steps_per_epoch))
            tuned = fine_tune(root, data.train, data.valid, epochs=epochs, batch_size=batch,
                              learning_rate=args.lr, final_learning_rate=args.final_lr,
                              seed=args.seed, full_batch_epochs=args.full_batch_epochs
                              if label == "HCLT" else 0)
            best = tuned.history[tuned.best_epoch]
            speeds = [h["samples_per_second"] for h in tuned.history[2:]
                      if h["samples_per_second"]] or [tuned.history[-1]["samples_per_second"]]
            test = float(log_value(root, data.test).mean())
            results.append((label, hyper, seconds, nodes, edges, params, tuned.history[0],
                            best, test, max(speeds) if speeds[0] else 0.0, tuned.best_epoch))
            print(f"    {label:22s} {hyper:24s} learn {seconds:6.1f} s  {nodes:6d} nodes "
                  f"{edges:7d} edges {params:7d} params  valid {best['valid_ll']:9.3f} "
                  f"(epoch {tuned.best_epoch}, before EM {tuned.history[0]['valid_ll']:.3f})"
                  f"  test {test:9.3f}  EM {results[-1][9]:8.0f} samples/s", flush=True)
        chosen = {}
        for r in results:                          # HCLT: pick k on validation
            key = r[0]
            if key not in chosen or r[7]["valid_ll"] > chosen[key][7]["valid_ll"]:
                chosen[key] = r
        for r in chosen.values():
            rows.append((name, data.num_vars) + r)
        print(f"    {spflow_run(data)}", flush=True)

    print()
    print("| dataset | structure | chosen | learn s | nodes | edges | params | valid LL | "
          "test LL | bits/var | EM samples/s | HCLT reference |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (name, num_vars, label, hyper, seconds, nodes, edges, params, _, best, test, speed,
         _) in rows:
        ref = REFERENCE.get(name)
        print(f"| {name} | {label} | {hyper} | {seconds:.1f} | {nodes} | {edges} | {params} | "
              f"{best['valid_ll']:.3f} | {test:.3f} | {bits_per_variable(test, num_vars):.4f} | "
              f"{speed:.0f} | {'' if ref is None else f'{ref:.2f}'} |")


if __name__ == "__main__":
    main()
