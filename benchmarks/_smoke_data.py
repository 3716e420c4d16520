"""The tiny DEBD-format data set the structure benchmarks use in `--smoke` mode (the tests)."""
import tempfile

import numpy as np


def tiny_debd():
    """A temporary directory holding dataset "tiny": 5 binary variables, noisy copies of one
    hidden bit, 500 / 100 / 100 rows. Returns the directory."""
    from spnlab.structure.data import write_debd
    rng = np.random.default_rng(0)
    z = rng.integers(2, size=700)
    table = np.column_stack([z ^ (rng.random(700) < 0.2) for _ in range(5)]).astype(int)
    directory = tempfile.mkdtemp()
    write_debd(directory, "tiny", *np.split(table, [500, 600]))
    return directory
