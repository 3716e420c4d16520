"""spnlab.lab: the UI-free training session (DESIGN.md section 6).

A `Session` owns a model, data, optimisers and a sum op per layer; it steps, switches sum ops
live, records history and per-layer signal taps, compares learning modes and checkpoints. Views
(spnlab.widgets) observe it through `subscribe`; nothing here imports a UI toolkit.

    from spnlab.lab import Session

    s = Session("digits")              # RAT-SPN on the 64 binarised digit pixels, soft EM
    s.run(50)
    s.set_sum_op("all", "hard_em")     # live; the distribution is unchanged
    s.step().taps.layers["S5"].entropy
    table = s.compare(["em", "hard_em", "unweighted_hard_em"], 100).to_records()
"""
from spnlab.lab.compare import CompareResult, compare
from spnlab.lab.config import PRESETS, SessionConfig, TapSettings
from spnlab.lab.data import BatchStream, DataSet, digits, from_arrays
from spnlab.lab.events import EVENTS, ObserverError
from spnlab.lab.history import History, StepRecord, SwitchRecord, bits_per_dim
from spnlab.lab.masks import MASKS, evidence_from_dict, evidence_mask
from spnlab.lab.ops import OPS
from spnlab.lab.queries import COMPLETION_METHODS, NODE_SIGNALS
from spnlab.lab.trainable import GraphSnapshot, Trainable, trainable
from spnlab.lab.session import Session
from spnlab.lab.tap_records import LayerTap, TapBuffer, TapRecord

__all__ = [
    "Session", "SessionConfig", "TapSettings", "PRESETS", "OPS", "EVENTS", "ObserverError",
    "History", "StepRecord", "SwitchRecord", "bits_per_dim", "TapBuffer", "TapRecord",
    "LayerTap", "CompareResult", "compare", "DataSet", "BatchStream", "digits", "from_arrays",
    "MASKS", "evidence_mask", "evidence_from_dict", "COMPLETION_METHODS", "NODE_SIGNALS",
    "GraphSnapshot", "Trainable", "trainable",
]
