"""DOT text of an SPN graph (pure function, no rendering; see `render.py` for SVG).

Node view: sums are circles labelled "+", products circles labelled "×", `ParallelSums` a box of
"+" fields, leaves boxes with one field per output ("X1=0", "N(X1)"), or a leaf with many outputs
one small box per variable of the drawn scope (`dot_leaves.py`); sum edges carry their
weight (label, pen width), latent-indicator edges are dashed, every node's tooltip shows its name
and scope. Optional per-node values and/or signals appear in the labels and as fill colour.
Collapsed view: one box per height level (leaves are level 0) with its node count, and one edge
per pair of connected levels with the number of node-view edges it stands for.
"""
import math
import numbers
from collections import Counter, defaultdict
from typing import NamedTuple

from spnlab.graph._checks import is_int, short_repr
from spnlab.graph.dot_format import (ColourScale, Raw, attrs, no_fill, number, quote,
                                     record_text, scope_text)
from spnlab.graph.dot_edges import EdgeScale, per_edge
from spnlab.graph.dot_highlight import TREE_PENWIDTH, as_highlight, edge_colour, node_style
from spnlab.graph.dot_leaves import (check_split, leaves_to_split, piece_id, piece_statement,
                                     used_variables)
from spnlab.graph.nodes import LeafNode, Node
from spnlab.graph.products import Product
from spnlab.graph.scope import node_scopes
from spnlab.graph.sums import BaseSum
from spnlab.graph.traversal import as_roots, compute_graph_up

_RANKDIRS = ("TB", "LR", "BT", "RL")


class NodeSummary(NamedTuple):
    """What the drawing needs per node, computed in one upward pass."""

    height: int
    scopes: tuple


def _summarise(node, inputs):
    height = 1 + max(s.height for s in inputs) if inputs else 0
    return NodeSummary(height, node_scopes(node, tuple(s.scopes for s in inputs)))


# -- argument checks -------------------------------------------------------------------------
def _node_ids(order):
    """Unique DOT ids: the node name, with `#2`, `#3`, ... appended to repeated names."""
    ids, used = {}, set()
    for node in order:
        node_id, k = node.name, 1
        while node_id in used:
            k += 1
            node_id = f"{node.name}#{k}"
        used.add(node_id)
        ids[node] = node_id
    return ids


def _per_node(mapping, arg, graph):
    """`{node: float}` from a dict keyed by node names or nodes."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise TypeError(f"Expected `{arg}` to be a dict of node name -> float. "
                        f"Received: {arg}={short_repr(mapping)}")
    by_name = defaultdict(list)
    for node in graph:
        by_name[node.name].append(node)
    result = {}
    for key, value in mapping.items():
        if isinstance(key, Node):
            if key not in graph:
                raise ValueError(f"Expected `{arg}` keys to be nodes of the graph. "
                                 f"Received: {key!r}")
            node = key
        elif isinstance(key, str):
            if len(by_name.get(key, ())) != 1:
                problem = "unknown" if key not in by_name else "ambiguous (several nodes)"
                raise ValueError(f"Expected `{arg}` keys to be names of nodes in the graph. "
                                 f"Received {problem} name: {key!r}")
            node = by_name[key][0]
        else:
            raise TypeError(f"Expected `{arg}` keys to be node names. Received: {short_repr(key)}")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"Expected `{arg}` values to be real numbers. "
                            f"Received: {arg}[{key!r}]={short_repr(value)}")
        result[node] = float(value)
    return result


def _check_options(weights, collapsed, fill, precision, rankdir, names, max_scope_vars):
    if not isinstance(weights, bool) and weights != "width":
        raise TypeError(f"Expected `weights` to be a bool or 'width'. "
                        f"Received: weights={short_repr(weights)}")
    for arg, value in (("collapsed", collapsed), ("names", names)):
        if not isinstance(value, bool):
            raise TypeError(f"Expected `{arg}` to be a bool. Received: {arg}={short_repr(value)}")
    if fill not in ("auto", "values", "signals", None):
        raise ValueError("Expected `fill` in ('auto', 'values', 'signals', None). "
                         f"Received: fill={fill!r}")
    if not is_int(precision) or precision < 0:
        raise ValueError(f"Expected `precision` to be a non-negative int. "
                         f"Received: precision={precision!r}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"Expected `rankdir` in {_RANKDIRS}. Received: rankdir={rankdir!r}")
    if not is_int(max_scope_vars) or max_scope_vars < 2:
        raise ValueError(f"Expected `max_scope_vars` to be an int >= 2. "
                         f"Received: max_scope_vars={max_scope_vars!r}")


# -- the drawing -----------------------------------------------------------------------------
class _Drawing:
    """State shared by the node and collapsed views."""

    def __init__(self, roots, values, signals, fill, precision, rankdir, max_scope_vars,
                 split_leaves="auto", edge_values=None, titles=None, highlight=None):
        self.summaries = compute_graph_up(roots, _summarise)
        self.highlight = as_highlight(highlight, self.summaries)
        self.order = list(self.summaries)
        self.ids = _node_ids(self.order)
        self.edge_values = per_edge(edge_values, self.summaries)
        self.edge_scale = EdgeScale(self.edge_values.values())
        self.titles = _titles(titles, self.summaries)
        self.split = leaves_to_split(self.order, split_leaves)      # drawn per variable
        self.pieces = used_variables(self.order, self.split, self.edges)
        self.values = _per_node(values, "values", self.summaries)
        self.signals = _per_node(signals, "signals", self.summaries)
        if fill == "auto":
            fill = "signals" if self.signals else "values" if self.values else None
        self.fill = fill
        self.fill_of = self.signals if fill == "signals" else self.values if fill else {}
        self.scale = ColourScale(self.fill_of.values(), fill, precision) if self.fill_of \
            else no_fill
        self.precision, self.rankdir = precision, rankdir
        self.max_scope_vars = max_scope_vars

    def number(self, x):
        return number(x, self.precision)

    def value_lines(self, nodes):
        """Label lines for the value / signal of a node (or the mean over a level)."""
        lines = []
        for tag, mapping in (("v", self.values), ("s", self.signals)):
            found = [mapping[n] for n in nodes if n in mapping]
            if found:
                finite = [x for x in found if math.isfinite(x)]
                x = sum(finite) / len(finite) if finite else found[0]
                both = bool(self.values) and bool(self.signals)
                mean = "mean " if len(nodes) > 1 else ""
                lines.append(f"{tag} {mean}{self.number(x)}" if both or mean else self.number(x))
        return lines

    def edges(self, node):
        """Node-view edges of `node`: (tail port, child, child output, weight, is_latent,
        child position (sum edges) or None)."""
        if isinstance(node, BaseSum):
            values = node.weight_values if node.num_children else None
            for j in range(node.num_sums):
                for pos, (child, index) in enumerate(node.child_outputs):
                    yield j, child, index, float(values[j, pos]), False, pos
            if node.latent_indicators is not None:
                latent, n = node.latent_indicators, node.num_children
                for j in range(node.num_sums):
                    for index in latent.indices[j * n:(j + 1) * n]:
                        yield j, latent.node, index, None, True, None
        elif node.is_op:
            for child, index in node.child_outputs:
                yield 0, child, index, None, False, None


def _glyph(node):
    if isinstance(node, Product):
        return "×"
    if isinstance(node, BaseSum):
        return "+"
    return type(node).__name__


def _tooltip(drawing, node):
    scopes = drawing.summaries[node].scopes
    lines = [f"{node.name} ({type(node).__name__})"]
    if node in drawing.titles:
        lines.insert(0, drawing.titles[node])
    union = frozenset().union(*scopes)
    lines.append("scope: " + scope_text(union, drawing.max_scope_vars))
    if len(set(scopes)) > 1:
        shown = min(len(scopes), drawing.max_scope_vars)
        lines += [f"  output {i}: {scope_text(scopes[i], drawing.max_scope_vars)}"
                  for i in range(shown)]
        if shown < len(scopes):
            lines.append(f"  … ({len(scopes)} outputs)")
    for tag, mapping in (("value", drawing.values), ("signal", drawing.signals)):
        if node in mapping:
            lines.append(f"{tag}: {mapping[node]!r}")
    return "\n".join(lines)


def _name_lines(drawing, node, names):
    title = drawing.titles.get(node)
    return [title] if title else [node.name] if names else []


def _titles(mapping, graph):
    """`{node: str}` from a dict node name (or node) -> title."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise TypeError(f"Expected `titles` to be a dict of node name -> str. "
                        f"Received: titles={short_repr(mapping)}")
    by_name = {node.name: node for node in graph}
    out = {}
    for key, title in mapping.items():
        node = key if isinstance(key, Node) else by_name.get(key)
        if node is None or node not in graph:
            raise ValueError(f"Expected `titles` keys to be nodes of the graph. "
                             f"Received: {short_repr(key)}")
        if not isinstance(title, str):
            raise TypeError(f"Expected `titles` values to be str. "
                            f"Received: titles[{key!r}]={short_repr(title)}")
        out[node] = title
    return out


def _node_statement(drawing, node, names):
    node_id = drawing.ids[node]
    extra = drawing.value_lines([node])
    fillcolor, fontcolor = drawing.scale(drawing.fill_of.get(node))
    style = "filled" if fillcolor else None
    common = dict(tooltip=_tooltip(drawing, node), fillcolor=fillcolor, fontcolor=fontcolor,
                  **node_style(drawing.highlight, drawing.highlight and
                               drawing.highlight.node(node)))
    if node.num_outputs == 1 and node.is_op:
        label = "\n".join([_glyph(node)] + _name_lines(drawing, node, names) + extra)
        return f"  {quote(node_id)}" + attrs(shape="circle", label=label, style=style, **common)
    if isinstance(node, LeafNode):
        fields = [node.output_label(i) for i in range(node.num_outputs)]
    else:
        fields = [_glyph(node)] * node.num_outputs
    record = "|".join(f"<o{i}> {record_text(text)}" for i, text in enumerate(fields))
    name = [record_text(line) for line in _name_lines(drawing, node, names)]
    if name or extra:  # rows (a record's {} turns the direction); edges reach the outputs of
        # a leaf from above only, so its name goes below them
        rows = name + ["{" + record + "}"] if node.is_op else ["{" + record + "}"] + name
        rows += [record_text("\n".join(extra))] if extra else []
        record = "{" + "|".join(rows) + "}"
    style = ",".join(s for s in ("rounded" if node.is_op else None, style) if s) or None
    return f"  {quote(node_id)}" + attrs(shape="record", label=Raw(f'"{record}"'), style=style,
                                           **common)


_COMPASS = {"TB": ("s", "n"), "BT": ("n", "s"), "LR": ("e", "w"), "RL": ("w", "e")}


def _endpoint(drawing, node, index, side):
    """`"id"`, or `"id":o<index>:<compass>` for an output of a multi-output node (the compass
    point makes the edge attach at the field's side facing the other node); a split leaf's
    output `index` is port `o<index>` of its variable's record `"id/<variable>"`."""
    if node.num_outputs == 1:
        return quote(drawing.ids[node])
    node_id = drawing.ids[node]
    if node in drawing.split:
        node_id = piece_id(node_id, node, index // node.num_per_var)
    return f"{quote(node_id)}:o{index}:{_COMPASS[drawing.rankdir][side]}"


def _leaf_pieces(drawing, leaf):
    fillcolor, fontcolor = drawing.scale(drawing.fill_of.get(leaf))
    extra = drawing.value_lines([leaf])
    tree, n = drawing.highlight, leaf.num_per_var
    return [piece_statement(drawing.ids[leaf], leaf, v, fillcolor, fontcolor, extra,
                            **node_style(tree, tree and tree.node(leaf, range(v * n, (v + 1) * n))))
            for v in drawing.pieces[leaf]]


def _node_view(drawing, weights, names):
    lines = []
    for node in drawing.order:
        if node in drawing.split:
            lines += _leaf_pieces(drawing, node)
        else:
            lines.append(_node_statement(drawing, node, names))
    for node in drawing.order:
        found = drawing.edge_values.get(node)
        for port, child, index, weight, is_latent, pos in drawing.edges(node):
            tail = _endpoint(drawing, node, port, 0)
            head = _endpoint(drawing, child, index, 1)
            value = None if found is None or pos is None else float(found[port, pos])
            tip = ", ".join(([f"w = {drawing.number(weight)}"] if weight is not None else [])
                            + ([f"{drawing.edge_label} = {value + 0.0:g}"] if value is not None
                               else [])) or None
            tree = drawing.highlight
            on_tree = tree is not None and tree.edge(node, port, child, index,
                                                     isinstance(node, BaseSum))
            colour = edge_colour(tree, on_tree, drawing.edge_scale(value))
            width = None if weight is None or not weights else round(0.5 + 2.5 * weight, 3)
            if on_tree:
                width = max(width or 0.0, TREE_PENWIDTH)
            if is_latent:
                style = attrs(style="dashed", color=edge_colour(tree, on_tree, "gray40"),
                              penwidth=width)
            elif weight is not None and weights == "width":
                # No label text: Graphviz lays out edge labels slowly (~3x on a RAT-SPN).
                style = attrs(penwidth=width, tooltip=tip, color=colour)
            elif weight is not None and weights:
                style = attrs(label=drawing.number(weight), penwidth=width, tooltip=tip,
                              color=colour)
            else:
                style = attrs(tooltip=tip, color=colour, penwidth=width)
            lines.append(f"  {tail} -> {head}{style}")
    return lines


def _collapsed_view(drawing):
    levels = defaultdict(list)
    for node in drawing.order:
        levels[drawing.summaries[node].height].append(node)
    lines = []
    for height in sorted(levels, reverse=True):
        nodes = levels[height]
        kinds = Counter(type(n).__name__ for n in nodes)
        count = f"{len(nodes)} node" + ("s" if len(nodes) != 1 else "")
        label = [f"level {height}", count, ", ".join(f"{k} {c}" for k, c in sorted(kinds.items()))]
        label += drawing.value_lines(nodes)
        union = frozenset().union(*(s for n in nodes for s in drawing.summaries[n].scopes))
        shown = ", ".join(n.name for n in nodes[:drawing.max_scope_vars])
        more = ", …" if len(nodes) > drawing.max_scope_vars else ""
        tooltip = f"level {height}: {shown}{more}\nscope: " + scope_text(union,
                                                                           drawing.max_scope_vars)
        fill = [drawing.fill_of[n] for n in nodes if n in drawing.fill_of]
        finite = [x for x in fill if math.isfinite(x)]
        fillcolor, fontcolor = drawing.scale(sum(finite) / len(finite) if finite else None)
        lines.append(f"  {quote(f'level {height}')}" + attrs(
            shape="box", label="\n".join(label), tooltip=tooltip,
            style="filled" if fillcolor else None, fillcolor=fillcolor, fontcolor=fontcolor))
    counts = Counter()
    for node in drawing.order:
        for _, child, *_ in drawing.edges(node):
            counts[drawing.summaries[node].height, drawing.summaries[child].height] += 1
    for (parent, child), count in sorted(counts.items(), reverse=True):
        label = f"{count} edge" + ("s" if count != 1 else "")
        lines.append(f"  {quote(f'level {parent}')} -> {quote(f'level {child}')}"
                     + attrs(label=label))
    return lines


def node_ids(roots):
    """`{node: DOT id}` of the nodes `to_dot(roots)` draws (ids of repeated names get `#2`,
    `#3`, ... as there); a split leaf's variable record is `"<id>/<variable name>"`."""
    return _node_ids(list(compute_graph_up(as_roots(roots), lambda node, inputs: None)))


def to_dot(roots, values=None, signals=None, weights=True, collapsed=False, fill="auto",
           precision=2, names=False, rankdir="TB", max_scope_vars=12, split_leaves="auto",
           edge_values=None, edge_label="edge value", titles=None, highlight=None):
    """DOT text (a `digraph`) of the SPN below `roots` (a node or nodes); no rendering.

    Args:
        roots: a node or an iterable of nodes.
        values, signals: optional dicts node name (or node) -> float, e.g. log-values and
            backward signals; shown in the label ("v", "s" when both are given) and tooltip.
        weights: label sum edges with their weight (rounded to `precision`) and draw them
            that wide; "width": the width only (the weight is the edge's tooltip), which lays
            out much faster on large graphs.
        collapsed: draw one box per height level instead of every node.
        fill: which dict colours the nodes: "values", "signals", None, or "auto" (signals when
            given, else values). The scale is sequential (light = low), or diverging blue/red
            around 0 when both signs occur; its range is in the graph label.
        precision: decimals of weights and values.
        names: also show every node's name in its label (it is always in the tooltip).
        rankdir: Graphviz rank direction ("TB" puts the roots on top).
        max_scope_vars: longest scope listed in a tooltip before it is abbreviated.
        split_leaves: draw a leaf node as one small record per variable (`"<leaf>/<var>"`, only
            the variables an edge reaches: the scope of the drawn sub-SPN) instead of one
            record with a field per output; "auto" splits leaves of more than 8 outputs.
        edge_values: optional dict sum-node name (or node) -> array `[num_sums, num_children]`
            (the weights' shape), e.g. hard-EM winner counts per edge: edge colour from grey
            (min) to red (max) over the drawn edges, the value in the edge tooltip.
        edge_label: what the edge values are, for tooltips and the graph label.
        titles: optional dict node name (or node) -> a title shown in the node's label instead
            of its name (and first in its tooltip), e.g. "S2 · {x0 … x15} 16 vars".
        highlight: optional `InducedTree` (e.g. `induced_tree(root, x, mask)`) drawn in blue,
            nodes outlined and edges thick, the other edges faded; matched by node name, so it
            may come from another copy of the same graph (matched by name). Ignored by the
            collapsed view.

    Node ids are the node names (a repeated name gets `#2`, `#3`); edges go from a node to its
    children (`"S":o1:s -> "L":o3:n` for outputs of multi-output nodes, rankdir TB).
    """
    roots = as_roots(roots)
    _check_options(weights, collapsed, fill, precision, rankdir, names, max_scope_vars)
    check_split(split_leaves)
    if not isinstance(edge_label, str):
        raise TypeError(f"Expected `edge_label` to be a str. "
                        f"Received: edge_label={short_repr(edge_label)}")
    drawing = _Drawing(roots, values, signals, fill, precision, rankdir, max_scope_vars,
                       split_leaves, edge_values, titles, highlight)
    drawing.edge_label = edge_label
    legends = [getattr(drawing.scale, "legend", None)]
    if drawing.edge_values and not collapsed:
        legends.append(drawing.edge_scale.legend(edge_label, precision))
    label = "\n".join(x for x in legends if x) or None
    header = ["digraph SPN {",
              "  graph" + attrs(rankdir=Raw(rankdir),
                                 label=label, fontsize=10),
              "  node" + attrs(fontname="Helvetica", fontsize=12),
              "  edge" + attrs(dir=Raw("none"), fontname="Helvetica", fontsize=9)]
    body = _collapsed_view(drawing) if collapsed else _node_view(drawing, weights, names)
    return "\n".join(header + body + ["}"]) + "\n"
