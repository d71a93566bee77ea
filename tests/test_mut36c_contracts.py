"""Mutation review (mut36c): data readers, preprocessing, splits.

Each test pins a behaviour that a one-line mutant of src/trainlab/data/ changed without the
rest of the suite noticing. Expected values come from the IDX format spec, numpy, or the
docstrings' promises, never from running trainlab.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest

from trainlab.data.readers import read_idx
from trainlab.errors import DataError


# Kills: data/readers.py:168 `... or code not in _IDX_TYPES or ndim == 0` -> the `ndim == 0`
# test dropped. The IDX spec (LeCun) and read_idx's docstring require ndim >= 1 in the 4th
# magic byte; 0x00000800 followed by one data byte is no IDX file. The mutant reads it as a
# 0-d uint8 array (prod(()) = 1 byte of data) instead of refusing the bad magic number.
def test_idx_zero_dimensions_is_a_bad_magic_number(tmp_path):
    p = tmp_path / "zero-dims-idx0-ubyte"
    p.write_bytes(struct.pack(">BBBB", 0, 0, 0x08, 0) + b"\x07")
    with pytest.raises(DataError, match="bad magic number 0x00000800"):
        read_idx(p)


# Kills: data/datasets.py:647 `common.get("stratify", True)` -> default False. README ("stratify
# (default true)") and the module docstring promise stratified splits by default, so each class
# keeps its share: counts 500/300/150/50 with val_fraction=0.2 give exactly 100/60/30/10 in the
# validation split (fraction * count, all integers, hand-computed). The mutant draws a plain
# random subset, whose class counts differ.
def test_validation_split_is_stratified_by_default(tmp_path):
    from trainlab.data import load

    rng = np.random.default_rng(0)
    y_train = np.repeat(np.arange(4), [500, 300, 150, 50])
    rng.shuffle(y_train)
    p = tmp_path / "d.npz"
    np.savez(
        p,
        x_train=rng.normal(size=(1000, 3)).astype(np.float32),
        y_train=y_train,
        x_test=rng.normal(size=(20, 3)).astype(np.float32),
        y_test=np.arange(20) % 4,
    )
    ds = load("npz", path=p, val_fraction=0.2, seed=3)
    assert np.bincount(ds.y_val.numpy(), minlength=4).tolist() == [100, 60, 30, 10]
    assert np.bincount(ds.y_train.numpy(), minlength=4).tolist() == [400, 240, 120, 40]


# Kills: data/datasets.py:289 lexsort key `np.arange(len(counts))` -> `-np.arange(...)` (ties
# to the higher class). _allocate's docstring: remainders equal as computed go to the lower
# class index first. Counts 3/3/3 at fraction 0.5: ideal 1.5 each (exact in float64), floor 1,
# total round(4.5) = 4 (round half to even), one extra sample -> class 0: held 2/1/1.
def test_stratified_tie_goes_to_the_lower_class():
    from trainlab.data.datasets import split_indices

    y = np.array([0, 1, 2] * 3)
    for seed in (0, 1, 2):
        _, held = split_indices(y, 0.5, seed, stratify=True)
        assert np.bincount(y[held], minlength=3).tolist() == [2, 1, 1]


# Kills: data/preprocess.py:187 `var <= (n * eps * self.mean_.abs()) ** 2` -> `(eps * ...)`.
# Reference: scikit-learn's StandardScaler, whose _is_constant_feature treats a feature as
# constant when var <= n*eps*var + (n*mean*eps)**2 (scale 1). A feature 1 +- 8*2**-52 over
# n = 100 samples has sigma = 8 eps, below n*eps*|mu| = 100 eps: constant, centred only (values
# of order 1e-15), where the mutant divides by sigma and blows round-off up to +-1.
def test_standardize_near_constant_feature_matches_sklearn():
    sklearn_pre = pytest.importorskip("sklearn.preprocessing")
    from trainlab.data.preprocess import Standardize

    eps = np.finfo(np.float64).eps
    n = 100
    tiny = 1.0 + 8 * eps * np.where(np.arange(n) % 2 == 0, 1.0, -0.5)
    x = np.stack([tiny, np.linspace(-3.0, 5.0, n)], 1)  # (100, 2)
    ref = sklearn_pre.StandardScaler().fit(x)
    assert ref.scale_[0] == 1.0  # sklearn calls it constant
    out = Standardize().fit_transform(x).numpy()
    np.testing.assert_allclose(out, ref.transform(x), atol=1e-12)
    assert np.abs(out[:, 0]).max() < 1e-12


# Kills: data/preprocess.py PCA._k `searchsorted(..., right=True)` -> `right=False`. A float
# n_components exactly equal to a cumulative explained-variance ratio takes one more component,
# as scikit-learn does (its `searchsorted(ratio_cumsum, n, side="right") + 1`): two features of
# exactly equal variance at 0.5 keep both (the mutant keeps one).
def test_pca_fraction_tie_takes_one_more_component_as_sklearn():
    import torch
    from sklearn.decomposition import PCA as SkPCA

    from trainlab.data.preprocess import PCA

    x = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    pca = PCA(n_components=0.5)
    pca.fit(torch.tensor(x))
    assert pca.components_.shape[0] == SkPCA(0.5).fit(x).n_components_ == 2
