"""Review of this session's optim/data/pretrain changes (reviewer diff31b)."""

import numpy as np
import pytest
import torch
import yaml

from trainlab.data.preprocess import PCA, ZCA
from trainlab.errors import UserError
from trainlab.optim.second_order import LBFGS, Newton


# Newton's new singularity test (7934130) compares the smallest LU pivot with n·ε times the
# *largest*, which is not invariant to the parameters' scales. A diagonal Hessian diag(1e8, 1)
# (a quadratic whose two parameters have very different curvatures, as unstandardized features
# give) is far from singular and float32 solves it exactly (each Δ_i = g_i / h_ii), yet
# 1 ≤ 2·1.2e-7·1e8 flags it and every model gets NaN parameters. Before the change
# torch.linalg.solve_ex stepped it to the minimum; with η = 1 one step of a quadratic is exact,
# so x = (1, 1). (Fix: make the test scale-invariant, e.g. Jacobi-equilibrate H + λI,
# D^-1/2 A D^-1/2, before comparing pivots, or compare each pivot with its own row's scale.)
def test_newton_badly_scaled_but_regular_hessian_is_not_singular():
    a = torch.tensor([1e8, 1.0])
    x = torch.zeros(2, 2, requires_grad=True)
    Newton([x]).step(lambda: 0.5 * (a * (x - 1) ** 2).sum(1))
    assert torch.equal(x.detach(), torch.ones(2, 2)), x


# The same test turns a *damped* step into NaN: damping is the documented remedy for a
# direction the loss ignores, but H + λI = diag(1e6, 0) + 0.01·I has pivots 1e6 and 0.01,
# 0.01 ≤ 2·1.2e-7·1e6 = 0.24, so the model is declared singular. The exact step:
# g = (-1e6, 1) at x = 0, Δ = (-1e6/1e6, 1/0.01) = (-1, 100), x = (1, -100).
def test_newton_damped_step_is_not_nan():
    a = torch.tensor([1e6, 0.0])
    x = torch.zeros(1, 2, requires_grad=True)
    Newton([x], damping=1e-2).step(lambda: (0.5 * a * (x - 1) ** 2).sum(1) + x[:, 1])
    assert torch.allclose(x.detach(), torch.tensor([[1.0, -100.0]]), rtol=1e-6), x


# 0739a85 scaled PCA/ZCA's round-off cut by the inputs' mean squares so that "a column equal
# to another plus 273.15" no longer counts as a component, but for float32 inputs (trainlab's
# data dtype) the cut s·D·eps64 is below the variance that float32 rounding itself adds:
# x + 273.15 rounded to float32 errs by up to half an ulp (2^-15 at 273), variance
# ulp²/12 ≈ 7.8e-11, half of which (3.9e-11) lies along (−1, 1)/√2, above the cut
# 74611·2·2.2e-16 ≈ 3.3e-11. PCA keeps that rounding direction as a second component and
# ZCA(epsilon=0) whitens it (scaling noise by ~1.6e5). Expected: 1 component; ZCA refuses the
# singular covariance as it does for float64 input. (Fix: the float32 cut needs ε32²-sized
# relative rounding, e.g. s·D·eps32², not D·eps64.)
def _offset_pair():
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(2000, 1, generator=g, dtype=torch.float32)
    return torch.cat([x1, x1 + 273.15], 1)


def test_pca_float32_column_plus_offset_has_one_component():
    x = _offset_pair()  # (its float64 copy holds the rounding as data: 2 components there)
    assert PCA().fit(x).components_.shape[0] == 1


def test_zca_float32_column_plus_offset_is_singular():
    with pytest.raises(UserError, match="singular"):
        ZCA(epsilon=0.0).fit(_offset_pair())


# lbfgs's new _one_number (7934130) refuses a 0-d numpy array, one number, as a per-model
# value ("one for all models ... got array(5)"); before it, int()/float() took it, and every
# other hyperparameter (hyper(): 0-d tensors, numpy scalars) takes one. Likewise
# log_likelihood's new log_z check (de86176) refuses np.array(log Z), which the old
# `- log_z` took. Expected: both accepted as the number they hold.
def test_lbfgs_and_log_likelihood_take_a_0d_array():
    opt = LBFGS(
        [torch.zeros(2, 3, requires_grad=True)], max_iter=np.array(5), tolerance_grad=np.array(1e-5)
    )
    assert opt.param_groups[0]["max_iter"] == 5
    assert opt.param_groups[0]["tolerance_grad"] == 1e-5

    from trainlab.pretrain import BernoulliRBM
    from trainlab.pretrain.partition import exact_log_partition, log_likelihood

    x = (np.random.RandomState(0).rand(20, 4) > 0.5).astype(float)
    rbm = BernoulliRBM(3, n_iter=1, random_state=0).fit(x)
    lz = exact_log_partition(rbm)
    np.testing.assert_array_equal(log_likelihood(rbm, x, np.array(lz)), log_likelihood(rbm, x, lz))


# A dbn with visible: gaussian now resolves train.learning_rate to None (9d66eec), and
# run_pretrain writes config.yaml with model_dump(exclude_none=True), so the "resolved config:
# every key the run used" has no learning_rate at all (the session's own test comment says it
# "records learning_rate: null"; a bernoulli dbn's records 0.1). Expected: the key is there.
def test_gaussian_dbn_config_yaml_records_learning_rate(tmp_path, monkeypatch):
    import trainlab.report
    from trainlab.pretrain.run import PretrainConfig, run_pretrain

    monkeypatch.setattr(trainlab.report, "build_report", lambda *a, **k: None)  # (speed only)

    cfg = PretrainConfig.model_validate(
        {
            "name": "g",
            "data": {"name": "digits", "seed": 0, "scale": "standardize"},
            "model": {"kind": "dbn", "layers": [4], "visible": "gaussian"},
            "train": {"n_iter": 1},
            "seeds": [0],
        }
    )
    run = run_pretrain(cfg, out=tmp_path / "run")
    train = yaml.safe_load((run / "config.yaml").read_text())["train"]
    assert "learning_rate" in train, train
