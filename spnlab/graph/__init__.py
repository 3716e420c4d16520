"""Node-level SPN graphs (DESIGN.md section 5): hand-built SPNs, scopes, validity, traversal,
DOT text and SVG rendering. Pure structure: nothing here imports TensorFlow.

    from spnlab.graph import IndicatorLeaf, Sum, Product, validate, to_dot, render_svg

    x = IndicatorLeaf(2, 2, variables=["X1", "X2"])
    root = Sum(Product((x, 0), (x, 2)), Product((x, 1), (x, 3)), weights=[0.4, 0.6])
    print(validate(root))
    svg = render_svg(to_dot(root))
"""
from spnlab.graph.dot import to_dot
from spnlab.graph.examples import (ExampleSPN, naive_bayes_mixture, normal_mixture,
                                   poon_domingos_example)
from spnlab.graph.leaves import IndicatorLeaf, NormalLeaf
from spnlab.graph.nodes import Input, LeafNode, Node, OpNode
from spnlab.graph.products import Product
from spnlab.graph.random_spn import random_spn
from spnlab.graph.render import available_engines, render_svg
from spnlab.graph.scope import get_scope, get_scopes
from spnlab.graph.sums import BaseSum, ParallelSums, Sum
from spnlab.graph.traversal import (GraphCycleError, compute_graph_up, graph_weights,
                                    node_heights, topological_order)
from spnlab.graph.validity import ValidityReport, Violation, assert_valid, is_valid, validate
from spnlab.graph.variables import Variable
from spnlab.graph.weights import Weights

__all__ = [
    "Variable", "Node", "OpNode", "LeafNode", "Input", "IndicatorLeaf", "NormalLeaf", "Product",
    "BaseSum", "Sum", "ParallelSums", "Weights",
    "topological_order", "compute_graph_up", "node_heights", "graph_weights", "GraphCycleError",
    "get_scope", "get_scopes", "validate", "is_valid", "assert_valid", "ValidityReport",
    "Violation", "to_dot", "render_svg", "available_engines",
    "ExampleSPN", "poon_domingos_example", "naive_bayes_mixture", "normal_mixture", "random_spn",
]
