"""Conv nets given (H, W) images without a channel axis: a warning names the fix."""

from __future__ import annotations

import warnings

import pytest

from trainlab.models import create


@pytest.mark.parametrize("name", ["convnet", "resnet"])
def test_a_square_many_channel_1d_input_warns_that_it_may_be_an_image(name):
    """(28, 28) is taken as 28 channels of length 28 (1-D convolutions), which for 28x28 images
    saved as (N, 28, 28) is a silent mistake: a warning says so and how to add the axis."""
    with pytest.warns(UserWarning, match=r"\(N, 1, 28, 28\), for 2-D convolutions"):
        model = create(name, input_shape=(28, 28), num_classes=10)
    assert model is not None


@pytest.mark.parametrize("shape", [(1, 40), (3, 100), (4, 4), (1, 28, 28)])
def test_ordinary_inputs_do_not_warn(shape):
    """MNIST-1D (1, 40), multichannel signals and real images build without that warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create("convnet", input_shape=shape, num_classes=10)
