"""Mutation review (mut36n): data preprocessing defaults, IDX dtypes, splits, synthetic sets.

Each test pins a behaviour that a one-line mutant of src/trainlab/data/ changed while the data
tests (test_preprocess, test_readers, test_data*, test_synth*, test_splits*, ...) still
passed. Expected values come from numpy (eigendecompositions, struct-packed files), the README
and the docstrings, never from running trainlab.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest


def _aniso(n: int = 400, seed: int = 0) -> np.ndarray:
    """(n, 3) float64 inputs with per-feature scales 1, 0.1, 0.03: eigenvalues near 1, 1e-2 and
    1e-3, so epsilons of 1e-5, 1e-2 and 1e-1 give visibly different whitening."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 3)) * np.array([1.0, 0.1, 0.03])
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))  # a fixed rotation: not axis-aligned
    return z @ q.T


def _biased_eig(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors of Σ = XcᵀXc / N, by numpy."""
    xc = x - x.mean(0)
    lam, u = np.linalg.eigh(xc.T @ xc / len(x))
    return lam[::-1], u[:, ::-1]


# Kills: data/preprocess.py make_preprocessor `eps = DEFAULT_EPSILON if epsilon is None ...` ->
# `1e-5 if ...`, and `DEFAULT_EPSILON = 1e-2` -> `1e-1`. README ("epsilon (pca_whiten, zca: ...;
# default 1e-2)") and make_preprocessor's docstring. PCA-whitened training outputs have
# covariance diag(λ/(λ+ε)) (the PCA docstring; λ the biased-covariance eigenvalues, computed
# here by numpy); that is sign-independent, so the eigenvector sign convention does not matter.
def test_pca_whiten_default_epsilon_is_1e_2_via_make_preprocessor():
    from trainlab.data.preprocess import make_preprocessor

    x = _aniso()
    lam, _ = _biased_eig(x)
    out = make_preprocessor("pca_whiten").fit(x).transform(x).numpy()
    cov = out.T @ out / len(out)  # outputs are centred on the training split
    np.testing.assert_allclose(cov, np.diag(lam / (lam + 1e-2)), atol=1e-9)


# Kills: data/preprocess.py PCA.__init__ `epsilon: float = 1e-5` -> `1e-2`. PCA's docstring:
# "Default 1e-5 here; a config's pca_whiten takes DEFAULT_EPSILON (1e-2)". Covariance of the
# whitened training outputs: diag(λ/(λ+1e-5)), λ from numpy.
def test_pca_class_default_epsilon_is_1e_5():
    from trainlab.data.preprocess import PCA

    x = _aniso()
    lam, _ = _biased_eig(x)
    p = PCA(whiten=True)
    assert p.epsilon == 1e-5
    out = p.fit(x).transform(x).numpy()
    np.testing.assert_allclose(out.T @ out / len(out), np.diag(lam / (lam + 1e-5)), atol=1e-9)


# Kills: data/preprocess.py make_preprocessor `return ZCA(DEFAULT_EPSILON if ...)` -> `ZCA(1e-5
# if ...)`, ZCA.__init__ `epsilon: float = 1e-2` -> `1e-5`, and DEFAULT_EPSILON 1e-2 -> 1e-1.
# The module table / README: W = U diag(1/sqrt(λ + ε)) Uᵀ with ε = 1e-2 by default. W is
# independent of eigenvector signs, so numpy's eigh gives the expected output directly.
@pytest.mark.parametrize("how", ["make_preprocessor", "class"])
def test_zca_default_epsilon_and_formula_match_numpy(how):
    from trainlab.data.preprocess import ZCA, make_preprocessor

    x = _aniso(seed=1)
    lam, u = _biased_eig(x)
    w = u @ np.diag(1.0 / np.sqrt(lam + 1e-2)) @ u.T
    expect = (x - x.mean(0)) @ w
    z = make_preprocessor("zca") if how == "make_preprocessor" else ZCA()
    out = z.fit(x).transform(x).numpy()
    np.testing.assert_allclose(out, expect, atol=1e-9)


# Kills: data/readers.py _IDX_TYPES `0x0E: np.dtype(">f8")` -> `"<f8"`. The IDX format (LeCun;
# the readers module docstring) stores values big-endian, type 0x0E float64. The file is
# written here with struct's '>' (big-endian) packing; values read little-endian would be
# garbage (1.5 big-endian is 3.0e-319 little-endian).
def test_idx_float64_is_big_endian(tmp_path):
    from trainlab.data.readers import read_idx

    vals = [1.5, -2.25, 1e300, 0.0, 3.141592653589793, -7.0]
    p = tmp_path / "f64-idx2"
    p.write_bytes(struct.pack(">BBBB", 0, 0, 0x0E, 2) + struct.pack(">II", 2, 3)
                  + struct.pack(">6d", *vals))  # fmt: skip
    a = read_idx(p)
    assert a.dtype == np.float64 and a.dtype.isnative and a.shape == (2, 3)
    np.testing.assert_array_equal(a, np.array(vals).reshape(2, 3))


# Kills: data/datasets.py split_indices `held_out = np.sort(np.concatenate(held))` -> no sort
# (stratified), and `return np.sort(perm[k:]), np.sort(perm[:k])` -> `perm[:k]` (plain). The
# docstring: "Split range(len(y)) into (keep, held_out) index arrays, both sorted"; load() takes
# x[held] as the validation/test split, so the order is the split's sample order. Expected:
# strictly increasing, disjoint, covering range(N) (numpy checks of the promise).
@pytest.mark.parametrize("stratify", [True, False])
def test_split_indices_held_out_is_sorted(stratify):
    from trainlab.data.datasets import split_indices

    y = np.repeat(np.arange(4), [30, 20, 25, 25])  # 100 samples, 4 classes
    for seed in range(3):
        keep, held = split_indices(y, 0.3, seed, stratify=stratify)
        assert len(held) == 30  # round(0.3 * 100)
        assert np.all(np.diff(held) > 0) and np.all(np.diff(keep) > 0)
        np.testing.assert_array_equal(np.sort(np.concatenate([keep, held])), np.arange(100))


# Kills: data/datasets.py _mnist1d `shuffle_seq: bool = False` -> `True`. The registry line and
# the docstring: the defaults "reproduce the paper's set" (n_samples=5000, data_seed=42,
# shuffle_seq=false, 80/20 split). Expected: the mnist1d package's own make_dataset with its
# own default arguments (get_dataset_args(): 5000 samples, seed 42, shuffle_seq False), called
# here directly; trainlab's default load must be exactly those arrays with a channel axis.
def test_mnist1d_defaults_are_the_packages_paper_set():
    pytest.importorskip("mnist1d")
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    from trainlab.data.datasets import DATASETS

    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        ref = make_dataset(get_dataset_args())
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    raw = DATASETS.get("mnist1d")()
    assert raw.x.shape == (4000, 1, 40) and raw.x_test.shape == (1000, 1, 40)
    np.testing.assert_array_equal(raw.x[:, 0], np.asarray(ref["x"], dtype=np.float32))
    np.testing.assert_array_equal(raw.x_test[:, 0], np.asarray(ref["x_test"], dtype=np.float32))
    np.testing.assert_array_equal(raw.y, ref["y"])


def _spiral_expected(n: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noise-free spirals from make_spirals' docstring: arm j has r = linspace(0, 1) over its
    samples (sizes differing by at most one, the larger first), θ = 2πj/K + 4r, point
    r·(sin θ, cos θ). Returns points (N, 2), radii (N,), angles (N,)."""
    sizes = [n // k + (1 if j < n % k else 0) for j in range(k)]
    rs = np.concatenate([np.linspace(0.0, 1.0, s) for s in sizes])
    th = np.concatenate([2 * np.pi * j / k + 4.0 * np.linspace(0.0, 1.0, s)
                         for j, s in enumerate(sizes)])  # fmt: skip
    return np.stack([rs * np.sin(th), rs * np.cos(th)], 1), rs, th


# Kills: data/synthetic.py make_spirals `r = np.linspace(0.0, 1.0, n)` -> `linspace(0, 1, n + 1)
# [1:]`, and `np.stack([r * np.sin(t), r * np.cos(t)])` -> cos/sin swapped. Expected: the
# docstring's formula evaluated by numpy with noise=0 (float32 as documented).
def test_spirals_follow_the_documented_formula_without_noise():
    from trainlab.data.synthetic import make_spirals

    x, y = make_spirals(n_samples=301, classes=3, noise=0.0, data_seed=5)
    pts, _, _ = _spiral_expected(301, 3)
    assert x.dtype == np.float32 and x.shape == (301, 2)
    np.testing.assert_allclose(x, pts.astype(np.float32), atol=1e-6)
    assert np.bincount(y).tolist() == [101, 100, 100]


# Kills: data/synthetic.py `... + noise * rng.standard_normal(n)` -> `... * 1.5`. The docstring:
# θ = 2πj/K + 4r + noise·N(0, 1). The angle residual of each point (atan2 of its coordinates
# minus the noise-free angle, wrapped) divided by noise is a standard normal sample: over ~3000
# points its std is 1 within a few percent (the mutant: 1.5). Points with r < 0.05 are left out
# (their angle rounds badly in float32).
def test_spirals_angle_noise_has_the_documented_scale():
    from trainlab.data.synthetic import make_spirals

    noise = 0.2
    x, _ = make_spirals(n_samples=3000, classes=3, noise=noise, data_seed=1)
    _, rs, th = _spiral_expected(3000, 3)
    got = np.arctan2(x[:, 0].astype(np.float64), x[:, 1].astype(np.float64))
    resid = np.angle(np.exp(1j * (got - th)))[rs > 0.05] / noise
    np.testing.assert_allclose(np.hypot(x[:, 0], x[:, 1]), rs, atol=1e-6)  # radius unchanged
    assert 0.93 < resid.std() < 1.07
    assert abs(resid.mean()) < 0.08


# Kills: data/synthetic.py make_blobs `rng.uniform(-center_box, center_box, ...)` ->
# `uniform(0, center_box, ...)`. The docstring: μ_c ~ U[-box, box]^dim. With std=0 every input
# is its class centre; 100 centres in 2-D drawn from U[-5, 5] are within the box, some in every
# quadrant of it, and their mean is near 0 (std of the mean 5/sqrt(3)/sqrt(100) = 0.29).
def test_blob_centres_are_uniform_in_the_symmetric_box():
    from trainlab.data.synthetic import make_blobs

    x, y = make_blobs(n_samples=200, dim=2, classes=100, std=0.0, center_box=5.0, data_seed=3)
    centres = np.stack([x[y == c][0] for c in range(100)])  # (100, 2)
    assert np.all(np.abs(centres) <= 5.0)
    assert (centres < -2.5).any(0).all() and (centres > 2.5).any(0).all()
    assert np.all(np.abs(centres.mean(0)) < 1.2)
