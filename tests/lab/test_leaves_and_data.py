"""The built-in structures with each leaf type, on the binarised and the grey digits: valid
normalised SPNs (brute force on a 2x2 image), the right layers, learning, and the views."""
import itertools

import numpy as np
import pytest

from spnlab.core import layers as L
from spnlab.graph import from_layer_model, validate
from spnlab.lab import Session, SessionConfig


@pytest.mark.parametrize("structure", ["ratspn", "poon_domingos", "dgcspn"])
@pytest.mark.parametrize("leaf", ["indicator", "categorical"])
def test_discrete_leaves_give_a_normalised_spn_over_three_valued_pixels(structure, leaf):
    """2x2 images with 3 values per pixel: the probabilities of all 81 images sum to 1, and
    the expanded graph is valid."""
    data = np.random.default_rng(0).integers(0, 3, size=(50, 4)).astype(np.int32)
    s = Session(structure=structure, leaf=leaf, image_shape=(2, 2), data=data, depth=1,
                num_repetitions=2, num_input_distributions=2, num_sums=2, test_every=0, seed=1)
    s.run(3, progress=False)
    states = np.array(list(itertools.product(range(3), repeat=4)), np.int32)
    assert np.exp(s.log_likelihood(states).astype(np.float64)).sum() == pytest.approx(1, 1e-4)
    kinds = {type(layer) for layer in s.model.layers}
    assert (L.IndicatorLeaf if leaf == "indicator" else L.CategoricalLeaf) in kinds
    assert validate(from_layer_model(s.model).root).is_valid


@pytest.mark.parametrize("structure", ["ratspn", "dgcspn"])
def test_normal_leaves_on_the_grey_digits_learn_and_complete(structure):
    s = Session("classroom", structure=structure, leaf="normal", dataset="digits_grey",
                test_every=0, seed=0)
    assert s.data.train.max() == 16 and s.data.name == "digits_grey"
    first = s.step().train_ll
    s.run(20, progress=False)
    assert s.history.steps[-1].train_ll > first + 20
    assert any(isinstance(layer, L.NormalLeaf) for layer in s.model.layers)
    x, mask = s.data.test[:2], np.repeat(s.evidence_mask("bottom"), 2, 0)
    mean = s.complete(x, mask, "mean")
    np.testing.assert_array_equal(mean[mask], x[mask])
    assert mean.dtype == np.float32 and 0 <= mean.min() and mean.max() <= 20


def test_leaf_and_data_settings_are_checked_and_switchable():
    with pytest.raises(ValueError, match="`leaf` in"):
        SessionConfig(leaf="poisson")
    with pytest.raises(ValueError, match="normal leaves.*digits_grey"):
        SessionConfig(leaf="normal")
    s = Session("classroom", seed=0, test_every=0)
    s.rebuild(dataset="digits_grey", leaf="categorical")
    assert s.data.train.max() == 16
    leaf = next(l for l in s.model.layers if isinstance(l, L.CategoricalLeaf))
    assert leaf.num_categories == 17
