"""RBM estimators: CD/PCD updates by hand, free energy and log Z by brute force, AIS,
scikit-learn compatibility, input errors, population equivalence."""

from __future__ import annotations

import itertools
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import check_estimator

from conftest import random_bernoulli_rbm
from trainlab.pretrain import BernoulliRBM, GaussianBernoulliRBM
from trainlab.pretrain._engine import CDEngine, augment, split_params
from trainlab.pretrain.rbm import make_generators


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _tiny(seed: int = 0, v: int = 5, h: int = 3, k: int = 1):
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 0.5, (v, h))
    b = rng.normal(0, 0.3, v)
    c = rng.normal(0, 0.3, h)
    return w, b, c


def _engine(w, b, c, *, k_models=1, method="cd", k=1, lr=0.1, momentum=0.0, wd=0.0, chain=4):
    wa = augment(
        torch.tensor(w, dtype=torch.float64)[None].repeat(k_models, 1, 1),
        torch.tensor(b, dtype=torch.float64)[None].repeat(k_models, 1),
        torch.tensor(c, dtype=torch.float64)[None].repeat(k_models, 1),
    )
    gens = [make_generators(i, torch.device("cpu")) for i in range(k_models)]
    return CDEngine(
        wa,
        lr=lr,
        momentum=momentum,
        weight_decay=wd,
        k=k,
        method=method,
        chain_size=chain,
        generators=gens,
    )


def _hand_cd(w, b, c, v, lv, lh, lr, chain_h=None):
    """CD-1 (or PCD-1 when chain_h is given) update written out in numpy."""
    hp = sig(v @ w + c)
    h0 = (v @ w + c > lh[0]).astype(float) if chain_h is None else chain_h
    vn = (h0 @ w.T + b > lv[0]).astype(float)
    hn = sig(vn @ w + c)
    dw = lr * (v.T @ hp / len(v) - vn.T @ hn / len(vn))
    db = lr * (v.mean(0) - vn.mean(0))
    dc = lr * (hp.mean(0) - hn.mean(0))
    new_chain = (vn @ w + c > lh[0]).astype(float)
    return w + dw, b + db, c + dc, new_chain


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_cd1_update_matches_hand_computation(backend):
    w, b, c = _tiny()
    rng = np.random.default_rng(1)
    v = (rng.random((4, 5)) < 0.5).astype(float)
    eng = _engine(w, b, c, method="cd", lr=0.1)
    eng.backend = backend
    lv = torch.tensor(rng.logistic(size=(1, 1, 4, 5)))
    lh = torch.tensor(rng.logistic(size=(1, 1, 4, 3)))
    va = torch.cat([torch.tensor(v), torch.ones(4, 1, dtype=torch.float64)], 1)[None]
    eng.step(va, lv, lh)
    w1, b1, c1, _ = _hand_cd(w, b, c, v, lv[:, 0].numpy(), lh[:, 0].numpy(), 0.1)
    W, B, C = (t[0].numpy() for t in split_params(eng.wa))
    np.testing.assert_allclose(W, w1, atol=1e-12)
    np.testing.assert_allclose(B, b1, atol=1e-12)
    np.testing.assert_allclose(C, c1, atol=1e-12)
    assert not np.allclose(W, w)  # the update did something


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_pcd1_update_and_chain_match_hand_computation(backend):
    w, b, c = _tiny(2)
    rng = np.random.default_rng(3)
    v = (rng.random((6, 5)) < 0.5).astype(float)
    eng = _engine(w, b, c, method="pcd", lr=0.05, chain=4)
    eng.backend = backend
    chain = (rng.random((4, 3)) < 0.5).astype(float)
    eng.chains[0, :, :3] = torch.tensor(chain)
    lv = torch.tensor(rng.logistic(size=(1, 1, 4, 5)))
    lh = torch.tensor(rng.logistic(size=(1, 1, 4, 3)))
    va = torch.cat([torch.tensor(v), torch.ones(6, 1, dtype=torch.float64)], 1)[None]
    eng.step(va, lv, lh)
    w1, b1, c1, new_chain = _hand_cd(
        w, b, c, v, lv[:, 0].numpy(), lh[:, 0].numpy(), 0.05, chain_h=chain
    )
    W, B, C = (t[0].numpy() for t in split_params(eng.wa))
    np.testing.assert_allclose(W, w1, atol=1e-12)
    np.testing.assert_allclose(B, b1, atol=1e-12)
    np.testing.assert_allclose(C, c1, atol=1e-12)
    np.testing.assert_array_equal(eng.chains[0, :, :3].numpy(), new_chain)


@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_numpy_and_torch_backends_agree_with_momentum_decay_and_k(method):
    w, b, c = _tiny(4, v=8, h=6)
    x = torch.tensor((np.random.default_rng(5).random((37, 8)) < 0.4).astype(float))
    kw = dict(method=method, k=2, lr=0.05, momentum=0.5, wd=1e-3, chain=5)
    e1, e2 = _engine(w, b, c, **kw), _engine(w, b, c, **kw)
    e2.backend = "torch"
    assert e1.backend == "numpy"
    for _ in range(3):
        e1.epoch(x, 5)
        e2.epoch(x, 5)
    torch.testing.assert_close(e1.wa, e2.wa, rtol=0, atol=1e-10)
    assert not torch.allclose(e1.wa, augment(*(torch.tensor(a)[None] for a in (w, b, c))))


def test_population_member_equals_model_trained_alone():
    w, b, c = _tiny(6, v=8, h=6)
    x = torch.tensor((np.random.default_rng(7).random((23, 8)) < 0.4).astype(float))
    lrs = torch.tensor([0.05, 0.1], dtype=torch.float64)
    pop = _engine(w, b, c, k_models=2, method="pcd", lr=lrs, momentum=0.3, chain=5)
    solo = _engine(w, b, c, k_models=1, method="pcd", lr=0.1, momentum=0.3, chain=5)
    solo.gens = [make_generators(1, torch.device("cpu"))]  # model 1's own streams
    for _ in range(2):
        pop.epoch(x, 5)
        solo.epoch(x, 5)
    torch.testing.assert_close(pop.wa[1], solo.wa[0], rtol=0, atol=1e-10)
    assert not torch.allclose(pop.wa[0], pop.wa[1])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_logistic_noise_has_the_logistic_distribution_and_follows_its_generator(dtype):
    """``h = 1[a > L]`` samples Bernoulli(sigmoid(a)) only if L is logistic: its CDF must be
    sigmoid, and the draw must depend on the model's generator alone (a fixed seed repeats
    it, another seed changes it), so a model's chain is the same alone or in a population."""
    from scipy.stats import kstest, logistic

    eng = _engine(*_tiny(), method="pcd")
    eng.wa = eng.wa.to(dtype)
    eng.dtype = dtype

    def draw(seed):
        return eng._logistic(make_generators(seed, torch.device("cpu"))[1], (4, 1, 50, 100))

    noise = draw(3)
    assert noise.dtype == dtype and noise.shape == (4, 1, 50, 100)
    assert kstest(noise.double().flatten().numpy(), logistic.cdf).pvalue > 1e-3
    torch.testing.assert_close(draw(3), noise, rtol=0, atol=0)
    assert not torch.equal(draw(4), noise)


def _brute_free_energy(w, b, c, v):
    hs = np.array(list(itertools.product([0, 1], repeat=len(c))), dtype=float)
    e = -(v @ b)[:, None] - (hs @ c)[None, :] - v @ w @ hs.T  # (N, 2^H)
    return -np.log(np.exp(-e).sum(1))


def test_free_energy_matches_brute_force():
    X = (np.random.default_rng(0).random((20, 5)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=3, n_iter=3, batch_size=4, random_state=0).fit(X)
    w, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
    np.testing.assert_allclose(rbm.free_energy(X), _brute_free_energy(w, b, c, X), rtol=1e-10)


def test_score_samples_is_sklearn_pseudo_likelihood():
    X = (np.random.default_rng(0).random((30, 6)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=4, n_iter=2, random_state=3).fit(X)
    rng = np.random.RandomState(3)
    idx = (np.arange(30), rng.randint(0, 6, 30))
    Xf = X.copy()
    Xf[idx] = 1 - Xf[idx]
    w, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
    fe, fe_f = _brute_free_energy(w, b, c, X), _brute_free_energy(w, b, c, Xf)
    expected = 6 * np.log(sig(fe_f - fe))
    np.testing.assert_allclose(rbm.score_samples(X), expected, rtol=1e-8)


def test_gaussian_free_energy_matches_numeric_integral_over_h():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(15, 4))
    rbm = GaussianBernoulliRBM(n_components=3, n_iter=2, learn_variance=True, random_state=0)
    rbm.fit(X)
    w, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
    s2 = np.exp(rbm.log_variance_)
    hs = np.array(list(itertools.product([0, 1], repeat=3)), dtype=float)
    e = (((X - b) ** 2) / (2 * s2)).sum(1)[:, None] - (X / s2) @ w @ hs.T - (hs @ c)[None, :]
    np.testing.assert_allclose(rbm.free_energy(X), -np.log(np.exp(-e).sum(1)), rtol=1e-8)
    assert rbm.log_variance_.shape == (4,) and np.abs(rbm.log_variance_).max() > 0


def test_training_lowers_reconstruction_error_and_learns_features():
    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    rbm = BernoulliRBM(n_components=32, learning_rate=0.06, n_iter=8, random_state=0, verbose=0)
    err0 = BernoulliRBM(n_components=32, n_iter=0, random_state=0).fit(X)
    h = rbm.fit(X).transform(X)
    assert h.shape == (600, 32) and h.dtype == np.float64
    rec = lambda m: ((sig(m.transform(X) @ m.components_ + m.intercept_visible_) - X) ** 2).mean()  # noqa: E731
    assert rec(rbm) < 0.6 * rec(err0)
    assert rbm.score_samples(X).mean() > err0.score_samples(X).mean()


def test_fit_is_reproducible_and_seed_dependent():
    X = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(float)
    a = BernoulliRBM(n_components=5, n_iter=3, random_state=1).fit(X).components_
    b = BernoulliRBM(n_components=5, n_iter=3, random_state=1).fit(X).components_
    c = BernoulliRBM(n_components=5, n_iter=3, random_state=2).fit(X).components_
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_partial_fit_gibbs_and_pickle():
    X = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=5, batch_size=8, random_state=0)
    for i in range(0, 40, 8):
        rbm.partial_fit(X[i : i + 8])
    assert rbm.components_.shape == (5, 6) and rbm.h_samples_.shape == (8, 5)
    before = rbm.components_.copy()
    rbm.partial_fit(X[:8])
    assert not np.allclose(before, rbm.components_)
    v = rbm.gibbs(X[:3])
    assert v.shape == (3, 6) and v.dtype == bool
    again = pickle.loads(pickle.dumps(rbm))
    np.testing.assert_array_equal(again.transform(X), rbm.transform(X))


@pytest.mark.parametrize(
    "X, match",
    [
        (np.full((5, 4), 2.0), r"inputs in \[0, 1\].*MinMaxScaler"),
        (np.full((5, 4), -0.5), r"inputs in \[0, 1\]"),
        (np.array([[0.0, np.nan, 0.5, 1.0]] * 3), "NaN"),
    ],
)
def test_bad_inputs_give_clear_errors(X, match):
    with pytest.raises(ValueError, match=match):
        BernoulliRBM(n_components=2, n_iter=1).fit(X)


def test_wrong_feature_count_at_transform():
    rbm = BernoulliRBM(n_components=2, n_iter=1).fit(np.random.default_rng(0).random((10, 4)))
    with pytest.raises(ValueError, match="3 features.*expecting 4"):
        rbm.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rbm.transform(np.full((2, 4), 3.0))
    with pytest.raises(ValueError, match="method"):
        BernoulliRBM(method="nope").fit(np.zeros((3, 4)))


class _UncheckedRangeRBM(BernoulliRBM):
    """The estimator with the [0, 1] input check off: runs every sklearn check on the fit code."""

    def _check_values(self, X, source_dtype=None):
        return None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = False  # (any real input is taken)
        return tags


# scikit-learn's generic checks feed Gaussian blobs (values outside [0, 1]) to fit/transform;
# BernoulliRBM rejects them by design. These checks pass on _UncheckedRangeRBM below.
_RANGE_REASON = "generic data outside [0, 1]; BernoulliRBM rejects it by design"
_EXPECTED_FAILURES = {
    name: _RANGE_REASON
    for name in [
        "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self",
        "check_readonly_memmap_input",
        "check_n_features_in_after_fitting",
        "check_estimators_dtypes",
        "check_pipeline_consistency",
        "check_estimators_pickle",
        "check_f_contiguous_array_estimator",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_transformer_preserve_dtypes",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit2d_1sample",
        "check_fit2d_1feature",
        "check_dict_unchanged",
        "check_fit_idempotent",
        "check_fit_check_is_fitted",
        "check_n_features_in",
        "check_fit2d_predict1d",
    ]
}


# score_samples flips one random coordinate per sample (as scikit-learn's BernoulliRBM, for
# which scikit-learn lists the same two expected failures).
_STOCHASTIC_SCORE = {
    "check_methods_sample_order_invariance": "score_samples flips random coordinates",
    "check_methods_subset_invariance": "score_samples flips random coordinates",
}


@pytest.mark.parametrize(
    "estimator, expected_failed",
    [
        (BernoulliRBM(n_components=3, n_iter=2, random_state=0), _EXPECTED_FAILURES),
        (_UncheckedRangeRBM(n_components=3, n_iter=2, random_state=0), _STOCHASTIC_SCORE),
        (GaussianBernoulliRBM(n_components=3, n_iter=2, random_state=0), {}),
        (BernoulliRBM(n_components=3, n_iter=2, method="cd", momentum=0.5, random_state=0), None),
    ],
    ids=["bernoulli", "bernoulli-unchecked-range", "gaussian", "bernoulli-cd-momentum"],
)
def test_sklearn_check_estimator(estimator, expected_failed):
    if expected_failed is None:
        expected_failed = _EXPECTED_FAILURES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=expected_failed, on_fail=None)
    bad = [r for r in results if r["status"] == "failed"]
    assert not bad, [(r["check_name"], str(r["exception"])[:200]) for r in bad]


def test_pipeline_gridsearch_and_clone():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    pipe = Pipeline(
        [
            ("rbm", BernoulliRBM(n_components=32, n_iter=10, random_state=0)),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    search = GridSearchCV(pipe, {"rbm__learning_rate": [0.01, 0.5]}, cv=2).fit(X, y)
    assert search.best_params_["rbm__learning_rate"] == 0.5
    assert search.best_score_ > 0.65  # scikit-learn's RBM: 0.75 here
    est = BernoulliRBM(n_components=7, k=2, method="cd", momentum=0.5, weight_decay=1e-4)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin is not est


# ---------------------------------------------------------------------------- log Z
_fitted = random_bernoulli_rbm  # (conftest)


def _brute_log_z(rbm) -> float:
    w, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
    vs = np.array(list(itertools.product([0, 1], repeat=len(b))), dtype=float)
    hs = np.array(list(itertools.product([0, 1], repeat=len(c))), dtype=float)
    neg_e = (vs @ b)[:, None] + (hs @ c)[None, :] + vs @ w @ hs.T
    m = neg_e.max()
    return float(m + np.log(np.exp(neg_e - m).sum()))


@pytest.mark.parametrize("v, h", [(6, 4), (4, 7)])  # enumerate h, then enumerate v
def test_exact_log_partition_matches_brute_force(v, h):
    from trainlab.pretrain import exact_log_partition

    rbm = _fitted(v, h, seed=v)
    assert exact_log_partition(rbm, chunk=5) == pytest.approx(_brute_log_z(rbm), abs=1e-9)


def test_exact_log_partition_refuses_large_models():
    from trainlab.pretrain import exact_log_partition

    with pytest.raises(ValueError, match="ais_log_partition"):
        exact_log_partition(_fitted(30, 25))


def test_gaussian_exact_log_partition_matches_numeric_integral():
    from trainlab.pretrain import exact_log_partition

    rbm = GaussianBernoulliRBM(n_components=3, n_iter=0).fit(np.zeros((2, 1)))
    rbm.components_ = np.array([[0.7], [-0.4], [1.1]])
    rbm.intercept_visible_ = np.array([0.3])
    rbm.intercept_hidden_ = np.array([0.2, -0.5, 0.1])
    rbm.log_variance_ = np.array([np.log(0.6)])
    grid = np.linspace(-15, 15, 60001)[:, None]
    neg_f = -rbm.free_energy(grid)
    log_z = np.log(np.trapezoid(np.exp(neg_f), grid[:, 0]))
    assert exact_log_partition(rbm) == pytest.approx(log_z, abs=1e-6)


def test_ais_agrees_with_exact_log_partition():
    from trainlab.pretrain import ais_log_partition, exact_log_partition

    X, _ = load_digits(return_X_y=True)
    X = (X[:400, ::4] / 16.0 > 0.4).astype(float)  # 16 binary pixels
    rbm = BernoulliRBM(n_components=10, learning_rate=0.1, n_iter=10, random_state=0).fit(X)
    exact = exact_log_partition(rbm)
    res = ais_log_partition(rbm, n_betas=1500, n_runs=64, base_rate=X.mean(0), random_state=0)
    assert abs(res.log_z - exact) < 0.1, (res.log_z, exact)
    assert res.log_z_low <= exact + 0.1 and exact - 0.1 <= res.log_z_high
    # and the log-likelihood it implies beats the untrained model's
    from trainlab.pretrain import log_likelihood

    ll = log_likelihood(rbm, X, exact).mean()
    base = _fitted(16, 10, scale=0.0)
    assert ll > log_likelihood(base, X, exact_log_partition(base)).mean()


def test_ais_rejects_bad_settings():
    from trainlab.errors import UserError
    from trainlab.pretrain import ais_log_partition

    rbm = _fitted(16, 4)
    with pytest.raises(UserError, match="base_rate must be 16"):
        ais_log_partition(rbm, base_rate=np.full(10, 0.5))
    with pytest.raises(UserError, match="integers n_betas"):
        ais_log_partition(rbm, n_betas=2.5)


@pytest.mark.parametrize("learn_variance", [False, True])
def test_gaussian_rbm_learns_standardized_digits(learn_variance):
    X, _ = load_digits(return_X_y=True)
    X = X[:500]
    X = (X - X.mean(0)) / (X.std(0) + 1e-3)

    def rec(m):
        mean = m.transform(X) @ m.components_ + m.intercept_visible_
        return ((mean - X) ** 2).mean()

    kw = dict(n_components=32, learning_rate=0.01, learn_variance=learn_variance, random_state=0)
    before = GaussianBernoulliRBM(n_iter=0, **kw).fit(X)
    after = GaussianBernoulliRBM(n_iter=15, **kw).fit(X)
    assert rec(after) < 0.7 * rec(before)
    assert np.isfinite(after.free_energy(X)).all()
    assert (np.abs(after.log_variance_) > 0).any() == learn_variance
    v = after.gibbs(X[:4])
    assert v.shape == (4, 64) and v.dtype == np.float64


def test_device_errors_are_clear():
    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ValueError, match="no CUDA device is available"):
        BernoulliRBM(n_components=2, n_iter=1, device="cuda").fit(np.zeros((3, 4)))


def test_sparse_input_fits_like_dense():
    import scipy.sparse as sp

    X = (np.random.default_rng(0).random((60, 6)) < 0.3).astype(float)
    dense = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(X)
    sparse = BernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(dense.components_, sparse.components_)
    np.testing.assert_array_equal(dense.transform(X), sparse.transform(sp.csc_matrix(X)))
    sparse.partial_fit(sp.csr_matrix(X[:10]))


def test_set_params_after_fit_changes_the_next_fit_not_the_fitted_model():
    X = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=5, batch_size=8, n_iter=1, random_state=0).fit(X)
    rbm.set_params(batch_size=20).partial_fit(X[:20])  # the chains keep their 8 particles
    assert rbm.h_samples_.shape == (8, 5)
    assert rbm.set_params(n_components=3).gibbs(X[:2]).shape == (2, 6)
    assert rbm.fit(X).components_.shape == (3, 6)  # a new fit uses the new parameters
    cd = BernoulliRBM(n_components=4, method="cd", n_iter=1, random_state=0).fit(X)
    cd.set_params(method="pcd").partial_fit(X[:10])  # chains start from zeros
    assert cd.h_samples_.shape == (10, 4)
    with pytest.raises(ValueError, match="'k' parameter"):
        cd.set_params(k=0).partial_fit(X[:10])


def test_small_cpu_threads_reuses_one_threadpool_controller(monkeypatch):
    """``threadpool_limits`` rescans the loaded libraries on every call (~6 ms): that made a
    batch-10 ``partial_fit`` on digits ~10x slower than scikit-learn's."""
    import threadpoolctl

    built = []
    original = threadpoolctl.ThreadpoolController.__init__

    def counting_init(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "__init__", counting_init)
    X = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=3, random_state=0)
    for i in range(0, 40, 10):
        rbm.partial_fit(X[i : i + 10])
    rbm.set_params(n_iter=2).fit(X)
    assert len(built) <= 1


def test_minmax_pipeline_under_cross_validation_needs_clip_and_says_so():
    """A scaler fitted on a training fold maps held-out values outside [0, 1]: the error must
    name the fix (``MinMaxScaler(clip=True)``), with which the pipeline cross-validates."""
    from sklearn.model_selection import cross_val_score
    from sklearn.preprocessing import MinMaxScaler

    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]
    rbm = BernoulliRBM(n_components=8, n_iter=2, random_state=0)
    held_out = MinMaxScaler().fit(X[:100]).transform(X[100:])
    assert held_out.max() > 1.0
    with pytest.raises(ValueError, match=r"MinMaxScaler\(clip=True\).*held-out"):
        rbm.fit(MinMaxScaler().fit_transform(X[:100])).transform(held_out)
    pipe = Pipeline(
        [("scale", MinMaxScaler(clip=True)), ("rbm", rbm), ("clf", LogisticRegression())]
    )
    scores = cross_val_score(pipe, X, y, cv=2, error_score="raise")  # not NaN + a warning
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
def test_diverged_training_raises_instead_of_returning_nan_weights(cls):
    X, _ = load_digits(return_X_y=True)
    X = X[:300]
    if cls is BernoulliRBM:  # Bernoulli units on [0, 1] data overflow only at absurd rates
        X, lr, fix = X / 16.0, 1e300, "lower learning_rate$"
    else:  # Gaussian units already diverge at 0.5 on standardized digits
        X, lr, fix = (
            (X - X.mean(0)) / (X.std(0) + 1e-3),
            0.5,
            "lower learning_rate and standardize.*Scaler",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow warnings
        with pytest.raises(ValueError, match=rf"{cls.__name__} training diverged.*{fix}"):
            cls(n_components=16, n_iter=3, learning_rate=lr, random_state=0).fit(X)
        if cls is BernoulliRBM:
            with pytest.raises(ValueError, match="training diverged"):
                cls(n_components=16, learning_rate=lr, random_state=0).partial_fit(X)


def test_cd_refit_drops_the_chains_of_an_earlier_pcd_fit():
    X = (np.random.default_rng(0).random((40, 6)) < 0.5).astype(float)
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    assert rbm.h_samples_.shape == (10, 3)
    rbm.set_params(method="cd").fit(X)
    assert not hasattr(rbm, "h_samples_")  # "PCD only": no stale chains of another model
    rbm.set_params(method="pcd").partial_fit(X[:5])  # PCD again starts fresh chains
    assert rbm.h_samples_.shape == (10, 3)


def test_read_only_input_fits_without_a_torch_warning():
    """Read-only arrays (a read-only memmap; pandas DataFrames under copy-on-write) made
    torch warn "The given NumPy array is not writable ... undefined behavior" in ``fit``.
    torch warns once per process, hence the fresh interpreter."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from trainlab.pretrain import BernoulliRBM, GaussianBernoulliRBM, RBMPopulation, "
        "StackedDenoisingAutoencoder\n"
        "for dt in (np.float64, np.float32):\n"
        "    X = (np.random.default_rng(0).random((30, 4)) < 0.5).astype(dt)\n"
        "    X.setflags(write=False)\n"
        "    BernoulliRBM(n_components=2, n_iter=1).fit(X).partial_fit(X)\n"
        "    GaussianBernoulliRBM(n_components=2, n_iter=1).fit(X)\n"
        "    RBMPopulation(2, seeds=[0, 1], n_iter=1, monitor=0).fit(X)\n"
        "    StackedDenoisingAutoencoder([2], n_iter=1).fit(X)\n"
    )
    res = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]


def test_ais_takes_a_random_state_like_the_estimators():
    from trainlab.errors import UserError
    from trainlab.pretrain import ais_log_partition

    rbm = _fitted(8, 3)
    kw = dict(n_betas=50, n_runs=4)
    a = ais_log_partition(rbm, random_state=np.random.RandomState(1), **kw)
    b = ais_log_partition(rbm, random_state=np.random.RandomState(1), **kw)
    assert a.log_z == b.log_z and np.isfinite(ais_log_partition(rbm, random_state=None, **kw).log_z)
    assert (
        ais_log_partition(rbm, random_state=3, **kw).log_z
        == ais_log_partition(rbm, random_state=np.int64(3), **kw).log_z
    )
    with pytest.raises(UserError, match="random_state must be"):
        ais_log_partition(rbm, random_state="seed", **kw)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_minmax_scaled_data_with_rounding_above_one_is_accepted(dtype):
    """``MinMaxScaler().fit_transform`` puts some values an ulp above 1 (here 1 + 2.2e-16 in
    float64): the fit refused its own scaler's output with "needs inputs in [0, 1] but got
    values in [0, 1]"."""
    from sklearn.preprocessing import MinMaxScaler

    from trainlab.pretrain import StackedDenoisingAutoencoder

    raw = np.array([[0.01, 0.5], [1.08, 0.2], [0.5, 0.9]], dtype=dtype)
    if dtype == np.float32:
        raw = (100 + np.random.default_rng(0).normal(size=(2000, 20))).astype(dtype)
    X = MinMaxScaler().fit_transform(raw)
    assert X.max() > 1.0 and X.dtype == dtype
    rbm = BernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(X)
    assert np.isfinite(rbm.transform(X)).all() and np.isfinite(rbm.score_samples(X)).all()
    StackedDenoisingAutoencoder([2], n_iter=1).fit(X)
    for bad in (1.0 + 1e-3, -1e-3):  # a real excursion still fails
        with pytest.raises(ValueError, match=r"inputs in \[0, 1\]"):
            rbm.transform(np.full((1, X.shape[1]), bad, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_gibbs_keeps_the_input_dtype(dtype):
    """Like transform (and scikit-learn's estimators), a float32 input gives float32 samples."""
    X = np.random.default_rng(0).standard_normal((40, 5)).astype(dtype)
    rbm = GaussianBernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    assert rbm.gibbs(X).dtype == dtype and rbm.transform(X).dtype == dtype


def test_every_population_member_records_the_feature_names_it_was_fitted_on():
    pd = pytest.importorskip("pandas")
    from trainlab.pretrain import RBMPopulation

    X = (np.random.default_rng(0).random((30, 4)) < 0.5).astype(float)
    frame = pd.DataFrame(X, columns=["px0", "px1", "px2", "px3"])
    solo = BernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(frame)
    assert list(solo.feature_names_in_) == ["px0", "px1", "px2", "px3"]
    pop = RBMPopulation(2, seeds=[0, 1, 2], n_iter=1).fit(frame)
    for est in pop.estimators_:
        assert list(est.feature_names_in_) == list(solo.feature_names_in_)
