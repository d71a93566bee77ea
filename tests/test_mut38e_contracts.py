"""Mutation review (mut38e) of trainlab.pretrain.RBMPopulation and its CD engine: documented
defaults, grid groups, argument checks, the divergence warning, and the CD/PCD update and the
monitored numbers against hand computations (numpy) and scikit-learn's formulas."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from trainlab.errors import UserError
from trainlab.pretrain import RBMPopulation


def _binary(n: int = 20, v: int = 6, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((n, v)) < 0.4).astype(np.float64)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


# -- defaults documented in RBMPopulation's docstring ------------------------------------------
def test_gaussian_population_defaults_to_lr_001_and_cd1():
    """Docstring: left out, learning_rate and method are 0.01 and CD-1 for Gaussian units (0.1
    and PCD for Bernoulli ones)."""
    g = RBMPopulation(4, visible="gaussian")
    assert g.learning_rate == [0.01] and g.method == "cd" and g.k == 1
    b = RBMPopulation(4)
    assert b.learning_rate == [0.1] and b.method == "pcd"


def test_default_n_iter_is_ten_passes_as_bernoulli_rbm():
    """n_iter "as BernoulliRBM" (scikit-learn's default: 10 passes); history_ is (K, n_iter)."""
    pop = RBMPopulation(3, seeds=[0, 1], monitor=5).fit(_binary())
    assert pop.history_["reconstruction_error"].shape == (2, 10)
    assert pop.history_["pseudo_likelihood"].shape == (2, 10)


# -- grid members and their groups -------------------------------------------------------------
def test_members_without_overrides_are_the_default_group_and_groups_name_only_varying_axes():
    """As a training population's: a member with no override is group "default"; a grid point's
    group names the axes that vary, not the shared values."""
    pop = RBMPopulation(3, seeds=[0, 1], n_iter=1, monitor=0).fit(_binary())
    assert [m.group for m in pop.members_] == ["default", "default"]
    assert all(m.overrides == {} for m in pop.members_)
    pop = RBMPopulation(
        3, seeds=[0, 1], learning_rate=[0.1, 0.2], momentum=0.5, n_iter=1, monitor=0
    ).fit(_binary())
    assert [m.group for m in pop.members_] == ["learning_rate=0.1"] * 2 + ["learning_rate=0.2"] * 2
    assert [m.seed for m in pop.members_] == [0, 1, 0, 1]


@pytest.mark.parametrize(
    "kw", [{"seeds": []}, {"learning_rate": []}, {"seeds": [1.5]}, {"seeds": [0, 2.5]}]
)
def test_empty_axes_and_non_integer_seeds_are_user_errors(kw):
    with pytest.raises(UserError):
        RBMPopulation(3, **kw)


def test_divergence_warning_names_every_diverged_member_up_to_five():
    """Docstring: "a warning names them" (indices in diverged_)."""
    x = np.random.RandomState(0).randn(64, 6)
    pop = RBMPopulation(n_components=4, seeds=[0, 1, 2, 3, 4], learning_rate=1000.0, n_iter=3,
                        batch_size=16, monitor=0, visible="gaussian")  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pop.fit(x)
    assert pop.diverged_ == [0, 1, 2, 3, 4]
    msg = " ".join(str(w.message) for w in caught if "diverged" in str(w.message))
    for i in range(5):
        assert f"{i} (learning_rate 1000)" in msg
    assert "..." not in msg


# -- free energy, pseudo-likelihood and the monitored history against hand computations ------
def _brute_free_energy(w, b, c, x):
    hs = np.array(np.meshgrid(*[[0.0, 1.0]] * w.shape[1], indexing="ij")).reshape(w.shape[1], -1).T
    e = -(x @ b)[:, None] - x @ w @ hs.T - (hs @ c)[None, :]  # E(v, h), (N, 2^H)
    return -np.log(np.exp(-e).sum(1))


def _tiny_wa(seed=0, v=5, h=3):
    from trainlab.pretrain._engine import augment

    rng = np.random.default_rng(seed)
    w, b, c = rng.normal(0, 0.7, (v, h)), rng.normal(0, 0.5, v), rng.normal(0, 0.5, h)
    wa = augment(*(torch.tensor(a)[None] for a in (w, b, c)))
    return w, b, c, wa


def test_engine_free_energy_matches_brute_force_sum_over_h():
    from trainlab.pretrain._engine import free_energy

    w, b, c, wa = _tiny_wa()
    x = (np.random.default_rng(1).random((7, 5)) < 0.5).astype(float)
    got = free_energy(wa, torch.tensor(x)[None])[0].numpy()
    np.testing.assert_allclose(got, _brute_free_energy(w, b, c, x), rtol=1e-10)


def test_engine_pseudo_likelihood_is_sklearn_formula_with_the_given_flips():
    """scikit-learn's score_samples: ``V * log sigmoid(F(v~) - F(v))``, one flipped coordinate."""
    from trainlab.pretrain._engine import pseudo_likelihood

    w, b, c, wa = _tiny_wa(2)
    x = (np.random.default_rng(3).random((6, 5)) < 0.5).astype(float)
    flip = np.array([0, 4, 2, 1, 3, 4])
    xf = x.copy()
    xf[np.arange(6), flip] = 1 - xf[np.arange(6), flip]
    fe, fe_f = _brute_free_energy(w, b, c, x), _brute_free_energy(w, b, c, xf)
    expected = 5 * np.log(sig(fe_f - fe))
    got = pseudo_likelihood(wa, torch.tensor(x)[None], torch.tensor(flip))[0].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_monitor_flips_every_visible_coordinate():
    """One random coordinate per sample out of all V (scikit-learn: randint(0, V))."""
    from trainlab.pretrain._engine import PassMonitor

    x = torch.zeros(400, 4)
    mon = PassMonitor(x, 1, 400, "bernoulli")
    assert sorted(set(mon.flip.tolist())) == [0, 1, 2, 3]


def test_population_history_is_the_mean_field_error_and_pl_of_the_first_samples():
    """history_: reconstruction error ``mean((sigmoid(sigmoid(vW + c) W^T + b) - v)^2)`` and the
    pseudo-likelihood ``V log sigmoid(F(v~) - F(v))`` of the first ``monitor`` samples, per
    member, after each pass (the last one: with the member's final weights)."""
    X = _binary(30, 5, seed=4)
    for n_mon in (7, 1):
        pop = RBMPopulation(3, seeds=[0, 1], learning_rate=[0.05, 0.2], n_iter=2,
                            batch_size=4, monitor=n_mon).fit(X)  # fmt: skip
        hist = pop.history_
        assert pop.history_["reconstruction_error"].shape == (4, 2)
        for i, est in enumerate(pop.estimators_):
            w, b, c = est.components_.T, est.intercept_visible_, est.intercept_hidden_
            v = X[:n_mon]
            rec = ((sig(sig(v @ w + c) @ w.T + b) - v) ** 2).mean()
            np.testing.assert_allclose(hist["reconstruction_error"][i, -1], rec, rtol=1e-4)
            if n_mon == 1:  # the flipped coordinate is the monitor's own: one of V values
                fe = _brute_free_energy(w, b, c, v)
                cands = []
                for j in range(5):
                    vf = v.copy()
                    vf[0, j] = 1 - vf[0, j]
                    cands.append(5 * np.log(sig(_brute_free_energy(w, b, c, vf) - fe))[0])
                got = hist["pseudo_likelihood"][i, -1]
                assert np.min(np.abs(np.array(cands) - got)) < 1e-4 * max(1.0, abs(got))


# -- the CD update itself --------------------------------------------------------------------
def _engine(w, b, c, k_models, **kw):
    from trainlab.pretrain._engine import CDEngine, augment
    from trainlab.pretrain.rbm import make_generators

    wa = augment(
        torch.tensor(w)[None].repeat(k_models, 1, 1),
        torch.tensor(b)[None].repeat(k_models, 1),
        torch.tensor(c)[None].repeat(k_models, 1),
    )
    gens = [make_generators(i, torch.device("cpu")) for i in range(k_models)]
    return CDEngine(wa, generators=gens, **kw)


@pytest.mark.parametrize("method", ["cd", "pcd"])
def test_cd1_step_with_shared_weight_decay_and_no_momentum_matches_hand_update(method):
    """``W += lr * (<v h>_data - <v h>_model - weight_decay * W)``; biases undecayed (the
    engine's and BernoulliRBM's docstrings). Two models sharing lr and decay, torch path."""
    from trainlab.pretrain._engine import split_params

    rng = np.random.default_rng(11)
    V, H, B, lr, wd = 5, 3, 4, 0.1, 0.3
    w, b, c = rng.normal(0, 0.5, (V, H)), rng.normal(0, 0.3, V), rng.normal(0, 0.3, H)
    v = (rng.random((B, V)) < 0.5).astype(float)
    eng = _engine(w, b, c, 2, lr=lr, weight_decay=wd, method=method, chain_size=B)
    assert eng.velocity is None
    chain = (rng.random((B, H)) < 0.5).astype(float)
    if method == "pcd":
        eng.chains[:, :, :H] = torch.tensor(chain)
    lv = rng.logistic(size=(1, 2, B, V))
    lh = rng.logistic(size=(2, 2, B, H))
    va = torch.cat([torch.tensor(v), torch.ones(B, 1, dtype=torch.float64)], 1)[None].repeat(
        2, 1, 1
    )
    eng.step(va, torch.tensor(lv), torch.tensor(lh[:1] if method == "pcd" else lh))
    for m in range(2):
        hp = sig(v @ w + c)
        h0 = chain if method == "pcd" else (v @ w + c > lh[0, m]).astype(float)
        vn = (h0 @ w.T + b > lv[0, m]).astype(float)
        hn = sig(vn @ w + c)
        w1 = w + lr * (v.T @ hp / B - vn.T @ hn / B - wd * w)
        b1 = b + lr * (v.mean(0) - vn.mean(0))
        c1 = c + lr * (hp.mean(0) - hn.mean(0))
        W, Bv, C = (t[m].numpy() for t in split_params(eng.wa))
        np.testing.assert_allclose(W, w1, atol=1e-12)
        np.testing.assert_allclose(Bv, b1, atol=1e-12)
        np.testing.assert_allclose(C, c1, atol=1e-12)


def test_a_pass_trains_on_the_last_partial_batch_too():
    """One pass is over every sample (scikit-learn's gen_batches keeps the remainder): with
    fewer samples than batch_size the one partial batch is the whole update."""
    X = _binary(6, 5, seed=7)
    pop = RBMPopulation(3, seeds=[0, 1], batch_size=10, n_iter=1, monitor=0, method="cd")
    pop.fit(X)
    for est in pop.estimators_:
        # biases start at 0 (scikit-learn's init); CD-1 with lr 0.1 on the one batch of 6:
        # b = 0.1 * (mean(v) - mean(v-)), v- binary, so 6 * (mean(v) - b / 0.1) is a count
        b = est.intercept_visible_
        assert np.abs(b).max() > 0
        neg = 6 * (X.mean(0) - b / 0.1)
        np.testing.assert_allclose(neg, np.round(neg), atol=1e-6)
        assert ((neg > -0.5) & (neg < 6.5)).all()


def test_history_epoch_counts_passes_from_one():
    """PassMonitor.history: ``epoch`` (passes 1, 2, ...)."""
    from trainlab.pretrain import BernoulliRBM

    X = _binary(20, 5)
    rbm = BernoulliRBM(3, n_iter=3, monitor=4, random_state=0).fit(X)
    assert list(rbm.history_["epoch"]) == [1, 2, 3]
    pop = RBMPopulation(3, seeds=[0], n_iter=2, monitor=4).fit(X)
    assert list(pop.history_["epoch"]) == [1, 2]


def test_engine_gaussian_free_energy_matches_numeric_sum_over_h():
    """``F(v) = sum_i (v_i - b_i)^2 / (2 s_i^2) - sum_j softplus(c_j + sum_i W_ij v_i / s_i^2)``
    = -log sum_h exp(-E(v, h)), E from Cho et al. 2011."""
    from trainlab.pretrain._engine import free_energy

    w, b, c, wa = _tiny_wa(5, v=4, h=3)
    z = np.random.default_rng(6).normal(0, 0.5, 4)
    s2 = np.exp(z)
    x = np.random.default_rng(7).normal(size=(6, 4))
    hs = np.array(np.meshgrid(*[[0.0, 1.0]] * 3, indexing="ij")).reshape(3, -1).T
    e = (((x - b) ** 2) / (2 * s2)).sum(1)[:, None] - (x / s2) @ w @ hs.T - (hs @ c)[None, :]
    got = free_energy(wa, torch.tensor(x)[None], torch.tensor(z)[None])[0].numpy()
    np.testing.assert_allclose(got, -np.log(np.exp(-e).sum(1)), rtol=1e-10)
