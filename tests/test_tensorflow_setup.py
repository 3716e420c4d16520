"""`import spnlab` sets TensorFlow's logging up before TensorFlow loads (spnlab/_tensorflow_setup).

The subprocess tests clear TF_CPP_MIN_LOG_LEVEL (the Makefile sets it to 2 for `make test`):
a user's own Python or JupyterLab does not have it.
"""
import os
import subprocess
import sys

from spnlab._tensorflow_setup import ABSL_NOTICE, filter_log

INFO = ("I0000 00:00:1796490540.909131    5631 port.cc:153] oneDNN custom operations are on. "
        "You may see slightly different numerical results.\n")
WARNING = "W0000 00:00:1796490634.091670    6358 dump_graph.cc:162] Failed to dump.\n"
ERROR = "E1205 17:12:01.250527    5448 util.cc:131] oneDNN supports DT_BOOL only on ...\n"


def _run(code, **env_overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)


def test_filter_log_drops_lines_below_the_level_and_lone_notices():
    notice = ABSL_NOTICE + "\n"
    text = notice + INFO + "a Python warning\n" + notice + INFO
    assert filter_log(text, 1) == "a Python warning\n"
    assert filter_log(text, 0) == text
    # a notice stays with the warning or error it announces
    assert filter_log(notice + INFO + WARNING + ERROR, 1) == notice + WARNING + ERROR
    assert filter_log(notice + INFO + WARNING + ERROR, 2) == notice + ERROR
    assert filter_log("", 1) == ""
    assert filter_log("no newline at the end", 3) == "no newline at the end"


def test_importing_spnlab_and_stepping_a_session_prints_nothing_to_stderr():
    result = _run("from spnlab.lab import Session\n"
                  "s = Session('classroom', seed=0)\n"
                  "s.step(); s.log_likelihood(s.data.test[:8])\n"
                  "import os, tensorflow as tf\n"
                  "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], tf.__spec__.loader is tf.__loader__)")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.split() == ["1", "True"]


def test_keras_training_and_a_node_graph_step_print_nothing_to_stderr():
    """Grappler used to move `is_finite` (a unary op with a bool output) above a transpose
    (in the loss' log-sum-exp) and a cast of the evidence mask below one (in the node-graph
    leaves); oneDNN then logged an ERROR line for the bool transpose."""
    result = _run("import numpy as np\n"
                  "import spnlab.core as spnk\n"
                  "from spnlab.lab import Session\n"
                  "x = np.random.RandomState(0).randint(0, 2, (32, 16))\n"
                  "for op in (spnk.SumOpGradBackprop(), spnk.SumOpEMBackprop()):\n"
                  "    m = spnk.ratspn(16, depth=2, num_repetitions=2, num_input_distributions=2,"
                  " num_sums=2, sum_op=op)\n"
                  "    m.compile(loss=spnk.losses.NegativeLogLikelihood(),"
                  " optimizer=spnk.OnlineExpectationMaximization(0.05))\n"
                  "    m.train_on_batch(x); m.fit(x, epochs=1, verbose=0)\n"
                  "s = Session('example', seed=0)\n"
                  "s.run(2, progress=False)\n"
                  "print(len(s.induced_tree(s.data.train[0]).nodes) > 0)")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.split() == ["True"]


def test_filtered_stderr_writes_back_what_it_keeps():
    # no TensorFlow here: file descriptor 2 inside the block, as a C library writes it
    result = _run("import os\n"
                  "from spnlab._tensorflow_setup import filtered_stderr\n"
                  "with filtered_stderr(1):\n"
                  f"    os.write(2, {(ABSL_NOTICE + chr(10) + INFO + 'other' + chr(10)).encode()!r})\n"
                  "    print('via sys.stderr', file=__import__('sys').stderr)\n"
                  "os.write(2, b'after\\n')\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "other\nvia sys.stderr\nafter\n"


def test_an_explicit_log_level_is_kept():
    # TF_CPP_MIN_LOG_LEVEL=0 set by the user shows TensorFlow's INFO lines again
    result = _run("import spnlab, tensorflow", TF_CPP_MIN_LOG_LEVEL="0")
    assert result.returncode == 0, result.stderr
    assert "oneDNN custom operations are on" in result.stderr
