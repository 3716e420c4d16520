"""Validity of an SPN graph: complete sums and decomposable products, every violation named.

A sum is complete when all its children have the same scope; a product is decomposable when its
children's scopes are disjoint. `validate` lists every violation with the node, the two children
at fault and the variables at fault, e.g.
"Product 'P3' is not decomposable: children 'S1' and 'S2' both contain X2".
"""
from collections import Counter
from typing import NamedTuple

from spnlab.graph.nodes import Node
from spnlab.graph.products import Product
from spnlab.graph.scope import get_scopes
from spnlab.graph.sums import BaseSum
from spnlab.graph.traversal import GraphCycleError, as_roots
from spnlab.graph.variables import sorted_variables


class Violation(NamedTuple):
    """One validity violation.

    kind: "incomplete", "not_decomposable", "latent_overlap", "no_inputs" or "cycle".
    node: the sum or product at fault (for a cycle: its first node).
    children: the two child outputs at fault as `(node, output_index)` pairs (fewer where n/a).
    variables: the variables at fault, in creation order.
    message: a sentence naming all of these.
    """

    kind: str
    node: Node
    children: tuple
    variables: tuple
    message: str


class ValidityReport:
    """The result of `validate`: `violations` (tuple of `Violation`), `is_valid`, `str()`."""

    def __init__(self, violations):
        self.violations = tuple(violations)

    @property
    def is_valid(self):
        return not self.violations

    def __len__(self):
        return len(self.violations)

    def __iter__(self):
        return iter(self.violations)

    def __str__(self):
        if self.is_valid:
            return "The SPN is valid (complete and decomposable)."
        lines = [f"The SPN is not valid ({len(self.violations)} violations):"]
        return "\n".join(lines + [f"- {v.message}" for v in self.violations])

    def __repr__(self):
        return f"ValidityReport({len(self.violations)} violations)"


def _quoted(child):
    node, index = child
    return f"'{node.output_name(index)}'"


def _names(variables):
    return ", ".join(v.name for v in variables)


def _product_violations(node, scopes):
    """Every variable shared by two children, as (first child containing it, later child)."""
    owner, shared = {}, {}
    for pos, (child, index) in enumerate(node.child_outputs):
        for var in scopes[child][index]:
            first = owner.setdefault(var, pos)
            if first != pos:
                shared.setdefault((first, pos), []).append(var)
    for (first, pos), variables in shared.items():
        pair = (node.child_outputs[first], node.child_outputs[pos])
        variables = tuple(sorted_variables(variables))
        yield Violation("not_decomposable", node, pair, variables,
                        f"Product '{node.name}' is not decomposable: children {_quoted(pair[0])} "
                        f"and {_quoted(pair[1])} both contain {_names(variables)}")


def _sum_violations(node, scopes):
    """Children whose scope differs from the most common one (ties: the earliest), each named
    with the first child of that common scope; latent variables that also occur in children."""
    kind = type(node).__name__
    child_scopes = [scopes[child][index] for child, index in node.child_outputs]
    counts = Counter(child_scopes)
    most = max(counts.values())
    reference = next(pos for pos, scope in enumerate(child_scopes) if counts[scope] == most)
    for pos, scope in enumerate(child_scopes):
        if scope != child_scopes[reference]:
            pair = (node.child_outputs[reference], node.child_outputs[pos])
            variables = tuple(sorted_variables(scope ^ child_scopes[reference]))
            yield Violation("incomplete", node, pair, variables,
                            f"{kind} '{node.name}' is not complete: children {_quoted(pair[0])} "
                            f"and {_quoted(pair[1])} differ in {_names(variables)}")
    latent = node.latent_indicators
    if latent is not None:
        below = frozenset().union(*child_scopes)
        seen = set()
        for i in latent.indices:
            var = latent.node.output_variable(i)
            if var in below and var not in seen:
                seen.add(var)
                yield Violation("latent_overlap", node, ((latent.node, i),), (var,),
                                f"{kind} '{node.name}' has latent variable {var.name}, which its "
                                f"children also contain")


def validate(roots):
    """Check every sum and product reachable from `roots` (a node or nodes).

    Returns:
        `ValidityReport` listing every violation (a cycle is reported alone: without a
        topological order no scope exists).
    """
    roots = as_roots(roots)
    try:
        scopes = get_scopes(roots)
    except GraphCycleError as error:
        return ValidityReport([Violation("cycle", error.cycle[0], (), (), str(error))])
    violations = []
    for node in scopes:
        if not node.is_op:
            continue
        if node.num_children == 0:
            violations.append(Violation("no_inputs", node, (), (),
                                        f"{type(node).__name__} '{node.name}' has no inputs"))
        elif isinstance(node, Product):
            violations.extend(_product_violations(node, scopes))
        elif isinstance(node, BaseSum):
            violations.extend(_sum_violations(node, scopes))
    return ValidityReport(violations)


def is_valid(roots):
    """True when `validate(roots)` finds no violation."""
    return validate(roots).is_valid


def assert_valid(roots):
    """Raise ValueError with the report's message when the graph is not valid."""
    report = validate(roots)
    if not report.is_valid:
        raise ValueError(str(report))
