"""Mutation review (mut39p): the preprocessing transforms' formulas (data/preprocess.py).

Each test pins a behaviour that a one-line mutant of preprocess.py changed while the
preprocessing tests (test_preprocess, test_prep21, test_preproc31, test_readers_preprocess,
test_mut36n, test_mut36c, test_mut37b) still passed. Expected values come from scikit-learn,
numpy and the module's docstrings, never from running trainlab.
"""

from __future__ import annotations

import numpy as np
import pytest


def _wide_ints(n: int = 200, seed: int = 0) -> np.ndarray:
    """(n, 2) int64 inputs 2e8 + {0..7}: float32 has a spacing of 16 at 2e8, so a float32 cast
    merges every feature into one value (the _as_tensor docstring's example)."""
    rng = np.random.default_rng(seed)
    return (200_000_000 + rng.integers(0, 8, size=(n, 2))).astype(np.int64)


# Kills: preprocess.py _as_tensor `else t.to(torch.float64)` -> `t.to(torch.float32)`. The
# _as_tensor docstring: integer inputs are taken as float64, exact up to 2**53. Expected:
# scikit-learn's StandardScaler on the float64 values.
def test_standardize_wide_integer_features_match_sklearn():
    from sklearn.preprocessing import StandardScaler

    from trainlab.data.preprocess import Standardize

    x = _wide_ints()
    out = Standardize().fit(x).transform(x)
    expect = StandardScaler().fit_transform(x.astype(np.float64))
    assert out.dtype.is_floating_point  # (float32 for integer inputs, per the Transform doc)
    np.testing.assert_allclose(out.numpy(), expect, atol=1e-5)


def _wide(n: int = 10, d: int = 30, seed: int = 0) -> np.ndarray:
    """(n, d) float64 inputs with fewer samples than features (the eigh branch of _eigh_desc)."""
    return np.random.default_rng(seed).standard_normal((n, d))


def _np_biased_eig(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors of Σ = XcᵀXc / N (biased), by numpy."""
    xc = x - x.mean(0)
    lam, u = np.linalg.eigh(xc.T @ xc / len(x))
    return lam[::-1], u[:, ::-1]


# Kills: preprocess.py _eigh_desc `torch.linalg.eigh(xc.T @ xc / x.shape[0])` ->
# `/ (x.shape[0] - 1)` (the N < D branch). The module table: Σ = XᵀX / N (biased), on both
# branches. Expected: numpy's eigh of the biased covariance; PCA-whitened and ZCA outputs by
# the module table's formulas (ZCA's W and the whitened covariance are sign-independent).
def test_wide_inputs_use_the_biased_covariance():
    from trainlab.data.preprocess import PCA, ZCA

    x = _wide()
    lam, u = _np_biased_eig(x)
    p = PCA(whiten=True, epsilon=1e-2).fit(x)
    assert p.n_components_ == len(x) - 1
    np.testing.assert_allclose(p.eigenvalues_.numpy(), lam[: len(x) - 1], rtol=1e-9)
    out = p.transform(x).numpy()
    k = len(x) - 1
    np.testing.assert_allclose(out.T @ out / len(x), np.diag(lam[:k] / (lam[:k] + 1e-2)), atol=1e-9)
    w = u @ np.diag(1.0 / np.sqrt(np.clip(lam, 0, None) + 1e-2)) @ u.T
    z = ZCA(epsilon=1e-2).fit(x)
    np.testing.assert_allclose(z.transform(x).numpy(), (x - x.mean(0)) @ w, atol=1e-8)


# Kills: preprocess.py _eigh_desc `lam.flip(0).clamp_min(0.0)` -> `lam.flip(0)`. _eigh_desc's
# docstring: eigenvalues "descending, ≥ 0" — a covariance is positive semi-definite, and with
# N < D its N..D-th eigenvalues are 0 (numpy's eigh gives them as round-off, down to -1e-15).
def test_zca_eigenvalues_of_wide_inputs_are_non_negative():
    from trainlab.data.preprocess import ZCA

    for seed in range(3):
        x = _wide(seed=seed)
        lam, _ = _np_biased_eig(x)
        assert lam.min() < 0  # (the round-off the clamp removes; numpy's own eigh shows it)
        ev = ZCA(epsilon=1e-2).fit(x).eigenvalues_.numpy()
        assert ev.min() >= 0.0
        assert np.all(np.diff(ev) <= 0)
        np.testing.assert_allclose(ev, np.clip(lam, 0, None), atol=1e-12)


# Kills: preprocess.py _eigh_desc `idx = u.abs().argmax(0)` -> `u.argmax(0)`. _eigh_desc's
# docstring: signs are fixed "so that each eigenvector's largest-magnitude entry is positive
# (scikit-learn's svd_flip)". Expected: numpy's eigenvectors with that convention applied
# here by hand; PCA's projection (x − μ) U follows them, on both branches (N ≥ D and N < D).
@pytest.mark.parametrize("shape", [(300, 6), (8, 12)])
def test_pca_sign_convention_largest_magnitude_entry_positive(shape):
    from trainlab.data.preprocess import PCA

    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * np.linspace(1.0, 3.0, shape[1])
    lam, u = _np_biased_eig(x)
    k = min(shape[0] - 1, shape[1])
    u = u[:, :k]
    u = u * np.sign(u[np.abs(u).argmax(0), np.arange(k)])
    p = PCA().fit(x)
    comp = p.components_.numpy()
    assert comp.shape == (k, shape[1])
    assert np.all(comp[np.arange(k), np.abs(comp).argmax(1)] > 0)
    np.testing.assert_allclose(comp, u.T, atol=1e-8)
    np.testing.assert_allclose(p.transform(x).numpy(), (x - x.mean(0)) @ u, atol=1e-8)


# Kills: preprocess.py _round_off `scale * (d * eps64) ** 2` -> `scale * d * eps64 ** 2` (the
# exact-input cut a factor D too low). PCA's docstring: n_components=None keeps the components
# whose eigenvalue exceeds s·(D·eps)², s = λ_max + max_j μ_j². Here D = 200 and the last column
# is the first plus noise whose variance puts one eigenvalue (numpy's SVD: ~1.6e-28) between
# s·D·eps² (~2e-29) and s·(D·eps)² (~5e-27): round-off by the docstring's rule, so 199 kept.
def test_pca_roundoff_cut_is_scale_times_d_eps_squared():
    from trainlab.data.preprocess import PCA

    eps = np.finfo(np.float64).eps
    n, d = 1000, 200
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d))
    x[:, -1] = x[:, 0] + rng.standard_normal(n) * np.sqrt(3.0 * d**1.5 * eps**2)
    xc = x - x.mean(0)
    lam = np.linalg.svd(xc, compute_uv=False) ** 2 / n
    s = lam[0] + (x.mean(0) ** 2).max()
    assert 3 * s * d * eps**2 < lam[-1] < s * (d * eps) ** 2 / 3  # (well inside the window)
    assert np.sum(lam > s * (d * eps) ** 2) == d - 1
    assert PCA().fit(x).n_components_ == d - 1


# Kills: preprocess.py _check_epsilon `if float((lam + epsilon).min()) <= cut:` -> `< cut`.
# _check_epsilon's docstring: epsilon "must keep every λ + ε off zero". All-zero training
# inputs have λ = 0 and a round-off cut of 0 (s = 0): with epsilon = 0 every λ + ε is zero, so
# whitening must refuse (it would divide by √0) rather than give inf/NaN.
@pytest.mark.parametrize("kind", ["zca", "pca_whiten"])
def test_whitening_all_zero_inputs_without_epsilon_is_an_error(kind):
    from trainlab.data.preprocess import make_preprocessor
    from trainlab.errors import UserError

    x = np.zeros((6, 3))
    with pytest.raises(UserError, match="singular"):
        make_preprocessor(kind, epsilon=0.0).fit(x)


# Kills: preprocess.py PCA._k `(lam > _round_off(...))` -> `(lam >= _round_off(...))`. PCA's
# docstring: None keeps the components "whose eigenvalue exceeds the round-off" (strictly),
# and at least one. Constant training inputs span no direction: λ = 0 = the cut (s = 0 for
# all-zero inputs), so one component is kept, not all three.
def test_pca_none_on_all_zero_inputs_keeps_one_component():
    from trainlab.data.preprocess import PCA

    p = PCA().fit(np.zeros((6, 3)))
    assert p.n_components_ == 1
    assert p.transform(np.ones((2, 3))).shape == (2, 1)


# Kills: preprocess.py _as_tensor `if isinstance(x, np.ndarray) and not x.dtype.isnative:` ->
# branch skipped (torch refuses non-native byte order). The module: transforms take tensors
# "or arrays"; a big-endian float64 array holds the same values. Expected: StandardScaler.
def test_standardize_accepts_big_endian_arrays():
    from sklearn.preprocessing import StandardScaler

    from trainlab.data.preprocess import Standardize

    x = np.random.default_rng(5).standard_normal((50, 4)) * [1.0, 2.0, 3.0, 4.0]
    xb = x.astype(">f8")
    out = Standardize().fit(xb).transform(xb).numpy()
    np.testing.assert_allclose(out, StandardScaler().fit_transform(x), atol=1e-12)
