"""Review of GaussianBernoulliRBM and the log-likelihood tools (reviewer gbrbm31)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.neural_network import BernoulliRBM as SklearnBernoulliRBM

from trainlab.errors import UserError
from trainlab.pretrain import (
    RBMPopulation,
    ais_log_partition,
    exact_log_partition,
    log_likelihood,
)


# partition._params refuses scikit-learn's own BernoulliRBM (the model trainlab's BernoulliRBM
# "follows", with the same attributes and energy) with a self-contradicting message:
# "exact_log_partition takes a BernoulliRBM or GaussianBernoulliRBM, got BernoulliRBM".
# Either the model is accepted (then log Z must equal the brute-force sum over all visible
# states of exp(-F(v)), F from sklearn's own free energy: -v.b - sum softplus(c + vW)), or the
# message must say which BernoulliRBM it wants (trainlab's, not scikit-learn's).
@pytest.mark.parametrize("fn", ["exact", "ais"])
def test_sklearn_bernoulli_rbm_not_refused_with_contradictory_message(fn):
    rng = np.random.RandomState(0)
    sk = SklearnBernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(rng.rand(30, 5))
    vs = np.array(list(itertools.product([0.0, 1.0], repeat=5)))
    brute = logsumexp(-sk._free_energy(vs))
    try:
        if fn == "exact":
            lz = exact_log_partition(sk)
            tol = 1e-9
        else:
            lz = ais_log_partition(sk, n_betas=2000, n_runs=50).log_z
            tol = 0.05
    except UserError as err:
        msg = str(err)
        assert "scikit-learn" in msg or "sklearn" in msg or "trainlab" in msg, msg
    else:
        assert lz == pytest.approx(brute, abs=tol)


# partition.log_likelihood does no checks: given the population (the same mistake for which
# exact_log_partition/ais_log_partition raise a UserError hinting "(one of pop.estimators_)")
# it dies with "AttributeError: 'RBMPopulation' object has no attribute 'free_energy'", and a
# log_z that is neither a number nor an AISResult (None) gives a bare numpy TypeError. DESIGN
# promises public functions validate inputs with a ValueError that says the fix.
def test_log_likelihood_validates_its_inputs():
    rng = np.random.RandomState(0)
    X = rng.rand(30, 5)
    pop = RBMPopulation(3, n_iter=1, monitor=0).fit(X)
    with pytest.raises(UserError, match="estimators_"):
        log_likelihood(pop, X, 1.0)
    with pytest.raises(UserError, match="log_z"):
        log_likelihood(pop.estimators_[0], X, None)


# With scikit-learn's RBM accepted, log_likelihood gives its exact log p(v): -F(v) - log Z with
# sklearn's own free energy, and the probabilities of all 2^V states sum to 1.
def test_sklearn_rbm_log_likelihood_is_normalised():
    rng = np.random.RandomState(1)
    sk = SklearnBernoulliRBM(n_components=4, n_iter=2, random_state=0).fit(rng.rand(40, 5))
    vs = np.array(list(itertools.product([0.0, 1.0], repeat=5)))
    ll = log_likelihood(sk, vs, exact_log_partition(sk))
    assert ll == pytest.approx(-sk._free_energy(vs) - logsumexp(-sk._free_energy(vs)), abs=1e-9)
    assert np.exp(ll).sum() == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(UserError, match="5"):
        log_likelihood(sk, vs[:, :4], 0.0)
