"""SequentialSumProductNetwork: a Keras Sequential of SPN layers that trains with `fit`."""
import keras
import tensorflow as tf

from spnlab.core.layers.fusion import call_step, fused_steps
from spnlab.core.layers.leaves_base import BaseLeaf
from spnlab.core.layers.products import DenseProduct, ReduceProduct
from spnlab.core.layers.regions import PermuteAndPadScopesRandom
from spnlab.core.layers.sum_layers import SumLayerBase
from spnlab.core.ops.checks import step_after_check
from spnlab.core.queries.inference import complete_from_leaves
from spnlab.core.queries.runner import check_data, empty_data, run_to_leaves


@keras.saving.register_keras_serializable(package="spnlab")
class SequentialSumProductNetwork(keras.Sequential):
    """A stack of SPN layers (LibSPN-Keras compatible).

    Args:
        layers: the layers, from `FlatToRegions` to `RootSum`.
        infer_no_evidence: marks a model meant for completion, as in LibSPN-Keras. Completion
            is `model.complete(x, evidence_mask)` / `model.zero_evidence_inference(size)`:
            backpropagation to the leaves under the layers' sum ops (posterior mean for the
            gradient / EM ops, MPE-like for hard EM, samples for the sample op). Unlike
            LibSPN-Keras, `model((x, evidence_mask))` is not a completion (that broke on
            current TF); the free functions in `spnlab.core.queries` choose the method
            explicitly.
        unsupervised: train on `x` alone (the loss gets the model output as `y_true`).
            None means `not infer_no_evidence`.
        infer_weighted_sum: for `infer_no_evidence`, weight the leaf modes by the signal (True)
            or take the mode of the leaf with the largest signal (False).
        fuse_products: compute every `DenseProduct` directly followed by a `DenseSum` in one
            pass that never forms the product's `[B, S, D, N**F]` log-values (see
            `layers/fusion.py`). Same values and signals, about twice as fast on a RAT-SPN.
            Set False to run the layers one by one (e.g. to inspect the product layers).

    Product fan-ins are filled into every `PermuteAndPadScopesRandom(factors=None)`.
    """

    def __init__(self, layers=None, infer_no_evidence=False, unsupervised=None,
                 infer_weighted_sum=True, fuse_products=True, **kwargs):
        if unsupervised is None:
            unsupervised = not infer_no_evidence
        if infer_no_evidence and unsupervised:
            raise ValueError("Expected `unsupervised=False` with `infer_no_evidence=True`. "
                             f"Received: unsupervised={unsupervised}")
        self.infer_no_evidence = bool(infer_no_evidence)
        self.unsupervised = bool(unsupervised)
        self.infer_weighted_sum = bool(infer_weighted_sum)
        self.fuse_products = bool(fuse_products)
        layers = list(layers or [])
        factors = [l.num_factors for l in layers if isinstance(l, (DenseProduct, ReduceProduct))]
        for layer in layers:
            if isinstance(layer, PermuteAndPadScopesRandom) and layer.factors is None:
                layer.set_factors(factors)
        super().__init__(layers=layers, **kwargs)

    def __call__(self, *args, **kwargs):
        # The leaf checks the raw data before Keras casts it to the input dtype (an int model
        # would floor 0.5 to 0 and train on it); in `fit` the step depends on the check.
        leaf = self.leaf
        if args and leaf is not None and not keras.backend.is_keras_tensor(args[0]) \
                and not isinstance(args[0], (tuple, list, dict)):
            args = (leaf.check_input(args[0], "x"),) + args[1:]
        return super().__call__(*args, **kwargs)

    def call(self, inputs, training=None, mask=None, **kwargs):
        if not self.fuse_products or keras.backend.is_keras_tensor(inputs) or kwargs:
            return super().call(inputs, training=training, mask=mask, **kwargs)
        h = inputs
        for step in fused_steps(self.layers):
            h = call_step(step, h, training)
        return h

    # -- training -------------------------------------------------------------------------
    def train_step(self, data):
        return step_after_check(super().train_step, self._check_x, data)

    def test_step(self, data):
        return step_after_check(super().test_step, self._check_x, data)

    def _check_x(self, x):
        return x if self.leaf is None else self.leaf.check_input(x, "x")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if self.unsupervised and y is None:
            y = tf.stop_gradient(y_pred)
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                    training=training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        if self.unsupervised and y is None:
            y = tf.stop_gradient(y_pred)
        return super().compute_metrics(x, y, y_pred, sample_weight)

    # -- sum ops on a live model -------------------------------------------------------------
    @property
    def sum_layers(self):
        return [l for l in self.layers if isinstance(l, SumLayerBase)]

    @property
    def leaf(self):
        return next((l for l in self.layers if isinstance(l, BaseLeaf)), None)

    def set_sum_op(self, sum_op, layers=None):
        """Switch the sum op of all sum layers (or of `layers`, names or layer objects).

        Accumulators are converted when the new op keeps them in the other space, without
        changing the distribution; the compiled train/test functions are dropped so the next
        `fit` traces the new backward pass. The optimiser is the caller's choice (an EM op
        wants `OnlineExpectationMaximization`, the gradient op a gradient optimiser).
        """
        targets = self.sum_layers if layers is None else [
            self.get_layer(l) if isinstance(l, str) else l for l in layers]
        for layer in targets:
            if not isinstance(layer, SumLayerBase):
                raise TypeError(f"Expected sum layers in `layers`. Received: {layer!r}")
        for layer in targets:
            layer.set_sum_op(sum_op)
        self.train_function = self.test_function = self.predict_function = None
        return self

    # -- LibSPN-Keras style completion ---------------------------------------------------------
    def zero_evidence_inference(self, size):
        """Backpropagate to the leaves with no evidence: samples under SumOpSampleBackprop,
        a mode under hard EM, the posterior mean under soft EM / gradient. `[size, V]`, or
        `[size, H, W, C]` for a spatial model (a leaf reading images, e.g. a DGC-SPN)."""
        x, mask = empty_data(self, size)
        return self.complete(x, mask)

    def complete(self, x, evidence_mask):
        """Fill unobserved entries of `x` by backprop to the leaves under the layers' own ops.

        `x` and `evidence_mask` as for the free queries (`spnlab.core.queries`): `[B, V]`, or
        `[B, H, W, C]` with a per-pixel mask for a spatial model; returns `x`'s shape."""
        x, mask = check_data(self, x, evidence_mask)
        leaf_pass = run_to_leaves(self, x, mask)
        modes = leaf_pass.leaf.modes()
        if not self.infer_weighted_sum:
            g = leaf_pass.leaf_signal
            k = tf.one_hot(tf.argmax(tf.abs(g), axis=-1), tf.shape(g)[-1], dtype=g.dtype)
            leaf_pass = leaf_pass._replace(leaf_signal=k * tf.reduce_sum(g, -1, keepdims=True))
        return complete_from_leaves(leaf_pass, x, mask, modes)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # keras.Sequential.from_config rebuilds with `cls(name=...)` only, which dropped these.
        config = dict(config)
        flags = {k: bool(config.pop(k)) for k in
                 ("infer_no_evidence", "unsupervised", "infer_weighted_sum",
                  "fuse_products") if k in config}
        model = super().from_config(config, custom_objects=custom_objects)
        for key, value in flags.items():
            setattr(model, key, value)
        return model

    def get_config(self):
        return {**super().get_config(), "infer_no_evidence": self.infer_no_evidence,
                "unsupervised": self.unsupervised, "infer_weighted_sum": self.infer_weighted_sum,
                "fuse_products": self.fuse_products}
