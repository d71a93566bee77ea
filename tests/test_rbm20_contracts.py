"""Review rbm20: the scikit-learn face of trainlab.pretrain (pandas, set_output, refits)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import MinMaxScaler

from trainlab.pretrain import DBN, BernoulliRBM, StackedDenoisingAutoencoder


def _binary(n: int, d: int, seed: int = 0) -> np.ndarray:
    return (np.random.RandomState(seed).rand(n, d) > 0.5).astype(float)


def _float16_minmax() -> np.ndarray:
    raw = (np.random.RandomState(0).rand(200, 6) * 37).astype(np.float16)
    X = MinMaxScaler().fit_transform(raw)  # scikit-learn keeps float16, rounds up to 1.001
    assert X.dtype == np.float16 and X.max() > 1.0
    return X


@pytest.mark.parametrize(
    "make",
    [
        lambda: BernoulliRBM(3, n_iter=1, random_state=0),
        lambda: DBN([3], n_iter=1, random_state=0),
        lambda: StackedDenoisingAutoencoder([3], n_iter=1, random_state=0),
    ],
)
def test_float16_minmax_data_as_a_dataframe_is_accepted_like_the_same_array(make):
    # rbm.py:172 takes the source dtype from X.dtype, which a DataFrame lacks: float16
    # MinMaxScaler output (set_output(transform="pandas")) is refused though the same ndarray
    # is accepted; the coarsest float column dtype of a DataFrame should set the tolerance.
    X = _float16_minmax()
    make().fit(X)  # accepted as an array
    make().fit(pd.DataFrame(X))  # (DBN converts only DataFrames with string column names)


def test_sdae_reconstruct_does_not_depend_on_the_transform_output_config():
    # autoencoder.py:197 reconstruct() calls the set_output-wrapped transform: under pandas
    # output it returns a DataFrame with columns 0..D-1, so `reconstruct(df) - df` is all NaN;
    # it should return the ndarray it returns by default (or use feature_names_in_ as columns).
    df = pd.DataFrame(_binary(60, 4), columns=list("abcd"))
    sdae = StackedDenoisingAutoencoder([3], n_iter=1, random_state=0).fit(df)
    expected = sdae.reconstruct(df)
    out = sdae.set_output(transform="pandas").reconstruct(df)
    if isinstance(out, pd.DataFrame):
        assert list(out.columns) == list(df.columns)
    np.testing.assert_allclose(np.asarray(out), expected)
    assert np.isfinite(np.asarray((out - df) ** 2)).all()


def test_sdae_fit_that_diverges_leaves_the_estimator_as_it_was():
    # autoencoder.py:162-183 validate_data(reset=True) records n_features_in_ before training;
    # a divergence (UserError) then leaves the new n_features_in_ with no/old layers_: an
    # unfitted SDAE passes check_is_fitted and transform raises AttributeError 'layers_', a
    # fitted one rejects its own data. Right: NotFittedError / the old model still works.
    X = _binary(60, 30)
    fresh = StackedDenoisingAutoencoder([50], n_iter=3, learning_rate=3e37, random_state=0)
    with pytest.raises(ValueError, match="diverged"):
        fresh.fit(X)
    with pytest.raises(NotFittedError):
        fresh.transform(X)

    X8 = _binary(60, 8)
    fitted = StackedDenoisingAutoencoder([3], n_iter=1, random_state=0).fit(X8)
    before = fitted.transform(X8)
    fitted.set_params(layers=[50], learning_rate=3e37, n_iter=3)
    with pytest.raises(ValueError, match="diverged"):
        fitted.fit(X)
    np.testing.assert_array_equal(fitted.transform(X8), before)


@pytest.mark.parametrize("param", ["n_components", "batch_size"])
def test_a_boolean_width_is_a_clear_parameter_error(param):
    # rbm.py:155/157 Interval(Integral) lets True through (bool is Integral) and fit crashes in
    # numpy with "TypeError: an integer is required" (naming no parameter); right: the
    # InvalidParameterError (a ValueError) naming it, as DBN/SDAE `layers=True` already get.
    with pytest.raises(ValueError, match=param):
        BernoulliRBM(**{"n_iter": 1, param: True}).fit(_binary(30, 6))
