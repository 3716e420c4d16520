"""What the compiled training steps of layer models (`trainer.CompiledStep`) and node graphs
(`graph_model.GraphStep`) share: one traced `_step(x)` over batches `[B, num_vars]`, called
with numpy data and returning numpy results.

An empty batch (`B == 0`) changes nothing: the optimisers are applied only for `B > 0`. That
makes `warm()` possible: TensorFlow optimises a traced function's graph on its first call
(~200-300 ms for a teaching-size step on 2 cores), so the session's trace-ahead calls the step
once on an empty batch in the background and the user's next Step runs at full speed.
"""
import numpy as np
import tensorflow as tf

from spnlab.core.ops.functions import own_function
from spnlab.core.queries.runner import model_lock


class StepFunction:
    """Subclasses implement `_step(x)`, apply their updates with `_apply_updates`, and set
    `_points` (their `TapPoint`s) and `_model`, `_optimizers` before calling `_compile`."""

    _points = ()

    def _compile(self, num_vars, dtype):
        self._num_vars, self._dtype = num_vars, np.dtype(dtype)
        self._warmed = False
        self._fn = own_function(self._step, input_signature=[
            tf.TensorSpec([None, num_vars], tf.as_dtype(dtype))], autograph=False)

    def _apply_updates(self, var_grads, x):
        """Apply `{id(variable): gradient}` with the optimisers, unless the batch `x` is empty
        (an empty batch carries no evidence, and `warm()` relies on it changing nothing)."""
        def apply():
            self._optimizers.apply(var_grads)
            return tf.constant(True)

        tf.cond(tf.shape(x)[0] > 0, apply, lambda: tf.constant(False))

    def trace(self):
        """Trace the step function now (no data needed: its input signature is fixed), holding
        the model's lock so that no query swaps the layers' ops meanwhile."""
        with model_lock(self._model):
            self._fn.get_concrete_function()

    def warm(self):
        """`trace()`, then run the step once on an empty batch, which has TensorFlow optimise
        the graph now rather than in the next real step, and changes nothing: the optimisers
        skip empty batches, sum-op generators draw no numbers, and the states of the model's
        non-trainable variables (e.g. a `LogDropout`'s seed, which moves on every training
        call) are put back."""
        if self._warmed:
            return
        self.trace()
        kept = [(v, np.array(v.numpy())) for v in self._model.non_trainable_variables]
        try:
            self._fn(np.zeros((0, self._num_vars), self._dtype))
        finally:
            for variable, value in kept:
                variable.assign(value)
        self._warmed = True

    @property
    def points(self):
        return self._points

    def __call__(self, x):
        out = tf.nest.map_structure(lambda t: None if t is None else t.numpy(), self._fn(x))
        self._warmed = True
        return out

    def _step(self, x):
        raise NotImplementedError
