"""What the compiled training steps of layer models (`trainer.CompiledStep`) and node graphs
(`graph_model.GraphStep`) share: one traced `_step(x)` over batches `[B, num_vars]`, called
with numpy data and returning numpy results."""
import tensorflow as tf

from spnlab.core.queries.runner import model_lock


class StepFunction:
    """Subclasses implement `_step(x)` and set `_points` (their `TapPoint`s) before calling
    `_compile`."""

    _points = ()

    def _compile(self, num_vars, dtype):
        self._fn = tf.function(self._step, input_signature=[
            tf.TensorSpec([None, num_vars], tf.as_dtype(dtype))], autograph=False)

    def trace(self):
        """Trace the step function now (no data needed: its input signature is fixed), holding
        the model's lock so that no query swaps the layers' ops meanwhile."""
        with model_lock(self._model):
            self._fn.get_concrete_function()

    @property
    def points(self):
        return self._points

    def __call__(self, x):
        return tf.nest.map_structure(lambda t: t.numpy(), self._fn(x))

    def _step(self, x):
        raise NotImplementedError
