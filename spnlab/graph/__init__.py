"""Node-level SPN graphs (DESIGN.md section 5): hand-built SPNs, scopes, validity, traversal,
DOT text and SVG rendering. The structure is pure Python: importing it loads no TensorFlow.

    from spnlab.graph import IndicatorLeaf, Sum, Product, validate, to_dot, render_svg

    x = IndicatorLeaf(2, 2, variables=["X1", "X2"])
    root = Sum(Product((x, 0), (x, 2)), Product((x, 1), (x, 3)), weights=[0.4, 0.6])
    print(validate(root))
    svg = render_svg(to_dot(root))

The TensorFlow algorithms on graphs (evaluation, queries, `GraphModel`, `from_layer_model`) are
exported here too but load lazily, on first use, so importing the structure needs no TensorFlow:

    from spnlab.graph import log_value, mpe, GraphModel
    log_value(root, [[0, 1]])
"""
import importlib

from spnlab.graph.dot import to_dot
from spnlab.graph.examples import (ExampleSPN, naive_bayes_mixture, normal_mixture,
                                   poon_domingos_example)
from spnlab.graph.leaves import (CauchyLeaf, IndicatorLeaf, LaplaceLeaf, LocationScaleLeaf,
                                 NormalLeaf)
from spnlab.graph.nodes import Input, LeafNode, Node, OpNode
from spnlab.graph.plan import GraphPlan, compile_plan
from spnlab.graph.products import Product
from spnlab.graph.random_spn import random_spn
from spnlab.graph.legend import Legend, graph_legend, legend_html
from spnlab.graph.region_dot import region_dot
from spnlab.graph.render import available_engines, render_svg
from spnlab.graph.scope import get_scope, get_scopes
from spnlab.graph.serialize import graph_from_config, graph_to_config
from spnlab.graph.sums import BaseSum, ParallelSums, Sum
from spnlab.graph.traversal import (GraphCycleError, compute_graph_up, graph_weights,
                                    node_heights, topological_order)
from spnlab.graph.validity import ValidityReport, Violation, assert_valid, is_valid, validate
from spnlab.graph.variables import Variable
from spnlab.graph.weights import Weights

__all__ = [
    "Variable", "Node", "OpNode", "LeafNode", "Input", "IndicatorLeaf", "LocationScaleLeaf",
    "NormalLeaf", "LaplaceLeaf", "CauchyLeaf", "Product",
    "BaseSum", "Sum", "ParallelSums", "Weights",
    "topological_order", "compute_graph_up", "node_heights", "graph_weights", "GraphCycleError",
    "get_scope", "get_scopes", "validate", "is_valid", "assert_valid", "ValidityReport",
    "Violation", "to_dot", "region_dot", "graph_legend", "legend_html", "Legend", "render_svg",
    "available_engines",
    "ExampleSPN", "poon_domingos_example", "naive_bayes_mixture", "normal_mixture", "random_spn",
    "GraphPlan", "compile_plan", "graph_to_config", "graph_from_config",
    # TensorFlow, loaded lazily:
    "GraphModel", "log_value", "value", "marginal", "variable_marginals", "mpe", "MPEResult",
    "sample", "node_log_values", "posterior_mean", "from_layer_model", "LayerGraph",
    "induced_tree", "InducedTree",
]

# name -> module of the TensorFlow half, imported on first attribute access (PEP 562)
_LAZY = {
    "GraphModel": "keras_model", "log_value": "queries", "value": "queries",
    "marginal": "queries", "variable_marginals": "queries", "mpe": "queries",
    "MPEResult": "queries", "sample": "queries", "node_log_values": "queries",
    "posterior_mean": "queries",
    "from_layer_model": "from_layers", "LayerGraph": "from_layers",
    "induced_tree": "induced", "InducedTree": "induced",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f"spnlab.graph.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'spnlab.graph' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
