"""The upward pass of a compiled node graph in TensorFlow (imports TensorFlow).

`upward` runs a `GraphPlan` (see `plan.py`) level by level: a `segment_sum` for the products of
a height and one `weighted_sum` of the core sum op per sum group, so a graph of 10^4 nodes is a
few hundred ops. The sums go through the core `SumOpBase.weighted_sum`, so each of the five sum
ops (and the max-product op of MPE) brings its own backward pass to node graphs unchanged.

All values are log-values in a node-output-major layout `[rows, batch]`; the sum ops take that
layout directly (`SumOpBase.weighted_sum_node_major`: batch-contiguous forward pass, the op's
own backward pass). Where no backward pass is wanted (values, marginals), `sum_op=None` runs
the same forward pass without the custom-gradient wrapper (`log_weighted_sum`).
"""
import numpy as np
import tensorflow as tf

from spnlab.core.ops.logspace import normalize_weights
from spnlab.core.sum_ops.base import node_major_log_sum

NEG_INF = float("-inf")


def gather_rows(levels, spec, pad_value):
    """The rows `spec` (a `plan.Gather`) of the computed `levels`, `[spec.size, B]`.

    Rows of each source level are taken with one `tf.gather` and put in place with
    `tf.dynamic_stitch` (whose gradient is a gather), so no level is ever copied whole.
    """
    if len(spec.parts) == 1 and not len(spec.pad):   # then its positions are 0..size-1
        level, rows, _ = spec.parts[0]
        return tf.gather(levels[level], rows)                              # [size, B]
    indices, pieces = [], []
    for level, rows, positions in spec.parts:
        indices.append(positions)
        pieces.append(tf.gather(levels[level], rows))                     # [n, B]
    if len(spec.pad):
        batch = tf.shape(levels[0])[1]
        indices.append(spec.pad)
        pieces.append(tf.fill(tf.stack([len(spec.pad), batch]),
                              tf.constant(pad_value, levels[0].dtype)))
    return tf.dynamic_stitch(indices, pieces)                              # [size, B]


def product_values(levels, group):
    """Log-values `[G, B]` of a `plan.ProductGroup`: sums of the children's log-values."""
    children = gather_rows(levels, group.children, 0.0)                   # [E, B]
    return tf.math.segment_sum(children, group.segments)                  # [G, B]


def log_weighted_sum(x, accumulators, logspace):
    """Forward value of G sums in the node-major layout, without a backward pass of its own:
    `[G, I, B]` child log-values and accumulators `[G, I, O]` -> `[G, O, B]` (the forward
    pass of `SumOpBase.weighted_sum_node_major`)."""
    return node_major_log_sum(x, normalize_weights(accumulators, logspace, axis=-2))[0]


def sum_values(levels, group, accumulators, logspace, sum_op):
    """Log-values `[G * O, B]` of a `plan.SumGroup` (row-major over rows g and outputs o).

    Args:
        accumulators: flat accumulators `[W + 1]`, the last entry the padding weight
            (0, or -inf in log space).
        sum_op: a core sum op, or None for the forward value alone.
    """
    g, i, o = group.num_rows, group.num_children, group.num_outputs
    x = gather_rows(levels, group.children, NEG_INF)                     # [G*I, B]
    if group.latent is not None:
        x = x + gather_rows(levels, group.latent, 0.0)                   # indicator [Z = i]
    x = tf.reshape(x, [g, i, -1])                                        # [G, I, B]
    pad = accumulators.shape[0] - 1
    index = np.where(group.weight_index < 0, pad, group.weight_index)    # [G, I, O]
    w = tf.gather(accumulators, index)                                   # [G, I, O]
    if sum_op is None:
        return tf.reshape(log_weighted_sum(x, w, logspace), [g * o, -1])
    return tf.reshape(sum_op.weighted_sum_node_major(x, w, logspace), [g * o, -1])  # [G*O, B]


def upward(plan, leaf_values, accumulators, logspace, sum_op, keep_levels=False):
    """Log-values of the root (and optionally of every level) of a compiled graph.

    Args:
        plan: a `GraphPlan`.
        leaf_values: level 0, `[plan.leaves.size, B]` log-values of the leaf outputs.
        accumulators: the flat weight accumulators `[plan.weights.size]` (see `plan.py`),
            linear or log-space (unnormalised; each sum normalises its column).
        logspace: whether `accumulators` are log-space.
        sum_op: a core sum op; its `weighted_sum` computes every sum (and its backward pass
            decides what flows to children and weights). None: forward values only.
        keep_levels: also return the list of level tensors `[rows_h, B]`.

    Returns:
        root log-values `[B]`, or `(root, levels)` with `keep_levels`.
    """
    pad = tf.constant([NEG_INF if logspace else 0.0], accumulators.dtype)
    accumulators = tf.concat([accumulators, pad], axis=0)                # [W + 1]
    levels = [leaf_values]
    for level in plan.levels:
        pieces = []
        if level.products is not None:
            pieces.append(product_values(levels, level.products))
        for group in level.sums:
            pieces.append(sum_values(levels, group, accumulators, logspace, sum_op))
        levels.append(pieces[0] if len(pieces) == 1 else tf.concat(pieces, axis=0))
    level, row = plan.root_address
    root = levels[level][row]                                            # [B]
    return (root, levels) if keep_levels else root
