"""Review: train/val/test splits and preprocessing at their edges (``trainlab.data.load``)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from trainlab.data import load, split_indices
from trainlab.errors import DataError, UserError


def test_a_split_that_leaves_the_training_split_one_class_is_refused(tmp_path):
    """``load`` promises (module docstring, step 2) that the training labels hold at least 2
    classes -- "a classifier needs at least 2 classes" -- but checks it on the labels the
    loader gave, *before* the validation split is drawn. An imbalanced ``.npz`` (one sample of
    class 0, eleven of class 1) with ``val_fraction=0.3`` gets its only class-0 sample moved to
    the validation split by the stratified largest-remainder draw (ties go to the lowest class
    index, whatever the seed), so the model trains on a single class without a word: it
    reaches 100% training accuracy by always answering 1 and can never predict class 0. The
    training split the model gets must hold at least 2 classes, or ``load`` must say why not
    (a DataError that names the fix)."""
    g = np.random.default_rng(0)
    x = g.normal(size=(12, 3)).astype(np.float32)
    y = np.array([0] + [1] * 11)
    path = tmp_path / "rare.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:4], y_test=np.array([0, 1, 1, 1]))
    for seed in (0, 1, 2):
        try:
            ds = load("npz", path=str(path), val_fraction=0.3, seed=seed)
        except DataError:
            continue
        classes = torch.unique(ds.y_train).tolist()
        assert len(classes) >= 2, (
            f"seed {seed}: the training split holds only class(es) {classes} "
            f"(val: {ds.y_val.tolist()}); load() accepted it silently"
        )


@pytest.mark.parametrize("given", [0.0, 65.0, -3.0])
def test_pca_components_float_error_suggests_a_count_that_works(given):
    """A float ``pca_components`` outside (0, 1) is refused with a hint: "pass
    pca_components=N for a number of components". For ``2.0`` that is right, but the hint is
    built from ``int(value)`` without checking the range, so ``0.0`` is told to pass
    ``pca_components=0``, ``65.0`` on digits' 64 features ``pca_components=65`` and ``-3.0``
    ``pca_components=-3`` -- each of which the next run refuses in turn. An error for people
    (DESIGN principle 6) must not send the user to another error: whatever count it suggests
    must load."""
    with pytest.raises(UserError) as info:
        load("digits", preprocess="pca", pca_components=given)
    suggested = re.search(r"pass pca_components=(-?\d+)", str(info.value))
    if suggested is None:
        return  # no specific count suggested (e.g. "an int in 1..64")
    k = int(suggested.group(1))
    try:
        load("digits", preprocess="pca", pca_components=k)
    except UserError as err:
        pytest.fail(f"the hint for {given!r} says pca_components={k}, which fails with: {err}")


@pytest.mark.parametrize("fraction", [1.5, -0.25, float("nan")])
def test_split_indices_validates_its_fraction(fraction):
    """``trainlab.data.split_indices`` is public (``trainlab.data.__all__``) and documents that
    ``held_out`` has ``round(fraction * N)`` indices. It checks nothing: ``1.5`` silently holds
    out *every* sample (10 of 10, not the promised 15, leaving an empty training split),
    ``-0.25`` silently holds out none, and NaN dies inside ``round`` with "cannot convert float
    NaN to integer". The house style says public functions validate their inputs and raise a
    ValueError with the fix, as ``load`` does for the same values ("val_fraction must be a
    number in [0, 1)")."""
    y = np.arange(10) % 2
    with pytest.raises(ValueError, match="fraction"):
        split_indices(y, fraction, 0)


def test_load_with_a_list_of_preprocessings_is_a_user_error():
    """``load(preprocess=...)`` names an unknown preprocessing with the valid choices (and
    ``make_preprocessor(["mean"])`` does so too). A list -- the natural guess for "mean, then
    PCA" -- instead escapes as ``TypeError: unhashable type: 'list'`` from the dict lookup in
    ``load``, a message that names neither the argument nor the choices."""
    with pytest.raises(UserError, match="preprocess"):
        load("digits", preprocess=["mean", "pca"])
