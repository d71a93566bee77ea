"""Adversarial review: a user's own data through the Python API (``train(cfg, dataset=...)``
with a hand-built ``trainlab.data.Dataset`` or ``trainlab.pretrain.arrays_dataset``) and the
preprocessing transforms of ``trainlab.data``.

Every test here failed on the code it was written against, for the reason its docstring gives.
A case passes when trainlab either trains correctly (checked against a reference) or refuses
with a ``UserError`` that names the problem, before any run folder is made.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from conftest import small_config
from trainlab.data import Dataset, make_preprocessor
from trainlab.errors import UserError
from trainlab.pretrain import arrays_dataset
from trainlab.train import train


def _cfg(**train_kw):
    return small_config(
        model={"name": "mlp", "hidden": [8]},
        train={"epochs": 1, "batch_size": 16, **train_kw},
    )


def _xy(n: int = 40, d: int = 4, classes: int = 3):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g)  # (N, D) float32
    y = torch.arange(n) % classes  # (N,) int64
    return x, y


def _final_weights(result) -> list[torch.Tensor]:
    return [p.detach().clone() for p in result.model(0).state_dict().values()]


def _trains_like_reference_or_refuses(ds: Dataset, reference: Dataset) -> None:
    """``train`` on ``ds`` raises a UserError, or gives the same weights as on ``reference``
    (the same data in the documented form: float32 / int64 tensors)."""
    try:
        got = train(_cfg(), dataset=ds, write=False, progress=False, device="cpu")
    except UserError:
        return
    want = train(_cfg(), dataset=reference, write=False, progress=False, device="cpu")
    for a, b in zip(_final_weights(got), _final_weights(want), strict=True):
        torch.testing.assert_close(a, b)


# -- a hand-built Dataset given to train() ------------------------------------------------------


def test_hand_built_dataset_with_one_based_labels_is_refused_before_a_run_folder(tmp_path):
    """README: "Your own data trains the same way too: ``train(cfg, dataset=ds)`` with a
    ``trainlab.data.Dataset``"; ``Dataset``'s docstring: labels are int64 ``(N,)`` in
    ``[0, num_classes)``. Labels numbered 1..C (R, MATLAB and many CSV files count classes from
    1) are the most common way to break that contract. The trainer checks a given dataset's
    inputs (dtype, NaN/Inf, shape against the model) but never its labels, so the run makes its
    run folder (config.yaml, population.json, checkpoints/) and then dies in
    ``F.cross_entropy`` with ``IndexError: Target 3 is out of bounds`` (on a GPU: a device-side
    assert that poisons the CUDA context). It must be a UserError naming the labels, raised
    before anything is written."""
    x, y = _xy()
    y1 = y + 1  # classes 1..3, num_classes 3
    ds = Dataset("mine", x, y1, x[:8], y1[:8], x[:8], y1[:8], (4,), 3)
    out = tmp_path / "run"
    with pytest.raises(UserError, match="label"):
        train(_cfg(), dataset=ds, out=out, progress=False, device="cpu")
    assert not out.exists(), sorted(p.name for p in out.iterdir())


def test_hand_built_dataset_with_fewer_labels_than_inputs_is_refused():
    """A ``Dataset`` whose ``x_train`` has 40 rows and ``y_train`` 30 (a filter applied to one
    array and not the other) cannot be trained on; ``arrays_dataset`` and ``trainlab.data.load``
    refuse it ("has 40 inputs but 30 labels; they must match"), but a hand-built ``Dataset``
    given to ``train`` goes straight to the batch gather and dies mid-epoch with
    ``IndexError: index 34 is out of bounds for dimension 0 with size 30``. The trainer must
    refuse it with a UserError naming the mismatch, as it already does for NaN inputs."""
    x, y = _xy()
    ds = Dataset("mine", x, y[:30], x[:8], y[:8], x[:8], y[:8], (4,), 3)
    with pytest.raises(UserError):
        train(_cfg(), dataset=ds, write=False, progress=False, device="cpu")


def test_hand_built_dataset_with_int32_labels_trains_or_is_refused():
    """Labels often arrive as int32 (``torch.from_numpy`` of a numpy array on Windows, or of an
    ``np.int32`` label file). ``trainlab.data.load`` and ``arrays_dataset`` turn any integer
    labels into int64; a hand-built ``Dataset`` with int32 labels passes every check of the
    trainer and then crashes in the first step with ``RuntimeError: expected target dtype to be
    Long or Byte, but got Int``. It must either train exactly as with int64 labels or be
    refused up front with a UserError saying to cast the labels (as the trainer already says
    for inputs of the wrong dtype)."""
    x, y = _xy()
    y32 = y.to(torch.int32)
    ds = Dataset("mine", x, y32, x[:8], y32[:8], x[:8], y32[:8], (4,), 3)
    ref = Dataset("mine", x, y, x[:8], y[:8], x[:8], y[:8], (4,), 3)
    _trains_like_reference_or_refuses(ds, ref)


def test_hand_built_dataset_from_numpy_arrays_trains_or_is_refused():
    """The user's data is numpy almost always, and ``Dataset`` is a plain dataclass, so
    ``Dataset("mine", x_np, y_np, ...)`` is the first thing a notebook user writes. ``train``
    checks that the object is a ``Dataset`` but not what it holds, and fails deep inside with
    ``AttributeError: 'numpy.ndarray' object has no attribute 'to'``. It must either convert the
    arrays (train exactly as with the same data as tensors) or refuse them with a UserError that
    names the fix (torch tensors, or ``arrays_dataset``)."""
    x, y = _xy()
    xn, yn = x.numpy(), y.numpy()
    ds = Dataset("mine", xn, yn, xn[:8], yn[:8], xn[:8], yn[:8], (4,), 3)
    ref = Dataset("mine", x, y, x[:8], y[:8], x[:8], y[:8], (4,), 3)
    _trains_like_reference_or_refuses(ds, ref)


def test_one_sample_test_split_with_batch_statistics_model_is_refused_up_front(tmp_path):
    """A model that normalizes with the statistics of its own batch (``BatchNorm1d(...,
    track_running_stats=False)``) cannot be evaluated on one sample. The trainer knows this for
    training batches (``_check_one_sample_batch`` refuses in one line naming the fix) and for a
    one-sample *last* evaluation chunk (merged into the previous one), but a val or test split
    of one sample (a tiny hand-collected test set) is not checked: the whole first epoch trains,
    the run folder is written, and evaluation then dies with ``ValueError: Expected more than 1
    value per channel when training``. It must be refused with a UserError before training (or
    the split evaluated some other way)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(41, 4)).astype(np.float32)
    y = np.arange(41) % 3
    ds = arrays_dataset(x, y, x[:1], y[:1], val_fraction=0.0)  # a test split of one sample
    model = nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8, track_running_stats=False), nn.ReLU(), nn.Linear(8, 3)
    )
    cfg = small_config(
        model={"name": "mlp", "hidden": [8]},
        init={"scheme": "keep"},
        train={"epochs": 1, "batch_size": 16},
    )
    out = tmp_path / "run"
    try:
        train(cfg, model=model, dataset=ds, out=out, progress=False, device="cpu")
    except UserError:
        assert not out.exists()


# -- arrays_dataset ------------------------------------------------------------------------------


def test_arrays_dataset_never_leaves_a_training_split_of_one_class():
    """``arrays_dataset``'s docstring: the last ``val_fraction`` of the training rows become the
    validation split, and the arrays are "checked as ``trainlab.data.load`` checks a file's".
    ``load`` refuses a training split that holds one class only ("the training split holds one
    class only ...; use more data, smaller val_fraction ..."). Data sorted by class is common
    (per-class files concatenated); with two sorted classes and ``val_fraction=0.5``,
    ``arrays_dataset`` hands back a training split of class 0 only and a validation split of
    class 1 only, without a word, and ``train`` fits a classifier that has never seen class 1.
    It must refuse (UserError naming the split), or keep both classes in training."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = np.repeat([0, 1], 20)  # sorted by class
    try:
        ds = arrays_dataset(x, y, x[:10], y[:10], val_fraction=0.5)
    except UserError:
        return
    assert len(torch.unique(ds.y_train)) == 2, (
        f"training split holds classes {ds.y_train.unique().tolist()} only; "
        f"validation {ds.y_val.unique().tolist()}"
    )


# -- preprocessing transforms --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["standardize", "mean"])
def test_preprocessing_of_wide_integer_features_is_fitted_in_float64(name):
    """``trainlab.data.preprocess``: "Statistics are fitted in float64", and
    ``make_preprocessor`` is public (``trainlab.data.make_preprocessor``). Integer inputs are
    first cast to *float32* (``_as_tensor``), and only then to float64: an int64 feature such as
    a timestamp, an ID-like count or ``2e8 + {0..7}`` (float32 spacing there is 16) collapses to
    one value, ``Standardize`` takes it as constant and returns all zeros, where scikit-learn's
    ``StandardScaler`` gives the standardized values. (``trainlab.data.load`` avoids this by
    widening first, so only the documented direct use is wrong.) The transform of int64 data
    must match scikit-learn's to float32 precision."""
    from sklearn.preprocessing import StandardScaler

    x = np.stack([2 * 10**8 + np.arange(8), np.arange(8)], axis=1).astype(np.int64)  # (8, 2)
    got = make_preprocessor(name).fit_transform(x)
    want = StandardScaler(with_std=name == "standardize").fit_transform(x.astype(np.float64))
    np.testing.assert_allclose(got.double().numpy(), want, rtol=1e-5, atol=1e-5)
