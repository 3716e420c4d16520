"""The shared density-estimation benchmarks (../shared/data/debd beside the repository, as in
CI): the loader reads all six, and the learners reach known-good log-likelihoods on NLTCS.
The benchmark script runs in its smoke mode and prints every field."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from spnlab.graph import log_value
from spnlab.structure import LearnSPN, bits_per_variable, debd_names, load_debd
from spnlab.structure.fine_tune import fine_tune
from spnlab.structure.hclt import HCLT

ROOT = Path(__file__).resolve().parents[2]
DEBD = ROOT.parent / "shared" / "data" / "debd"
SHAPES = {"nltcs": 16, "plants": 69, "baudio": 100, "jester": 100, "accidents": 111, "dna": 180}


@pytest.fixture(scope="module")
def nltcs():
    assert DEBD.is_dir(), f"the shared benchmarks are expected at {DEBD}"
    return load_debd("nltcs", DEBD)


def test_all_six_shared_datasets_load_with_their_variables():
    assert debd_names(DEBD) == sorted(SHAPES)
    for name, num_vars in SHAPES.items():
        data = load_debd(name, DEBD)
        for split in (data.train, data.valid, data.test):
            assert split.shape[1] == num_vars and set(np.unique(split)) <= {0, 1}
        assert len(data.train) > len(data.valid)


@pytest.mark.slow
def test_learnspn_with_chow_liu_leaves_on_nltcs(nltcs):
    learner = LearnSPN(nltcs.train, min_instances_slice=300, leaves="chow_liu")
    root = learner.learn()
    numpy_ll = learner.log_likelihood(nltcs.test)
    np.testing.assert_allclose(log_value(root, nltcs.test), numpy_ll, rtol=1e-4, atol=1e-4)
    assert -6.10 < numpy_ll.mean() < -5.95          # HCLT reference -6.00, LearnSPN -6.11
    assert 0.37 < bits_per_variable(numpy_ll.mean(), 16) < 0.55


@pytest.mark.slow
def test_hclt_trained_by_em_on_nltcs(nltcs):
    root = HCLT(nltcs.train, num_latent_states=8, init="random").learn()
    tuned = fine_tune(root, nltcs.train, nltcs.valid, epochs=4, batch_size=1024)
    test = log_value(root, nltcs.test).mean()
    assert tuned.history[0]["valid_ll"] < -9.0 and test > -6.15


def test_benchmark_script_smoke_prints_every_field():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_structure.py"),
                          "--smoke"], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.returncode == 0, out.stderr[-2000:]
    header = [line for line in out.stdout.splitlines() if line.startswith("| dataset")]
    assert header and all(field in header[0] for field in
                          ("learn s", "nodes", "edges", "params", "valid LL", "test LL",
                           "bits/var", "EM samples/s", "HCLT reference"))
    rows = [line for line in out.stdout.splitlines() if line.startswith("| tiny |")]
    assert {r.split("|")[2].strip() for r in rows} == {"LearnSPN (factorized)",
                                                     "LearnSPN (chow_liu)", "HCLT"}
    assert "SPFlow" in out.stdout


def test_speed_benchmark_smoke_prints_every_table():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_structure_speed.py"),
                          "--smoke"], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert out.returncode == 0, out.stderr[-2000:]
    for header in ("| data set | learner | seconds | decisions |",
                   "| tiny structure | batch | EM samples/s |",
                   "| data set | Steps | median ms | p90 ms | max ms | over 200 ms |"):
        assert header in out.stdout
    rows = [line for line in out.stdout.splitlines() if line.startswith("| tiny |")]
    assert len(rows) == 4 and all(float(r.split("|")[3]) >= 0 for r in rows[:3])
