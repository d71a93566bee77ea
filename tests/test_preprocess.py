"""Preprocessing: fitted on the training split only; the formulas; whitening gives identity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainlab.data import load, make_preprocessor
from trainlab.data.preprocess import PCA, ZCA, MeanSubtraction, Standardize
from trainlab.errors import UserError


def cov(x: torch.Tensor) -> torch.Tensor:
    x = x.reshape(len(x), -1).double()
    xc = x - x.mean(0)
    return xc.T @ xc / len(x)


@pytest.fixture(scope="module")
def raw():
    return load("digits", seed=5)


def test_mean_fitted_on_train_only(raw):
    ds = load("digits", seed=5, preprocess="mean")
    mu = raw.x_train.mean(0)
    assert torch.allclose(ds.x_train.mean(0), torch.zeros(1, 8, 8), atol=1e-6)
    assert torch.allclose(ds.x_test, raw.x_test - mu, atol=1e-6)
    assert torch.allclose(ds.x_val, raw.x_val - mu, atol=1e-6)
    assert ds.x_test.mean(0).abs().max() > 1e-3  # test statistics differ from train's


def test_standardize_guards_constant_features(raw):
    ds = load("digits", seed=5, preprocess="standardize")
    assert ds.input_shape == (1, 8, 8) and torch.isfinite(ds.x_train).all()
    std = raw.x_train.std(0, correction=0)
    live = std > 1e-6
    assert (~live).any()  # digits has always-blank pixels: the guard is exercised
    assert torch.allclose(
        ds.x_train.std(0, correction=0)[live], torch.ones(int(live.sum())), atol=1e-4
    )
    assert torch.all(ds.x_train[:, ~live] == 0)
    expect = (raw.x_test - raw.x_train.mean(0)) / torch.where(live, std, torch.ones_like(std))
    assert torch.allclose(ds.x_test, expect, atol=1e-5)
    assert ds.x_test.mean(0)[live].abs().max() > 1e-2


def test_pca_projection_shape_and_sklearn_agreement(raw):
    from sklearn.decomposition import PCA as SkPCA

    ds = load("digits", seed=5, preprocess="pca", pca_components=10)
    assert ds.input_shape == (10,) and ds.x_train.shape == (len(raw.y_train), 10)
    assert ds.x_test.shape == (len(raw.y_test), 10)
    sk = SkPCA(10).fit(raw.x_train.reshape(len(raw.x_train), -1).double().numpy())
    ours = ds.transform
    ours_c, sk_c = ours.components_.numpy(), sk.components_
    signs = np.sign((ours_c * sk_c).sum(1))  # each component agrees up to its sign
    np.testing.assert_allclose(ours_c, sk_c * signs[:, None], atol=1e-6)
    n = len(raw.x_train)
    np.testing.assert_allclose(ours.eigenvalues_.numpy(), sk.explained_variance_ * (n - 1) / n)
    # projected training data: uncorrelated, variances = eigenvalues (descending)
    c = cov(ds.x_train)
    assert torch.allclose(c, torch.diag(ours.eigenvalues_), atol=1e-5)
    assert torch.all(ours.eigenvalues_[:-1] >= ours.eigenvalues_[1:])


def test_pca_full_rank_is_a_rotation():
    x = torch.randn(200, 6, generator=torch.Generator().manual_seed(0)) @ torch.randn(
        6, 6, generator=torch.Generator().manual_seed(1)
    )
    t = PCA().fit(x)
    z = t.transform(x)
    assert z.shape == (200, 6)
    d_in, d_out = torch.cdist(x[:20], x[:20]), torch.cdist(z[:20], z[:20])
    assert torch.allclose(d_in, d_out, atol=1e-4)
    u = t.components_
    assert torch.allclose(u @ u.T, torch.eye(6, dtype=u.dtype), atol=1e-10)


def test_pca_fraction_of_variance(raw):
    t = PCA(0.9).fit(raw.x_train)
    assert t.explained_variance_ratio_.sum() >= 0.9
    assert t.explained_variance_ratio_[:-1].sum() < 0.9  # the fewest that reach it
    with pytest.raises(UserError, match=r"pca_components=65 is out of range.*1\.\.64"):
        load("digits", preprocess="pca", pca_components=65)
    with pytest.raises(UserError, match="pca_components=1.5"):
        load("digits", preprocess="pca", pca_components=1.5)


def test_pca_whiten_identity_covariance_on_train(raw):
    ds = load("digits", seed=5, preprocess="pca_whiten", pca_components=20, epsilon=1e-8)
    assert ds.input_shape == (20,)
    assert torch.allclose(cov(ds.x_train), torch.eye(20, dtype=torch.float64), atol=1e-4)
    # fitted on train only: test covariance is not the identity
    assert (cov(ds.x_test) - torch.eye(20, dtype=torch.float64)).abs().max() > 0.05


def test_zca_identity_covariance_and_formula():
    ds = load("blobs", n_samples=600, dim=6, classes=3, preprocess="zca", epsilon=1e-9)
    assert ds.input_shape == (6,)
    assert torch.allclose(cov(ds.x_train), torch.eye(6, dtype=torch.float64), atol=1e-4)
    t = ds.transform
    assert isinstance(t, ZCA)
    w = t.whitening_
    assert torch.allclose(w, w.T, atol=1e-12)  # W = U diag(1/sqrt(λ+ε)) Uᵀ is symmetric
    # with a larger epsilon the covariance is U diag(λ/(λ+ε)) Uᵀ, not I
    raw = load("blobs", n_samples=600, dim=6, classes=3)
    eps = 0.5
    z = ZCA(eps).fit(raw.x_train)
    lam = z.eigenvalues_
    c_in = cov(raw.x_train)
    _, u = torch.linalg.eigh(c_in)
    u = u.flip(1)
    expect = u @ torch.diag(lam / (lam + eps)) @ u.T
    assert torch.allclose(cov(z.transform(raw.x_train)), expect, atol=1e-4)


def test_zca_keeps_image_shape_and_equals_rotated_pca_whitening(raw):
    ds = load("digits", seed=5, preprocess="zca", epsilon=0.1)
    assert ds.input_shape == (1, 8, 8) and ds.x_test.shape[1:] == (1, 8, 8)
    # all 64 components: ZCA keeps the zero-variance directions (scaled by 1/√ε), where
    # PCA(None) keeps only the directions the training inputs span
    p = PCA(64, whiten=True, epsilon=0.1).fit(raw.x_train)
    via_pca = p.transform(raw.x_test).double() @ p.components_  # (N, D): rotate back
    assert torch.allclose(ds.x_test.reshape(len(ds.x_test), -1).double(), via_pca, atol=1e-4)


def test_zca_singular_without_epsilon_is_a_clear_error(raw):
    with pytest.raises(UserError, match="singular.*pass epsilon>0"):
        ZCA(0.0).fit(raw.x_train)  # digits has zero-variance pixels
    with pytest.raises(UserError, match="epsilon must be a number >= 0"):
        ZCA(-1.0).fit(raw.x_train)


def test_transform_checks_shape_and_fit():
    with pytest.raises(UserError, match="not fitted"):
        MeanSubtraction().transform(torch.zeros(3, 4))
    t = Standardize().fit(torch.randn(10, 4))
    with pytest.raises(UserError, match=r"fitted on inputs of shape \(4,\), got \(5,\)"):
        t.transform(torch.zeros(3, 5))
    with pytest.raises(UserError, match="at least 2 samples"):
        Standardize().fit(torch.zeros(1, 4))
    out = t.transform(np.ones((2, 4), dtype=np.float32))  # numpy works too
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    with pytest.raises(UserError, match=r"unknown preprocessing 'pcaa'"):
        make_preprocessor("pcaa")


@pytest.mark.parametrize(("name", "opts"), [("zca", {}), ("pca_whiten", {"pca_components": 8})])
def test_whitening_catches_round_off_singular_covariance(name, opts):
    """Rank 3 of 8: the null eigenvalues come out as ±1e-17 round-off, not exactly 0; with
    epsilon=0 they would blow the outputs up by 1e8, so they count as zero (relative tol)."""
    g = np.random.default_rng(1)
    a = g.random((200, 3)).astype(np.float32)
    x = np.concatenate([a, a @ g.random((3, 5)).astype(np.float32)], 1)
    with pytest.raises(UserError, match="singular.*pass epsilon>0"):
        make_preprocessor(name, epsilon=0.0, **opts).fit(x)
    t = make_preprocessor(name, epsilon=1e-2, **opts).fit(x)
    assert float(t.transform(g.random((50, 8)).astype(np.float32)).abs().max()) < 1e3
    full = g.random((200, 8))  # full rank: epsilon=0 is fine
    assert torch.isfinite(make_preprocessor(name, epsilon=0.0, **opts).fit_transform(full)).all()


def test_pca_whiten_by_default_keeps_only_the_spanned_directions():
    """Rank-3 float64 inputs (in float32 the rounding of ``a @ M`` adds real, if tiny,
    variance): PCA(None) keeps their 3 directions, so epsilon=0 whitens them without touching
    the round-off ones (which it would blow up by ~1e8)."""
    g = np.random.default_rng(1)
    a = g.random((200, 3))
    x = np.concatenate([a, a @ g.random((3, 5))], 1)
    t = make_preprocessor("pca_whiten", epsilon=0.0).fit(x)
    assert t.n_components_ == 3
    assert float(t.transform(g.random((50, 8)).astype(np.float32)).abs().max()) < 1e3


def test_pca_components_follows_sklearn_int_or_fraction(raw):
    with pytest.raises(
        UserError, match=r"pca_components=1\.0 is a float.*\(0, 1\).*pca_components=1 "
    ):
        PCA(1.0).fit(raw.x_train)
    with pytest.raises(UserError, match=r"pca_components=2\.0 is a float"):
        PCA(2.0).fit(raw.x_train)
    with pytest.raises(UserError, match="pca_components must be an int"):
        PCA("10").fit(raw.x_train)
    assert PCA(1).fit(raw.x_train).n_components_ == 1
    assert PCA(np.int64(5)).fit(raw.x_train).n_components_ == 5
    assert (
        PCA(np.float64(0.9)).fit(raw.x_train).n_components_
        == PCA(0.9).fit(raw.x_train).n_components_
    )


def test_standardize_is_scale_invariant():
    """Features in small units (σ = 1e-9) are standardized, not taken for constant ones."""
    g = np.random.default_rng(0)
    x = g.normal(size=(50, 3)) * 1e-9
    out = Standardize().fit_transform(x)
    assert torch.allclose(out.std(0, correction=0), torch.ones(3, dtype=out.dtype), atol=1e-9)
    big = Standardize().fit_transform(x * 1e18)  # same data, other units: same outputs
    assert torch.allclose(out, big, atol=1e-9)
    const = np.tile(np.float32([0.1, 3e7, -2e-7]), (1000, 1))  # exactly constant columns
    assert torch.all(Standardize().fit_transform(const) == 0)


def test_pca_on_too_many_features_says_the_covariance_would_not_fit(monkeypatch):
    """A D×D covariance of 224×224×3 images would be 168 GiB: refused up front, by name."""
    from trainlab.data import preprocess

    monkeypatch.setattr(preprocess, "MAX_EIG_FEATURES", 16)
    x = torch.randn(40, 17, dtype=torch.float64)
    for name in ("pca", "pca_whiten", "zca"):
        with pytest.raises(UserError, match=r"PCA/ZCA on 17 features needs a 17×17 float64"):
            preprocess.make_preprocessor(name).fit(x)


def test_pca_components_beyond_the_training_samples_are_refused():
    """30 centred samples of 100-d inputs span at most 29 directions (scikit-learn allows
    min(N, D)); the 30th component would be an arbitrary direction with no variance."""
    x = torch.randn(30, 100, dtype=torch.float64)
    assert PCA(29).fit(x).n_components_ == 29
    with pytest.raises(UserError, match=r"pca_components=30 is more than the 30 training samples"):
        PCA(30).fit(x)
