"""Review preproc31: trainlab.data.preprocess (PCA / ZCA round-off cut)."""

import numpy as np
import pytest

from trainlab.data.preprocess import PCA, ZCA
from trainlab.errors import UserError


def _celsius_kelvin(n: int, seed: int) -> np.ndarray:
    """float64 inputs spanning 2 directions: a temperature in °C, the same in K (an affine copy
    with an offset of 273.15, rounded to float64 like any derived column), and noise."""
    rng = np.random.default_rng(seed)
    c = rng.normal(20.0, 5.0, size=n)
    return np.stack([c, c + 273.15, rng.normal(size=n)], 1)


# The round-off cut of _round_off (λ_max·(D·eps)² for float64 inputs) is relative to the
# *centred* spread, but float64 rounding of a stored value is relative to the value itself
# (|x| ≈ 293 here, std 5): the K column's rounding (~1e-14 per value) leaves a third
# eigenvalue ≈ 1e-27 (λ_max ≈ 51, cut ≈ 2e-29), which PCA(n_components=None) keeps as a
# "spanned" component. The data span 2 directions (K = C + 273.15 exactly); the third is
# round-off, which the docstring promises to drop. Fix: include the inputs' uncentred
# magnitude in the cut, e.g. max(λ_max·(D·eps)², (D·eps)²·max_j mean(x_j²)).
def test_pca_none_drops_roundoff_direction_of_offset_feature():
    x = _celsius_kelvin(500, 0)
    p = PCA().fit(x)
    assert p.n_components_ == 2, p.eigenvalues_


# Same cause: _check_epsilon is meant to refuse epsilon=0 when the covariance is singular up to
# round-off ("dividing by its root would blow up the outputs"). Here it accepted ZCA(epsilon=0)
# and pca_whiten(epsilon=0), which divide a pure round-off direction (λ ≈ 1e-27) by
# √λ ≈ 3e-14: that whitened component is rounding noise scaled to unit variance. ZCA keeps
# every direction, so it must refuse; PCA-whitening keeps only the 2 spanned directions.
def test_whitening_epsilon0_refused_on_offset_dependent_feature():
    x = _celsius_kelvin(500, 0)
    with pytest.raises(UserError, match="singular"):
        ZCA(epsilon=0.0).fit(x)
    p = PCA(whiten=True, epsilon=0.0).fit(x)
    assert p.n_components_ == 2, p.eigenvalues_
