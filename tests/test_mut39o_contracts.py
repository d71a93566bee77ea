"""Mutation-review tests (mut39o) for trainlab.pretrain.partition: exact log Z's enumeration
limit and chunking, the AIS beta schedule (endpoints and spacing), the AIS base model's start
samples, base_rate's shape check and the Gaussian-Bernoulli hidden input v / s^2. Expected values
come from hand algebra (W = 0 models), numpy enumeration or the docstring's schedule."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp

from trainlab.errors import UserError
from trainlab.pretrain import BernoulliRBM, GaussianBernoulliRBM
from trainlab.pretrain.partition import ais_log_partition, exact_log_partition


def _bern(V, H, W=None, b=None, c=None):
    rbm = BernoulliRBM(n_components=H, n_iter=0).fit(np.zeros((2, V)))
    rbm.components_ = np.zeros((H, V)) if W is None else np.asarray(W, float).T.copy()
    rbm.intercept_visible_ = np.zeros(V) if b is None else np.asarray(b, float)
    rbm.intercept_hidden_ = np.zeros(H) if c is None else np.asarray(c, float)
    return rbm


def _softplus(x):
    return np.logaddexp(0.0, x)


# Kills partition.py:82 "n > MAX_ENUMERATION_UNITS" -> "n >= ...": the limit is "at most 20
# units" (docstring), so a model whose smaller layer has exactly 20 units is enumerated. W = 0:
# log Z = sum_i softplus(b_i) + sum_j softplus(c_j) (hand algebra).
def test_exact_log_z_enumerates_exactly_twenty_units():
    rng = np.random.default_rng(0)
    b, c = rng.normal(0, 1, 24), rng.normal(0, 1, 20)
    rbm = _bern(24, 20, b=b, c=c)
    assert exact_log_partition(rbm) == pytest.approx(
        _softplus(b).sum() + _softplus(c).sum(), abs=1e-8
    )


# Kills partition.py:77 "chunk < 1" -> "chunk < 2": chunk is "a positive integer (states per
# batch)", so chunk=1 is valid; the answer is numpy's enumeration over all (v, h).
def test_exact_log_z_with_one_state_per_chunk():
    rng = np.random.default_rng(1)
    V, H = 4, 3
    W, b, c = rng.normal(0, 1, (V, H)), rng.normal(0, 1, V), rng.normal(0, 1, H)
    vs = np.array(list(itertools.product([0, 1], repeat=V)), float)
    hs = np.array(list(itertools.product([0, 1], repeat=H)), float)
    neg_e = (vs @ b)[:, None] + (hs @ c)[None, :] + vs @ W @ hs.T
    assert exact_log_partition(_bern(V, H, W, b, c), chunk=1) == pytest.approx(
        logsumexp(neg_e), abs=1e-9
    )


# Kills partition.py:174 "rate.shape != (V,)" -> "rate.size != V": base_rate must be V rates,
# one per visible unit, with a UserError naming the shape; a (1, V) array is not that.
def test_ais_base_rate_of_wrong_shape_same_size_is_refused():
    rbm = _bern(6, 3)
    with pytest.raises(UserError, match=r"base_rate must be 6 .*\(1, 6\)"):
        ais_log_partition(rbm, n_betas=8, n_runs=2, base_rate=np.full((1, 6), 0.5))


# Kills partition.py:184 "[:-1]" -> "[1:]" (beta no longer starts at 0) and 186 "1.0" -> "0.99"
# (never reaches the RBM): with W = 0 and base rate sigmoid(b) the base model's visible part
# equals the RBM's, so log p*_beta(v) = b.v + sum_j softplus(beta c_j) and every chain's log
# weight telescopes to sum_j softplus(c_j) - H log 2 exactly, whatever v the chain visits.
@pytest.mark.parametrize("n_betas", [4, 37, 200])
def test_ais_schedule_runs_from_zero_to_one(n_betas):
    rng = np.random.default_rng(2)
    b, c = rng.normal(0, 1, 5), rng.normal(0, 2, 3)
    rbm = _bern(5, 3, b=b, c=c)
    res = ais_log_partition(rbm, n_betas=n_betas, n_runs=4, base_rate=1 / (1 + np.exp(-b)),
                            random_state=0)  # fmt: skip
    want_w = _softplus(c).sum() - 3 * math.log(2)
    np.testing.assert_allclose(res.log_weights, np.full(4, want_w), rtol=0, atol=1e-9)
    assert res.log_z == pytest.approx(_softplus(b).sum() + _softplus(c).sum(), abs=1e-9)


# Kills partition.py:181 "n_betas // 10" -> "n_betas // 5" and 186 "n_betas - n1 - n2" ->
# "... - 1": the docstring's schedule is n_betas values, evenly spaced within 0 -> 0.5 -> 0.9 ->
# 1 with 10%, 40%, 50% of them. With W = 0, c = 1 and b = b_A = 0 the hidden units' input at
# each Gibbs sweep (one per beta after the first) is beta * 1, read off torch.sigmoid.
def test_ais_beta_schedule_follows_the_docstring(monkeypatch):
    n_betas, R, V, H = 100, 3, 2, 5
    rbm = _bern(V, H, c=np.ones(H))
    seen = []
    real = torch.sigmoid

    def spy(x, *a, **k):
        if x.shape == (R, H):
            seen.append(float(x[0, 0]))
            assert torch.all(x == x[0, 0])
        return real(x, *a, **k)

    monkeypatch.setattr(torch, "sigmoid", spy)
    ais_log_partition(rbm, n_betas=n_betas, n_runs=R, random_state=0)
    want = np.concatenate([0.05 * np.arange(10), 0.5 + 0.01 * np.arange(40),
                           np.linspace(0.9, 1.0, 50)])  # fmt: skip
    assert len(want) == n_betas
    np.testing.assert_allclose(seen, want[1:], rtol=0, atol=1e-12)


# Kills partition.py:229 "sigmoid(b_a)" -> "sigmoid(-b_a)" (chains not started from p_A) and
# 236 "sweep(v, betas[k])" -> "sweep(v, betas[k - 1])" (the move after the beta_k weight must
# leave p_{beta_k} invariant; paper, section 2). With W = 0, c = 0 each sweep samples p_beta
# exactly and n_betas = 4 gives betas 0, 0.5, 0.9, 1 (docstring), so the estimator is unbiased
# with a small standard error over 20000 chains; log Z = sum_i softplus(b_i) + H log 2 (hand
# algebra). Either mutant is off by more than a nat here.
def test_ais_chains_start_from_the_base_rate_and_move_at_the_new_beta():
    V, H = 4, 1
    b = np.full(V, math.log(0.25))  # RBM rate 0.2; base rate 0.8
    rbm = _bern(V, H, b=b)
    res = ais_log_partition(rbm, n_betas=4, n_runs=20000, base_rate=np.full(V, 0.8),
                            random_state=0)  # fmt: skip
    exact = _softplus(b).sum() + H * math.log(2)
    assert res.log_z_low <= exact <= res.log_z_high, (res.log_z_low, exact, res.log_z_high)
    assert abs(res.log_z - exact) < 0.1, (res.log_z, exact)


def _gb(W, b, c, s2):
    V, H = W.shape
    gb = GaussianBernoulliRBM(n_components=H, n_iter=0).fit(np.zeros((2, V)))
    gb.components_ = W.T.copy()
    gb.intercept_visible_ = np.asarray(b, float)
    gb.intercept_hidden_ = np.asarray(c, float)
    gb.log_variance_ = np.log(np.asarray(s2, float))
    return gb


# Kills partition.py:205 "w / s2[:, None]" -> "w / s2.sqrt()[:, None]": the hidden units see
# v / s^2 (E = sum (v-b)^2 / 2s^2 - c.h - sum v_i W_ij h_j / s_i^2). Exact log Z by numpy over
# the 2^H hidden states: v | h ~ N(b + Wh, s^2) integrates to c.h + sum ((Wh)^2 + 2 b Wh) /
# (2 s^2) + sum log(2 pi s^2) / 2. Variances far from 1, so s and s^2 differ.
def test_gaussian_ais_hidden_units_see_v_over_variance():
    rng = np.random.default_rng(3)
    V, H = 3, 4
    W = rng.normal(0, 1.0, (V, H))
    b, c = rng.normal(0, 0.5, V), rng.normal(0, 0.5, H)
    s2 = np.array([4.0, 0.25, 2.5])
    hs = np.array(list(itertools.product([0, 1], repeat=H)), float)
    wh = hs @ W.T
    exact = logsumexp(hs @ c + ((wh**2 + 2 * b * wh) / (2 * s2)).sum(1))
    exact += 0.5 * np.log(2 * np.pi * s2).sum()
    res = ais_log_partition(_gb(W, b, c, s2), n_betas=1000, n_runs=64, random_state=0)
    assert res.log_z_low <= exact <= res.log_z_high and abs(res.log_z - exact) < 0.1, (
        res.log_z, exact)  # fmt: skip


# Kills partition.py:268 "-rbm.free_energy(X) - float(log_z)" -> "+ float(log_z)": log p(v) =
# -F(v) - log Z with F(v) = -v.b - sum_j softplus(c_j + v.W_j) for trainlab's BernoulliRBM;
# log Z by numpy over all (v, h), and the 2^V probabilities sum to 1.
def test_log_likelihood_of_trainlab_rbm_is_normalised():
    from trainlab.pretrain import log_likelihood

    rng = np.random.default_rng(4)
    V, H = 5, 3
    W, b, c = rng.normal(0, 1, (V, H)), rng.normal(0, 1, V), rng.normal(0, 1, H)
    vs = np.array(list(itertools.product([0, 1], repeat=V)), float)
    hs = np.array(list(itertools.product([0, 1], repeat=H)), float)
    log_z = logsumexp((vs @ b)[:, None] + (hs @ c)[None, :] + vs @ W @ hs.T)
    ll = log_likelihood(_bern(V, H, W, b, c), vs, float(log_z))
    want = vs @ b + _softplus(vs @ W + c).sum(1) - log_z
    np.testing.assert_allclose(ll, want, rtol=0, atol=1e-5)
    assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-5)


# Kills partition.py:261 "or not math.isfinite(log_z)" dropped: "log_z must be a finite number"
# (the message); NaN/inf would make every log-likelihood NaN/inf silently.
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float64("nan")])
def test_log_likelihood_refuses_non_finite_log_z(bad):
    from trainlab.pretrain import log_likelihood

    with pytest.raises(UserError, match="log_z must be a finite number"):
        log_likelihood(_bern(3, 2), np.zeros((2, 3)), bad)


# Kills partition.py:270 "X.shape[1] != w.shape[0]" -> "<": with scikit-learn's RBM, data with
# MORE columns than it was fitted on is the same UserError naming both counts (not a bare
# numpy matmul error).
def test_sklearn_log_likelihood_refuses_extra_columns():
    from sklearn.neural_network import BernoulliRBM as SkRBM

    from trainlab.pretrain import log_likelihood

    sk = SkRBM(n_components=2, n_iter=1, random_state=0).fit(np.random.RandomState(0).rand(20, 4))
    with pytest.raises(UserError, match="X has 6 features but the RBM was fitted on 4"):
        log_likelihood(sk, np.zeros((3, 6)), 0.0)
