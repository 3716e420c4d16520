"""Online expectation maximisation as a Keras 3 optimiser (works with `model.fit`)."""
import keras
import tensorflow as tf

from spnlab.core.ops.xla import xla_when_large


# The channel between a sum layer and `OnlineExpectationMaximization`: whether the (negated)
# gradient the optimiser receives for an accumulator variable is soft EM's expected counts, to
# be normalised per sum after replicas and accumulated batches are added up, or winner counts
# used as they are. A layer sets it when it builds its variable and whenever its sum op changes.
def set_count_normalization(variable, normalize):
    """Mark accumulator `variable`: its EM counts are normalised per sum (axis -2) or not."""
    variable.spnlab_normalize_counts = bool(normalize)


def count_normalization(variable):
    """Whether `variable`'s EM counts are normalised per sum (False when never marked)."""
    return bool(getattr(variable, "spnlab_normalize_counts", False))


@xla_when_large
def _online_em_update(value, gradient, lr, normalize):
    """`(1 - lr) * value + lr * C`, C = -gradient, normalised per sum (axis -2) if `normalize`."""
    counts = -gradient
    if normalize:
        total = tf.abs(tf.reduce_sum(counts, axis=-2, keepdims=True))
        counts = tf.math.divide_no_nan(counts, total)
    return (1.0 - lr) * value + lr * counts


@keras.saving.register_keras_serializable(package="spnlab")
class OnlineExpectationMaximization(keras.optimizers.Optimizer):
    """Online EM: every variable becomes `(1 - lr) * var + lr * C` with `C = -gradient`.

    The EM sum ops hand their counts to the optimiser as the (negated) gradient of the
    accumulators: soft EM the expected counts, which this optimiser normalises per sum after
    replicas and accumulated batches are added up; hard EM / unweighted / sample the raw winner
    counts divided by the batch size, used as they are (DESIGN.md section 3). The accumulators'
    constraint (`GreaterEqualEpsilonNormalized` by default) renormalises each sum after the
    update, and the sum layers normalise in the forward pass too, so the rule is
    `A <- normalise((1 - lr) A + lr C)`. EM-learned leaves (`use_accumulators=True`) get the same
    convex blend of their sufficient statistics. With lr = 1 and the whole data set as one
    batch, a soft-EM step is one exact EM iteration.

    As in LibSPN-Keras the rule is applied to every trainable variable it is given, so use it
    with EM sum ops and EM leaves (gradient-trained parameters need a gradient optimiser).

    Args:
        learning_rate: the step size in (0, 1].
        accumulate_batches: add up the signals of this many batches (averaged) before one
            update; uses Keras' gradient accumulation, so the variables change every k-th step.
            Soft-EM counts are normalised after the accumulation (LibSPN-Keras averaged
            per-batch normalised counts; the two agree for k = 1).
    """

    def __init__(self, learning_rate=0.01, accumulate_batches=1, name="OnlineEM", **kwargs):
        if isinstance(accumulate_batches, bool) or not isinstance(accumulate_batches, int) \
                or accumulate_batches < 1:
            raise ValueError("Expected `accumulate_batches` to be a positive int. "
                             f"Received: accumulate_batches={accumulate_batches!r}")
        if isinstance(learning_rate, (int, float)) and not 0 < learning_rate <= 1:
            raise ValueError(f"Expected `learning_rate` in (0, 1]. Received: "
                             f"learning_rate={learning_rate!r}")
        kwargs.pop("gradient_accumulation_steps", None)
        super().__init__(learning_rate=learning_rate, name=name,
                         gradient_accumulation_steps=accumulate_batches if accumulate_batches > 1
                         else None, **kwargs)
        self.accumulate_batches = accumulate_batches

    def update_step(self, gradient, variable, learning_rate):
        lr = tf.cast(learning_rate, variable.dtype)
        # The TF backend hands us the tf.Variable; the sum layer marked its Keras variable.
        keras_variable = self._trainable_variables[self._get_variable_index(variable)]
        normalize = count_normalization(keras_variable)                         # soft EM
        self.assign(variable, _online_em_update(tf.convert_to_tensor(variable),
                                                tf.cast(gradient, variable.dtype), lr, normalize))

    def get_config(self):
        config = super().get_config()
        config.pop("gradient_accumulation_steps", None)
        return {**config, "accumulate_batches": self.accumulate_batches}
