"""Adversarial review of RBM likelihood estimation (trainlab.pretrain.partition): exact log Z,
AIS and its reported uncertainty, and the errors for bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import random_bernoulli_rbm
from trainlab.pretrain import (
    DBN,
    GaussianBernoulliRBM,
    RBMPopulation,
    ais_log_partition,
    exact_log_partition,
)

_bernoulli = random_bernoulli_rbm  # (conftest)


def _gaussian(v: int = 3, h: int = 4, seed: int = 0) -> GaussianBernoulliRBM:
    rng = np.random.default_rng(seed)
    rbm = GaussianBernoulliRBM(n_components=h, n_iter=0).fit(rng.standard_normal((3, v)))
    rbm.components_ = rng.normal(0, 0.5, (h, v))
    rbm.intercept_visible_ = rng.normal(0, 0.5, v)
    rbm.intercept_hidden_ = rng.normal(0, 0.5, h)
    rbm.log_variance_ = rng.normal(0, 0.5, v)
    return rbm


def _with_nan(kind: str):
    if kind == "bernoulli-W":
        rbm = _bernoulli()
        rbm.components_[1, 2] = np.nan
    elif kind == "bernoulli-c-inf":
        rbm = _bernoulli()
        rbm.intercept_hidden_[0] = np.inf
    else:
        rbm = _gaussian()
        rbm.log_variance_[0] = np.nan
    return rbm


@pytest.mark.parametrize("kind", ["bernoulli-W", "bernoulli-c-inf", "gaussian-logvar"])
@pytest.mark.parametrize("estimate", ["exact", "ais"])
def test_non_finite_parameters_are_refused_not_turned_into_a_nan_log_z(kind, estimate):
    """A model with a NaN or infinite parameter (a diverged run, weights loaded from a broken
    checkpoint, a hand-edited model) has no partition function. ``exact_log_partition`` and
    ``ais_log_partition`` must refuse it with a clear ``ValueError`` naming the non-finite
    parameters (DESIGN.md: public functions validate their inputs; the RBMs themselves already
    detect divergence), not return ``nan``, which then silently poisons every log-likelihood
    computed from it (``log_likelihood`` = ``-F(v) - nan``) and any model comparison."""
    rbm = _with_nan(kind)
    with pytest.raises(ValueError, match=r"(?i)nan|finite|diverged"):
        if estimate == "exact":
            value = exact_log_partition(rbm)
        else:
            value = ais_log_partition(rbm, n_betas=20, n_runs=4, random_state=0).log_z
        pytest.fail(f"returned log Z = {value} for a model with a non-finite parameter")


@pytest.mark.parametrize("which", ["population", "dbn"])
def test_exact_log_partition_does_not_call_a_fitted_model_unfitted(which):
    """``exact_log_partition`` takes a BernoulliRBM or GaussianBernoulliRBM. Given another
    fitted trainlab model (an ``RBMPopulation`` after ``fit``, whose RBMs are in
    ``estimators_``, or a fitted ``DBN``) it answers "RBMPopulation is not fitted yet; call
    fit(X) first": a false statement whose suggested fix (fit again) does nothing. The
    sibling ``ais_log_partition`` says what it takes; the exact one must do the same, not
    send the user refitting a model that is already fitted."""
    X = (np.random.default_rng(0).random((30, 6)) > 0.5).astype(float)
    if which == "population":
        model = RBMPopulation(4, seeds=[0, 1], n_iter=1, monitor=0).fit(X)
    else:
        model = DBN(layers=[4, 3], n_iter=1, random_state=0).fit(X)
    with pytest.raises((ValueError, TypeError)) as info:
        exact_log_partition(model)
    msg = str(info.value)
    assert "not fitted" not in msg, msg
    assert "BernoulliRBM" in msg, msg


def test_ais_with_one_chain_does_not_report_zero_uncertainty():
    """``AISResult`` documents ``log_z_low``/``log_z_high`` as ``log_z +- 3 std`` of the mean
    importance weight. With ``n_runs=1`` (accepted: the check is ``n_runs >= 1``) that std
    cannot be estimated, yet the code sets it to 0 and reports ``log_z_low == log_z ==
    log_z_high``: a claim of exactness for the noisiest possible estimate, whose interval
    then excludes the true log Z (here off by ~0.5 nats). One chain must either be refused
    or reported with an unbounded (or at least non-degenerate) interval."""
    rbm = _bernoulli(8, 6, seed=1)
    exact = exact_log_partition(rbm)
    try:
        res = ais_log_partition(rbm, n_betas=50, n_runs=1, random_state=0)
    except ValueError:
        return  # refusing one chain is an acceptable contract
    assert res.log_z_low < res.log_z < res.log_z_high, (res.log_z_low, res.log_z, exact)


@pytest.mark.parametrize("chunk", [0, -1])
def test_exact_log_partition_bad_chunk_is_a_clear_error(chunk):
    """``chunk`` is a public keyword of ``exact_log_partition`` (rows per enumeration block).
    A non-positive value must be refused with a message naming ``chunk`` (DESIGN.md: public
    functions validate their inputs and say the fix); instead ``chunk=0`` leaks Python's
    "range() arg 3 must not be zero" and ``chunk=-1`` torch's "torch.cat(): expected a
    non-empty list of Tensors", neither of which tells the user which argument is wrong."""
    with pytest.raises(ValueError, match="chunk"):
        exact_log_partition(_bernoulli(), chunk=chunk)


@pytest.mark.parametrize("n_betas", [2, 3])
def test_fewer_than_four_betas_are_refused_as_the_docstring_says(n_betas):
    """``ais_log_partition``'s docstring: ``beta`` takes ``n_betas`` values "(at least 4)",
    evenly spaced within 0 -> 0.5 -> 0.9 -> 1. The schedule has at least 4 values by its
    construction, so ``n_betas=2`` silently ran 4 betas (the cost and the estimate of another
    setting); it must be refused in one line naming the minimum."""
    from trainlab.errors import UserError
    from trainlab.pretrain import BernoulliRBM, ais_log_partition

    rng = np.random.default_rng(0)
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(rng.random((20, 4)))
    with pytest.raises(UserError, match="n_betas >= 4"):
        ais_log_partition(rbm, n_betas=n_betas, n_runs=4)
