"""Review dbn31: DBN / StackedDenoisingAutoencoder."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from trainlab.pretrain import DBN


# DBN(visible="gaussian") is documented as the choice "for standardized real data", but its
# Gaussian first layer is trained with the DBN's Bernoulli defaults (learning_rate=0.1,
# momentum=0.5): on StandardScaler-ed digits a 256-unit first layer blows up to inf/NaN within
# 5 passes for every seed tried, and the error then tells the user to "standardize the inputs",
# which they already did. GaussianBernoulliRBM itself defaults to lr 0.01 "as Gaussian units
# are less stable" (and `trainlab pretrain` switches an rbm with visible: gaussian to it), and
# with lr 0.01 (momentum 0.5 kept) the same layer trains for 30 passes without diverging. So
# a default DBN with a Gaussian first layer on standardized data must fit and give finite
# features.
def test_gaussian_dbn_with_default_settings_trains_on_standardized_digits():
    x = StandardScaler().fit_transform(load_digits().data)
    dbn = DBN([256], visible="gaussian", n_iter=5, random_state=0).fit(x)
    h = dbn.transform(x[:20])
    assert np.isfinite(h).all()


# The CLI's dbn with visible: gaussian takes the same per-layer default (config.yaml records
# learning_rate: null), and an explicit learning_rate still applies to every layer.
def test_gaussian_dbn_learning_rates_per_layer():
    from trainlab.pretrain.run import PretrainConfig

    cfg = PretrainConfig.model_validate({"model": {"kind": "dbn", "visible": "gaussian"}})
    assert cfg.train.learning_rate is None
    dbn = DBN([4, 3], visible="gaussian")
    assert [dbn._layer(i, 4, 0).learning_rate for i in (0, 1)] == [0.01, 0.1]
    dbn = DBN([4, 3], visible="gaussian", learning_rate=0.05)
    assert [dbn._layer(i, 4, 0).learning_rate for i in (0, 1)] == [0.05, 0.05]
