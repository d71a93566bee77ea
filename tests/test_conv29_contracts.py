"""Review conv29: convnet/resnet on every input kind trainlab.data gives them."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from trainlab import data, models


def _channel_hint(messages: list[str]) -> bool:
    return any("transpose" in m or "channels-last" in m or "channels last" in m for m in messages)


# conv_dims (src/trainlab/models/convnet.py) warns for a 1-D input_shape (C, 1) -- signals of
# one channel saved channels-last -- and for a square (C, C) image without its channel axis,
# but not for the common multi-channel case: 3-axis signals saved channels-last, (N, L, 3)
# (Keras' layout; the 2-D twin (N, H, W, 3) is refused with the transpose that fixes it).
# input_shape (40, 3) then silently becomes "40 channels of length 3": the convolution runs
# across 3 positions instead of along the 40-step signal. Measured: mnist1d stacked into 3
# channels, convnet, Adam 3e-3, 10 epochs: 91.8% test accuracy as (N, 3, 40), 52.0% as
# (N, 40, 3), and not a word. Expected: the same kind of warning as for (40, 1), naming the
# transpose to (N, 3, 40).
@pytest.mark.parametrize("name", ["convnet", "resnet"])
def test_channels_last_multichannel_signal_warns(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models.create(name, input_shape=(40, 3), num_classes=10)
    assert _channel_hint([str(w.message) for w in caught]), [str(w.message) for w in caught]


# The same through the data a user reaches it by: an .npz of 3-channel signals saved
# (N, L, C) loads as input_shape (40, 3) and convnet builds from it with no warning (see above).
def test_npz_channels_last_signals_warn_before_training(tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "sig.npz"
    np.savez(
        p,
        x_train=rng.random((40, 40, 3)).astype(np.float32),
        y_train=np.arange(40) % 4,
        x_test=rng.random((8, 40, 3)).astype(np.float32),
        y_test=np.arange(8) % 4,
    )
    ds = data.load("npz", path=p)
    assert ds.input_shape == (40, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models.create("convnet", input_shape=ds.input_shape, num_classes=ds.num_classes)
    assert _channel_hint([str(w.message) for w in caught]), [str(w.message) for w in caught]
