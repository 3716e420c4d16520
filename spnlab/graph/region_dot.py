"""DOT text of the region graph: one box per region (sum node), top-down, products and leaves
left out. A region's children are the regions its products combine (or that it mixes directly).
A level holding more than `max_per_level` regions (the 128 pixel regions of a digit RAT-SPN) is
one box that counts them, so the overview stays readable; opening a region draws its nodes.
Pure function, like `to_dot`.
"""
from collections import defaultdict

from spnlab.graph._checks import is_int, short_repr
from spnlab.graph.dot_format import attrs, quote, scope_text
from spnlab.graph.dot_highlight import TREE_PENWIDTH, as_highlight, edge_colour, node_style
from spnlab.graph.scope import get_scopes
from spnlab.graph.sums import BaseSum
from spnlab.graph.traversal import as_roots, node_heights


def region_children(node):
    """The regions (sum nodes) below sum `node`, through any products, in first-seen order."""
    found, seen, stack = [], set(), [child for child, _ in reversed(node.child_outputs)]
    while stack:
        child = stack.pop()
        if child in seen:
            continue
        seen.add(child)
        if isinstance(child, BaseSum):
            found.append(child)
        elif child.is_op:
            stack += [c for c, _ in reversed(child.child_outputs)]
    return found


def region_dot(roots, titles=None, max_per_level=24, max_scope_vars=12, highlight=None):
    """DOT text (a `digraph`) of the regions below `roots`, one box per sum node.

    Args:
        roots: a node or nodes (their regions are the sum nodes below them).
        titles: optional dict node name -> box title (default: the node's name).
        max_per_level: a region level (sum height) with more regions is drawn as one box
            `"level <h>"` with their count.
        max_scope_vars: longest scope listed in a tooltip.
        highlight: optional `InducedTree`: the regions it passes through outlined in blue (a
            level box when one of its regions is), the edges between them blue, others faded.

    Box ids are node names; each box's label is its title, its number of sums and scope size.
    """
    roots = as_roots(roots)
    if titles is not None and not isinstance(titles, dict):
        raise TypeError(f"Expected `titles` to be a dict of node name -> str. "
                        f"Received: titles={short_repr(titles)}")
    if not is_int(max_per_level) or max_per_level < 1:
        raise ValueError(f"Expected `max_per_level` to be an int >= 1. "
                         f"Received: max_per_level={max_per_level!r}")
    titles = titles or {}
    heights = node_heights(roots)
    tree = as_highlight(highlight, heights)
    scopes = get_scopes(roots)
    regions = [n for n in heights if isinstance(n, BaseSum)]
    levels = defaultdict(list)
    for node in regions:
        levels[heights[node]].append(node)
    lumped = {h for h, nodes in levels.items() if len(nodes) > max_per_level}

    def box(node):
        h = heights[node]
        return f"level {h}" if h in lumped else node.name

    on_tree = {box(n) for n in regions if tree is not None and tree.node(n)}
    tree_edges = {(box(a), box(b)) for a, b in _tree_region_edges(tree, heights)}

    lines = ["digraph regions {",
             "  graph" + attrs(rankdir="TB", ranksep=0.4, nodesep=0.15),
             "  node" + attrs(shape="box", style="rounded", fontname="Helvetica", fontsize=12),
             "  edge" + attrs(dir="none", color="gray40", fontname="Helvetica")]
    for h in sorted(levels, reverse=True):
        nodes = levels[h]
        if h in lumped:
            sizes = sorted({len(frozenset().union(*scopes[n])) for n in nodes})
            size = "/".join(map(str, sizes))
            first = titles.get(nodes[0].name, nodes[0].name).split(" · ")[0]
            lines.append(f"  {quote(f'level {h}')}" + attrs(
                label=f"{len(nodes)} regions ({first})\nscopes of {size} vars",
                tooltip=f"{len(nodes)} regions: open one to see its nodes", style="dashed",
                **node_style(tree, f"level {h}" in on_tree)))
            continue
        for node in nodes:
            scope = frozenset().union(*scopes[node])
            title = titles.get(node.name, node.name)
            sums = f"{node.num_sums} sum" + ("s" if node.num_sums != 1 else "")
            lines.append(f"  {quote(node.name)}" + attrs(
                label=f"{title}\n{sums}, {len(scope)} vars",
                tooltip=f"{node.name}\nscope: {scope_text(scope, max_scope_vars)}",
                **node_style(tree, node.name in on_tree)))
    edges = defaultdict(int)
    for node in regions:
        for child in region_children(node):
            edges[box(node), box(child)] += 1
    for (tail, head), count in edges.items():
        both = (tail, head) in tree_edges
        extra = attrs(label=f"×{count}" if head.startswith("level ") and count > 1 else None,
                      fontsize=10 if head.startswith("level ") and count > 1 else None,
                      color=edge_colour(tree, both, None),
                      penwidth=TREE_PENWIDTH if tree is not None and both else None)
        lines.append(f"  {quote(tail)} -> {quote(head)}{extra}")
    return "\n".join(lines + ["}"]) + "\n"


def _tree_region_edges(tree, nodes):
    """`{(region, child region)}` the highlighted tree passes (through its products)."""
    if tree is None:
        return set()
    by_key = {tree.key(n): n for n in nodes}
    below = tree.below()
    found = set()
    for region in (n for n in nodes if isinstance(n, BaseSum) and tree.node(n)):
        stack, seen = list(below.get(tree.key(region), ())), set()
        while stack:
            key = stack.pop()
            node = by_key.get(key)
            if key in seen or node is None:
                continue
            seen.add(key)
            if isinstance(node, BaseSum):
                found.add((region, node))
            else:
                stack += below.get(key, ())
    return found
