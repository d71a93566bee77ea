"""Review (dtype34): numeric precision through the data readers.

Checked and fine (not tested here): float64 optimizers equal torch.optim (sgd/adam/adamw/
adagrad/rmsprop, fused None/True/False, per-model values) and L-BFGS per model; float64 /
bfloat16 / float16 user models resume bitwise; init.apply draws equal torch.nn.init in
float64/float32/16-bit; watch statistics of float64 models; RBM/DBN/SDAE transforms keep
float32/float64 as scikit-learn does.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from trainlab import data

_CODES = {0x08: ">u1", 0x0C: ">i4", 0x0E: ">f8"}


def _idx(path, arr: np.ndarray, code: int) -> None:
    with open(path, "wb") as f:
        f.write(bytes([0, 0, code, arr.ndim]))
        f.write(struct.pack(">" + "i" * arr.ndim, *arr.shape))
        f.write(arr.astype(_CODES[code]).tobytes())


def _mnist_folder(folder, xs, ys, xt, yt, code):
    _idx(folder / "train-images-idx3-ubyte", xs, code)
    _idx(folder / "train-labels-idx1-ubyte", ys, 0x08)
    _idx(folder / "t10k-images-idx3-ubyte", xt, code)
    _idx(folder / "t10k-labels-idx1-ubyte", yt, 0x08)


# The `mnist` reader accepts float64 (0x0E) and int32 (0x0C) IDX images, but
# `datasets._images_to_float` casts every non-uint8 image to float32 *before* `load()`
# preprocesses, so `load()`'s float64 path for wide data ("data wider than float32 ... is
# transformed in float64 and rounded after (a feature such as 5e6 ± 1 ... loses its spread in
# float32)") never applies to it. Pixels 1e6 + {0, .01, .02, .03} all round to 1e6 in float32
# and `standardize` returns all zeros, while the same arrays in an `.npz` (which keeps float64
# until preprocessing) standardize to unit variance. Expected: the mnist reader gives the npz
# reader's result (equal inputs, equal outputs): keep non-uint8 images in their dtype and let
# load() convert.
def test_mnist_float64_idx_images_standardize_in_float64_like_npz(tmp_path):
    rng = np.random.default_rng(0)
    xs = 1e6 + rng.integers(0, 4, (60, 4, 4)) * 0.01
    xt = 1e6 + rng.integers(0, 4, (30, 4, 4)) * 0.01
    ys, yt = np.arange(60) % 3, np.arange(30) % 3
    _mnist_folder(tmp_path, xs, ys, xt, yt, 0x0E)
    np.savez(tmp_path / "a.npz", x_train=xs[:, None], y_train=ys, x_test=xt[:, None], y_test=yt)
    a = data.load("mnist", path=str(tmp_path), preprocess="standardize", seed=0)
    b = data.load("npz", path=str(tmp_path / "a.npz"), preprocess="standardize", seed=0)
    assert float(b.x_train.std()) > 0.9  # the premise: the spread survives via npz
    assert float(a.x_train.std()) > 0.9, "the mnist reader lost the float64 spread"
    torch.testing.assert_close(a.x_train, b.x_train)
    torch.testing.assert_close(a.x_test, b.x_test)


# `npz` with the scale the README gives for uint8 pixels (`scale: 0.00392156862745098`) is
# meant to give what `mnist`/`cifar` give (x / 255 in [0, 1]), but `_npz.fx` multiplies in
# float32 by float32(1/255), rounding twice: 126 of the 256 pixel values come out one ulp
# away from the mnist reader's correctly rounded float32(x) / 255 (e.g. 3 -> 0.011764707 vs
# 0.011764706), so the same images train to other weights depending on the file format.
# Expected: equal tensors. Computing a * s in float64 and rounding once to float32 gives
# exactly x/255 for all 256 values.
@pytest.mark.xfail(
    strict=True,
    reason="known limitation, deferred: computing this in float64 changes the loaded data, so "
    "the data fingerprint of every earlier run (which resume checks) would no longer match; "
    "it needs a data loader version recorded per run",
)
def test_npz_uint8_scaled_by_1_over_255_equals_the_mnist_readers_pixels(tmp_path):
    xs = np.arange(256 * 4, dtype=np.uint8).reshape(64, 4, 4)  # every pixel value
    xt = xs[:32].copy()
    ys, yt = np.arange(64) % 4, np.arange(32) % 4
    _mnist_folder(tmp_path, xs, ys, xt, yt, 0x08)
    np.savez(tmp_path / "a.npz", x_train=xs[:, None], y_train=ys, x_test=xt[:, None], y_test=yt)
    a = data.load("mnist", path=str(tmp_path), seed=0)
    b = data.load("npz", path=str(tmp_path / "a.npz"), scale=0.00392156862745098, seed=0)
    assert torch.equal(a.y_train, b.y_train)  # the premise: the same split
    assert torch.equal(a.x_train, b.x_train)
    assert torch.equal(a.x_test, b.x_test)
