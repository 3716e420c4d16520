"""Normal, Cauchy and Laplace leaves: location-scale families, learnable by gradient or EM."""
import math

import keras
import tensorflow as tf

from spnlab._args import check_number
from spnlab.core import initializers
from spnlab.core.constraints import GreaterEqualEpsilon
from spnlab.core.layers.leaves_base import BaseLeaf, with_em_statistics
from spnlab.core.ops.checks import check_finite_values, check_real_dtype

register = keras.saving.register_keras_serializable(package="spnlab")


def _softplus_inverse(y):
    return y + tf.math.log(-tf.math.expm1(-y))


class LocationScaleLeafBase(BaseLeaf):
    """Shared parameters of location-scale leaves.

    Args:
        num_components: distributions per (scope, decomp).
        location_initializer: default TruncatedNormal(stddev=1).
        location_trainable: learn the locations.
        scale_initializer: default Ones.
        scale_trainable: learn the scales (gradient: through softplus; EM: second moments).
        accumulator_initializer: initial EM soft counts, default Ones.
        use_accumulators: learn by EM: the parameters are sufficient statistics
            (soft count, sum of x, sum of x^2) whose gradient is the batch's statistics, for
            `OnlineExpectationMaximization`. Location = sum x / count,
            scale^2 = sum x^2 / count - location^2.
        scale_constraint: optional constraint applied to the effective scale in the forward pass.
        min_scale: EM scales are floored here so a component collapsing on one point stays finite.
    """

    def __init__(self, num_components, location_initializer=None, location_trainable=True,
                 scale_initializer=None, scale_trainable=False, accumulator_initializer=None,
                 use_accumulators=False, scale_constraint=None, min_scale=1e-3, **kwargs):
        super().__init__(num_components, **kwargs)
        self.location_initializer = initializers.get(
            location_initializer or keras.initializers.TruncatedNormal(stddev=1.0))
        self.scale_initializer = initializers.get(scale_initializer or "ones")
        self.accumulator_initializer = initializers.get(accumulator_initializer or "ones")
        self.location_trainable = bool(location_trainable)
        self.scale_trainable = bool(scale_trainable)
        self.use_accumulators = bool(use_accumulators)
        self.scale_constraint = keras.constraints.get(scale_constraint)
        self.min_scale = check_number("min_scale", min_scale, low=0.0, low_open=True)

    def _build_parameters(self, shape):
        loc0 = tf.convert_to_tensor(self.location_initializer(shape, dtype="float32"))
        scale0 = tf.convert_to_tensor(self.scale_initializer(shape, dtype="float32"))
        if not self.use_accumulators:
            self.location = self.add_weight(name="location", shape=shape,
                                            initializer=lambda *_, **__: loc0,
                                            trainable=self.location_trainable)
            if self.scale_trainable:
                self.scale = self.add_weight(name="scale", shape=shape,
                                             initializer=lambda *_, **__: _softplus_inverse(scale0),
                                             constraint=GreaterEqualEpsilon(-20.0))
            else:
                self.scale = self.add_weight(name="scale", shape=shape,
                                             initializer=lambda *_, **__: scale0, trainable=False)
            return
        count0 = tf.convert_to_tensor(self.accumulator_initializer(shape, dtype="float32"))
        self.first_order_moment_denom_accum = self.add_weight(
            name="first_order_moment_denom_accum", shape=shape,
            initializer=lambda *_, **__: count0, trainable=self.location_trainable)
        self.first_order_moment_num_accum = self.add_weight(
            name="first_order_moment_num_accum", shape=shape,
            initializer=lambda *_, **__: loc0 * count0, trainable=self.location_trainable)
        if self.scale_trainable:
            self.second_order_moment_denom_accum = self.add_weight(
                name="second_order_moment_denom_accum", shape=shape,
                initializer=lambda *_, **__: count0)
            self.second_order_moment_num_accum = self.add_weight(
                name="second_order_moment_num_accum", shape=shape,
                initializer=lambda *_, **__: (scale0 ** 2 + loc0 ** 2) * count0)
        else:
            self.scale = self.add_weight(name="scale", shape=shape,
                                         initializer=lambda *_, **__: scale0, trainable=False)

    # -- parameters ----------------------------------------------------------------------
    def _loc_scale_from(self, accs):
        """Location and scale `[1, S, D, K, V]` from the parameter tensors `accs`."""
        if not self.use_accumulators:
            loc = accs[0]
            scale = tf.nn.softplus(accs[1]) if self.scale_trainable else accs[1]
        else:
            loc = tf.math.divide_no_nan(accs[1], accs[0])
            if self.scale_trainable:
                second = tf.math.divide_no_nan(accs[3], accs[2])
                scale = tf.sqrt(tf.maximum(second - loc ** 2, self.min_scale ** 2))
            else:
                scale = accs[2]
        if self.scale_constraint is not None:
            scale = self.scale_constraint(scale)
        return loc, scale

    def _parameter_tensors(self):
        if not self.use_accumulators:
            return [tf.convert_to_tensor(self.location), tf.convert_to_tensor(self.scale)]
        accs = [self.first_order_moment_denom_accum, self.first_order_moment_num_accum]
        if self.scale_trainable:
            accs += [self.second_order_moment_denom_accum, self.second_order_moment_num_accum]
        else:
            accs += [self.scale]
        return [tf.convert_to_tensor(a) for a in accs]

    def location_and_scale(self):
        """Current location and scale, `[1, S, D, K, V]` each."""
        return self._loc_scale_from(self._parameter_tensors())

    def call(self, x, evidence_mask=None, marginalize="sum"):
        check_real_dtype(tf.convert_to_tensor(x), "x")
        # NaN or inf where observed would give a NaN log-likelihood (and NaN EM statistics)
        x = check_finite_values(x, "x", None if evidence_mask is None else evidence_mask)
        return super().call(x, evidence_mask=evidence_mask, marginalize=marginalize)

    # -- BaseLeaf hooks ----------------------------------------------------------------
    def _log_prob(self, x):
        x = tf.cast(x, self.compute_dtype)                                 # [B, S, D, 1, V]
        params = self._parameter_tensors()
        if not self.use_accumulators:
            loc, scale = self._loc_scale_from(params)
            return self._standard_log_prob((x - loc) / scale) - tf.math.log(scale)

        def log_prob_fn(*accs):
            loc, scale = self._loc_scale_from(list(accs) + params[len(accs):])
            return self._standard_log_prob((x - loc) / scale) - tf.math.log(scale)

        stats = [lambda dy: tf.reduce_sum(dy, axis=0, keepdims=True),
                 lambda dy: tf.reduce_sum(dy * x, axis=0, keepdims=True)]
        if self.scale_trainable:
            stats += [lambda dy: tf.reduce_sum(dy, axis=0, keepdims=True),
                      lambda dy: tf.reduce_sum(dy * x ** 2, axis=0, keepdims=True)]
        return with_em_statistics(log_prob_fn, params[:len(stats)], stats)

    def _log_mode_density(self):
        _, scale = self.location_and_scale()
        return self._standard_log_prob(tf.zeros_like(scale)) - tf.math.log(scale)

    def _modes(self):
        return self.location_and_scale()[0]

    def _sample(self, generator, batch_size):
        loc, scale = self.location_and_scale()
        shape = tf.concat([[batch_size], tf.shape(loc)[1:]], axis=0)
        return loc + scale * self._standard_sample(generator, shape)

    # -- family ----------------------------------------------------------------------------
    @staticmethod
    def _standard_log_prob(z):
        raise NotImplementedError

    @staticmethod
    def _standard_sample(generator, shape):
        raise NotImplementedError

    def get_config(self):
        return {
            **super().get_config(),
            "location_initializer": keras.initializers.serialize(self.location_initializer),
            "scale_initializer": keras.initializers.serialize(self.scale_initializer),
            "accumulator_initializer": keras.initializers.serialize(self.accumulator_initializer),
            "location_trainable": self.location_trainable,
            "scale_trainable": self.scale_trainable,
            "use_accumulators": self.use_accumulators,
            "scale_constraint": keras.constraints.serialize(self.scale_constraint),
            "min_scale": self.min_scale,
        }


@register
class NormalLeaf(LocationScaleLeafBase):
    """Gaussian components: `log N(x; loc, scale)`."""

    @staticmethod
    def _standard_log_prob(z):
        return -0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)

    @staticmethod
    def _standard_sample(generator, shape):
        return generator.normal(shape)


@register
class CauchyLeaf(LocationScaleLeafBase):
    """Cauchy components: `-log(pi * scale * (1 + z^2))`."""

    @staticmethod
    def _standard_log_prob(z):
        return -math.log(math.pi) - tf.math.log1p(z ** 2)

    @staticmethod
    def _standard_sample(generator, shape):
        u = generator.uniform(shape, minval=1e-6, maxval=1.0 - 1e-6)
        return tf.tan(math.pi * (u - 0.5))


@register
class LaplaceLeaf(LocationScaleLeafBase):
    """Laplace components: `-|z| - log(2 * scale)`."""

    @staticmethod
    def _standard_log_prob(z):
        return -tf.abs(z) - math.log(2.0)

    @staticmethod
    def _standard_sample(generator, shape):
        u = generator.uniform(shape, minval=-0.5 + 1e-7, maxval=0.5 - 1e-7)
        return -tf.sign(u) * tf.math.log1p(-2.0 * tf.abs(u))
