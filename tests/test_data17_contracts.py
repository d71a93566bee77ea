"""Review data17: defects found in trainlab.data (readers, preprocess, synthetic)."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import torch

from trainlab.data import load, read_idx
from trainlab.data.preprocess import PCA
from trainlab.data.synthetic import make_teacher


def test_zca_preprocessing_does_not_depend_on_the_torch_thread_count():
    # preprocess._eigh_desc: torch.linalg.eigh's eigenvectors change with the thread count, so the
    # zca data (and the run's data sha256) differ and `resume` under another thread count is refused
    # as "the data changed"; the fit must give the same bits whatever the thread count.
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        a = load("digits", preprocess="zca").x_train
        torch.set_num_threads(2)
        b = load("digits", preprocess="zca").x_train
    finally:
        torch.set_num_threads(before)
    assert torch.equal(a, b)


def test_pca_default_components_are_stable_when_features_outnumber_samples():
    # preprocess.PCA._k: n_components=None keeps all D components though 20 centred samples span 19
    # directions; the other 45 are round-off, so val/test features move by O(1) when x_train moves
    # by 1e-9 relative; keep only the components the training data spans.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 64, generator=g, dtype=torch.float64)
    x_test = torch.randn(5, 64, generator=g, dtype=torch.float64)
    a = PCA().fit(x).transform(x_test)
    b = PCA().fit(x * (1 + 1e-9)).transform(x_test)
    assert a.shape == b.shape
    assert torch.allclose(a, b, atol=1e-6), float((a - b).abs().max())


def test_teacher_labels_of_the_same_inputs_do_not_depend_on_n_samples():
    # synthetic.make_teacher centres the logits by their mean over the n_samples drawn, so the
    # labelling function changes with n_samples (3 of the first 20 labels differ between 20 and
    # 20000 samples); centre with an offset that does not depend on n_samples.
    x1, y1 = make_teacher(20, data_seed=0)
    x2, y2 = make_teacher(20000, data_seed=0)
    assert np.array_equal(x1, x2[:20])
    assert np.array_equal(y1, y2[:20])


def test_idx_gzip_with_trailing_zero_padding_is_read(tmp_path):
    # readers._gunzip: zero bytes after the gzip member (padding, which gzip(1) and Python's gzip
    # skip) are reported as "corrupt or truncated gzip file"; skip them as gzip does.
    labels = np.arange(10, dtype=np.uint8)
    idx = bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10) + labels.tobytes()
    p = tmp_path / "train-labels-idx1-ubyte.gz"
    p.write_bytes(gzip.compress(idx) + b"\x00" * 8)
    assert gzip.decompress(p.read_bytes()) == idx  # the standard library reads it
    assert np.array_equal(read_idx(p), labels)
