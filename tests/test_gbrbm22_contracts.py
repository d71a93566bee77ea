"""Review gbrbm22: trainlab.pretrain numbers (RBMs, log Z, AIS, partial_fit, RBMPopulation)."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from trainlab.pretrain import GaussianBernoulliRBM, RBMPopulation


# RBMPopulation(visible="gaussian") trains GaussianBernoulliRBM members but with BernoulliRBM's
# defaults (learning_rate=0.1, method="pcd"), the very settings GaussianBernoulliRBM's docstring
# says it avoids "as Gaussian units are less stable" (its defaults: 0.01, CD-1). On standardized
# digits, exactly the input the population docstring asks for ("standardized inputs, unit
# variance"), one pass with the population's defaults sends every member to NaN, while the solo
# estimator with its own defaults trains fine. A population of Gaussian RBMs with default
# hyperparameters should train as the default GaussianBernoulliRBM does: no member diverges.
def test_gaussian_population_with_default_hyperparameters_does_not_diverge():
    X = StandardScaler().fit_transform(load_digits().data)
    solo = GaussianBernoulliRBM(50, n_iter=1, random_state=0).fit(X)
    assert not solo.diverged()  # the estimator's own defaults are stable on this data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the "members diverged" warning: asserted below
        pop = RBMPopulation(50, seeds=[0, 1], visible="gaussian", n_iter=1, monitor=0).fit(X)
    assert pop.diverged_ == []
    for est in pop.estimators_:
        assert np.isfinite(est.components_).all()


# The same for `trainlab pretrain`: an rbm config with `visible: gaussian` took the Bernoulli
# example's lr 0.06 with PCD (every member NaN on standardized digits); left out, lr and method
# now follow GaussianBernoulliRBM (0.01, CD-1); given, they are kept; and a --set back to
# Bernoulli units gets the Bernoulli defaults again, not the Gaussian ones as "given" values.
def test_pretrain_config_gaussian_rbm_takes_the_gaussian_estimators_defaults(tmp_path):
    from trainlab.pretrain.run import PretrainConfig, load_pretrain_config

    cfg = PretrainConfig.model_validate({"model": {"kind": "rbm", "visible": "gaussian"}})
    assert (cfg.train.learning_rate, cfg.train.method) == (0.01, "cd")
    bern = PretrainConfig.model_validate({"model": {"kind": "rbm"}})
    assert (bern.train.learning_rate, bern.train.method) == (0.06, "pcd")
    given = PretrainConfig.model_validate(
        {"model": {"kind": "rbm", "visible": "gaussian"}, "train": {"learning_rate": 0.03}}
    )
    assert (given.train.learning_rate, given.train.method) == (0.03, "cd")
    path = tmp_path / "g.yaml"
    path.write_text("model: {kind: rbm, visible: gaussian}\ndata: {scale: standardize}\n")
    back = load_pretrain_config(path, ["model.visible=bernoulli", "data.scale=minmax"])
    assert (back.train.learning_rate, back.train.method) == (0.06, "pcd")
