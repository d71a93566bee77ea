"""Review read29m: src/trainlab/data/readers.py (IDX, CIFAR batches, npz) and data.load's use."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from trainlab.data.readers import find_mnist_files
from trainlab.errors import DataError


def _idx(a: np.ndarray) -> bytes:
    return (
        bytes([0, 0, 0x08, a.ndim]) + b"".join(struct.pack(">I", s) for s in a.shape) + a.tobytes()
    )


def _write_mnist(folder, fill: int) -> None:
    folder.mkdir(parents=True)
    for n in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        (folder / n).write_bytes(_idx(np.full((10, 28, 28), fill, np.uint8)))
    for n in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / n).write_bytes(_idx(np.arange(10, dtype=np.uint8)))


# find_mnist_files accepts a torchvision root (<root>/MNIST/raw, <root>/FashionMNIST/raw,
# <root>/KMNIST/raw). torchvision shares that root between its data sets, so a root holding
# both MNIST and Fashion-MNIST is ambiguous, and trainlab has one data set name ("mnist") for
# both. The code silently takes the first of its list (MNIST/raw): a user who meant
# Fashion-MNIST trains on digits with no word. Expected: a DataError naming both candidate
# folders, so the user passes path=<root>/FashionMNIST (or <root>/MNIST) explicitly.
def test_torchvision_root_with_two_mnist_sets_is_refused_not_silently_mnist(tmp_path):
    _write_mnist(tmp_path / "MNIST" / "raw", 0)
    _write_mnist(tmp_path / "FashionMNIST" / "raw", 255)
    with pytest.raises(DataError, match="FashionMNIST"):
        find_mnist_files(tmp_path)
    # one set under the root is still found without a word
    assert (
        find_mnist_files(tmp_path / "FashionMNIST")[0].parent == tmp_path / "FashionMNIST" / "raw"
    )
