"""Mutation review mut39l: BernoulliRBM / GaussianBernoulliRBM sampling, parameter plumbing and
the denoising autoencoder's objective. Expected values come from scikit-learn's BernoulliRBM or
from the formulas written out in numpy here, never from trainlab itself."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.neural_network import BernoulliRBM as SkRBM

from trainlab.pretrain import BernoulliRBM, GaussianBernoulliRBM


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _with_params(est, v=6, h=4, seed=0, log_var=False):
    """``est`` fitted on tiny data, then given hand-picked parameters with visible biases and
    weights large enough that every term of the conditionals matters."""
    rng = np.random.default_rng(seed)
    X = (rng.random((12, v)) < 0.5).astype(float)
    est.set_params(n_components=h, n_iter=1, batch_size=4, random_state=0).fit(X)
    est.components_ = rng.normal(0, 1.5, (h, v))
    est.intercept_hidden_ = rng.normal(0, 1.0, h)
    est.intercept_visible_ = rng.normal(0, 2.0, v)
    if log_var:
        est.log_variance_ = rng.normal(0, 0.7, v)
    return est, X


def test_bernoulli_gibbs_is_sklearns_gibbs_step_draw_for_draw():
    rbm, _ = _with_params(BernoulliRBM())
    sk = SkRBM(n_components=4)
    sk.components_ = rbm.components_.copy()
    sk.intercept_hidden_ = rbm.intercept_hidden_.copy()
    sk.intercept_visible_ = rbm.intercept_visible_.copy()
    v = (np.random.default_rng(9).random((200, 6)) < 0.5).astype(float)
    rbm.random_state_ = np.random.RandomState(7)
    sk.random_state_ = np.random.RandomState(7)
    for _ in range(3):  # the shared stream advances alike
        ours, theirs = rbm.gibbs(v), sk.gibbs(v)
        assert ours.dtype == bool
        np.testing.assert_array_equal(ours, theirs)


def test_bernoulli_gibbs_by_hand_with_its_random_stream():
    rbm, _ = _with_params(BernoulliRBM(), seed=3)
    v = (np.random.default_rng(4).random((300, 6)) < 0.5).astype(float)
    rbm.random_state_ = np.random.RandomState(11)
    rs = np.random.RandomState(11)
    W, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
    h = rs.uniform(size=(300, 4)) < sig(c + v @ W)
    expected = rs.uniform(size=(300, 6)) < sig(b + h @ W.T)
    np.testing.assert_array_equal(rbm.gibbs(v), expected)


def test_bernoulli_gibbs_visible_marginal_follows_the_visible_bias():
    # W = 0: p(v_i = 1 | h) = sigmoid(b_i) whatever h; the draws' frequencies follow it
    rbm, _ = _with_params(BernoulliRBM())
    rbm.components_ = np.zeros_like(rbm.components_)
    rbm.intercept_visible_ = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.5])
    rbm.random_state_ = np.random.RandomState(0)
    v = rbm.gibbs(np.zeros((20000, 6)))
    np.testing.assert_allclose(v.mean(0), sig(rbm.intercept_visible_), atol=0.015)


def test_gaussian_gibbs_by_hand_with_learned_variance():
    rbm, _ = _with_params(GaussianBernoulliRBM(), seed=5, log_var=True)
    v = np.random.default_rng(6).normal(size=(50, 6))
    rbm.random_state_ = np.random.RandomState(13)
    rs = np.random.RandomState(13)
    W, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
    s2 = np.exp(rbm.log_variance_)
    h = rs.uniform(size=(50, 4)) < sig(c + (v / s2) @ W)
    expected = b + h @ W.T + np.sqrt(s2) * rs.standard_normal((50, 6))
    np.testing.assert_allclose(rbm.gibbs(v), expected, rtol=1e-12, atol=1e-12)


def test_gaussian_transform_divides_by_the_variance():
    rbm, _ = _with_params(GaussianBernoulliRBM(), seed=8, log_var=True)
    v = np.random.default_rng(6).normal(size=(10, 6))
    W, c = rbm.components_.T, rbm.intercept_hidden_
    expected = sig(c + (v / np.exp(rbm.log_variance_)) @ W)
    np.testing.assert_allclose(rbm.transform(v), expected, rtol=1e-12)


def test_gaussian_score_samples_is_minus_the_free_energy_by_hand():
    rbm, _ = _with_params(GaussianBernoulliRBM(), seed=2, log_var=True)
    v = np.random.default_rng(1).normal(size=(10, 6))
    W, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_
    s2 = np.exp(rbm.log_variance_)
    F = (((v - b) ** 2) / (2 * s2)).sum(1) - np.logaddexp(0, c + (v / s2) @ W).sum(1)
    np.testing.assert_allclose(rbm.score_samples(v), -F, rtol=1e-12)


def test_bernoulli_defaults_are_scikit_learns():
    ours, theirs = BernoulliRBM().get_params(), SkRBM().get_params()
    shared = set(ours) & set(theirs)
    assert {"n_components", "learning_rate", "batch_size", "n_iter", "random_state"} <= shared
    for key in shared:
        assert ours[key] == theirs[key], key
    # the documented additions: CD-1 with persistent chains (scikit-learn's SML), no momentum
    assert (ours["k"], ours["method"], ours["momentum"], ours["weight_decay"]) == (1, "pcd", 0, 0)


def test_gaussian_defaults_are_the_documented_ones():
    p = GaussianBernoulliRBM().get_params()
    assert p["learning_rate"] == 0.01 and p["method"] == "cd" and p["k"] == 1
    assert p["n_components"] == 256 and p["batch_size"] == 10 and p["n_iter"] == 10
    assert p["learn_variance"] is False and p["momentum"] == 0 and p["weight_decay"] == 0


@pytest.mark.parametrize("cls", [BernoulliRBM, GaussianBernoulliRBM])
@pytest.mark.parametrize("momentum", [1.0, 1.5, -0.1])
def test_momentum_outside_zero_one_half_open_is_refused(cls, momentum):
    X = (np.random.default_rng(0).random((8, 3)) < 0.5).astype(float)
    with pytest.raises(ValueError, match="momentum"):
        cls(n_components=2, n_iter=1, momentum=momentum).fit(X)


# A saturated RBM (|pre-activations| >= 40) whose Gibbs chain is deterministic and moves at every
# step from v0 = (1, 0, 0): v1 = (0, 0, 0), v2 = (0, 1, 0), v3 = (0, 1, 1) (found by enumeration).
_A = 80.0
_W = _A * np.array([[0.0, -1, -1], [-1, 0, 1], [-1, 0, 1]])  # (V, H)
_B = _A * np.array([0.5, 0.5, -0.5])
_C = _A * np.array([0.5, 1.5, 0.5])


def _up(v):
    return (_C + v @ _W > 0).astype(float)


def _down(h):
    return (_B + h @ _W.T > 0).astype(float)


def _saturated_rbm(**kw):
    v0 = np.array([[1.0, 0.0, 0.0]])
    rbm = BernoulliRBM(n_components=3, n_iter=0, batch_size=1, random_state=0, **kw).fit(v0)
    rbm.components_ = _W.T.copy()
    rbm.intercept_visible_ = _B.copy()
    rbm.intercept_hidden_ = _C.copy()
    return rbm, v0


def test_the_saturated_chain_moves_at_every_step():
    v = np.array([1.0, 0.0, 0.0])
    seen = [v]
    for _ in range(3):
        v = _down(_up(v))
        seen.append(v)
    assert [tuple(s) for s in seen] == [(1, 0, 0), (0, 0, 0), (0, 1, 0), (0, 1, 1)]


@pytest.mark.parametrize("k", [1, 2, 3])
def test_cd_k_partial_fit_uses_the_chain_after_k_gibbs_steps(k):
    rbm, v0 = _saturated_rbm(method="cd", k=k, learning_rate=0.1)
    rbm.partial_fit(v0)
    vk = v0[0]
    for _ in range(k):
        vk = _down(_up(vk))
    h0, hk = _up(v0[0]), _up(vk)
    dw = 0.1 * (np.outer(v0[0], h0) - np.outer(vk, hk))  # <v h>_data - <v h>_model
    np.testing.assert_allclose(rbm.components_, (_W + dw).T, atol=1e-4)
    np.testing.assert_allclose(rbm.intercept_visible_, _B + 0.1 * (v0[0] - vk), atol=1e-4)
    np.testing.assert_allclose(rbm.intercept_hidden_, _C + 0.1 * (h0 - hk), atol=1e-4)


@pytest.mark.parametrize("momentum, decay", [(0.5, 0.0), (0.0, 0.01), (0.9, 0.02)])
def test_two_partial_fits_follow_the_documented_momentum_and_decay_update(momentum, decay):
    lr = 0.1
    rbm, v0 = _saturated_rbm(method="cd", k=1, learning_rate=lr, momentum=momentum,
                             weight_decay=decay)  # fmt: skip
    rbm.partial_fit(v0)
    rbm.partial_fit(v0)
    v1 = _down(_up(v0[0]))
    h0, h1 = _up(v0[0]), _up(v1)
    gw = np.outer(v0[0], h0) - np.outer(v1, h1)  # the same both steps: the chain stays saturated
    gb, gc = v0[0] - v1, h0 - h1
    vel = lr * (gw - decay * _W)
    w1 = _W + vel
    vel = momentum * vel + lr * (gw - decay * w1)
    w2 = w1 + vel
    np.testing.assert_allclose(rbm.components_, w2.T, atol=1e-4)
    np.testing.assert_allclose(rbm.intercept_visible_, _B + lr * (2 + momentum) * gb, atol=1e-4)
    np.testing.assert_allclose(rbm.intercept_hidden_, _C + lr * (2 + momentum) * gc, atol=1e-4)


def test_successive_partial_fits_draw_fresh_gibbs_samples():
    # a tiny learning rate leaves the model all but unchanged between calls; the visible-bias
    # step lr * (mean(v_data) - mean(v_model)) then shows the model samples each call drew
    lr = 1e-6
    X = np.zeros((50, 8))
    rbm = BernoulliRBM(n_components=4, method="cd", learning_rate=lr, random_state=0)
    rbm.partial_fit(X)
    means = []
    for _ in range(4):
        before = rbm.intercept_visible_.copy()
        rbm.partial_fit(X)
        means.append(np.round(-(rbm.intercept_visible_ - before) / lr, 2))
    assert all(((m >= 0) & (m <= 1)).all() for m in means)
    assert len({tuple(m) for m in means}) > 1, means


@pytest.mark.parametrize("param", ["k", "n_iter", "monitor"])
def test_a_boolean_count_is_a_parameter_error(param):
    X = (np.random.default_rng(0).random((8, 3)) < 0.5).astype(float)
    with pytest.raises(ValueError, match=param):
        BernoulliRBM(**{"n_components": 2, "n_iter": 1, param: True}).fit(X)


def test_gaussian_diverged_looks_at_the_log_variances_too():
    X = np.random.default_rng(0).normal(size=(10, 3))
    rbm = GaussianBernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(X)
    assert not rbm.diverged()
    rbm.log_variance_ = np.array([0.0, np.nan, 0.0])
    assert rbm.diverged()


def test_sdae_refuses_a_learning_rate_whose_first_adam_step_overflows_float32():
    # Adam's first step is lr / (1 - beta1) = 10 lr: above float32's max / 10 it overflows
    from trainlab.pretrain import StackedDenoisingAutoencoder

    X = np.random.default_rng(0).random((8, 3))
    lr = 3.0 * float(np.finfo(np.float32).max) / 10  # below float32's max, 3x the bound
    with pytest.raises(ValueError, match="too large"):
        StackedDenoisingAutoencoder(layers=[2], n_iter=1, learning_rate=lr).fit(X)
