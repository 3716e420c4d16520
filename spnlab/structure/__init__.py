"""Structures learned from data (below the lab, above the node graph; NumPy, SciPy and
scikit-learn only: learning a structure loads no TensorFlow).

    from spnlab.structure import LearnSPN, learn_hclt, load_debd
    data = load_debd("nltcs", "../shared/data/debd")
    learner = LearnSPN(data.train, min_instances_slice=200, leaves="chow_liu")
    for decision in learner.steps():            # one recorded decision per step
        print(decision.kind, decision.reason)
    root = learner.graph()                       # an spnlab.graph node graph
    fine_tune(root, data.train, data.valid)      # EM through GraphModel (loads TensorFlow)

Both learners (`LearnSPN`, `HCLT`) share one stepping protocol: `step()` returns a `Decision`
(None when done), `steps()` iterates the rest, `done`, `decisions`, `structure()` (a block tree,
valid after every step), `graph()` (its node graph), `log_likelihood(data)` (NumPy) and
`learn()` (to the end; returns the graph).
"""
from spnlab.structure.blocks import (ChowLiuLeaf, FactorizedLeaf, HiddenTreeBlock, ProductBlock,
                                     SumBlock, to_graph)
from spnlab.structure.chow_liu import ChowLiuTree, fit_chow_liu, maximum_spanning_tree
from spnlab.structure.data import (Dataset, bits_per_variable, check_discrete_data, debd_names,
                                   load_debd, write_debd)
from spnlab.structure.independence import g_test, mutual_information, pair_counts, rdc
from spnlab.structure.fine_tune import FineTuned, fine_tune, mean_log_likelihood
from spnlab.structure.hclt import HCLT, hidden_tree_parameters, learn_hclt
from spnlab.structure.learnspn import Decision, LearnSPN, learn_spn

__all__ = [
    "LearnSPN", "learn_spn", "Decision", "HCLT", "learn_hclt", "hidden_tree_parameters",
    "fine_tune", "FineTuned", "mean_log_likelihood",
    "ChowLiuTree", "fit_chow_liu", "maximum_spanning_tree",
    "FactorizedLeaf", "ChowLiuLeaf", "ProductBlock", "SumBlock", "HiddenTreeBlock", "to_graph",
    "Dataset", "load_debd", "write_debd", "debd_names", "bits_per_variable", "check_discrete_data",
    "g_test", "mutual_information", "pair_counts", "rdc",
]
