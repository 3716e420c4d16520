"""Hand-built teaching examples as sessions: learn a small node graph from its own samples.

`structure="example"` takes a classic graph of `spnlab.graph` as the *teacher*: its textbook
weights generate the data set (`num_examples` ancestral samples, seeded), and a structural copy
of it with fresh weights ~ Dirichlet(`init_alpha`) from `seed` is the *student* the session
trains. Students see exactly the distribution family that made their data, so how close each
sum op brings the learned weights to the teacher's is the lesson.

    "poon_domingos"  the Poon-Domingos example: two binary variables, five sums
    "naive_bayes"    a mixture of `num_sums` fully factorised distributions over `example_vars`
                     binary variables (teacher weights drawn from `seed`)
    "random"         a random valid SPN over `example_vars` binary variables, with shared
                     sums and ParallelSums (`spnlab.graph.random_spn(example_vars, seed)`)
"""
import numpy as np

from spnlab.graph import (GraphModel, graph_from_config, graph_to_config, graph_weights,
                          naive_bayes_mixture, poon_domingos_example, random_spn, sample)
from spnlab.lab.data import DataSet, split
from spnlab.lab.ops import make_op

EXAMPLES = ("poon_domingos", "naive_bayes", "random")


def teacher_graph(config):
    """The example's root node with its generating weights."""
    if config.example == "poon_domingos":
        return poon_domingos_example().root
    if config.example == "naive_bayes":
        return naive_bayes_mixture(config.example_vars, config.num_sums, seed=config.seed).root
    return random_spn(config.example_vars, seed=config.seed).root


def build_example(config, sum_op_spec):
    """`(teacher root, student GraphModel)`: the student is a copy of the teacher's structure
    (tied weights stay tied) with weights ~ Dirichlet(`init_alpha`), drawn from `seed`."""
    teacher = teacher_graph(config)
    student, _ = graph_from_config(graph_to_config(teacher))
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 3]))
    for weights in graph_weights(student):
        draws = rng.dirichlet(np.full(weights.num_children, config.init_alpha),
                              size=weights.num_sets)
        weights.assign(np.maximum(draws, 1e-12))                 # no zero weights at the start
    return teacher, GraphModel(student, sum_op=make_op(sum_op_spec, 0))


def example_data(teacher, config):
    """`num_examples` samples of the teacher (int32, columns in variable creation order),
    split by `test_fraction`."""
    rows = sample(teacher, config.num_examples, seed=config.seed).astype(np.int32)
    train, test = split(rows, config.test_fraction, config.seed)
    return DataSet("example", train, test)
