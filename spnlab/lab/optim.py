"""The session's optimisers: online EM for EM-trained parameters, a gradient optimiser for the rest.

Sum ops can differ per layer, so the trainable variables are split in two groups: the
accumulators of sum layers whose op hands counts to the optimiser (soft / hard / unweighted /
sample EM) and EM-learned leaves go to `OnlineExpectationMaximization`; gradient-op layers and
all other parameters to Adam or SGD. A group's optimiser is started afresh when its variables
change (a layer moved between groups) or when one of its layers changed op: Adam moments of
log-space weights mean nothing after a round trip through EM, and counts accumulated under one
op (`accumulate_batches`) must not be mixed with another op's.
"""
import keras
import numpy as np

import spnlab.core as spnk
from spnlab.core.layers.sum_layers import SumLayerBase
from spnlab.lab.ops import uses_em_optimizer
from spnlab.lab.reuse import LRU

GROUPS = ("em", "gradient")


def partition(model):
    """`{"em": [variables], "gradient": [variables]}` for `model.trainable_variables`."""
    em_ids = set()
    if getattr(model, "leaf_params", None) is not None:                 # a node graph
        if uses_em_optimizer(model.sum_op):
            em_ids.update(id(v) for v in model.accumulators)
        if model.leaf_params.em:
            em_ids.update(id(v) for v in model.leaf_params.variables)
    for layer in model.layers:
        if isinstance(layer, SumLayerBase) and uses_em_optimizer(layer.sum_op):
            em_ids.add(id(layer.accumulators))
        elif getattr(layer, "use_accumulators", False):
            em_ids.update(id(v) for v in layer.trainable_variables)
    groups = {"em": [], "gradient": []}
    for variable in model.trainable_variables:
        groups["em" if id(variable) in em_ids else "gradient"].append(variable)
    return groups


def learning_rate(group, config):
    return config.em_learning_rate if group == "em" else config.gradient_learning_rate


def make_optimizer(group, config):
    if group == "em":
        return spnk.OnlineExpectationMaximization(learning_rate(group, config),
                                                  config.accumulate_batches)
    cls = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}[config.gradient_optimizer]
    return cls(learning_rate(group, config))


def _kind(group, config):
    """What, besides its variables, makes an optimiser of `group` differ from another (the
    learning rate is a variable, set live)."""
    if group == "em":
        return ("em", int(config.accumulate_batches))
    return (config.gradient_optimizer,)


class OptimizerGroups:
    """The two groups' variables and optimisers (a group without variables has none).

    Optimisers are kept per (group, variables, kind) and reset to their state when built on
    reuse: "started afresh" means exactly a new optimiser's values, while the object (and so a
    training step traced for it, see `spnlab.lab.reuse`) stays the same.
    """

    def __init__(self, pool_capacity=8):
        self.variables = {g: [] for g in GROUPS}
        self.optimizers = {g: None for g in GROUPS}
        self._pool = LRU(pool_capacity)     # key -> (optimizer, values when built, variables)

    def _fresh(self, group, variables, config):
        key = (group, tuple(id(v) for v in variables), _kind(group, config))
        entry = self._pool.get(key)
        if entry is None:
            optimizer = make_optimizer(group, config)
            optimizer.build(variables)
            entry = (optimizer, [np.array(v.numpy()) for v in optimizer.variables], variables)
        else:
            optimizer, initial, _ = entry
            for variable, value in zip(optimizer.variables, initial):
                variable.assign(value)
            optimizer.learning_rate = learning_rate(group, config)
        self._pool.put(key, entry)
        return optimizer

    def sync(self, model, config, reset=()):
        """Re-partition `model`; start afresh every group in `reset` or whose variables changed.

        Returns the list of groups started afresh.
        """
        fresh = []
        for group, variables in partition(model).items():
            same = [id(v) for v in variables] == [id(v) for v in self.variables[group]]
            built = self.optimizers[group] is not None or not variables
            if same and built and group not in reset:
                continue
            self.variables[group] = variables
            self.optimizers[group] = None
            if variables:
                self.optimizers[group] = self._fresh(group, variables, config)
            fresh.append(group)
        return fresh

    def apply(self, grads_by_id):
        """Apply gradients `{id(variable): gradient}` (inside the compiled step)."""
        for group in GROUPS:
            optimizer = self.optimizers[group]
            if optimizer is None:
                continue
            pairs = [(grads_by_id[id(v)], v) for v in self.variables[group]
                     if grads_by_id.get(id(v)) is not None]
            if pairs:
                optimizer.apply([g for g, _ in pairs], [v for _, v in pairs])

    def set_learning_rates(self, config):
        """Apply learning-rate changes live (the rates are variables: no retrace)."""
        for group, optimizer in self.optimizers.items():
            if optimizer is not None:
                optimizer.learning_rate = learning_rate(group, config)

    def all_variables(self):
        """Every optimiser variable (iterations, learning rates, slots, accumulators), in order."""
        return [v for g in GROUPS if self.optimizers[g] is not None
                for v in self.optimizers[g].variables]

    def labels(self):
        """`{"em": "OnlineEM(lr=0.05)", ...}` for the groups in use."""
        out = {}
        for group in GROUPS:
            optimizer = self.optimizers[group]
            if optimizer is not None:
                lr = float(np.asarray(optimizer.learning_rate))
                out[group] = f"{type(optimizer).__name__}(lr={lr:g})"
        return out

    def state(self):
        """`{group: [arrays]}` of the optimiser variables."""
        return {g: [np.array(v.numpy()) for v in self.optimizers[g].variables]
                for g in GROUPS if self.optimizers[g] is not None}

    def set_state(self, model, config, state):
        """Rebuild the optimisers for `model` and load `state` (from `state()`)."""
        self.variables = {g: [] for g in GROUPS}
        self.optimizers = {g: None for g in GROUPS}
        self.sync(model, config)
        for group in GROUPS:
            optimizer = self.optimizers[group]
            if (optimizer is None) != (group not in state):
                raise ValueError(f"Optimiser state does not match the model: group {group!r}")
            if optimizer is None:
                continue
            values = state[group]
            if len(values) != len(optimizer.variables):
                raise ValueError(f"Optimiser state for {group!r} has {len(values)} variables; "
                                 f"the optimiser has {len(optimizer.variables)}")
            for variable, value in zip(optimizer.variables, values):
                variable.assign(value)
