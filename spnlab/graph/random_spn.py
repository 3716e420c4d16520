"""Random valid SPNs (complete and decomposable) for tests and demos.

The generator plans the graph top-down without recursion: a sum over a scope gets products over
the same scope; a product splits its scope into a random partition of 2-3 parts; a part with one
variable becomes a univariate sum over that variable's leaf outputs or a single leaf output.
Sums over an already planned scope may be reused (a DAG, not a tree), and some become
`ParallelSums` whose outputs different products select. The plan is then built bottom-up.
"""
import numpy as np

from spnlab.graph._checks import check_positive_int, is_int
from spnlab.graph.examples import ExampleSPN, _names
from spnlab.graph.leaves import IndicatorLeaf, NormalLeaf
from spnlab.graph.products import Product
from spnlab.graph.sums import ParallelSums, Sum
from spnlab.graph.traversal import postorder

_LEAF = -1  # plan reference to an output of the leaf node


def _check_prob(value, arg):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"Expected `{arg}` in [0, 1]. Received: {arg}={value!r}")
    return float(value)


class _Planner:
    """Plans as lists: kind ("sum", "psum", "product"), scope, num outputs, child references
    `(plan id or _LEAF, output)`."""

    def __init__(self, rng, num_per_var, max_children, share_prob, parallel_prob):
        self.rng, self.num_per_var, self.max_children = rng, num_per_var, max_children
        self.share_prob, self.parallel_prob = share_prob, parallel_prob
        self.plans, self.pending, self.sums_by_scope = [], [], {}

    def new(self, kind, scope, num_outputs=1):
        self.plans.append({"kind": kind, "scope": scope, "outputs": num_outputs, "children": []})
        self.pending.append(len(self.plans) - 1)
        return len(self.plans) - 1

    def sum_ref(self, scope, allow_shared=True, allow_parallel=True):
        """A reference to one output of a sum over `scope` (new, or shared with prob.)."""
        known = self.sums_by_scope.get(scope)
        if allow_shared and known and self.rng.random() < self.share_prob:
            plan = known[self.rng.integers(len(known))]
            return plan, int(self.rng.integers(self.plans[plan]["outputs"]))
        parallel = allow_parallel and self.rng.random() < self.parallel_prob
        outputs = int(self.rng.integers(2, 4)) if parallel else 1
        plan = self.new("psum" if parallel else "sum", scope, outputs)
        self.sums_by_scope.setdefault(scope, []).append(plan)
        return plan, int(self.rng.integers(outputs))

    def part_ref(self, scope):
        """A reference for one part of a product's partition."""
        if len(scope) == 1 and self.rng.random() < 0.3:
            return _LEAF, scope[0] * self.num_per_var + int(self.rng.integers(self.num_per_var))
        return self.sum_ref(scope)

    def expand(self, plan_id):
        plan = self.plans[plan_id]
        scope = plan["scope"]
        if plan["kind"] in ("sum", "psum"):
            if len(scope) == 1:
                base = scope[0] * self.num_per_var
                plan["children"] = [(_LEAF, base + k) for k in range(self.num_per_var)]
            else:
                count = int(self.rng.integers(2, self.max_children + 1))
                plan["children"] = [(self.new("product", scope), 0) for _ in range(count)]
            return
        order = self.rng.permutation(scope)
        num_parts = int(self.rng.integers(2, min(self.max_children, len(scope)) + 1))
        cuts = np.sort(self.rng.choice(np.arange(1, len(scope)), num_parts - 1, replace=False))
        parts = [tuple(sorted(int(v) for v in part)) for part in np.split(order, cuts)]
        plan["children"] = [self.part_ref(part) for part in parts]

    def run(self, num_vars):
        root = self.new("sum", tuple(range(num_vars)))  # not in sums_by_scope: never shared
        while self.pending:
            self.expand(self.pending.pop())
        return root


def random_spn(num_vars, seed=0, leaf="indicator", num_vals=2, num_components=2,
               max_children=3, share_prob=0.3, parallel_prob=0.3, latent_root=False):
    """A random valid SPN over `num_vars` variables.

    Args:
        num_vars: number of variables (>= 1).
        seed: seed of `np.random.default_rng` (structure, weights and leaf parameters).
        leaf: "indicator" (binary, or `num_vals`-valued, variables) or "normal" (continuous
            variables with `num_components` normal components each).
        max_children: at most this many children per sum and parts per product (>= 2).
        share_prob: probability that a sum over an already planned scope is reused.
        parallel_prob: probability that a new non-root sum is a `ParallelSums` of 2-3 sums.
        latent_root: attach latent indicators to the root sum.

    Returns:
        `ExampleSPN(root, variables)`; nodes are named S<k>, PS<k>, P<k>.
    """
    num_vars = check_positive_int(num_vars, "num_vars")
    if seed is not None and not is_int(seed):
        raise TypeError(f"Expected `seed` to be an int or None. Received: seed={seed!r}")
    if leaf not in ("indicator", "normal"):
        raise ValueError(f"Expected `leaf` in ('indicator', 'normal'). Received: leaf={leaf!r}")
    num_vals = check_positive_int(num_vals, "num_vals")
    num_components = check_positive_int(num_components, "num_components")
    max_children = check_positive_int(max_children, "max_children")
    if max_children < 2:
        raise ValueError(f"Expected `max_children` >= 2. Received: max_children={max_children}")
    rng = np.random.default_rng(seed)
    if leaf == "indicator":
        leaf_node = IndicatorLeaf(num_vars, num_vals, variables=_names(num_vars), name="X")
    else:
        leaf_node = NormalLeaf(num_vars, num_components, variables=_names(num_vars), name="N",
                               loc=rng.normal(size=(num_vars, num_components)),
                               scale=rng.uniform(0.5, 2.0, size=(num_vars, num_components)))
    planner = _Planner(rng, leaf_node.num_per_var, max_children,
                       _check_prob(share_prob, "share_prob"),
                       _check_prob(parallel_prob, "parallel_prob"))
    root_plan = planner.run(num_vars)
    plans = planner.plans
    built, counts = {}, {"sum": 0, "psum": 0, "product": 0}
    prefixes = {"sum": "S", "psum": "PS", "product": "P"}

    def children(plan_id):
        return [ref for ref, _ in plans[plan_id]["children"] if ref != _LEAF]

    for plan_id in postorder([root_plan], children):
        plan = plans[plan_id]
        inputs = [(leaf_node if ref == _LEAF else built[ref], out) for ref, out in plan["children"]]
        counts[plan["kind"]] += 1
        name = f"{prefixes[plan['kind']]}{counts[plan['kind']]}"
        if plan["kind"] == "product":
            built[plan_id] = Product(*inputs, name=name)
        else:
            weights = rng.dirichlet(np.ones(len(inputs)), size=plan["outputs"])
            built[plan_id] = Sum(*inputs, weights=weights[0], name=name) \
                if plan["kind"] == "sum" else \
                ParallelSums(*inputs, num_sums=plan["outputs"], weights=weights, name=name)
    root = built[root_plan]
    if latent_root:
        root.generate_latent_indicators()
    return ExampleSPN(root, leaf_node.variables)
