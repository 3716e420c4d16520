"""Region graphs (trees of variable sets) and their dense SPN layer stacks (LibSPN-Keras API)."""
import keras
import numpy as np

from spnlab.core.layers.discrete_leaves import CategoricalLeaf, IndicatorLeaf
from spnlab.core.layers.products import DenseProduct
from spnlab.core.layers.regions import FlatToRegions, PermuteAndPadScopes
from spnlab.core.layers.sum_layers import DenseSum, RootSum


class OverlappingScopesException(ValueError):
    """A RegionNode's children share variables (the product would not be decomposable)."""


class RegionVariable:
    """A leaf region: the single variable `index`."""

    def __init__(self, index):
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise ValueError(f"Expected `index` to be a non-negative int. Received: index={index!r}")
        self.index = int(index)

    @property
    def scope(self):
        return [self]

    def __repr__(self):
        return f"x{self.index}"


class RegionNode:
    """A region made of disjoint child regions; its scope is the union of theirs."""

    def __init__(self, children):
        children = list(children)
        if not children or not all(isinstance(c, (RegionNode, RegionVariable)) for c in children):
            raise TypeError("Expected `children` to be a non-empty list of RegionNode / "
                            f"RegionVariable. Received: children={children!r}")
        seen = {}
        for child in children:
            for var in child.scope:
                if var.index in seen:
                    raise OverlappingScopesException(
                        f"Children {seen[var.index]!r} and {child!r} of a RegionNode both contain "
                        f"x{var.index}.")
                seen[var.index] = child
        self.children = children

    @property
    def scope(self):
        return [v for c in self.children for v in c.scope]

    def __repr__(self):
        return "{" + ", ".join(repr(c) for c in self.children) + "}"


def _arities(root):
    """Max fan-in of the RegionNodes at each depth (0 = root), iteratively."""
    arities, frontier = [], [root]
    while frontier:
        nodes = [n for n in frontier if isinstance(n, RegionNode)]
        if not nodes:
            break
        arities.append(max(len(n.children) for n in nodes))
        frontier = [c for n in nodes for c in n.children]
    return arities


def region_graph_permutation(root):
    """The scope order (with -1 padding) that makes a region tree a uniform dense stack.

    Every node at depth t gets `arity[t]` child slots, each covering `prod(arity[t+1:])` leaf
    slots; missing children and variables above the deepest level are padded with -1.
    """
    arities = _arities(root)
    slots = [int(np.prod(arities[t:])) for t in range(len(arities) + 1)]
    perm, stack = [], [(root, 0)]
    while stack:  # explicit DFS, children in order
        node, t = stack.pop()
        if isinstance(node, str):   # a padding marker: ("pad", count) packed as a string
            perm.extend([-1] * int(node))
            continue
        if isinstance(node, RegionVariable):
            perm.extend([node.index] + [-1] * (slots[t] - 1))
            continue
        missing = (arities[t] - len(node.children)) * slots[t + 1]
        if missing:
            stack.append((str(missing), t))
        stack.extend((c, t + 1) for c in reversed(node.children))
    return perm, arities


def region_graph_to_dense_spn(region_graph_root, leaf_node, num_sums_iterable,
                              return_weighted_child_logits, logspace_accumulators=False,
                              accumulator_initializer=None, linear_accumulator_constraint=None,
                              product_first=True, num_classes=None, with_root=True, sum_op=None):
    """The layer list of a dense SPN following a region tree, as a `SequentialSumProductNetwork`.

    Layers: FlatToRegions(1), `leaf_node`, PermuteAndPadScopes (the tree's scope order),
    [DenseSum if not product_first], then per level from the bottom a DenseProduct with that
    level's fan-in and a DenseSum(next(num_sums_iterable)) (none after the top product), an
    optional DenseSum(num_classes) and a RootSum.
    """
    from spnlab.core.models.sequential import SequentialSumProductNetwork
    perm, arities = region_graph_permutation(region_graph_root)
    num_vars = max(v.index for v in region_graph_root.scope) + 1
    needed = len(arities) - 1 + (0 if product_first else 1)
    given = iter(num_sums_iterable)
    used = 0

    def next_num_sums():
        nonlocal used
        try:
            value = next(given)
        except StopIteration:
            raise ValueError(f"Expected `num_sums_iterable` to give {needed} sizes (one per "
                             f"sum level of this {len(arities)}-level region tree"
                             f"{'' if product_first else ', product_first=False'}). Received "
                             f"only {used}") from None
        used += 1
        return value

    sum_kwargs = dict(logspace_accumulators=logspace_accumulators,
                      accumulator_initializer=accumulator_initializer,
                      linear_accumulator_constraint=linear_accumulator_constraint, sum_op=sum_op)
    discrete = isinstance(leaf_node, (IndicatorLeaf, CategoricalLeaf))
    layers = [keras.Input(shape=(num_vars,), dtype="int32" if discrete else "float32"),
              FlatToRegions(num_decomps=1), leaf_node,
              PermuteAndPadScopes(permutations=np.asarray([perm]))]
    if not product_first:
        layers.append(DenseSum(next_num_sums(), **sum_kwargs))
    for level, arity in enumerate(reversed(arities)):
        layers.append(DenseProduct(arity))
        if level < len(arities) - 1:
            layers.append(DenseSum(next_num_sums(), **sum_kwargs))
    if num_classes is not None:
        layers.append(DenseSum(num_classes, **sum_kwargs))
    if with_root:
        layers.append(RootSum(return_weighted_child_logits=return_weighted_child_logits,
                              **sum_kwargs))
    return SequentialSumProductNetwork(layers)
