"""Leaves drawn per variable: one small record per (leaf node, variable) that the drawing uses.

A leaf node over many variables (an `IndicatorLeaf` over 64 pixels x 2 values has 128 outputs)
drawn as one record is as wide as the whole image, even under a region of two variables. Split,
each variable of the leaf becomes its own record `{X5|{0|1}}` (ports keep the leaf's output
index, `o10`, `o11`), and only the variables that an edge of the drawing reaches are drawn: the
scope of the shown sub-SPN. Pure functions used by `dot.py`'s node view.
"""
from spnlab.graph._checks import short_repr
from spnlab.graph.dot_format import Raw, attrs, quote, record_text
from spnlab.graph.leaves import IndicatorLeaf, LocationScaleLeaf
from spnlab.graph.nodes import LeafNode

# "auto" splits a leaf with more outputs than this (the hand-built examples' leaves, 2 variables
# x 2 values, stay one record; digit models' 128-output leaves are split).
MAX_LEAF_FIELDS = 8
SPLIT_CHOICES = ("auto", True, False)


def check_split(split_leaves):
    if split_leaves not in SPLIT_CHOICES or isinstance(split_leaves, int) and \
            not isinstance(split_leaves, bool):
        raise ValueError(f"Expected `split_leaves` in {SPLIT_CHOICES}. "
                         f"Received: split_leaves={short_repr(split_leaves)}")


def leaves_to_split(order, split_leaves):
    """The leaf nodes of `order` to draw per variable."""
    if split_leaves is False:
        return set()
    return {n for n in order if isinstance(n, LeafNode) and n.num_vars > 1
            and (split_leaves is True or n.num_outputs > MAX_LEAF_FIELDS)}


def used_variables(order, split, edges):
    """`{leaf: sorted variable indices}` reached by an edge of the drawing; a split leaf that
    is itself drawn without parents (a root) keeps all its variables.

    Args:
        order: the drawn nodes, children before parents.
        split: the leaves drawn per variable.
        edges: `edges(node)` yields `(port, child, child output, ...)` as `_Drawing.edges`.
    """
    used = {leaf: set() for leaf in split}
    for node in order:
        for _, child, index, *_ in edges(node):
            if child in used:
                used[child].add(index // child.num_per_var)
    return {leaf: sorted(found) if found else list(range(leaf.num_vars))
            for leaf, found in used.items()}


def piece_id(leaf_id, leaf, v):
    """DOT id of variable `v` of a split leaf: `<leaf id>/<variable name>`."""
    return f"{leaf_id}/{leaf.variables[v].name}"


def _field(leaf, index):
    """Short text of one output inside its variable's record (the variable is its title)."""
    if isinstance(leaf, IndicatorLeaf):
        return str(leaf.output_value(index))
    if isinstance(leaf, LocationScaleLeaf):
        return f"{leaf.symbol}{leaf.output_component(index)}"
    return leaf.output_label(index)


def piece_statement(leaf_id, leaf, v, fillcolor=None, fontcolor=None, extra=(), **style):
    """The node statement of variable `v` of `leaf`: `{X5|{<o10> 0|<o11> 1}}`, or one field
    `<o5> N(X5)` when the variable has a single output."""
    outputs = range(v * leaf.num_per_var, (v + 1) * leaf.num_per_var)
    variable = leaf.variables[v]
    if leaf.num_per_var == 1:
        record = f"<o{outputs[0]}> {record_text(leaf.output_label(outputs[0]))}"
    else:
        fields = "|".join(f"<o{i}> {record_text(_field(leaf, i))}" for i in outputs)
        record = f"{record_text(variable.name)}|{{{fields}}}"
    if extra:
        record += "|" + record_text("\n".join(extra))
    tooltip = "\n".join([f"{leaf.name} ({type(leaf).__name__}), variable {variable.name}",
                         "outputs: " + ", ".join(leaf.output_label(i) for i in outputs)])
    return f"  {quote(piece_id(leaf_id, leaf, v))}" + attrs(
        shape="record", label=Raw(f'"{{{record}}}"'), style="filled" if fillcolor else None,
        fillcolor=fillcolor, fontcolor=fontcolor, tooltip=tooltip, fontsize=10, height=0.3,
        **style)
