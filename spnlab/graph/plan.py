"""A node graph compiled into an evaluation plan: what to gather, sum and multiply per height.

Pure NumPy (no TensorFlow): `compile_plan` walks the graph once and returns index arrays that
`evaluate.py` turns into a few TensorFlow ops per height (DESIGN.md section 5: the graph is
structure, an algorithm builds its TF computation afterwards; grouping is only for speed).

Values live in *levels*: level 0 holds every leaf output, level h > 0 the outputs of the op
nodes of height h, each level a `[rows, batch]` tensor (node-output-major, so gathers take
whole rows). Within a level the products come first, then the sum groups in order.

- Products of one height are one `segment_sum` over their gathered children.
- Sums of one height are grouped by their number of outputs O and (bucketed) number of
  children; a group is one call of the sum op's `weighted_sum` on `x [B, G, 1, I]` with
  accumulators `[G, 1, I, O]` gathered from the weight variables. Missing children of shorter
  sums are padded: value -inf, weight 0. A sum with latent indicators adds them to its
  children's values; a `ParallelSums` with latent indicators becomes one row per output
  (its sums then see different children).
- Weights nodes of equal shape `[num_sets, num_children]` are stacked into one accumulator
  tensor `[count, num_children, num_sets]` (children on axis -2, as in the core's sum layers);
  a flat index into the concatenation of these tensors addresses one weight.
"""
import math
from collections import defaultdict
from typing import NamedTuple

import numpy as np

from spnlab.graph._checks import short_repr
from spnlab.graph.leaves import FAMILIES, IndicatorLeaf, LocationScaleLeaf
from spnlab.graph.nodes import LeafNode, Node
from spnlab.graph.products import Product
from spnlab.graph.sums import BaseSum
from spnlab.graph.traversal import node_heights
from spnlab.graph.variables import Variable, sorted_variables


class Columns(NamedTuple):
    """The data columns: `data` in the order the user gives, then the optional `latent`
    columns (latent variables not in `data`, creation order). `variables` is both together."""

    data: tuple
    latent: tuple

    @property
    def variables(self):
        return self.data + self.latent


class Gather(NamedTuple):
    """Rows of earlier levels, in a given order: `size` rows made of `parts`, each
    `(level, rows, positions)` (rows of that level placed at those positions), and the
    positions `pad` that take a constant row instead."""

    size: int
    parts: tuple
    pad: np.ndarray


class ProductGroup(NamedTuple):
    """`num` products: output g = sum of the gathered child rows with `segments == g`."""

    num: int
    children: Gather
    segments: np.ndarray


class SumGroup(NamedTuple):
    """G sum rows with I (padded) children and O outputs each.

    children: gathers `G * I` rows (row-major `[G, I]`; padding -> -inf).
    latent: None, or gathers `G * I` latent-indicator rows of level 0 (padding -> 0).
    weight_index: `[G, I, O]` flat weight indices; -1 for padding (weight 0).
    nodes: the sum node of each row.
    """

    num_rows: int
    num_children: int
    num_outputs: int
    children: Gather
    latent: object
    weight_index: np.ndarray
    nodes: tuple


class Level(NamedTuple):
    height: int
    size: int
    products: object        # ProductGroup or None
    sums: tuple             # of SumGroup


class LeafLayout(NamedTuple):
    """Level 0: indicator rows first, then the continuous (location-scale) rows.

    indicator_cols / indicator_vals: `[Li]` column and value of each `[X = k]` row.
    continuous_cols: `[Lc]` column of each continuous row; continuous_nodes: the
    `LocationScaleLeaf`s grouped by family (normal, Laplace, Cauchy; graph order within a
    family), whose outputs fill the continuous rows node after node in output order.
    """

    indicator_cols: np.ndarray
    indicator_vals: np.ndarray
    continuous_cols: np.ndarray
    continuous_nodes: tuple

    @property
    def size(self):
        return len(self.indicator_cols) + len(self.continuous_cols)


class WeightsLayout(NamedTuple):
    """Weights nodes stacked by shape: `buckets[k] = ((num_children, num_sets), nodes)`, the
    k-th accumulator tensor `[len(nodes), num_children, num_sets]` starting at flat index
    `offsets[k]`; `slot[weights] = (k, position in nodes)`."""

    buckets: tuple
    offsets: tuple
    slot: dict

    def flat_base(self, weights):
        k, pos = self.slot[weights]
        (n, sets), _ = self.buckets[k]
        return self.offsets[k] + pos * n * sets

    @property
    def size(self):
        if not self.buckets:
            return 0
        (n, sets), nodes = self.buckets[-1]
        return self.offsets[-1] + len(nodes) * n * sets


class GraphPlan(NamedTuple):
    """Everything the TF evaluator needs; see the module docstring.

    addresses: `{node: (level, rows)}`, the rows of the node's outputs in that level.
    root_address: `(level, row)` of the root's output.
    """

    root: Node
    columns: Columns
    leaves: LeafLayout
    levels: tuple
    weights: WeightsLayout
    addresses: dict
    root_address: tuple


def check_root(root):
    if not isinstance(root, Node):
        raise TypeError(f"Expected `root` to be a Node. Received: root={short_repr(root)}")
    if root.num_outputs != 1:
        raise ValueError(f"Expected `root` with one output. Received: root={root!r} with "
                         f"{root.num_outputs} outputs")
    return root


def _columns(order, variables):
    """Data and latent columns from the leaves reached and the user's `variables`."""
    latent_nodes = {node.latent_indicators.node for node in order
                    if isinstance(node, BaseSum) and node.latent_indicators is not None}
    data_nodes = {inp.node for node in order if node.is_op for inp in node.inputs}
    if isinstance(order[-1], LeafNode):
        data_nodes.add(order[-1])
    data_vars = {v for node in data_nodes if isinstance(node, LeafNode) for v in node.variables}
    latent_vars = {v for node in latent_nodes for v in node.variables} - data_vars
    if variables is None:
        return Columns(tuple(sorted_variables(data_vars)), tuple(sorted_variables(latent_vars)))
    if isinstance(variables, (str, Variable)) or not hasattr(variables, "__iter__"):
        raise TypeError(f"Expected `variables` to be a sequence of Variable objects or names. "
                        f"Received: variables={short_repr(variables)}")
    known = data_vars | latent_vars
    by_name = defaultdict(list)
    for var in known:
        by_name[var.name].append(var)
    chosen = []
    for i, var in enumerate(variables):
        if isinstance(var, str):
            if len(by_name.get(var, ())) != 1:
                problem = "no variable" if var not in by_name else "several variables"
                raise ValueError(f"Expected `variables[{i}]` to name one variable of the graph. "
                                 f"Received: variables[{i}]={var!r} ({problem} of that name)")
            var = by_name[var][0]
        if not isinstance(var, Variable) or var not in known:
            raise ValueError(f"Expected `variables[{i}]` to be a variable of the graph. "
                             f"Received: variables[{i}]={short_repr(var)}")
        if var in chosen:
            raise ValueError(f"Expected distinct `variables`. Received {var.name} twice")
        chosen.append(var)
    missing = sorted_variables(data_vars - set(chosen))
    if missing:
        raise ValueError(f"Expected `variables` to contain every variable of the graph. "
                         f"Missing: {', '.join(v.name for v in missing)}")
    rest = sorted_variables(latent_vars - set(chosen))
    return Columns(tuple(chosen), tuple(rest))


def _leaf_layout(order, columns, addresses):
    column_of = {var: i for i, var in enumerate(columns.variables)}
    ind_cols, ind_vals, norm_cols, continuous_nodes = [], [], [], []
    indicators = [n for n in order if isinstance(n, IndicatorLeaf)]
    normals = [n for family in FAMILIES for n in order
               if isinstance(n, LocationScaleLeaf) and n.family == family]
    others = [n for n in order if isinstance(n, LeafNode) and not isinstance(n, (IndicatorLeaf,
                                                                              LocationScaleLeaf))]
    if others:
        raise TypeError("Expected IndicatorLeaf, NormalLeaf, LaplaceLeaf or CauchyLeaf leaves. "
                        f"Received: {others[0]!r}")
    row = 0
    for node in indicators:
        k = node.num_vals
        ind_cols += [column_of.get(v, -1) for v in node.variables for _ in range(k)]
        ind_vals += list(range(k)) * node.num_vars
        addresses[node] = (0, np.arange(row, row + node.num_outputs))
        row += node.num_outputs
    for node in normals:
        norm_cols += [column_of.get(v, -1) for v in node.variables for _ in
                      range(node.num_components)]
        addresses[node] = (0, np.arange(row, row + node.num_outputs))
        row += node.num_outputs
        continuous_nodes.append(node)
    return LeafLayout(np.asarray(ind_cols, np.int64), np.asarray(ind_vals, np.float32),
                      np.asarray(norm_cols, np.int64), tuple(continuous_nodes))


def _weights_layout(sums):
    by_shape = defaultdict(list)
    seen = set()
    for node in sums:
        w = node.weights
        if id(w) not in seen:
            seen.add(id(w))
            by_shape[(w.num_children, w.num_sets)].append(w)
    buckets, offsets, slot, offset = [], [], {}, 0
    for k, (shape, nodes) in enumerate(sorted(by_shape.items())):
        buckets.append((shape, tuple(nodes)))
        offsets.append(offset)
        offset += len(nodes) * shape[0] * shape[1]
        for pos, w in enumerate(nodes):
            slot[w] = (k, pos)
    return WeightsLayout(tuple(buckets), tuple(offsets), slot)


def _gather(refs):
    """A `Gather` for a list of `(level, row)` references, None meaning padding."""
    by_level = defaultdict(lambda: ([], []))
    pad = []
    for pos, ref in enumerate(refs):
        if ref is None:
            pad.append(pos)
        else:
            rows, positions = by_level[ref[0]]
            rows.append(ref[1])
            positions.append(pos)
    parts = tuple((level, np.asarray(rows, np.int64), np.asarray(pos, np.int64))
                  for level, (rows, pos) in sorted(by_level.items()))
    return Gather(len(refs), parts, np.asarray(pad, np.int64))


def _child_refs(node, addresses):
    return [(addresses[child][0], int(addresses[child][1][i])) for child, i in node.child_outputs]


def _bucket(num_children):
    """Children are padded to a power of two above 4 so that few groups form."""
    return num_children if num_children <= 4 else 2 ** math.ceil(math.log2(num_children))


def _sum_rows(node):
    """`(node, output indices, weight rows, latent blocks)` per row of the sum group(s)."""
    n = node.num_children
    if node.latent_indicators is None:
        return [(node, tuple(range(node.num_sums)), node.weight_sets, None)]
    latent = node.latent_indicators
    return [(node, (j,), (node.weight_sets[j],), (latent.node, latent.indices[j * n:(j + 1) * n]))
            for j in range(node.num_sums)]


def _level(height, nodes, addresses, weights):
    products = [n for n in nodes if isinstance(n, Product)]
    row = 0
    product_group = None
    if products:
        refs, segments = [], []
        for g, node in enumerate(products):
            child_refs = _child_refs(node, addresses)
            refs += child_refs
            segments += [g] * len(child_refs)
            addresses[node] = (height, np.asarray([row + g]))
        product_group = ProductGroup(len(products), _gather(refs), np.asarray(segments, np.int64))
        row += len(products)
    groups = defaultdict(list)
    for node in nodes:
        if isinstance(node, BaseSum):
            for spec in _sum_rows(node):
                groups[(len(spec[1]), _bucket(node.num_children))].append(spec)
    sum_groups = []
    out_rows = defaultdict(dict)
    for (num_out, num_in), specs in sorted(groups.items()):
        child_refs, latent_refs = [], []
        weight_index = np.full((len(specs), num_in, num_out), -1, np.int64)
        for g, (node, outputs, sets, latent) in enumerate(specs):
            refs = _child_refs(node, addresses)
            pad = [None] * (num_in - len(refs))
            child_refs += refs + pad
            if latent is not None:
                leaf_rows = addresses[latent[0]][1]
                latent_refs += [(0, int(leaf_rows[i])) for i in latent[1]] + pad
            else:
                latent_refs += [None] * num_in
            base = weights.flat_base(node.weights)
            num_sets = node.weights.num_sets
            for o, s in enumerate(sets):
                weight_index[g, :len(refs), o] = base + np.arange(len(refs)) * num_sets + s
            for o, j in enumerate(outputs):
                out_rows[node][j] = row + g * num_out + o
        has_latent = any(spec[3] is not None for spec in specs)
        sum_groups.append(SumGroup(len(specs), num_in, num_out, _gather(child_refs),
                                   _gather(latent_refs) if has_latent else None, weight_index,
                                   tuple(spec[0] for spec in specs)))
        row += len(specs) * num_out
    for node, rows in out_rows.items():
        addresses[node] = (height, np.asarray([rows[j] for j in range(node.num_outputs)]))
    return Level(height, row, product_group, tuple(sum_groups))


def compile_plan(root, variables=None):
    """The evaluation plan of the SPN below `root` (a node with one output).

    Args:
        root: the root node.
        variables: the data columns in order: `Variable`s or their (unique) names. Default:
            every variable of the graph's leaves in creation order. Latent variables (of latent
            indicators) not listed become optional extra columns after these.

    Returns:
        `GraphPlan`.
    """
    check_root(root)
    heights = node_heights(root)  # also raises GraphCycleError
    order = list(heights)
    for node in order:
        if node.is_op and node.num_children == 0:
            raise ValueError(f"Expected every op node to have inputs. Received: {node!r} has none")
        if node.is_op and not isinstance(node, (Product, BaseSum)):
            raise TypeError(f"Expected Sum, ParallelSums or Product op nodes. Received: {node!r}")
    columns = _columns(order, variables)
    addresses = {}
    leaves = _leaf_layout(order, columns, addresses)
    weights = _weights_layout([n for n in order if isinstance(n, BaseSum)])
    by_height = defaultdict(list)
    for node in order:
        if node.is_op:
            by_height[heights[node]].append(node)
    levels = tuple(_level(h, by_height[h], addresses, weights) for h in sorted(by_height))
    level, rows = addresses[root]
    return GraphPlan(root, columns, leaves, levels, weights, addresses, (level, int(rows[0])))
