"""Review prep21: preprocessing numerics (src/trainlab/data/preprocess.py)."""

import re

import numpy as np
import pytest

from trainlab.data import preprocess as pp
from trainlab.errors import UserError


def _timestamp_data() -> np.ndarray:
    # full-rank tabular data: a Unix timestamp (std 3e7 s) next to two [0, 1] features
    rng = np.random.default_rng(0)
    return np.c_[1.7e9 + 3e7 * rng.normal(size=200), rng.random(200), rng.random(200)]


@pytest.mark.parametrize("name", ["pca", "pca_whiten"])
def test_pca_default_keeps_every_direction_of_full_rank_mixed_unit_data(name):
    # Wrong: eigh of XᵀX/N squares the condition number, so the two [0, 1] features
    # (λ ≈ 0.08, well determined; sklearn's SVD PCA keeps them) fall under the round-off cut
    # λ_max·D·eps and are silently dropped (k=1). Right (docstring: "all D, a rotation, for
    # full-rank inputs"): keep all 3 components, e.g. by taking the SVD of the centred data.
    t = pp.make_preprocessor(name).fit(_timestamp_data())
    assert t.n_components_ == 3


def test_zca_singular_error_suggests_an_epsilon_that_works():
    # Wrong: with the default epsilon=1e-2 the error says "pass epsilon>0 well above the
    # round-off (e.g. epsilon=1e-2)" — the very value that just failed (the round-off here is
    # ~0.55). Right: the hint names an epsilon above the actual round-off, which then fits.
    x = _timestamp_data()
    try:
        pp.make_preprocessor("zca").fit(x)
        return  # (fitting at all, e.g. via an SVD, is a fine fix too)
    except UserError as e:
        msg = str(e)
    m = re.search(r"e\.g\. epsilon=([0-9.eE+-]+)", msg)
    assert m is not None, msg
    pp.make_preprocessor("zca", epsilon=float(m.group(1).rstrip("."))).fit(x)  # must not raise
