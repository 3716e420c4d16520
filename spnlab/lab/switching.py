"""Live sum-op switches between steps, keeping the distribution. A mixin of `Session`."""
import numpy as np

from spnlab.lab.history import SwitchRecord
from spnlab.lab.ops import OpSpec, derived_seed, op_label, uses_em_optimizer

# Rows used to check that a switch keeps the distribution.
SWITCH_CHECK_ROWS = 512


class SwitchMixin:
    """See `Session.set_sum_op`."""

    def set_sum_op(self, layer, op):
        """Switch the sum op of `layer` between steps, keeping the distribution.

        Args:
            layer: "all", a sum-layer key ("S2"), a Keras layer name, an index among the sum
                layers, a sum layer, or a list of these.
            op: a sum-op name ("grad", "em", "hard_em", "unweighted_hard_em", "sample"), a dict
                (`{"op": "hard_em", "sample_prob": 0.1}`) or a core sum op (copied per layer).

        Accumulators are converted between log and linear space as the new op needs, and the
        layers move between the online-EM and gradient optimisers as needed (a group whose
        layers change starts afresh). Returns the `SwitchRecord` (also in `history.switches`).
        """
        entries = self._resolve_layers(layer)
        spec = OpSpec.parse(op, "op")                 # parsed and checked once
        with self._busy("switch sum ops"):
            record = self._atomic(lambda: self._switch(entries, spec))
        self._events.emit("switch", record)
        self._start_trace_ahead()
        return record

    def _resolve_layers(self, layer):
        sums = self._sum_entries()
        if isinstance(layer, str) and layer == "all":
            return sums
        items = list(layer) if isinstance(layer, (list, tuple)) else [layer]
        if not items:
            raise ValueError(f"Expected at least one layer. Received: layer={layer!r}")
        chosen = []
        for item in items:
            match = None
            if isinstance(item, bool):
                match = None
            elif isinstance(item, (int, np.integer)):
                match = sums[int(item)] if -len(sums) <= int(item) < len(sums) else None
            elif isinstance(item, str):
                match = next((e for e in sums if item in (e.key, e.layer.name)), None)
            else:
                match = next((e for e in sums if e.layer is item), None)
            if match is None:
                raise ValueError(f"Expected `layer` to be 'all', a sum-layer key "
                                 f"({', '.join(e.key for e in sums)}), a layer name, an index or "
                                 f"a sum layer of this model. Received: layer={item!r}")
            if match not in chosen:
                chosen.append(match)
        return chosen

    def _check_rows(self):
        rows = self.data.test if len(self.data.test) else self.data.train
        return rows[:SWITCH_CHECK_ROWS]

    def _switch(self, entries, spec):
        # Eager evaluation here: the compiled forward pass would be traced again after the switch.
        check_rows = self._check_rows()
        ll_before = float(np.mean(self._model_log_likelihood(check_rows), dtype=np.float64))
        switches = self._counters["switches"] + 1
        old, new, reset = {}, {}, set()
        for entry in entries:
            old_op = entry.layer.sum_op
            new_op = self._op_pool.op(entry.layer, spec,
                                      derived_seed(self._config.seed, entry.position, switches))
            entry.layer.set_sum_op(new_op)        # converts log <-> linear in float64
            for op in (old_op, new_op):
                reset.add("em" if uses_em_optimizer(op) else "gradient")
            old[entry.key], new[entry.key] = op_label(old_op), op_label(new_op)
        fresh = self._optimizers.sync(self.model, self._config, reset=reset)
        self._invalidate()
        ll_after = float(np.mean(self._model_log_likelihood(check_rows), dtype=np.float64))
        if len(entries) == len(self._sum_entries()):
            self._config = self._config.replace(sum_op=spec, layer_sum_ops={})
        else:
            layer_ops = dict(self._config.layer_sum_ops)
            layer_ops.update({e.key: spec for e in entries})
            self._config = self._config.replace(layer_sum_ops=layer_ops)
        self._counters["switches"] = switches
        record = SwitchRecord(step=self.step_count, layers=[e.key for e in entries], old=old,
                              new=new, ll_before=ll_before, ll_after=ll_after,
                              optimizers_reset=sorted(fresh))
        self.history.append_switch(record)
        return record
