"""Review idxcifar34: readers for files a user has (MNIST IDX, CIFAR python batches)."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from trainlab.data import load
from trainlab.errors import DataError

_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
          np.float64: 0x0E}  # fmt: skip


def _write_idx(path: Path, arr: np.ndarray) -> None:
    arr = np.asarray(arr)
    head = bytes([0, 0, _CODES[arr.dtype.type], arr.ndim])
    head += b"".join(struct.pack(">I", d) for d in arr.shape)
    path.write_bytes(head + arr.astype(arr.dtype.newbyteorder(">")).tobytes())


def _mnist_folder(folder: Path, xs, ys, xt, yt) -> Path:
    folder.mkdir(parents=True)
    _write_idx(folder / "train-images-idx3-ubyte", xs)
    _write_idx(folder / "train-labels-idx1-ubyte", ys)
    _write_idx(folder / "t10k-images-idx3-ubyte", xt)
    _write_idx(folder / "t10k-labels-idx1-ubyte", yt)
    return folder


def _cifar10_folder(folder: Path, labels_of=lambda name, y: y) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        x = rng.integers(0, 256, (6, 3072), dtype=np.uint8)
        y = labels_of(name, [i % 3 for i in range(6)])
        with open(folder / name, "wb") as fh:
            pickle.dump({b"data": x, b"labels": y}, fh, protocol=2)
    return folder


# load() preprocesses int8/int16 (and uint8 npz) inputs in float32 (datasets.py, `wide` is
# float64 only for float64 and >= 32-bit integers), while int32 inputs go through float64. So
# the same integer pixel values 30000 + {0..3} give other standardized tensors when the IDX file
# stores them as int16 than as int32 (off by ~8e-4, thousands of float32 ulps: the float64 mean
# 30001.49.. is rounded to float32, ulp 0.002, before it is subtracted). Integers are exact
# either way; preprocess.py promises "integer inputs are transformed in float64 and returned as
# float32", which ds.transform.transform(x_int16) does, so it also differs from ds.x_train.
# Expected: the int16 file gives the int32 file's tensors (the float64 transform rounded once).
@pytest.mark.xfail(
    strict=True,
    reason="known limitation, deferred: computing this in float64 changes the loaded data, so "
    "the data fingerprint of every earlier run (which resume checks) would no longer match; "
    "it needs a data loader version recorded per run",
)
@pytest.mark.parametrize("preprocess", ["standardize", "zca"])
def test_int16_idx_images_preprocess_like_int32(tmp_path, preprocess):
    rng = np.random.default_rng(0)
    xs = 30000 + rng.integers(0, 4, (120, 3, 3))
    xt = 30000 + rng.integers(0, 4, (30, 3, 3))
    ys, yt = (np.arange(120) % 2).astype(np.uint8), (np.arange(30) % 2).astype(np.uint8)
    out = {}
    for dt in (np.int16, np.int32):
        f = _mnist_folder(tmp_path / dt.__name__, xs.astype(dt), ys, xt.astype(dt), yt)
        out[dt] = load("mnist", path=str(f), preprocess=preprocess)
    a, b = out[np.int16], out[np.int32]
    for key in ("x_train", "x_val", "x_test"):
        torch.testing.assert_close(getattr(a, key), getattr(b, key), rtol=0, atol=1e-5)


# A CIFAR-10 batch with a label -1 is a damaged file (the 10 classes are fixed; cifar10 takes
# no num_classes option), and a label 10 is reported with "check the data files". The negative
# one instead advises remapping the labels with numpy.unique(y, return_inverse=True)[1]
# (_label_range_error ignores option=False for lo < 0), which on CIFAR-10 labels -1..9 would
# shift every class by one: wrong labels. Expected: the same "check the data files" fix.
def test_cifar10_negative_label_says_check_files_not_remap(tmp_path):
    f = _cifar10_folder(
        tmp_path / "c10", lambda name, y: [-1, *y[1:]] if name == "data_batch_4" else y
    )
    with pytest.raises(DataError) as info:
        load("cifar10", path=str(f))
    msg = str(info.value)
    assert "label -1" in msg
    assert "numpy.unique" not in msg
    assert "check the data files" in msg


# A truncated raw IDX file and a truncated CIFAR batch name the file and what is wrong but no
# fix, while the same damage in a .gz file says "re-copy or re-compress it" and the other
# corrupt-batch errors "re-copy the batch files" (the brief: one clear error naming the file
# and the fix). Expected: the fix (re-copy) in both.
def test_truncated_idx_and_cifar_batch_name_the_fix(tmp_path):
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 256, (20, 4, 4)).astype(np.uint8)
    ys = (np.arange(20) % 2).astype(np.uint8)
    f = _mnist_folder(tmp_path / "m", xs, ys, xs[:6], ys[:6])
    p = f / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-5])
    with pytest.raises(DataError) as info:
        load("mnist", path=str(f))
    assert str(p) in str(info.value) and "re-copy" in str(info.value)

    c = _cifar10_folder(tmp_path / "c10")
    b = c / "data_batch_3"
    b.write_bytes(b.read_bytes()[:5000])
    with pytest.raises(DataError) as info:
        load("cifar10", path=str(c))
    assert str(b) in str(info.value) and "re-copy" in str(info.value)
