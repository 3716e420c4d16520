"""The graph package is pure structure: importing it loads no TensorFlow (DESIGN.md section 5)."""
import subprocess
import sys

import spnlab.graph


def test_public_api_is_exported():
    for name in spnlab.graph.__all__:
        assert hasattr(spnlab.graph, name), name


def test_import_loads_no_tensorflow():
    code = ("import sys, spnlab.graph as g; g.to_dot(g.poon_domingos_example().root); "
            "g.validate(g.random_spn(5).root); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
