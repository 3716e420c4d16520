"""Sum-op specifications: the serialisable names the lab uses for the five core sum ops.

A spec is a name (`"em"`), a dict (`{"op": "hard_em", "sample_prob": 0.1}`) or a core sum-op
instance. The session turns a spec into one op instance per layer, each with its own seeded
generator, so that runs are reproducible and no two layers (or sessions) share random state.
"""
import numpy as np

import spnlab.core as spnk

OPS = {
    "grad": spnk.SumOpGradBackprop,
    "em": spnk.SumOpEMBackprop,
    "hard_em": spnk.SumOpHardEMBackprop,
    "unweighted_hard_em": spnk.SumOpUnweightedHardEMBackprop,
    "sample": spnk.SumOpSampleBackprop,
}
ALIASES = {"gradient": "grad", "soft_em": "em", "hard": "hard_em",
           "unweighted": "unweighted_hard_em"}
_ARGS = {
    "grad": ("logspace_accumulators",),
    "em": (),
    "hard_em": ("sample_prob", "seed"),
    "unweighted_hard_em": ("sample_prob", "seed"),
    "sample": ("seed",),
}
_NAME_OF_CLASS = {cls: name for name, cls in OPS.items()}


class OpSpec:
    """A sum-op specification, parsed and checked once: `name` (one of `OPS`) and `kwargs`
    (its arguments). Immutable and hashable; `make(seed)` builds the op, `canonical()` is the
    JSON form the config and checkpoints keep, `label` the short name the views show.

    `OpSpec.parse(spec)` takes a name (`"em"`, aliases too), a dict
    (`{"op": "hard_em", "sample_prob": 0.1}`), a core sum op or an `OpSpec`.
    """

    __slots__ = ("name", "_items")

    def __init__(self, name, kwargs):
        self.name = name
        self._items = tuple(sorted(kwargs.items()))

    @property
    def kwargs(self):
        return dict(self._items)

    @classmethod
    def parse(cls, spec, arg_name="op"):
        """The `OpSpec` of `spec`; raises TypeError/ValueError naming `arg_name`."""
        if isinstance(spec, OpSpec):
            return spec
        if isinstance(spec, spnk.SumOpBase):
            name = _NAME_OF_CLASS.get(type(spec))
            if name is None:
                raise TypeError(f"Expected `{arg_name}` to be one of the five core sum ops. "
                                f"Received: {arg_name}={spec!r}")
            return cls(name, {k: v for k, v in spec.get_config().items() if k in _ARGS[name]})
        if isinstance(spec, str):
            name, kwargs = spec, {}
        elif isinstance(spec, dict):
            kwargs = dict(spec)
            name = kwargs.pop("op", None)
            if not isinstance(name, str):
                raise ValueError(f"Expected `{arg_name}` as a dict to have an 'op' name. "
                                 f"Received: {arg_name}={spec!r}")
        else:
            raise TypeError(f"Expected `{arg_name}` to be a sum-op name, a dict or a sum op. "
                            f"Received: {arg_name}={spec!r}")
        name = ALIASES.get(name, name)
        if name not in OPS:
            raise ValueError(f"Expected `{arg_name}` to name one of {sorted(OPS)}. "
                             f"Received: {arg_name}={spec!r}")
        unknown = sorted(set(kwargs) - set(_ARGS[name]))
        if unknown:
            raise ValueError(f"Unknown arguments {unknown} for sum op {name!r}; it takes "
                             f"{list(_ARGS[name])}. Received: {arg_name}={spec!r}")
        OPS[name](**kwargs)  # the core validates the argument values (e.g. sample_prob in [0, 1])
        return cls(name, kwargs)

    def canonical(self):
        """The JSON form: the bare name when it has no arguments, else a dict."""
        kwargs = {k: v for k, v in self._items if v is not None}
        return {"op": self.name, **kwargs} if kwargs else self.name

    @property
    def label(self):
        """A short readable name: `hard_em`, `hard_em(sample_prob=0.1)` (no seed)."""
        shown = [(k, v) for k, v in self._items if k != "seed" and v is not None]
        return self.name if not shown else \
            self.name + "(" + ", ".join(f"{k}={v}" for k, v in shown) + ")"

    @property
    def seed(self):
        return dict(self._items).get("seed")

    def without_seed(self):
        """The arguments that make two ops interchangeable: all but the seed."""
        return OpSpec(self.name, {k: v for k, v in self._items if k != "seed" and v is not None})

    def make(self, seed=None):
        """A fresh op; `seed` is used where the spec leaves the seed open."""
        kwargs = self.kwargs
        if "seed" in _ARGS[self.name] and kwargs.get("seed") is None and seed is not None:
            kwargs["seed"] = int(seed)
        return OPS[self.name](**kwargs)

    def __eq__(self, other):
        return isinstance(other, OpSpec) and (self.name, self._items) == (other.name,
                                                                           other._items)

    def __hash__(self):
        return hash((self.name, self._items))

    def __repr__(self):
        return f"OpSpec({self.canonical()!r})"


def parse_op_spec(spec, arg_name="op"):
    """`(name, kwargs)` of a spec (see `OpSpec.parse`)."""
    parsed = OpSpec.parse(spec, arg_name)
    return parsed.name, parsed.kwargs


def canonical_spec(spec, arg_name="op"):
    """The JSON form of a spec: the bare name when it has no arguments, else a dict."""
    return OpSpec.parse(spec, arg_name).canonical()


def make_op(spec, seed):
    """A fresh op instance for one layer; `seed` is used where the spec leaves the seed open."""
    return OpSpec.parse(spec).make(int(seed))


def op_label(op):
    """A short readable name: `hard_em`, `hard_em(sample_prob=0.1)`."""
    return OpSpec.parse(op).label


def label_name(label):
    """The op name of an `op_label` ("hard_em(sample_prob=0.1)" -> "hard_em")."""
    return str(label).split("(", 1)[0]


def uses_em_optimizer(op):
    """EM ops hand counts to the optimiser (online EM); the gradient op an exact gradient."""
    return not op.chain_to_accumulators


def is_hard(op):
    """Ops whose weight signal is a raw winner count (hard, unweighted hard, sample)."""
    return not op.chain_to_accumulators and not op.normalizes_counts


def derived_seed(*entropy):
    """A 31-bit seed derived from integers (session seed, layer position, switch count)."""
    return int(np.random.SeedSequence([int(e) for e in entropy]).generate_state(1)[0] & 0x7FFFFFFF)


def op_state(op):
    """`(spec, generator_state)` of a live op, enough to rebuild it exactly (JSON-able)."""
    generator = op.generator_state()
    state = None if generator is None else [int(v) for v in generator]
    name, kwargs = parse_op_spec(op)
    return {"op": name, **kwargs}, state


def op_from_state(spec, generator_state):
    """Inverse of `op_state`: the op with its generator exactly where it was."""
    name, kwargs = parse_op_spec(spec)
    op = OPS[name](**kwargs)
    if generator_state is not None:
        op.set_generator_state(generator_state)
    return op
