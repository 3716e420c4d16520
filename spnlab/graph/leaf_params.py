"""The parameters of a compiled graph's `NormalLeaf` nodes, as Keras variables.

Two parameterisations, as the core's location-scale leaves (`use_accumulators`):
- gradient: `loc` and `raw_scale` (scale = softplus(raw_scale)), trained by SGD/Adam;
- EM: sufficient statistics `count`, `sum_x`, `sum_x2` whose "gradient" is the batch's
  posterior-weighted statistics (the core's `with_em_statistics`), so
  `OnlineExpectationMaximization` blends them: loc = sum_x / count,
  scale^2 = sum_x2 / count - loc^2 (floored at `min_scale^2`).
Every variable has the leaf's shape `[num_vars, num_components]`; flattened and concatenated
over the leaves they give the `[Ln]` normal rows of level 0.
"""
import math

import numpy as np
import tensorflow as tf

from spnlab.core.layers.leaves_base import with_em_statistics

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _softplus_inverse(y):
    return y + np.log(-np.expm1(-y))


class NormalParameters:
    """Variables of `nodes` (NormalLeaf nodes) created on `model` (a Keras layer).

    Args:
        model: the Keras layer/model that owns the variables (`add_weight`).
        nodes: the `NormalLeaf` nodes, in level-0 order.
        em: EM statistics (True) or gradient parameters (False).
        trainable: whether the variables are trained.
        min_scale: smallest scale of EM-learned leaves.
    """

    def __init__(self, model, nodes, em, trainable, min_scale=1e-3):
        self.nodes, self.em, self.min_scale = tuple(nodes), bool(em), float(min_scale)
        self.variables = []
        self._per_node = []
        for node in self.nodes:
            loc, scale = node.loc, node.scale                            # [V, C] float64
            if self.em:
                initial = {"count": np.ones_like(loc), "sum_x": loc,
                           "sum_x2": scale ** 2 + loc ** 2}
            else:
                initial = {"loc": loc, "raw_scale": _softplus_inverse(scale)}
            made = {}
            for key, value in initial.items():
                value = np.asarray(value, np.float32)
                made[key] = model.add_weight(
                    name=f"{node.name}_{key}", shape=value.shape, trainable=trainable,
                    initializer=lambda *_, _v=value, **__: tf.constant(_v))
                self.variables.append(made[key])
            self._per_node.append(made)

    def set_trainable(self, trainable):
        for variable in self.variables:
            variable.trainable = bool(trainable)

    def _flat(self, key):
        return tf.concat([tf.reshape(tf.convert_to_tensor(p[key]), [-1]) for p in self._per_node],
                         axis=0)                                         # [Ln]

    def _loc_scale_from(self, stats):
        count, sum_x, sum_x2 = stats
        loc = tf.math.divide_no_nan(sum_x, count)
        second = tf.math.divide_no_nan(sum_x2, count)
        return loc, tf.sqrt(tf.maximum(second - loc ** 2, self.min_scale ** 2))

    def loc_scale(self):
        """Location and scale of every normal row, `[Ln]` each."""
        if self.em:
            return self._loc_scale_from([self._flat(k) for k in ("count", "sum_x", "sum_x2")])
        return self._flat("loc"), tf.nn.softplus(self._flat("raw_scale"))

    def log_prob(self, x):
        """`log N(x_r; loc_r, scale_r)` for the values `x [Ln, B]` of each row, `[Ln, B]`."""
        def log_density(loc, scale):
            z = (x - loc[:, None]) / scale[:, None]
            return -0.5 * z ** 2 - tf.math.log(scale)[:, None] - HALF_LOG_2PI

        if not self.em:
            return log_density(*self.loc_scale())
        # The M-step statistics of a batch: posterior-weighted count, sum of x, sum of x^2.
        stats = [lambda dy: tf.reduce_sum(dy, axis=1),
                 lambda dy: tf.reduce_sum(dy * x, axis=1),
                 lambda dy: tf.reduce_sum(dy * x ** 2, axis=1)]
        accumulators = [self._flat(k) for k in ("count", "sum_x", "sum_x2")]
        return with_em_statistics(lambda *acc: log_density(*self._loc_scale_from(acc)),
                                  accumulators, stats)

    def log_mode_density(self):
        """Log-density at each row's mode, `[Ln, 1]`."""
        _, scale = self.loc_scale()
        return (-tf.math.log(scale) - HALF_LOG_2PI)[:, None]

    def sample(self, generator, batch_size):
        """One draw of every row per sample, `[Ln, batch_size]`."""
        loc, scale = self.loc_scale()
        noise = generator.normal(tf.stack([tf.shape(loc)[0], batch_size]))
        return loc[:, None] + scale[:, None] * noise

    def write_back(self):
        """Copy the current location and scale into the `NormalLeaf` nodes."""
        loc, scale = (t.numpy().astype(np.float64) for t in self.loc_scale())
        start = 0
        for node in self.nodes:
            size = node.num_outputs
            shape = (node.num_vars, node.num_components)
            node.set_parameters(loc=loc[start:start + size].reshape(shape),
                                scale=scale[start:start + size].reshape(shape))
            start += size
