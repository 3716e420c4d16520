"""The parameters of a compiled graph's location-scale leaves (`NormalLeaf`, `LaplaceLeaf`,
`CauchyLeaf`), as Keras variables.

Two parameterisations, as the core's location-scale leaves (`use_accumulators`):
- gradient: `loc` and `raw_scale` (scale = softplus(raw_scale)), trained by SGD/Adam;
- EM: sufficient statistics `count`, `sum_x`, `sum_x2` whose "gradient" is the batch's
  posterior-weighted statistics (the core's `with_em_statistics`), so
  `OnlineExpectationMaximization` blends them: loc = sum_x / count,
  scale^2 = sum_x2 / count - loc^2 (floored at `min_scale^2`).
(The moment-matching M-step is exact for normal leaves; for Laplace and Cauchy leaves it is
the same approximation the core's leaf layers, and LibSPN-Keras, make.)
Every variable has the leaf's shape `[num_vars, num_components]`; flattened and concatenated
over the leaves they give the `[Lc]` continuous rows of level 0, grouped by family (the order
of `plan.LeafLayout`). Each family's standard density and sampler are the core leaf layers'.
"""
import numpy as np
import tensorflow as tf

from spnlab.core.layers.leaves_base import with_em_statistics
from spnlab.core.layers.location_scale import CauchyLeaf, LaplaceLeaf, NormalLeaf

STANDARD = {"normal": NormalLeaf, "laplace": LaplaceLeaf, "cauchy": CauchyLeaf}


def _softplus_inverse(y):
    return y + np.log(-np.expm1(-y))


class LocationScaleParameters:
    """Variables of `nodes` (location-scale leaf nodes) created on `model` (a Keras layer).

    Args:
        model: the Keras layer/model that owns the variables (`add_weight`).
        nodes: the `LocationScaleLeaf` nodes, in level-0 order (grouped by family).
        em: EM statistics (True) or gradient parameters (False).
        trainable: whether the variables are trained.
        min_scale: smallest scale of EM-learned leaves.
    """

    def __init__(self, model, nodes, em, trainable, min_scale=1e-3):
        self.nodes, self.em, self.min_scale = tuple(nodes), bool(em), float(min_scale)
        self.variables = []
        self._per_node = []
        # (family, number of rows) runs in row order
        self._segments = []
        for node in self.nodes:
            if self._segments and self._segments[-1][0] == node.family:
                self._segments[-1][1] += node.num_outputs
            else:
                self._segments.append([node.family, node.num_outputs])
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

    def _by_family(self, fn, z):
        """`fn(family class, part)` on each family's rows of `z [Lc, ...]`, concatenated."""
        if len(self._segments) == 1:
            return fn(STANDARD[self._segments[0][0]], z)
        parts = tf.split(z, [size for _, size in self._segments], axis=0)
        return tf.concat([fn(STANDARD[family], part)
                          for (family, _), part in zip(self._segments, parts)], axis=0)

    def _standard_log_prob(self, z):
        return self._by_family(lambda family, part: family._standard_log_prob(part), z)

    def log_prob(self, x):
        """`log f(x_r; loc_r, scale_r)` for the values `x [Lc, B]` of each row, `[Lc, B]`."""
        def log_density(loc, scale):
            z = (x - loc[:, None]) / scale[:, None]
            return self._standard_log_prob(z) - tf.math.log(scale)[:, None]

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
        """Log-density at each row's mode (its location), `[Lc, 1]`."""
        _, scale = self.loc_scale()
        return (self._standard_log_prob(tf.zeros_like(scale)) - tf.math.log(scale))[:, None]

    def sample(self, generator, batch_size):
        """One draw of every row per sample, `[Lc, batch_size]`."""
        loc, scale = self.loc_scale()
        noise = self._by_family(
            lambda family, part: family._standard_sample(
                generator, tf.stack([tf.shape(part)[0], batch_size])), loc)
        return loc[:, None] + scale[:, None] * noise

    def write_back(self):
        """Copy the current location and scale into the leaf nodes."""
        loc, scale = (t.numpy().astype(np.float64) for t in self.loc_scale())
        start = 0
        for node in self.nodes:
            size = node.num_outputs
            shape = (node.num_vars, node.num_components)
            node.set_parameters(loc=loc[start:start + size].reshape(shape),
                                scale=scale[start:start + size].reshape(shape))
            start += size
