"""Review: trainlab.pretrain's scikit-learn estimators used the way scikit-learn users use them.

Each test states a contract that scikit-learn's own ``BernoulliRBM`` (or any scikit-learn
transformer) keeps and that a trainlab estimator breaks today.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn
import torch
from sklearn.neural_network import BernoulliRBM as SkBernoulliRBM

from trainlab.pretrain import DBN, BernoulliRBM, GaussianBernoulliRBM, StackedDenoisingAutoencoder


@pytest.fixture(scope="module")
def X01():
    """200 digits scaled to [0, 1] (float64, C-contiguous)."""
    from sklearn.datasets import load_digits

    X, _ = load_digits(return_X_y=True)
    return np.ascontiguousarray(X[:200] / 16.0)


_ESTIMATORS = {
    "bernoulli": lambda: BernoulliRBM(6, n_iter=2, random_state=0),
    "gaussian": lambda: GaussianBernoulliRBM(6, n_iter=2, random_state=0),
    "dbn": lambda: DBN([6, 4], n_iter=2, random_state=0),
    "sdae": lambda: StackedDenoisingAutoencoder([6, 4], n_iter=2, random_state=0),
}


@pytest.mark.parametrize("name", list(_ESTIMATORS))
def test_fit_accepts_reversed_views_as_sklearn_does(X01, name):
    """Every estimator must fit a plain numpy view with negative strides -- ``X[::-1]``,
    ``np.flip(X)``, ``np.fliplr(X)``, or what ``df.iloc[::-1]`` / ``df[cols[::-1]]`` hand to
    ``validate_data`` -- exactly as it fits the same values laid out contiguously.
    scikit-learn's ``BernoulliRBM`` accepts such views; trainlab's estimators pass the validated
    array to ``torch.as_tensor`` (``rbm.data_tensor``), which refuses negative strides, so the
    fit dies with a torch ValueError ("At least one stride ... is negative") and, for a refit,
    leaves the estimator with freshly re-initialized, untrained weights."""
    Xr = X01[::-1]
    SkBernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(Xr)  # the reference takes it
    expected = _ESTIMATORS[name]().fit(np.ascontiguousarray(Xr)).transform(X01)
    got = _ESTIMATORS[name]().fit(Xr).transform(X01)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", ["bernoulli", "dbn", "sdae"])
def test_a_cpu_torch_tensor_is_accepted_as_array_like(X01, name):
    """trainlab is a PyTorch library: a CPU ``torch.Tensor`` is an array-like (it has
    ``__array__``) and scikit-learn's ``BernoulliRBM`` fits and transforms one. trainlab's
    Bernoulli-input estimators crash with ``TypeError: Cannot interpret 'torch.float64' as a
    data type`` because the [0, 1] range check (``rbm.outside_unit_interval``) calls
    ``np.dtype(X.dtype)`` on the tensor's torch dtype, read before conversion by
    ``_check_input``. Fitting/transforming the tensor must equal doing so on its numpy copy."""
    Xt = torch.tensor(X01)
    SkBernoulliRBM(n_components=4, n_iter=1, random_state=0).fit(Xt).transform(Xt)
    expected = _ESTIMATORS[name]().fit(X01).transform(X01)
    got = _ESTIMATORS[name]().fit(Xt).transform(Xt)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("fit_pandas", [False, True], ids=["fit-default", "fit-pandas"])
def test_dbn_transform_does_not_depend_on_the_output_config_it_was_fitted_under(X01, fit_pandas):
    """scikit-learn's ``transform_output`` config (``sklearn.set_config`` / ``config_context``)
    only changes the container a transformer returns. A DBN's inner layers are RBMs whose
    ``transform`` obeys that config, and ``DBN.fit``/``DBN._upward`` pass one layer's raw
    ``transform`` output to the next: a DBN fitted under one setting and used under the other
    makes layer 2 see feature names where it saw none (or the reverse), so every ``transform``
    raises a spurious "X has feature names, but BernoulliRBM was fitted without feature names"
    (or "X does not have valid feature names ...") warning about a BernoulliRBM the user never
    made. The layers must hand each other plain arrays: no warning either way."""
    ctx = sklearn.config_context(transform_output="pandas")
    if fit_pandas:
        with ctx:
            dbn = DBN([6, 4], n_iter=1, random_state=0).fit(X01)
    else:
        dbn = DBN([6, 4], n_iter=1, random_state=0).fit(X01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dbn.transform(X01)
        with sklearn.config_context(transform_output="pandas"):
            dbn.transform(X01)


@pytest.mark.parametrize("ctx", [torch.no_grad, torch.inference_mode])
def test_sdae_fit_does_not_depend_on_the_callers_autograd_mode(X01, ctx):
    """A scikit-learn estimator's ``fit`` must not depend on ambient torch state it does not
    document. PyTorch users routinely run feature pipelines inside ``torch.no_grad()`` or
    ``torch.inference_mode()`` (or under a ``@torch.no_grad()`` decorator); the RBMs and the DBN
    fit fine there, but ``StackedDenoisingAutoencoder.fit`` calls ``loss.backward()`` without
    enabling grad and crashes with "element 0 of tensors does not require grad". Fitting inside
    either context must give the same model as fitting outside it."""
    expected = _ESTIMATORS["sdae"]().fit(X01).transform(X01)
    with ctx():
        got = _ESTIMATORS["sdae"]().fit(X01).transform(X01)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("ctx", [torch.no_grad, torch.inference_mode])
def test_the_trainer_does_not_depend_on_the_callers_autograd_mode(ctx):
    """The same contract for ``trainlab.train`` (and so ``fine_tune``, which fine-tunes through
    the trainer): a notebook cell under ``torch.no_grad()`` or ``torch.inference_mode()`` must
    train the same weights as one outside it, not crash with "element 0 of tensors does not
    require grad" (no_grad) or make inference tensors that autograd cannot use."""
    from conftest import small_config
    from trainlab.train import train

    cfg = small_config(model={"name": "mlp", "hidden": [8]}, train={"epochs": 1})
    want = train(cfg, write=False, progress=False, device="cpu").model(0).state_dict()
    with ctx():
        got = train(cfg, write=False, progress=False, device="cpu").model(0).state_dict()
    for key in want:
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=0)
