"""Mutation-review tests (mut36h) for trainlab.pretrain: AIS interval and base model, the
monitored pseudo-likelihood's scale, and the Gaussian RBM's learned log-variance update."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import log_expit

from trainlab.pretrain import BernoulliRBM, GaussianBernoulliRBM
from trainlab.pretrain.partition import ais_log_partition


def _rbm(V=6, H=4, seed=0):
    rng = np.random.RandomState(seed)
    return BernoulliRBM(n_components=H, n_iter=2, random_state=0).fit(
        (rng.rand(60, V) > 0.5).astype(float)
    )


# Kills partition.py:240 std(ddof=1) -> std(ddof=0) and partition.py:242/244 "3 * std_w" ->
# "2 * std_w": the docstring promises log_z_low/high = log Z_A + log(mean w -+ 3 standard errors)
# with the standard error over the chains (sample std / sqrt(n_runs)); recomputed with numpy
# from the returned per-chain log weights and log Z_A.
def test_ais_interval_is_three_standard_errors():
    res = ais_log_partition(_rbm(), n_betas=200, n_runs=20, random_state=0)
    w = np.exp(res.log_weights.astype(np.float64))
    mean, se = w.mean(), w.std(ddof=1) / math.sqrt(len(w))
    assert mean - 3 * se > 0
    assert res.log_z == pytest.approx(res.log_z_base + math.log(mean), abs=1e-9)
    assert res.log_z_low == pytest.approx(res.log_z_base + math.log(mean - 3 * se), abs=1e-9)
    assert res.log_z_high == pytest.approx(res.log_z_base + math.log(mean + 3 * se), abs=1e-9)


# Kills partition.py:179 clamp(1e-3, 1 - 1e-3) -> clamp(1e-2, 1 - 1e-2): the docstring says
# rates are clamped to [0.001, 0.999] and log Z_A = sum_i softplus(logit(p_i)) + H log 2, and
# softplus(logit(p)) = -log(1 - p) (hand algebra).
def test_ais_base_rate_clamped_to_one_in_a_thousand():
    rbm = _rbm()
    rate = np.array([0.0, 1.0, 0.5, 0.2, 0.0005, 0.9995])
    res = ais_log_partition(rbm, n_betas=8, n_runs=2, base_rate=rate, random_state=0)
    p = np.clip(rate, 1e-3, 1 - 1e-3)
    assert res.log_z_base == pytest.approx(-np.log1p(-p).sum() + 4 * math.log(2), abs=1e-9)


# Kills _engine.py:262 "x.shape[2] * logsigmoid" -> "x.shape[1] * logsigmoid" (samples count
# instead of features): history_["pseudo_likelihood"] is the mean over the monitored samples of
# V * log sigmoid(F(v~) - F(v)) with one coordinate flipped per sample (scikit-learn's estimate,
# README/docstring), so it lies between the per-sample min and max over all V possible flips,
# computed here with numpy from the fitted parameters.
def test_monitored_pseudo_likelihood_has_the_feature_count_factor():
    rng = np.random.RandomState(3)
    V, n = 5, 40
    X = (rng.rand(80, V) > 0.5).astype(np.float64)
    rbm = BernoulliRBM(n_components=3, n_iter=1, monitor=n, random_state=0,
                       learning_rate=0.5).fit(X)  # fmt: skip
    W, b, c = rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_

    def F(v):
        return -(v @ b) - np.logaddexp(0, v @ W + c).sum(1)

    v = X[:n]
    per_flip = []
    for j in range(V):
        vf = v.copy()
        vf[:, j] = 1 - vf[:, j]
        per_flip.append(V * log_expit(F(vf) - F(v)))
    per_flip = np.array(per_flip)  # (V, n)
    lo, hi = per_flip.min(0).mean(), per_flip.max(0).mean()
    pl = rbm.history_["pseudo_likelihood"][0]
    assert lo - 1e-4 <= pl <= hi + 1e-4, (lo, pl, hi)


def _gb_with(V, b, z, lr, n=4000):
    """A GaussianBernoulliRBM fitted with no passes, then given W = 0, visible bias b and
    log-variance z (as a user may set fitted attributes)."""
    X0 = np.zeros((n, V))
    gb = GaussianBernoulliRBM(n_components=2, n_iter=0, learn_variance=True, learning_rate=lr,
                              batch_size=n, random_state=0).fit(X0)  # fmt: skip
    gb.components_ = np.zeros_like(gb.components_)
    gb.intercept_visible_ = np.full(V, b, dtype=X0.dtype)
    gb.log_variance_ = np.full(V, z, dtype=X0.dtype)
    return gb


# Kills _engine.py:579 "torch.exp(-self.log_var) * (...)" -> "(...)": the z = log s^2 gradient
# (Cho, Ilin & Raiko 2011, docstring) is e^{-z} (<(v-b)^2/2 - v Wh>_data - <...>_model). With
# W = 0, b = 0, s^2 = 4 and data v = +-4: data term 8; model v ~ N(0, 4): term 2 E[eps^2] ~= 2
# (4000 draws: mean eps^2 in 1 +- 0.1 with overwhelming probability), so one update moves z by
# lr * (8 - 2) / 4 = 0.015 (0.0145..0.0155); without e^{-z} it would move by 0.06.
def test_learned_log_variance_gradient_has_inverse_variance_factor():
    n = 4000
    gb = _gb_with(1, 0.0, math.log(4.0), 0.01, n)
    X = np.where(np.arange(n) % 2 == 0, 4.0, -4.0)[:, None]
    z0 = float(gb.log_variance_[0])
    gb.partial_fit(X)
    dz = float(gb.log_variance_[0]) - z0
    assert 0.013 < dz < 0.017, dz


# Kills _engine.py:581 clamp min log(1e-4) -> log(1e-3): s^2 is "kept within [1e-4, 1e4]"
# (docstring). Data at v = b (data term 0) and s^2 = 2e-4: the model term pushes z down by about
# lr * 0.5 = 5, far below log(1e-4), so z must end exactly at log(1e-4).
def test_learned_variance_floor_is_1e_minus_4():
    n = 1000
    gb = _gb_with(2, 0.0, math.log(2e-4), 10.0, n)
    gb.partial_fit(np.zeros((n, 2)))
    assert gb.log_variance_ == pytest.approx(np.full(2, math.log(1e-4)), abs=1e-5)


# Kills autoencoder.py:128 "bound = 4.0 * sqrt(6 / (d + width))" -> without the 4: the docstring
# promises W ~ U(+-4 sqrt(6 / (fan_in + fan_out))) (Glorot's bound for sigmoid). With no passes
# (n_iter=0) layers_ holds the initial draw: 64 x 16 = 1024 uniform values on [-0.866, 0.866],
# so the largest |W| is above 0.8 (probability of failing ~ (0.8/0.866)^1024 ~ 1e-35) and none
# exceeds the bound; the unscaled bound would be 0.2165.
def test_sdae_initial_weights_use_four_times_glorot_bound():
    from trainlab.pretrain import StackedDenoisingAutoencoder

    X = np.random.RandomState(0).rand(20, 64)
    sdae = StackedDenoisingAutoencoder(layers=[16], n_iter=0, random_state=0).fit(X)
    w = np.abs(np.asarray(sdae.layers_[0][0]))
    bound = 4 * math.sqrt(6 / (64 + 16))
    assert w.shape == (16, 64)
    assert 0.8 < w.max() <= bound + 1e-6


# Kills dbn.py:81 "module.out.bias.zero_()" dropped: unroll's docstring promises that with a
# generator the output layer is Xavier-uniform with bias 0 (PyTorch's default init draws a
# nonzero bias).
def test_unroll_with_generator_zeroes_output_bias():
    import torch

    from trainlab.pretrain import unroll

    rng = np.random.RandomState(0)
    layers = [(rng.randn(4, 6), rng.randn(4))]
    m = unroll(layers, 6, 3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(m.out.bias.detach(), torch.zeros(3))
    lim = math.sqrt(6 / (4 + 3))
    assert float(m.out.weight.detach().abs().max()) <= lim + 1e-6
    assert torch.equal(m.fc1.weight.detach(), torch.tensor(layers[0][0], dtype=torch.float32))


# Kills partition.py:191 "seed < 2**32" -> "seed <= 2**32": the error message itself promises
# random_state in [0, 2**32 - 1] (numpy's seed range), so 2**32 is refused and 2**32 - 1 taken.
def test_ais_seed_range_upper_bound():
    from trainlab.errors import UserError

    rbm = _rbm()
    with pytest.raises(UserError, match="random_state"):
        ais_log_partition(rbm, n_betas=4, n_runs=2, random_state=2**32)
    ais_log_partition(rbm, n_betas=4, n_runs=2, random_state=2**32 - 1)


# Kills: pretrain/autoencoder.py `F.linear(h, w.t(), b)` -> `w.t().detach()` (the tied decoder
# no longer trains W). With corruption 0 and one full batch, one fit step is one Adam step of
# the loss BCE(h W + b, x), h = sigmoid(x Wᵀ + c), computed here by plain autograd from the
# initial draw (n_iter=0, same random_state): Adam's first step moves each entry by
# lr * g / (|g| + eps). The decoder's share of W's gradient is as large as the encoder's, so the
# detached mutant lands far from this step.
def test_sdae_one_step_matches_autograd_through_both_tied_paths():
    import torch
    import torch.nn.functional as F

    from trainlab.pretrain import StackedDenoisingAutoencoder

    rng = np.random.default_rng(0)
    X = (rng.random((20, 6)) > 0.5).astype(np.float32)
    kw = dict(layers=[4], corruption=0.0, learning_rate=0.01, batch_size=20, random_state=0)
    w0, c0, b0 = StackedDenoisingAutoencoder(n_iter=0, **kw).fit(X).layers_[0]
    w1, c1, b1 = StackedDenoisingAutoencoder(n_iter=1, **kw).fit(X).layers_[0]
    w, c, b = (torch.tensor(t, dtype=torch.float32, requires_grad=True) for t in (w0, c0, b0))
    x = torch.tensor(X)
    h = torch.sigmoid(x @ w.T + c)
    loss = F.binary_cross_entropy_with_logits(h @ w + b, x, reduction="sum") / len(x)
    loss.backward()
    for p, got in ((w, w1), (c, c1), (b, b1)):
        g = p.grad
        want = p.detach() - 0.01 * g / (g.abs() + 1e-8)
        np.testing.assert_allclose(got, want.numpy(), rtol=0, atol=1e-5)
