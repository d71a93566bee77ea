"""Review synth33: synthetic data sets (spirals, blobs, teacher) and their options."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from trainlab.data import load
from trainlab.errors import UserError


# make_spirals (src/trainlab/data/synthetic.py) checks only that noise is finite and >= 0; a
# huge noise (1e308) overflows ``noise * rng.standard_normal(n)`` to ±inf, sin/cos of inf are
# NaN, and load() then blames the data: "spirals: train inputs contain NaN or Inf in 120
# sample(s); clean the data first" (a DataError, after three RuntimeWarnings), although the
# set is generated and the cause is the noise option. make_blobs refuses its float32-breaking
# options with a UserError naming them (FLOAT32_SAFE); spirals must either give finite data
# (the angle only matters modulo 2π) or refuse the noise with a one-line UserError naming it.
def test_spirals_huge_noise_is_finite_data_or_a_user_error_naming_noise():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow/invalid-value warnings
        try:
            ds = load("spirals", n_samples=300, noise=1e308)
        except UserError as err:
            msg = str(err)
            assert "noise" in msg and "\n" not in msg and "clean the data" not in msg
            return
    assert bool(ds.x_train.isfinite().all()) and bool(ds.x_test.isfinite().all())


# Dataset.info() (src/trainlab/data/datasets.py) promises "A JSON-friendly summary" and load()
# converts the split seed to int for it, but the loader's options are copied into
# meta["options"] as given: the synthetic loaders accept numpy scalars (``_positive_int``
# takes np.integer, ``_nonneg_float`` numbers.Real, teacher's hidden an ndarray), so the
# common notebook loop ``for s in np.arange(3): load("spirals", data_seed=s)`` gives an
# info() that json.dumps refuses ("Object of type int64 is not JSON serializable"). The
# options should be stored as plain Python values (e.g. runs.to_jsonable / .item()/.tolist()).
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("spirals", {"data_seed": np.int64(3)}),
        ("spirals", {"n_samples": np.int64(600), "noise": np.float32(0.1)}),
        ("teacher", {"n_samples": 200, "hidden": np.array([8, 8])}),
    ],
)
def test_info_is_json_serializable_with_numpy_option_values(name, options):
    info = load(name, **options).info()
    text = json.dumps(info)  # must not raise
    back = json.loads(text)["options"]
    for key, value in options.items():
        assert back[key] == np.asarray(value).tolist()
