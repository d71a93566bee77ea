"""Contracts from a review of the image-data journey: CIFAR-10 batches and MNIST IDX files."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest

from trainlab.config import parse_config
from trainlab.data import load
from trainlab.data.readers import read_idx
from trainlab.errors import DataError
from trainlab.train import Trainer


def _write_cifar10(folder, n=4, skip=()):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        if name in skip:
            continue
        batch = {
            b"labels": list(range(n)),
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        }
        (folder / name).write_bytes(pickle.dumps(batch))


def _idx(arr: np.ndarray) -> bytes:
    dims = b"".join(struct.pack(">I", s) for s in arr.shape)
    return bytes([0, 0, 8, arr.ndim]) + dims + arr.astype(np.uint8).tobytes()


def _write_mnist(folder, n=40, n_test=20):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(n) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(n_test) % 10,
    }
    for name, arr in files.items():
        (folder / name).write_bytes(_idx(arr))


def test_cifar10_parent_folder_missing_test_batch_names_test_batch(tmp_path):
    # readers.py:_cifar_folder stays in the parent when test_batch is missing, so the error
    # names <parent>/data_batch_1 (which exists, one folder down); it must name the missing file
    sub = tmp_path / "cifar-10-batches-py"
    _write_cifar10(sub, skip=("test_batch",))
    with pytest.raises(DataError) as err:
        load("cifar10", path=tmp_path)
    assert str(err.value).startswith(f"file not found: {sub / 'test_batch'} ")


def test_gzip_idx_whose_header_claims_more_than_ssize_t_is_a_data_error(tmp_path):
    # read_idx hands header+expected+1 (~8e28 for dims 2**32-1 x3) to zlib as max_length:
    # OverflowError traceback (exit 1 in the CLI); it must be a one-line DataError (truncated)
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + b"\xff" * 12 + bytes(16)))
    with pytest.raises(DataError, match="truncated"):
        read_idx(p)


def test_eval_batch_size_below_32_is_honoured(tmp_path):
    # train.py:evaluate raises the chunk to max(32, ...): eval_batch_size 7 evaluates the 20
    # test images in one batch of 20; no evaluation batch may exceed the configured size
    _write_mnist(tmp_path / "mnist")
    cfg = parse_config(
        {
            "data": {"name": "mnist", "options": {"path": str(tmp_path / "mnist")}},
            "model": {"name": "convnet", "channels": [2]},
            "train": {"epochs": 1, "batch_size": 8, "eval_batch_size": 7},
        }
    )
    trainer = Trainer(cfg, device="cpu")
    seen = []
    trainer.pop.register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape[1]))
    trainer.evaluate("test")
    assert max(seen) <= 7 and sum(seen) == 20
