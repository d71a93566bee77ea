"""Adversarial review of the file readers (second pass): npz headers, torchvision roots."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import numpy.lib.format as npy_format
import pytest

from conftest import assert_npz_train_refused
from trainlab.data import load, read_npz
from trainlab.data.readers import find_mnist_files
from trainlab.errors import DataError


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _npz_with_a_corrupt_shape(path: Path) -> Path:
    """An .npz whose x_train.npy header claims shape (10**7, 10**7) float64 (a flipped digit
    in the header) while the member holds only 64 bytes of data."""
    head = io.BytesIO()
    npy_format.write_array_header_1_0(
        head, {"descr": "<f8", "fortran_order": False, "shape": (10**7, 10**7)}
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x_train.npy", head.getvalue() + b"\0" * 64)
        z.writestr("y_train.npy", _npy(np.arange(8) % 2))
        z.writestr("x_test.npy", _npy(np.zeros((4, 1))))
        z.writestr("y_test.npy", _npy(np.arange(4) % 2))
    return path


def test_npz_whose_header_claims_a_huge_shape_is_a_data_error(tmp_path):
    """``read_npz`` promises (module docstring: "Every reader checks the file before trusting
    it and raises DataError with one line naming the file") that a damaged .npz is a DataError.
    A member whose .npy header claims far more data than it holds (a corrupted shape field)
    makes numpy try to allocate the claimed size first, so an ``_ArrayMemoryError`` ("Unable
    to allocate 728 TiB") escapes instead of a DataError naming the file. The CIFAR reader
    already treats MemoryError from a damaged file as corruption; the npz reader does not."""
    path = _npz_with_a_corrupt_shape(tmp_path / "data.npz")
    with pytest.raises(DataError, match=r"data\.npz"):
        read_npz(path)


def test_cli_train_on_npz_with_a_corrupt_huge_header_is_one_line(monkeypatch, capsys, tmp_path):
    """``trainlab train`` with ``data.options.path`` naming an .npz whose header claims a huge
    shape must print one clear line naming the file and exit 2 (issue 3: every CLI error path,
    every reader on corrupt files gives a clear error). Today the MemoryError from numpy's
    ``read_array`` escapes ``read_npz`` and the CLI prints a traceback."""
    path = _npz_with_a_corrupt_shape(tmp_path / "data.npz")
    assert_npz_train_refused(monkeypatch, capsys, tmp_path, path)


def _idx(a: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, a.ndim]) + b"".join(d.to_bytes(4, "big") for d in a.shape)
    return header + a.tobytes()


def test_mnist_in_a_torchvision_root_that_also_holds_other_data_sets(tmp_path):
    """``find_mnist_files`` documents that ``folder`` may be the root torchvision used
    (``<folder>/MNIST/raw``). A torchvision root is shared by data sets: torchvision's SVHN
    writes ``train_32x32.mat`` straight into the root. Because the reader only looks for the
    torchvision sub-folders when the root holds *no* file starting with ``train``, such a root
    is refused ("file not found: root/train-images-idx3-ubyte") although ``root/MNIST/raw``
    holds all four files. The fallback should test for the MNIST files themselves, not for any
    ``train*`` name."""
    raw = tmp_path / "root" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(20) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(10) % 10).astype(np.uint8),
    }
    for name, a in arrays.items():
        (raw / (name + ".gz")).write_bytes(gzip.compress(_idx(a)))
    (tmp_path / "root" / "train_32x32.mat").write_bytes(b"MATLAB 5.0 MAT-file")  # SVHN

    files = find_mnist_files(tmp_path / "root")
    assert [f.parent for f in files] == [raw] * 4
    ds = load("mnist", path=tmp_path / "root", val_fraction=0.0)
    np.testing.assert_allclose(
        ds.x_test[:, 0].numpy(), arrays["t10k-images-idx3-ubyte"] / np.float32(255), rtol=1e-6
    )
