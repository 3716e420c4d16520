"""Hidden Chow-Liu trees (HCLT; Liu and Van den Broeck, 2021).

The Chow-Liu tree of the observed variables fixes the shape; each variable X_v gets a latent
parent Z_v with `num_latent_states` states, and the latents follow the tree:

    p(x) = sum_z p(z_root) prod_{v != root} p(z_v | z_parent(v)) prod_v p(x_v | z_v)

compiled to an SPN with one product per (variable, state) and one sum per (edge, state) (see
`blocks.HiddenTreeBlock`). Parameters start from the Chow-Liu tree itself (`init="chow_liu"`:
latent state j stands for value j mod K, blurred by `noise` so EM can break the symmetry) or
at random (`init="random"`), and are then trained by EM (`GraphModel` with an EM sum op).

Learning is stepped like LearnSPN: step 1 computes the mutual information; each later step
attaches one variable to the tree (Prim's order, the strongest remaining edge), and the partial
model is the hidden tree over the attached variables times factorised leaves over the rest.
"""
import numpy as np

from spnlab._args import check_number
from spnlab.graph._checks import check_positive_int, is_int
from spnlab.structure.blocks import (FactorizedLeaf, HiddenTreeBlock, ProductBlock, SumBlock,
                                     to_graph)
from spnlab.structure.chow_liu import fit_chow_liu
from spnlab.structure.data import check_discrete_data, values_per_variable
from spnlab.structure.learnspn import Decision, _check_choice

INITS = ("chow_liu", "random")


def hidden_tree_parameters(tree, num_latent_states, init="chow_liu", noise=0.1, rng=None):
    """`(log_prior [k], log_transition [V, k, k], log_emission [V, k, K])` of an HCLT over the
    Chow-Liu `tree` (a `ChowLiuTree`).

    "chow_liu": state j stands for value `j mod K`: the emission of state j is the point mass on
    it, mixed with a uniform at weight `noise`; the transition from parent state j to child state
    l is the tree's `p(x_c = l mod K | x_p = j mod K)` shared among the states of that value and
    mixed with Dirichlet(1) rows at weight `noise`. With `num_latent_states == K` and
    `noise == 0` the model is the Chow-Liu tree exactly.
    """
    rng = rng or np.random.default_rng(0)
    k, num_vals, num_vars = num_latent_states, tree.num_vals, tree.num_vars
    if init == "chow_liu" and k < num_vals:
        raise ValueError(f"Expected `num_latent_states` >= num_vals={num_vals} with "
                         f"init='chow_liu' (each value needs a state). Received: "
                         f"num_latent_states={k}")
    if init == "random":
        prior = rng.dirichlet(np.ones(k))
        transition = rng.dirichlet(np.ones(k), size=(num_vars, k))
        emission = rng.dirichlet(np.ones(num_vals), size=(num_vars, k))
        return np.log(prior), np.log(transition), np.log(emission)
    value_of = np.arange(k) % num_vals                                # [k]
    share = np.bincount(value_of, minlength=num_vals)[value_of]       # states per value
    cpt = np.exp(tree.log_cpt)                                         # [V, K, K]
    prior = cpt[tree.order[0], 0, value_of] / share
    transition = cpt[:, value_of][:, :, value_of] / share              # [V, k, k]
    emission = np.eye(num_vals)[value_of][None].repeat(num_vars, axis=0)   # [V, k, K]
    if noise > 0:
        prior = (1 - noise) * prior + noise * rng.dirichlet(np.ones(k))
        transition = (1 - noise) * transition + noise * rng.dirichlet(np.ones(k),
                                                                      size=(num_vars, k))
        emission = (1 - noise) * emission + noise / num_vals
    with np.errstate(divide="ignore"):
        return np.log(prior), np.log(transition), np.log(emission)


class HCLT:
    """An HCLT learned from int data `[rows, num_vars]`, taken one decision at a time.

    Args:
        data: training data (values `0..num_vals-1`).
        num_latent_states: states k of each latent variable.
        num_vals: values per variable (default: the largest value + 1, at least 2).
        alpha: Laplace smoothing of the mutual information and the Chow-Liu tables.
        init: "random" (Dirichlet(1) tables; trains best) or "chow_liu" (the Chow-Liu tree
            itself, needs `num_latent_states >= num_vals`; see `hidden_tree_parameters`);
            `noise` its blur.
        num_components: a mixture of this many hidden trees, uniformly weighted, each with its
            own initial parameters (1: one HCLT).
        tree_dropout: the mixture's trees after the first (the Chow-Liu tree) are spanning
            trees of the mutual information with this share of the pairs discounted
            (`fit_chow_liu(dropout=...)`), so the components differ in shape as well (0: all
            over the Chow-Liu tree). Each step attaches one variable to every tree, in each
            tree's own order.
        seed: seeds the initial parameters.
        variables: names (or `Variable`s) of the columns for the node graph.
    """

    def __init__(self, data, num_latent_states=16, num_vals=None, alpha=1.0, init="random",
                 noise=0.1, seed=0, variables=None, num_components=1, tree_dropout=0.0):
        self.data = check_discrete_data(data, "data")
        self.num_vals = values_per_variable(self.data, num_vals)
        self.num_latent_states = check_positive_int(num_latent_states, "num_latent_states")
        self.num_components = check_positive_int(num_components, "num_components")
        self.alpha = check_number("alpha", alpha, 0.0, low_open=True)
        self.init = _check_choice(init, INITS, "init")
        if self.init == "chow_liu" and self.num_latent_states < self.num_vals:
            raise ValueError(f"Expected `num_latent_states` >= num_vals={self.num_vals} with "
                             f"init='chow_liu' (each value needs a state). Received: "
                             f"num_latent_states={self.num_latent_states}")
        self.noise = check_number("noise", noise, 0.0, 1.0)
        self.tree_dropout = check_number("tree_dropout", tree_dropout, 0.0, 1.0)
        if not is_int(seed):
            raise TypeError(f"Expected `seed` to be an int. Received: seed={seed!r}")
        self.seed = int(seed)
        self.variables = variables
        self.num_vars = self.data.shape[1]
        self.tree = None                   # the Chow-Liu tree (the first tree)
        self.trees = None                  # the mixture components' trees
        self.decisions = []
        self._attached = 0                 # variables of tree.order in the model so far
        self._parameters = None
        self._marginals = FactorizedLeaf.fit(self.data, np.arange(len(self.data)),
                                             range(self.num_vars), self.num_vals, self.alpha)

    @property
    def done(self):
        return self.tree is not None and self._attached == self.num_vars

    def step(self):
        """Take the next decision (None when done): first the Chow-Liu tree's mutual
        information, then one variable attached per step."""
        if self.done:
            return None
        rows, cols = np.arange(len(self.data)), tuple(range(self.num_vars))
        if self.tree is None:
            self.tree = fit_chow_liu(self.data, self.num_vals, self.alpha)
            rng = np.random.default_rng(self.seed)
            self.trees = [self.tree] + [
                fit_chow_liu(self.data, self.num_vals, self.alpha, dropout=self.tree_dropout,
                             rng=rng) if self.tree_dropout > 0 else self.tree
                for _ in range(self.num_components - 1)]
            self._parameters = [hidden_tree_parameters(tree, self.num_latent_states,
                                                       self.init, self.noise, rng)
                                for tree in self.trees]
            self._attached = 1
            root = int(self.tree.order[0])
            kind, reason = "tree", (f"mutual information of all {self.num_vars * (self.num_vars - 1) // 2} "
                                    f"pairs; the tree is rooted at variable {root}")
            details = {"mutual_information": self.tree.mutual_information,
                       "parents": self.tree.parents, "order": self.tree.order, "variable": root}
        else:
            v = int(self.tree.order[self._attached])
            parent = int(self.tree.parents[v])
            mi = float(self.tree.mutual_information[v, parent])
            self._attached += 1
            kind = "edge"
            reason = (f"variable {v} joins under variable {parent}: the strongest remaining "
                      f"edge, mutual information {mi:.4f} nats")
            details = {"variable": v, "parent": parent, "mutual_information": mi}
        decision = Decision(len(self.decisions) + 1, 0, None, rows, cols, kind, reason, (),
                            details)
        self.decisions.append(decision)
        return decision

    def steps(self):
        while not self.done:
            yield self.step()

    def learn(self):
        for _ in self.steps():
            pass
        return self.graph()

    def structure(self):
        """The current block tree: the hidden tree over the attached variables times
        factorised leaves over the others (before the first step: all factorised)."""
        if self.tree is None:
            return self._marginals
        components = []
        for shape, (log_prior, log_transition, log_emission) in zip(self.trees,
                                                                     self._parameters):
            order = shape.order[: self._attached]
            position = {int(v): i for i, v in enumerate(order)}
            parents = np.array([position.get(int(shape.parents[v]), -1) for v in order])
            rest = [v for v in range(self.num_vars) if v not in position]
            tree = HiddenTreeBlock(order, parents, np.arange(len(order)), log_prior,
                                   log_transition[order], log_emission[order])
            components.append(tree if not rest else ProductBlock(
                [tree, FactorizedLeaf(rest, self._marginals.log_probs[rest])]))
        if len(components) == 1:
            return components[0]
        return SumBlock(components, np.full(len(components), 1.0 / len(components)))

    def graph(self):
        return to_graph(self.structure(), self.num_vars, self.num_vals, self.variables)

    def log_likelihood(self, data):
        data = check_discrete_data(data, "data", self.num_vars, self.num_vals)
        return self.structure().log_likelihood(data)


def learn_hclt(data, num_latent_states=16, **kwargs):
    """The node graph's root of `HCLT(data, num_latent_states, **kwargs)` learned to the end."""
    return HCLT(data, num_latent_states, **kwargs).learn()
