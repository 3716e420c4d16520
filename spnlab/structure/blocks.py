"""Learned structures as a small tree of blocks, before they become a node graph.

The learners build and edit this tree (it is cheap to change and to evaluate in NumPy); `to_graph`
compiles it into an `spnlab.graph` node graph that everything else (rendering, validation,
queries, `GraphModel` training, the lab) uses. Blocks:

- `FactorizedLeaf(cols, log_probs [n, K])`: a product of univariate categoricals.
- `NormalFactorizedLeaf(cols, loc [n], scale [n])`: a product of univariate normals
  (continuous data).
- `ChowLiuLeaf(cols, tree)`: a Chow-Liu tree over `cols` (a deterministic SPN once compiled).
- `ProductBlock(children)`: children over disjoint columns.
- `SumBlock(children, weights)`: a mixture of children over the same columns.
- `HiddenTreeBlock(cols, parents, log_prior, log_transition, log_emission)`: a hidden Chow-Liu
  tree (one latent variable of k states per column; see `hclt.py`).

`cols` are column positions in the data (ints); every block's `log_likelihood(data)` takes the
full data `[rows, num_vars]` and returns `[rows]`.
"""
import numpy as np
from scipy.special import logsumexp
from scipy.stats import norm

from spnlab.graph.leaves import IndicatorLeaf, NormalLeaf
from spnlab.graph.variables import Variable
from spnlab.graph.products import Product
from spnlab.graph.sums import ParallelSums, Sum


def smoothed_log_probs(data, num_vals, alpha):
    """`[V, K]` log of the Laplace-smoothed value frequencies of each column of `data`."""
    counts = np.stack([np.bincount(col, minlength=num_vals) for col in data.T]) + alpha
    return np.log(counts / counts.sum(axis=1, keepdims=True))


class FactorizedLeaf:
    def __init__(self, cols, log_probs):
        self.cols = tuple(int(c) for c in cols)
        self.log_probs = np.asarray(log_probs, dtype=np.float64)

    @classmethod
    def fit(cls, data, rows, cols, num_vals, alpha):
        return cls(cols, smoothed_log_probs(data[np.ix_(rows, cols)], num_vals, alpha))

    def log_likelihood(self, data):
        values = data[:, list(self.cols)]
        return self.log_probs[np.arange(len(self.cols)), values].sum(axis=1)

    def size(self):
        return {"sums": len(self.cols), "products": int(len(self.cols) > 1),
                "parameters": self.log_probs.size}


class NormalFactorizedLeaf:
    def __init__(self, cols, loc, scale):
        self.cols = tuple(int(c) for c in cols)
        self.loc = np.asarray(loc, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    @classmethod
    def fit(cls, data, rows, cols, min_scale):
        """Maximum-likelihood normals, the scales floored at `min_scale` (a slice of one row or
        a constant column would otherwise give a zero scale)."""
        values = data[np.ix_(rows, cols)]
        return cls(cols, values.mean(axis=0), np.maximum(values.std(axis=0), min_scale))

    def log_likelihood(self, data):
        return norm.logpdf(data[:, list(self.cols)], self.loc, self.scale).sum(axis=1)

    def size(self):
        return {"sums": 0, "products": int(len(self.cols) > 1), "parameters": 2 * len(self.cols)}


class ChowLiuLeaf:
    def __init__(self, cols, tree):
        self.cols = tuple(int(c) for c in cols)
        self.tree = tree

    def log_likelihood(self, data):
        return self.tree.log_likelihood(data[:, list(self.cols)])

    def size(self):
        n, k = len(self.cols), self.tree.num_vals
        return {"sums": n, "products": n * k, "parameters": n * k * k}


class ProductBlock:
    def __init__(self, children):
        self.children = list(children)

    @property
    def cols(self):
        return tuple(sorted(c for child in self.children for c in child.cols))

    def log_likelihood(self, data):
        return sum(child.log_likelihood(data) for child in self.children)


class SumBlock:
    def __init__(self, children, weights):
        self.children = list(children)
        self.weights = np.asarray(weights, dtype=np.float64)

    @property
    def cols(self):
        return self.children[0].cols

    def log_likelihood(self, data):
        values = np.stack([child.log_likelihood(data) for child in self.children], axis=1)
        return logsumexp(values + np.log(self.weights), axis=1)


class HiddenTreeBlock:
    """`log_prior [k]` of the root's latent, `log_transition [V, k, k]` (row j: the latent of
    column v given its parent's latent = j; unused for the root), `log_emission [V, k, K]`
    (row j: x_v given z_v = j). `parents` / `order` index into `cols`."""

    def __init__(self, cols, parents, order, log_prior, log_transition, log_emission):
        self.cols = tuple(int(c) for c in cols)
        self.parents, self.order = np.asarray(parents), np.asarray(order)
        self.log_prior = np.asarray(log_prior, dtype=np.float64)
        self.log_transition = np.asarray(log_transition, dtype=np.float64)
        self.log_emission = np.asarray(log_emission, dtype=np.float64)

    def log_likelihood(self, data):
        values = data[:, list(self.cols)]
        # up[v] [rows, k]: log p(subtree of v's observations | z_v = j)
        up = [self.log_emission[v][:, values[:, v]].T for v in range(len(self.cols))]
        for v in self.order[::-1]:
            parent = self.parents[v]
            if parent >= 0:
                message = logsumexp(up[v][:, None, :] + self.log_transition[v][None], axis=2)
                up[parent] = up[parent] + message
        root = self.order[0]
        return logsumexp(up[root] + self.log_prior, axis=1)


def iter_blocks(block):
    """Every block below (and including) `block`, parents first."""
    stack = [block]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(getattr(node, "children", ())))


# --- compilation to a node graph -----------------------------------------------------------

class _Compiler:
    """Builds the node graph of a block tree over one shared `IndicatorLeaf`."""

    def __init__(self, num_vars, num_vals, variables, node_labels=None):
        self.node_labels = {} if node_labels is None else node_labels
        self.num_vals = num_vals
        if num_vals is None:                # continuous: one Variable per column, shared
            self.leaf = None
            self.variables = [v if isinstance(v, Variable) else Variable(v) for v in variables]
        else:
            self.leaf = IndicatorLeaf(num_vars, num_vals, variables=variables, name="X")
        self.counter = 0

    def name(self, prefix, block=None, suffix=""):
        """`<prefix><label><suffix>` for a labelled block (LearnSPN labels blocks by slice, so
        a node keeps its name as the structure grows), else `<prefix><counter>`."""
        label = getattr(block, "label", None)
        if label is None:
            self.counter += 1
            return f"{prefix}{self.counter}"
        return f"{prefix}{label}{suffix}"

    def labelled(self, node, block):
        """Record which block (its label) made `node`; returns the node."""
        label = getattr(block, "label", None)
        if label is not None:
            self.node_labels[node] = label
        return node

    def indicators(self, col):
        k = self.num_vals
        return (self.leaf, list(range(col * k, (col + 1) * k)))

    def inputs(self, block):
        """The `Input`-likes whose product is `block` (a product's factors flattened)."""
        if isinstance(block, FactorizedLeaf):
            return [self.labelled(Sum(self.indicators(c), weights=np.exp(p),
                                      name=self.name("L", block, f"_{c + 1}")), block)
                    for c, p in zip(block.cols, block.log_probs)]
        if isinstance(block, NormalFactorizedLeaf):
            leaf = NormalLeaf(len(block.cols), 1, loc=block.loc[:, None],
                              scale=block.scale[:, None],
                              variables=[self.variables[c] for c in block.cols],
                              name=self.name("N", block))
            return [(self.labelled(leaf, block), list(range(len(block.cols))))]
        if isinstance(block, ProductBlock):
            return [part for child in block.children for part in self.inputs(child)]
        return [self.node(block)]

    def node(self, block):
        """One node input (a node or `(node, [index])`) computing `block`."""
        if isinstance(block, SumBlock):
            return self.labelled(Sum(*[self.product(child) for child in block.children],
                                     weights=block.weights, name=self.name("S", block)), block)
        if isinstance(block, ChowLiuLeaf):
            return self.chow_liu(block)
        if isinstance(block, HiddenTreeBlock):
            return self.hidden_tree(block)
        return self.product(block)

    def product(self, block):
        parts = self.inputs(block)
        if len(parts) == 1 and not (isinstance(parts[0], tuple) and len(parts[0][1]) > 1):
            return parts[0]
        return self.labelled(Product(*parts, name=self.name("P", block)), block)

    def chow_liu(self, block):
        """p(x) = sum_x_r p(x_r) [x_r] prod_c S_c(x_r), S_c(u) = sum_x p(x|u) [x_c] prod ..."""
        tree, k = block.tree, self.num_vals
        children = [[] for _ in block.cols]
        for v, parent in enumerate(tree.parents):
            if parent >= 0:
                children[parent].append(v)
        below = {}                          # v -> ParallelSums, output u = S_v(parent = u)
        for v in tree.order[::-1]:
            col = block.cols[v]
            base = col * k
            terms = []
            for x in range(k):
                parts = [(self.leaf, [base + x])] + [(below[c], [x]) for c in children[v]]
                terms.append(parts[0] if len(parts) == 1 else self.labelled(
                    Product(*parts, name=self.name("P", block, f"_{col + 1}={x}")), block))
            weights = np.exp(tree.log_cpt[v])
            if tree.parents[v] < 0:
                return self.labelled(Sum(*terms, weights=weights[0],
                                         name=self.name("T", block, f"_{col + 1}")), block)
            below[v] = self.labelled(ParallelSums(*terms, num_sums=k, weights=weights,
                                                  name=self.name("T", block, f"_{col + 1}")),
                                     block)
        raise AssertionError("a Chow-Liu tree has a root")

    def hidden_tree(self, block):
        """N_v(j) = E_v(j) prod_c M_c(j),  M_c(j) = sum_l p(z_c = l | z_v = j) N_c(l)."""
        k_latent = len(block.log_prior)
        children = [[] for _ in block.cols]
        for v, parent in enumerate(block.parents):
            if parent >= 0:
                children[parent].append(v)
        up = {}                             # v -> ParallelSums M_v (output j: parent state j)
        for v in block.order[::-1]:
            emission = ParallelSums(self.indicators(block.cols[v]), num_sums=k_latent,
                                    weights=np.exp(block.log_emission[v]), name=self.name("E"))
            if children[v]:
                states = [Product((emission, [j]), *[(up[c], [j]) for c in children[v]],
                                  name=self.name("H")) for j in range(k_latent)]
            else:
                states = [(emission, [j]) for j in range(k_latent)]
            if block.parents[v] < 0:
                return Sum(*states, weights=np.exp(block.log_prior), name=self.name("Z"))
            up[v] = ParallelSums(*states, num_sums=k_latent,
                                 weights=np.exp(block.log_transition[v]), name=self.name("M"))
        raise AssertionError("a hidden tree has a root")


def to_graph(block, num_vars, num_vals, variables=None, node_labels=None):
    """The root node of the node graph of `block` over `num_vars` discrete variables with
    `num_vals` values (one shared `IndicatorLeaf` named "X"), or continuous ones when
    `num_vals` is None (a `NormalLeaf` per factorised leaf, the columns' `Variable`s shared).
    `variables`: names or `Variable`s, default X1..Xn. Products of products are flattened.
    `node_labels`: an optional dict filled with `{node: block label}` for the nodes of
    labelled blocks (LearnSPN labels each block with its slice id)."""
    variables = variables or [f"X{v + 1}" for v in range(num_vars)]
    compiler = _Compiler(num_vars, num_vals, variables, node_labels)
    root = compiler.node(block)
    if isinstance(root, tuple):             # a single indicator-backed output: wrap it
        root = Sum(root, weights=[1.0], name="root")
    return root
