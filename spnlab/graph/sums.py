"""Sum nodes: `Sum` (one output) and `ParallelSums` (several sums over the same children).

Sum j of a node computes `sum_i w[j, i] * x_i` over the children `x_i` (`child_outputs`), with
its weights in row `weight_sets[j]` of a `Weights` node: `weight_values` is
`[num_sums, num_children]`. With latent indicators attached, child i of sum j is also multiplied
by the indicator `[Z_j = value_i]`, making the sum's latent variable Z_j explicit (evidence or MPE
on it); as in LibSPN the indicators are an input of the sum, so Z_j is part of its scope.
"""
from spnlab.graph._checks import check_positive_int, is_int, short_repr
from spnlab.graph.leaves import IndicatorLeaf
from spnlab.graph.nodes import Input, OpNode
from spnlab.graph.weights import Weights


class BaseSum(OpNode):
    """`num_sums` weighted sums over the same children; see the module docstring.

    Args:
        *inputs: children: nodes, `(node, indices)` tuples or `Input`s.
        num_sums: number of sums (outputs).
        weights: None (uniform, as in LibSPN; use `Weights.dirichlet` for random ones), an array
            `[num_sums, num_children]` (`[num_children]` for one sum; rows are normalised), a
            `Weights` with `num_sets == num_sums` (row j for sum j), or `(Weights, rows)` to use
            chosen rows of a shared `Weights`.
        latent_indicators: None, an `IndicatorLeaf`, or `(IndicatorLeaf, indices)` with
            `num_sums * num_children` outputs: block j (`indices[j*n:(j+1)*n]`) holds the
            indicators of sum j's latent variable, one distinct value per child.
        name: node name.
    """

    def __init__(self, *inputs, num_sums, weights=None, latent_indicators=None, name=None):
        self._num_sums = check_positive_int(num_sums, "num_sums")
        self._weights, self._weight_sets, self._latent = None, (), None
        super().__init__(inputs, name)
        if not inputs and (weights is not None or latent_indicators is not None):
            raise ValueError(f"Expected no `weights` or `latent_indicators` for a sum without "
                             f"inputs (pass them with set_inputs). Received: weights="
                             f"{short_repr(weights)}, latent_indicators={latent_indicators!r}")
        if inputs:
            self._weights, self._weight_sets = self._bind_weights(weights)
        if latent_indicators is not None:
            self.set_latent_indicators(latent_indicators)

    @property
    def num_outputs(self):
        return self._num_sums

    @property
    def num_sums(self):
        return self._num_sums

    @property
    def weights(self):
        """The `Weights` node used (None while the sum has no inputs)."""
        return self._weights

    @property
    def weight_sets(self):
        """Tuple of the `Weights` rows used, one per sum."""
        return self._weight_sets

    @property
    def weight_values(self):
        """`[num_sums, num_children]` float64: row j holds sum j's normalised weights."""
        return self._weights.values[list(self._weight_sets)]

    @property
    def latent_indicators(self):
        """The latent indicators as an `Input` of `num_sums * num_children` outputs, or None."""
        return self._latent

    @property
    def all_inputs(self):
        return self._inputs if self._latent is None else self._inputs + (self._latent,)

    def set_inputs(self, *inputs, weights=None):
        """Replace the children; the weights are rebound (uniform unless `weights` is given)."""
        old = self._inputs, self._child_outputs
        self._assign_inputs(inputs)
        try:
            if self._latent is not None and self._latent.size != self._num_sums * self.num_children:
                raise ValueError(f"Expected {self._num_sums * self.num_children} latent indicators "
                                 f"for the new inputs of {self!r}; detach them first with "
                                 f"set_latent_indicators(None). Received: {self._latent.size}")
            if not inputs and weights is not None:
                raise ValueError(f"Expected no `weights` without inputs. "
                                 f"Received: weights={short_repr(weights)}")
            bound = self._bind_weights(weights) if inputs else (None, ())
        except (TypeError, ValueError):
            self._inputs, self._child_outputs = old
            raise
        self._weights, self._weight_sets = bound

    def add_inputs(self, *inputs, weights=None):
        """Append children; the weights are rebound as in `set_inputs`."""
        self.set_inputs(*self._inputs, *inputs, weights=weights)

    def set_latent_indicators(self, latent_indicators):
        """Attach (or with None detach) latent indicators; see the class docstring."""
        if latent_indicators is None:
            self._latent = None
            return
        arg = "latent_indicators"
        spec = Input.of(latent_indicators, arg)
        if not isinstance(spec.node, IndicatorLeaf):
            raise TypeError(f"Expected `{arg}` to be outputs of an IndicatorLeaf. "
                            f"Received: {arg}={latent_indicators!r}")
        n = self.num_children
        if n == 0 or spec.size != self._num_sums * n:
            raise ValueError(f"Expected `{arg}` with num_sums * num_children = "
                             f"{self._num_sums * n} outputs for {self!r}. "
                             f"Received: {spec.size} outputs")
        leaf = spec.node
        for j in range(self._num_sums):
            block = spec.indices[j * n:(j + 1) * n]
            variables = {leaf.output_variable(i) for i in block}
            values = {leaf.output_value(i) for i in block}
            if len(variables) != 1 or len(values) != n:
                raise ValueError(
                    f"Expected the latent indicators of sum {j} of {self!r} to be distinct values "
                    f"of one variable. Received: {', '.join(leaf.output_label(i) for i in block)}")
        self._latent = spec

    def generate_latent_indicators(self, variables=None, name=None):
        """Create, attach and return `IndicatorLeaf(num_sums, num_children)` for the latent
        variables (default names `Z_<sum name>`, `Z_<name>[j]` for several sums).

        Note: a latent variable is in the scope of its sum, so a sum with latent indicators below
        another sum leaves that parent complete only if its siblings contain the same variable.
        """
        if self.num_children == 0:
            raise ValueError(f"Expected {self!r} to have inputs before generating latent "
                             "indicators. Received: no inputs")
        if variables is None:
            variables = [f"Z_{self.name}"] if self._num_sums == 1 else \
                [f"Z_{self.name}[{j}]" for j in range(self._num_sums)]
        leaf = IndicatorLeaf(self._num_sums, self.num_children, variables=variables,
                             name=name or f"{self.name}_latent")
        self.set_latent_indicators(leaf)
        return leaf

    def _bind_weights(self, weights):
        """`(Weights, rows)` for `weights` (see the class docstring), validated."""
        n, m = self.num_children, self._num_sums
        where = f"(one per child of {self!r})"
        if weights is None:
            return Weights.uniform(m, n, name=f"{self.name}_weights"), tuple(range(m))
        if isinstance(weights, tuple) and len(weights) == 2 and isinstance(weights[0], Weights):
            node, rows = weights
            rows = (rows,) if is_int(rows) else tuple(rows) if hasattr(rows, "__iter__") else None
            if rows is None or len(rows) != m or \
                    not all(is_int(r) and 0 <= r < node.num_sets for r in rows):
                raise ValueError(f"Expected the `weights` rows to be {m} int(s) in "
                                 f"[0, {node.num_sets}), one per sum. "
                                 f"Received: rows={short_repr(weights[1])}")
        elif isinstance(weights, Weights):
            node, rows = weights, tuple(range(m))
            if node.num_sets != m:
                raise ValueError(f"Expected `weights` with num_sets={m} (one per sum), or "
                                 f"(weights, rows). Received: weights.num_sets={node.num_sets}")
        else:
            node = Weights(weights, name=f"{self.name}_weights")
            rows = tuple(range(m))
            if node.num_sets != m:
                raise ValueError(f"Expected `weights` of shape [num_sums, num_children]="
                                 f"[{m}, {n}]. Received: weights.shape=[{node.num_sets}, "
                                 f"{node.num_children}]")
        if node.num_children != n:
            raise ValueError(f"Expected `weights` with num_children={n} {where}. "
                             f"Received: weights.num_children={node.num_children}")
        return node, tuple(int(r) for r in rows)


class Sum(BaseSum):
    """One weighted sum over its children (see `BaseSum` for `weights` and latent indicators)."""

    def __init__(self, *inputs, weights=None, latent_indicators=None, name=None):
        super().__init__(*inputs, num_sums=1, weights=weights,
                         latent_indicators=latent_indicators, name=name)


class ParallelSums(BaseSum):
    """`num_sums` sums over the same children, one output each (see `BaseSum`)."""

    def __init__(self, *inputs, num_sums, weights=None, latent_indicators=None, name=None):
        super().__init__(*inputs, num_sums=num_sums, weights=weights,
                         latent_indicators=latent_indicators, name=name)
