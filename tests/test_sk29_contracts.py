"""sk29 review: scikit-learn compatibility of the trainlab.pretrain estimators."""

from __future__ import annotations

import numpy as np
import pytest

from trainlab.pretrain import DBN, BernoulliRBM

pd = pytest.importorskip("pandas")


def _nullable_frame_with_na() -> pd.DataFrame:
    X = (np.random.default_rng(0).random((20, 4)) < 0.5).astype(float)
    df = pd.DataFrame(X, columns=list("abcd")).astype("Float64")  # pandas nullable floats
    df.iloc[0, 0] = pd.NA
    return df


# dbn.py DBN.fit / DBN._upward turn a DataFrame with string column names into
# `np.asarray(X)` before the first RBM validates it. For pandas' nullable dtypes ("Float64",
# "Int64", ...) that is an object array holding pd.NA, and the layer's validate_data then
# fails inside numpy with `TypeError: float() argument must be ... not 'NAType'`.
# scikit-learn's validate_data (what BernoulliRBM, GaussianBernoulliRBM, the SDAE and
# sklearn's own BernoulliRBM use) converts pandas extension arrays itself and reports the
# missing value as `ValueError: Input X contains NaN.`; the DBN on the same DataFrame must
# say the same (a ValueError naming NaN, the "bad inputs ... NaN give clear errors" promise
# of the pre-training issue). Fix: convert with sklearn's check_array(X, accept_sparse=...,
# dtype=None, ensure_all_finite=False) (or X.to_numpy(dtype=float, na_value=np.nan))
# instead of np.asarray, in fit and in _upward.
def test_dbn_fit_on_nullable_dataframe_with_na_is_a_nan_value_error():
    df = _nullable_frame_with_na()
    with pytest.raises(ValueError, match="NaN"):
        BernoulliRBM(2, n_iter=1, random_state=0).fit(df)  # the single RBM: clear error
    with pytest.raises(ValueError, match="NaN"):
        DBN([2], n_iter=1, random_state=0).fit(df)


def test_dbn_transform_of_nullable_dataframe_with_na_is_a_nan_value_error():
    df = _nullable_frame_with_na()
    clean = df.fillna(0.0)
    dbn = DBN([2], n_iter=1, random_state=0).fit(clean)
    with pytest.raises(ValueError, match="NaN"):
        dbn.transform(df)
