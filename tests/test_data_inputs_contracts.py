"""Review of trainlab.data: defects found by feeding the readers, checks and splits bad input."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from trainlab.data import Dataset, read_idx
from trainlab.data.datasets import check_arrays
from trainlab.errors import DataError, UserError
from trainlab.pretrain import arrays_dataset


def _idx(arr: np.ndarray) -> bytes:
    """An IDX file (uint8) holding ``arr``."""
    head = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return head + arr.astype(np.uint8).tobytes()


def test_dataset_checked_refuses_channels_last_images_like_load():
    # Dataset.checked() (what train(cfg, dataset=ds) runs) lets (N, H, W, C) images through, so a
    # convnet silently takes H as channels; load()/arrays_dataset refuse them with the transpose
    x = torch.rand(40, 8, 8, 3)
    y = torch.arange(40) % 2
    ds = Dataset("hand", x[:30], y[:30], x[30:35], y[30:35], x[35:], y[35:], (8, 8, 3), 2)
    with pytest.raises(DataError, match="transpose"):
        ds.checked()


def test_arrays_dataset_without_labels_is_one_clear_error():
    # arrays_dataset(x, None, ...) crashes with IndexError (check_arrays reads y.shape[0] of a 0-d
    # array before checking ndim); it should be a one-line UserError about the labels
    x = np.random.default_rng(0).random((40, 6)).astype(np.float32)
    with pytest.raises(UserError, match="label"):
        arrays_dataset(x, None, None, None)


@pytest.mark.parametrize(
    "xs, ys",
    [(np.float32(1.0), np.arange(3)), (np.ones((3, 2)), np.int64(1))],
    ids=["scalar-inputs", "scalar-labels"],
)
def test_check_arrays_zero_dim_arrays_give_data_error(xs, ys):
    # check_arrays (behind load's loaders and arrays_dataset) indexes shape[0] of a 0-d input or
    # label array: IndexError traceback; it should say inputs need (N, ...) and labels (N,)
    with pytest.raises(DataError):
        check_arrays("t", {"train": (xs, ys)}, None)


def test_check_arrays_ragged_inputs_give_data_error():
    # a ragged list of samples makes np.asarray raise a raw numpy ValueError (not a UserError,
    # so the CLI/library prints a traceback); it should be one DataError naming the input shape
    with pytest.raises(DataError):
        check_arrays("t", {"train": ([[1.0, 2.0], [3.0]], [0, 1])}, None)


def test_read_idx_multi_member_gzip_is_read_whole(tmp_path):
    # a valid multi-member gzip file (`cat a.gz b.gz`, bgzip; gunzip and gzip.open read it whole)
    # is reported as a "truncated IDX file" because _gunzip stops at the first member; it should
    # read the concatenated members
    y = (np.arange(50) % 10).astype(np.uint8)
    raw = _idx(y)
    p = tmp_path / "t10k-labels-idx1-ubyte.gz"
    p.write_bytes(gzip.compress(raw[:30]) + gzip.compress(raw[30:]))
    with gzip.open(p) as f:  # the file is valid gzip
        assert f.read() == raw
    np.testing.assert_array_equal(read_idx(p), y)


def test_pretraining_trains_on_the_validation_rows_too():
    # wrong: `trainlab pretrain` loaded the data with load()'s default val_fraction=0.1 and never
    # used the validation split, dropping 10% of the training rows; right: all of them train
    from trainlab.pretrain.run import PretrainConfig, _data

    xtr, xte, _, _ = _data(PretrainConfig())
    assert xtr.shape[0] == 1438 and xte.shape[0] == 359  # digits: 1797 = 1438 + 359
