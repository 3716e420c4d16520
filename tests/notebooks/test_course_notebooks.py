"""Execute the course notebooks (notebooks/02_* and later) headlessly with nbclient.

The notebooks check themselves: they compare every number the library computes with a brute
force (enumeration, the max-product formula typed in by hand, numerical integration) or with
the layer model it came from, with `assert`s. Executing them is therefore a test. On top, each
notebook's printed output must contain a few concrete results (the validity messages naming the
variables at fault, a live switch keeping the log-likelihood, ...).

The tour (01_tour) is a widget notebook, driven in a real browser by tests/browser; here it is
only executed for `test_notebook_is_quiet`: no notebook may write to stderr (TensorFlow's start-up
log, oneDNN lines, tf.function retracing warnings) nor mention retracing. The kernels run
without TF_CPP_MIN_LOG_LEVEL (the Makefile sets it), as in a user's own JupyterLab.
"""
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("0[2-9]*.ipynb"))
ALL_NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("0[1-9]*.ipynb"))
# Not passed on to the kernels: what a user's JupyterLab does not set either. Under
# PYTEST_CURRENT_TEST ipykernel does not capture file descriptors 1 and 2, so C++ log lines
# (TensorFlow's) would bypass the notebook's outputs.
KERNEL_ENV_UNSET = ("TF_CPP_MIN_LOG_LEVEL", "PYTEST_CURRENT_TEST")
CELL_TIMEOUT = 300          # seconds per cell; the whole of 03 runs in well under a minute

# Text that must appear in a notebook's outputs once executed.
EXPECTED_OUTPUT = {
    "02_by_hand.ipynb": [
        "The SPN is valid (complete and decomposable).",
        "Sum 'incomplete' is not complete: children 'TD[0]' and 'TE' differ in D, E",
        "Product 'not_decomposable' is not decomposable: children 'TD[0]' and 'TD[1]' "
        "both contain D",
        "brute-force total 2.000",
        "integral over h, summed over f: 1.000",
    ],
    "03_learning_modes.ipynb": [
        "all five backward passes agree with the formulas",
        "switch em -> hard_em: LL before",
        "switch hard_em -> grad: LL before",
    ],
    "04_layers_to_graphs.ipynb": [
        "sum over all 16 assignments: 1.000000",
        "The SPN is valid (complete and decomposable).",
        "'Product': 288",
        "max |graph LL - layer LL| on 32 test digits:",
    ],
    "05_structures.ipynb": [
        "the root mixes 32 products over 2 cuts:",
        "sum over all 65536 states = ",
    ],
    "06_learning_structure.ipynb": [
        "every row is nearest its own cluster's centre: a local optimum",
        "every partial SPN normalised",
        "HCLT with k = 2 and identity emissions = the Chow-Liu tree on all 64 states",
        "chosen on validation: min_instances_slice=",
    ],
    "07_real_data.ipynb": [
        "published HCLT: test LL  -6.000",
        "hard EM keeps picking the same children",
    ],
}
# Regular expressions over the same text (e.g. numbers that must agree).
EXPECTED_PATTERNS = {
    "03_learning_modes.ipynb": [
        # the printed log-likelihoods right before and after a live switch are the same number
        r"switch em -> hard_em: LL before (-?\d+\.\d{6}), after \1\b",
    ],
    "04_layers_to_graphs.ipynb": [
        # the expanded graph's log-likelihoods differ from the layer model's by < 1e-4
        r"on 32 test digits: (0\.00e\+00|\d\.\d\de-(0[5-9]|[1-9]\d))",
    ],
    "05_structures.ipynb": [
        # each model's weights, counted in its layers, by formula and in its node graph
        r"RAT-SPN +3652 +3652 +3652\b",
        r"Poon-Domingos +8992 +8992 +8992\b",
        r"DGC-SPN +1604 +1604 +1604\b",
        # the 4x4 DGC-SPN's probabilities of all 2^16 images add up to 1
        r"DGC-SPN +on 4x4 images: sum over all 65536 states = (1\.0000|0\.9999)\d\d\b",
    ],
    "06_learning_structure.ipynb": [
        # the Chow-Liu tree is the best of all 1296 spanning trees of six variables
        r"1296 spanning trees; the library's tree has MI (\d\.\d{4}), the best \1\b",
        r"the learned structure is better by [1-9]\.\d\d nats per digit",
    ],
    "07_real_data.ipynb": [
        # the six shared data sets with their sizes
        r"nltcs +16 +16181 +2157 +3236",
        r"accidents +111 +12758 +1700 +2551",
    ],
}

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _ThisInterpreter(AsyncKernelManager):
    """A python3 kernel on the interpreter running the tests (the project's venv), whatever
    "python3" kernelspec a user may have installed elsewhere."""

    def format_kernel_cmd(self, extra_arguments=None):
        return [sys.executable, "-m", "ipykernel_launcher",
                "-f", os.path.realpath(self.connection_file), *(extra_arguments or [])]

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        env = dict(kw.get("env") or os.environ)
        for name in KERNEL_ENV_UNSET:
            env.pop(name, None)
        kw["env"] = env
        await super()._async_launch_kernel(kernel_cmd, **kw)


def _text(output):
    """The plain text of one output (stream, result, display or error)."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return _ANSI.sub("", "\n".join(output.get("traceback", [])))
    return output.get("data", {}).get("text/plain", "")


def _outputs_text(nb):
    return "\n".join(_text(o) for cell in nb.cells if cell.cell_type == "code"
                     for o in cell.get("outputs", []))


def _failure_report(nb, path, error):
    """The failing cell's number, source and traceback."""
    for number, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                return (f"{path.name}: cell {number} failed "
                        f"({output.get('ename')}: {output.get('evalue')})\n"
                        f"--- cell source ---\n{cell.source}\n"
                        f"--- traceback ---\n{_text(output)}")
    return f"{path.name} failed to execute:\n{_ANSI.sub('', str(error))}"


_EXECUTED = {}   # path -> (executed notebook, seconds) or the failure report


def _execute(path):
    """Execute a notebook once per test run; later calls get the same outputs."""
    if path not in _EXECUTED:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                kernel_manager_class=_ThisInterpreter,
                                resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
        start = time.perf_counter()
        try:
            client.execute()
            _EXECUTED[path] = (nb, time.perf_counter() - start)
        except CellExecutionError as error:
            _EXECUTED[path] = _failure_report(nb, path, error)
    if isinstance(_EXECUTED[path], str):
        pytest.fail(_EXECUTED[path], pytrace=False)
    return _EXECUTED[path]


def test_course_notebooks_exist():
    names = [p.name for p in NOTEBOOKS]
    for expected in EXPECTED_OUTPUT:
        assert expected in names, f"{expected} is missing from {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for number, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {number} is stored with outputs"
            assert cell.execution_count is None, \
                f"{path.name}: cell {number} is stored with an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, record_property):
    nb, seconds = _execute(path)
    record_property("seconds", round(seconds, 1))
    print(f"{path.name}: executed in {seconds:.1f} s")
    text = _outputs_text(nb)
    for expected in EXPECTED_OUTPUT.get(path.name, []):
        assert expected in text, f"{path.name}: expected {expected!r} in the outputs"
    for pattern in EXPECTED_PATTERNS.get(path.name, []):
        assert re.search(pattern, text), f"{path.name}: expected /{pattern}/ in the outputs"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=[p.name for p in ALL_NOTEBOOKS])
def test_notebook_is_quiet(path):
    """No cell writes to stderr and nothing mentions tf.function retracing (the outputs of
    `test_notebook_executes`' run; the tour is executed here)."""
    nb, _ = _execute(path)
    problems = []
    for number, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = _text(output)
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                problems.append(f"cell {number} wrote to stderr:\n{text}")
            elif "retracing" in text:
                problems.append(f"cell {number} mentions retracing:\n{text}")
    assert not problems, f"{path.name}: " + "\n".join(problems)
