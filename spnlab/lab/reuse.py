"""Keeping sum ops, optimisers and traced training steps for configurations used before.

A training step is traced for one set of Python objects: the layers' sum ops, the optimisers
and the tap settings. A switch used to make fresh ops and optimisers, so switching back to an
op meant tracing its step again (~0.5-1.5 s on 2 cores). Here the session keeps one op per
(sum layer, op spec) and one optimiser per (group, variables, kind); taking one again puts its
state back to exactly that of a fresh object (the generator reseeded, the optimiser variables
reset to their values when built), so results stay bit for bit those of fresh objects, and
the traced step of that combination, kept in a `StepCache`, is used again.
"""
from collections import OrderedDict

from spnlab.lab.ops import OpSpec


class LRU:
    """A small mapping that forgets the least recently used entry beyond `capacity`."""

    def __init__(self, capacity):
        self.capacity = int(capacity)
        self._items = OrderedDict()

    def get(self, key):
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key, value):
        """Store `value`; returns how many older entries were forgotten."""
        self._items[key] = value
        self._items.move_to_end(key)
        dropped = 0
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
            dropped += 1
        return dropped


class OpPool:
    """One sum op per (layer, op spec without seed), as fresh on every use.

    `op(layer, spec, seed)` equals `make_op(spec, seed)`; `restored(layer, spec, state)` equals
    `op_from_state(spec, state)`: the same op type and arguments, `seed` attribute and generator
    state, but the same object as the last time, so that a traced step can be reused.
    """

    def __init__(self, capacity=64):
        self._ops = LRU(capacity)       # a few ops per layer in practice; bounded all the same

    def op(self, layer, spec, seed):
        spec = OpSpec.parse(spec)
        if spec.seed is not None:
            seed = spec.seed
        op = self._take(layer, spec, lambda: spec.make(seed))
        op.reseed(int(seed))
        return op

    def restored(self, layer, spec, generator_state):
        spec = OpSpec.parse(spec)
        op = self._take(layer, spec, spec.make)
        if op.generator is not None:
            op.seed = spec.seed
            if generator_state is not None:
                op.set_generator_state(generator_state)
        return op

    def _take(self, layer, spec, make):
        key = (id(layer), spec.without_seed())
        entry = self._ops.get(key)
        if entry is None:                   # the entry keeps `layer` alive with its id
            entry = (layer, make())
            self._ops.put(key, entry)
        return entry[1]


class StepCache:
    """Compiled training steps by the objects they were traced for (`key_objects`: the sum
    ops, optimisers, ...) and a hashable description of the rest (`settings`).

    Entries hold their key objects, so that no key's `id` can be reused by a new object while
    the entry lives.
    """

    def __init__(self, capacity=8):
        self._lru = LRU(capacity)
        self._dropped = 0

    def take_dropped(self):
        """How many steps were forgotten since the last call (they may sit in the garbage
        collector's frozen generation: see `Session.trace_ahead`)."""
        dropped, self._dropped = self._dropped, 0
        return dropped

    def get(self, key_objects, settings):
        entry = self._lru.get(self._key(key_objects, settings))
        return None if entry is None else entry[0]

    def put(self, key_objects, settings, compiled):
        self._dropped += self._lru.put(self._key(key_objects, settings),
                                      (compiled, tuple(key_objects)))

    @staticmethod
    def _key(key_objects, settings):
        return tuple(id(o) for o in key_objects), settings
