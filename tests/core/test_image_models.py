"""The image structures of `spnlab.core.models` (Poon-Domingos, DGC-SPN) are normalised
distributions: on a 2x4 and a 4x4 binary image, the probabilities of all 2^8 / 2^16 images sum
to 1 (enumerated), and a bad image shape is named."""
import itertools

import numpy as np
import pytest

import spnlab.core as spnk


def _all_images(num_pixels):
    return np.array(list(itertools.product([0, 1], repeat=num_pixels)), np.int32)


@pytest.mark.parametrize("shape", [(2, 4), (4, 4)])
def test_poon_domingos_sums_to_one(shape):
    model = spnk.poon_domingos(shape, num_sums=2, num_input_distributions=2,
                               sum_op=spnk.SumOpEMBackprop())
    x = _all_images(shape[0] * shape[1])
    assert np.exp(spnk.log_likelihood(model, x)).sum() == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("shape", [(2, 4), (4, 4)])
def test_dgcspn_sums_to_one(shape):
    model = spnk.dgcspn(shape, num_sums=2, num_input_distributions=2, seed=0,
                        sum_op=spnk.SumOpEMBackprop())
    x = _all_images(shape[0] * shape[1]).reshape((-1,) + shape + (1,))
    assert np.exp(spnk.log_likelihood(model, x)).sum() == pytest.approx(1.0, abs=1e-4)


def test_bad_image_shapes_are_named():
    with pytest.raises(ValueError, match=r"power-of-two sides.*image_shape=\(3, 4\)"):
        spnk.dgcspn((3, 4))
    with pytest.raises(ValueError, match=r"Expected `image_shape` \(rows, cols\)"):
        spnk.poon_domingos(12)
    with pytest.raises(ValueError, match=r"image_shape\[0\]"):
        spnk.poon_domingos((0, 4))
    with pytest.raises(TypeError, match="leaf layer"):
        spnk.dgcspn((2, 2), leaf="indicator")
