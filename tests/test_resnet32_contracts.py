"""Review resnet32: ``models.create("convnet"/"resnet", input_shape=(32, 32, 3))`` built a
32-channel net of 32x3 "images" in silence, while the data readers refuse (N, H, W, C) arrays
and conv_dims warns for the 1-D channels-last case: the 2-D case warns the same way."""

import warnings

import pytest

from trainlab import models


@pytest.mark.parametrize("name", ["convnet", "resnet"])
def test_channels_last_image_shape_warns(name):
    with pytest.warns(UserWarning, match=r"channels last .*\(3, 32, 32\)"):
        models.create(name, input_shape=(32, 32, 3), num_classes=10)


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 8, 8), (16, 4, 4)])
def test_channels_first_shapes_do_not_warn(shape):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        models.create("convnet", input_shape=shape, num_classes=10)
