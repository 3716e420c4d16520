"""What happened, step by step: log-likelihoods, timing, sum ops, and every live switch."""
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Optional


def bits_per_dim(ll, num_vars):
    """Mean log-likelihood (nats per sample) as bits per dimension: -ll / (V ln 2)."""
    return None if ll is None else -ll / (num_vars * math.log(2.0))


@dataclass
class StepRecord:
    """One training step.

    Attributes:
        step: steps completed, this one included (1 for the first).
        epoch: the data epoch the batch came from (1 for the first).
        batch_size: rows in the batch.
        train_ll: mean log p(x) over the batch, before the update (nats per sample).
        train_bpd: the same in bits per dimension.
        test_ll, test_bpd: mean over the test set after the update, on evaluation steps, else None.
        step_time: seconds this step took (update, taps, evaluation; observers not counted).
        wall_time: training seconds since the start (sum of step times).
        sum_ops: the sum op of every sum layer, by layer key.
        taps: the step's `TapRecord` (returned by `step()`; not kept in the history, the tap
            buffer keeps a bounded number of them).
    """

    step: int
    epoch: int
    batch_size: int
    train_ll: float
    train_bpd: float
    test_ll: Optional[float]
    test_bpd: Optional[float]
    step_time: float
    wall_time: float
    sum_ops: dict
    taps: Optional[object] = field(default=None, repr=False, compare=False)

    def to_dict(self):
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "taps"}


@dataclass
class SwitchRecord:
    """A live sum-op switch, made after `step` steps.

    Attributes:
        layers: keys of the switched layers.
        old, new: their ops before and after, by key.
        ll_before, ll_after: mean log-likelihood of the evaluation rows right before and after
            (equal up to float rounding: a switch does not change the distribution).
        optimizers_reset: optimiser groups ("em", "gradient") started afresh by the switch.
    """

    step: int
    layers: list
    old: dict
    new: dict
    ll_before: float
    ll_after: float
    optimizers_reset: list

    def to_dict(self):
        return dataclasses.asdict(self)


class History:
    """Step and switch records in order, as tidy rows or columns for plotting."""

    def __init__(self):
        self.steps = []
        self.switches = []

    def __len__(self):
        return len(self.steps)

    @property
    def last(self):
        return self.steps[-1] if self.steps else None

    def append(self, record):
        self.steps.append(dataclasses.replace(record, taps=None))

    def append_switch(self, record):
        self.switches.append(record)

    def to_records(self):
        """One dict per step."""
        return [r.to_dict() for r in self.steps]

    def column(self, name):
        """One field over the steps, e.g. `column("test_ll")` (None where not evaluated)."""
        if self.steps and not hasattr(self.steps[0], name):
            raise ValueError(f"Expected a StepRecord field. Received: name={name!r}")
        return [getattr(r, name) for r in self.steps]

    def truncate(self, num_steps, num_switches):
        """Drop records after the first `num_steps` steps and `num_switches` switches."""
        del self.steps[num_steps:]
        del self.switches[num_switches:]

    def copy(self):
        other = History()
        other.steps, other.switches = list(self.steps), list(self.switches)
        return other

    def to_dict(self):
        return {"steps": self.to_records(), "switches": [s.to_dict() for s in self.switches]}

    @classmethod
    def from_dict(cls, data):
        history = cls()
        history.steps = [StepRecord(**r) for r in data["steps"]]
        history.switches = [SwitchRecord(**s) for s in data["switches"]]
        return history
