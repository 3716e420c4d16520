"""The process-wide default sum op (LibSPN-Keras compatible) and a scoped override."""
import contextlib
import threading

from spnlab.core.sum_ops.base import SumOpBase
from spnlab.core.sum_ops.grad import SumOpGradBackprop

_state = threading.local()


def _check_op(op):
    if not isinstance(op, SumOpBase):
        raise TypeError(f"Expected `sum_op` to be a sum op (e.g. SumOpEMBackprop()). "
                        f"Received: sum_op={op!r}")
    return op


_process_default = [SumOpGradBackprop()]


def set_default_sum_op(op):
    """Set the sum op that layers built without `sum_op=` use (read when a layer is built)."""
    _process_default[0] = _check_op(op)


def get_default_sum_op():
    """The sum op of the innermost `default_sum_op(...)` block, else the process default."""
    stack = getattr(_state, "stack", None)
    return stack[-1] if stack else _process_default[0]


@contextlib.contextmanager
def default_sum_op(op):
    """Within the block, layers built without `sum_op=` use `op` (thread-local, nestable).

    Prefer this to `set_default_sum_op` in tests and notebooks: it cannot leak into other code.
    """
    _check_op(op)
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    stack.append(op)
    try:
        yield op
    finally:
        stack.pop()
