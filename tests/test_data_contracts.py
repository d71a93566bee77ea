"""trainlab.data: option checks (bools, classes without samples, float32 range, numpy
numbers) and whitening of float32 and wide data, fitted on the training split."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from trainlab.data import load, make_preprocessor
from trainlab.errors import UserError


def _cov(z: torch.Tensor) -> torch.Tensor:
    z = z.reshape(len(z), -1).double()
    z = z - z.mean(0)
    return z.T @ z / len(z)


# --------------------------------------------------------------------------- options


def test_mnist1d_shuffle_seq_rejects_a_non_bool():
    # shuffle_seq is passed through bool(): the string "no" (or "false") silently shuffles,
    # where the sibling option `stratify` refuses a non-bool with a clear line.
    with pytest.raises(UserError, match="shuffle_seq"):
        load("mnist1d", n_samples=100, shuffle_seq="no")


@pytest.mark.parametrize(("name", "n", "classes"), [("spirals", 4, 5), ("blobs", 4, 6)])
def test_synthetic_n_samples_below_classes_is_refused(name, n, classes):
    # fewer samples than classes leaves classes with no sample at all (the model gets outputs
    # that are never trained) -- the same problem the {3, 7} label check refuses for files.
    with pytest.raises(UserError, match="n_samples"):
        load(name, n_samples=n, classes=classes, val_fraction=0, test_fraction=0)


def test_blobs_option_overflowing_float32_names_the_option():
    # center_box=1e39 overflows the float32 cast in make_blobs: a numpy RuntimeWarning, then a
    # DataError that tells the user to "clean the data first" (there is no user data here).
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(UserError, match="center_box"):
            load("blobs", center_box=1e39)


def test_numpy_float32_epsilon_and_fraction_are_numbers():
    # np.float32 is refused as "not a number" (isinstance(x, int | float) is False for it),
    # while pca_components accepts any numbers.Real (np.float32 included).
    x = np.random.default_rng(0).standard_normal((50, 4))
    t = make_preprocessor("zca", epsilon=np.float32(1e-2)).fit(x)
    assert t.transform(x).shape == (50, 4)
    ds = load("spirals", val_fraction=np.float32(0.1))
    assert len(ds.y_val) > 0


# --------------------------------------------------------------------------- whitening


@pytest.mark.parametrize("name", ["pca_whiten", "zca"])
def test_whitening_float32_inputs_give_identity_covariance(name):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((400, 5)) @ rng.standard_normal((5, 5))).astype(np.float32)
    z = make_preprocessor(name, epsilon=1e-8).fit(x).transform(x)
    assert z.dtype == torch.float32
    assert torch.allclose(_cov(z), torch.eye(5, dtype=torch.float64), atol=1e-4)


def test_pca_whiten_with_more_features_than_samples_up_to_the_rank():
    x = np.random.default_rng(2).standard_normal((6, 20))
    z = make_preprocessor("pca_whiten", pca_components=5, epsilon=0.0).fit(x).transform(x)
    assert torch.allclose(_cov(z), torch.eye(5, dtype=torch.float64), atol=1e-6)
    twice = np.concatenate([x[:5], x[:1]])  # 6 samples, one repeated: 4 directions
    with pytest.raises(UserError, match="singular"):  # the 5th direction is round-off
        make_preprocessor("pca_whiten", pca_components=5, epsilon=0.0).fit(twice)
    with pytest.raises(UserError, match="span at most 5 directions"):  # 6 centred samples
        make_preprocessor("pca_whiten", pca_components=6, epsilon=0.0).fit(x)


def test_zca_in_load_uses_train_statistics_for_val_and_test():
    raw = load("spirals", seed=3)
    ds = load("spirals", seed=3, preprocess="zca")
    t = make_preprocessor("zca").fit(raw.x_train)
    assert torch.allclose(ds.x_val, t.transform(raw.x_val), atol=1e-5)
    assert torch.allclose(ds.x_test, t.transform(raw.x_test), atol=1e-5)
