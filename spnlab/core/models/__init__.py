"""SPN models: the sequential model, region graphs and the structure builders (RAT-SPN,
Poon-Domingos, DGC-SPN)."""
from spnlab.core.models.images import dgcspn, poon_domingos
from spnlab.core.models.ratspn import ratspn
from spnlab.core.models.region_graph import (OverlappingScopesException, RegionNode,
                                             RegionVariable, region_graph_to_dense_spn)
from spnlab.core.models.sequential import SequentialSumProductNetwork

__all__ = ["SequentialSumProductNetwork", "RegionNode", "RegionVariable",
           "region_graph_to_dense_spn", "OverlappingScopesException", "ratspn", "poon_domingos",
           "dgcspn"]
