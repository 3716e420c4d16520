"""Base classes of the node-level SPN graph (DESIGN.md section 5, the LibSPN design).

A node has `num_outputs` outputs. Leaf nodes (`LeafNode`) have no inputs; op nodes (`OpNode`)
have inputs, each an `Input(node, indices)`: the outputs `indices` of `node`, in that order. The
flattened list of selected outputs is the node's children (`child_outputs`). The graph is pure
structure: building it creates no TensorFlow ops; algorithms walk it afterwards
(`spnlab.graph.traversal`).
"""
import itertools
from typing import NamedTuple

import numpy as np

from spnlab.graph._checks import check_name, is_int, short_repr

_name_counters = {}


def auto_name(prefix):
    """`<prefix>_<k>` with k counting from 1 per prefix in this process (`Sum_1`, `Sum_2`)."""
    counter = _name_counters.setdefault(prefix, itertools.count(1))
    return f"{prefix}_{next(counter)}"


class Node:
    """Base of all graph nodes: a name and a number of outputs."""

    def __init__(self, name=None):
        self._name = auto_name(type(self).__name__) if name is None else check_name(name)

    @property
    def name(self):
        return self._name

    @property
    def num_outputs(self):
        raise NotImplementedError

    @property
    def is_op(self):
        return False

    @property
    def all_inputs(self):
        """Every `Input` a traversal follows (children and, for sums, latent indicators)."""
        return ()

    def output_name(self, index):
        """How messages name output `index`: `'S1'` for one-output nodes, else `'L1[3]'`."""
        return self._name if self.num_outputs == 1 else f"{self._name}[{index}]"

    def __repr__(self):
        return f"{type(self).__name__}({self._name!r})"


class Input(NamedTuple):
    """One input of an op node: the outputs `indices` (tuple of ints, in order) of `node`."""

    node: Node
    indices: tuple

    @property
    def size(self):
        return len(self.indices)

    @classmethod
    def of(cls, spec, arg="input"):
        """Normalise `node`, `(node, index)`, `(node, [indices])` or `Input` to an `Input`.

        `(node, None)` means all outputs. Indices must be ints in `[0, node.num_outputs)`.
        """
        if isinstance(spec, Node):
            return cls(spec, tuple(range(spec.num_outputs)))
        if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], Node)):
            raise TypeError(f"Expected `{arg}` to be a Node or a (node, indices) tuple. "
                            f"Received: {arg}={short_repr(spec)}")
        node, indices = spec
        if indices is None:
            return cls(node, tuple(range(node.num_outputs)))
        if is_int(indices):
            indices = (indices,)
        elif isinstance(indices, np.ndarray) and indices.ndim == 1 or \
                isinstance(indices, (list, tuple, range)):
            indices = tuple(indices)
        else:
            raise TypeError(f"Expected the indices of `{arg}` to be an int or a sequence of ints. "
                            f"Received: indices={short_repr(indices)}")
        if not indices:
            raise ValueError(f"Expected at least one index in `{arg}`. Received: indices=()")
        for i in indices:
            if not is_int(i):
                raise TypeError(f"Expected the indices of `{arg}` to be ints. "
                                f"Received: indices={short_repr(indices)}")
            if not 0 <= i < node.num_outputs:
                raise ValueError(
                    f"Expected the indices of `{arg}` in [0, {node.num_outputs}) ({node!r} has "
                    f"{node.num_outputs} outputs). Received: indices={short_repr(indices)}")
        return cls(node, tuple(int(i) for i in indices))


class LeafNode(Node):
    """A node without inputs over `variables`, `num_per_var` outputs per variable.

    Outputs are var-major: output `v * num_per_var + k` is the k-th output of variable v, and its
    scope is `{variables[v]}`.
    """

    def __init__(self, variables, num_per_var, name=None):
        super().__init__(name)
        self._variables = tuple(variables)
        self._num_per_var = num_per_var

    @property
    def variables(self):
        """Tuple of `Variable`, one per variable of the leaf."""
        return self._variables

    @property
    def num_vars(self):
        return len(self._variables)

    @property
    def num_per_var(self):
        return self._num_per_var

    @property
    def num_outputs(self):
        return len(self._variables) * self._num_per_var

    def output_variable(self, index):
        """The variable of output `index`."""
        return self._variables[index // self._num_per_var]

    def output_label(self, index):
        """A short label for output `index` (`"X1=0"`, `"N(X1)"`)."""
        raise NotImplementedError


class OpNode(Node):
    """A node with inputs. Subclasses define `num_outputs` and their own parameters."""

    def __init__(self, inputs, name=None):
        super().__init__(name)
        self._inputs = ()
        self._child_outputs = ()
        self._assign_inputs(inputs)

    @property
    def is_op(self):
        return True

    @property
    def inputs(self):
        """Tuple of `Input`: the children, each a node and the indices of its outputs used."""
        return self._inputs

    @property
    def all_inputs(self):
        return self._inputs

    @property
    def child_outputs(self):
        """The children flattened: a tuple of `(node, output_index)`, in input order."""
        return self._child_outputs

    @property
    def num_children(self):
        return len(self._child_outputs)

    def set_inputs(self, *inputs):
        """Replace the inputs (lets a graph be built top-down). Cycles are found by traversals."""
        self._assign_inputs(inputs)

    def add_inputs(self, *inputs):
        """Append inputs to the current ones (see `set_inputs`)."""
        self.set_inputs(*self._inputs, *inputs)

    def _assign_inputs(self, inputs):
        normalised = tuple(Input.of(spec, f"inputs[{i}]") for i, spec in enumerate(inputs))
        self._inputs = normalised
        self._child_outputs = tuple((inp.node, i) for inp in normalised for i in inp.indices)
