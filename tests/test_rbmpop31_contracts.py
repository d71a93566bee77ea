"""Review rbmpop31: trainlab.pretrain.RBMPopulation and `trainlab pretrain --grid`."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import MinMaxScaler

from trainlab.pretrain import BernoulliRBM, RBMPopulation


def _float16_minmax_data() -> np.ndarray:
    """float16 data scaled by MinMaxScaler, as the estimator's own docs describe it: the
    scaler keeps float16 and puts a few values some ulps above 1 (here in the first row)."""
    rng = np.random.RandomState(47)
    raw = (rng.rand(40, 8) * 7 + 3).astype(np.float16)
    x = MinMaxScaler().fit_transform(raw)
    assert x.dtype == np.float16 and x[0].max() > 1.0  # (the case under test)
    return x


# Wrong: RBMPopulation.fit (src/trainlab/pretrain/population.py) validates X once with its
# source dtype (float16: values up to 16 ulps above 1 pass, see rbm.outside_unit_interval), then
# calls est._check_input(X[:1], reset=True) for every member on the already converted float64
# array, whose tolerance is 1000 float64 ulps; a first row at 1.001 (MinMaxScaler rounding in
# float16) is then refused with "BernoulliRBM needs inputs in [0, 1]". BernoulliRBM(...).fit on
# the same X accepts it, so a population must too and its member must equal that solo fit.
def test_population_accepts_float16_minmax_data_that_a_solo_fit_accepts():
    x = _float16_minmax_data()
    solo = BernoulliRBM(4, n_iter=1, random_state=0).fit(x)
    pop = RBMPopulation(4, seeds=[0, 1], n_iter=1, monitor=0).fit(x)
    np.testing.assert_allclose(pop.estimators_[0].components_, solo.components_, atol=1e-6)
