"""Adversarial review (code read): ``trainlab.data`` splits, ``Dataset.checked``, preprocessing
inputs and the synthetic sets' documented facts.

Every test here failed on the code it was written against, for the reason its docstring gives.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from trainlab.data import Dataset, make_preprocessor
from trainlab.data.synthetic import make_teacher
from trainlab.errors import DataError, UserError


def test_checked_dataset_with_a_zero_dim_label_tensor_is_a_data_error():
    """``Dataset.checked`` promises "1-D integer labels ... raises a one-line DataError" for a
    dataset built by hand, and ``train(cfg, dataset=ds)`` relies on it. A one-sample split
    whose labels were squeezed (``torch.as_tensor(labels).squeeze()`` of a ``(1,)`` array gives
    a 0-d tensor) is exactly such a malformed split, but ``checked`` calls ``len(y)`` before its
    1-D check and dies with ``TypeError: len() of a 0-d tensor`` -- a traceback out of
    ``train`` instead of the DataError that names the labels."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 4, generator=g)
    y = torch.arange(40) % 3
    y_test = torch.as_tensor(np.array([2])).squeeze()  # 0-d
    ds = Dataset("mine", x, y, x[:8], y[:8], x[:1], y_test, (4,), 3)
    with pytest.raises(DataError, match="label"):
        ds.checked()


@pytest.mark.parametrize("name", ["standardize", "pca", "zca"])
def test_preprocessing_refuses_complex_inputs_instead_of_dropping_the_imaginary_part(name):
    """``trainlab.data.load`` refuses complex inputs with the fix ("pass real inputs, e.g.
    np.abs(x) or the real and imaginary parts as separate features"), and the house style says
    public functions validate their inputs. The public preprocessing transforms
    (``make_preprocessor(...).fit/transform``), used directly on a user's arrays (e.g. FFT
    features), instead cast complex inputs to float64 -- torch silently discards the imaginary
    part -- and return a standardized/whitened version of the real part only: half of the
    data is lost without an error. They must refuse complex inputs (a UserError) as ``load``
    does."""
    rng = np.random.default_rng(0)
    xc = rng.normal(size=(50, 4)) + 1j * rng.normal(size=(50, 4))  # (50, 4) complex128
    with pytest.raises((UserError, TypeError)):
        t = make_preprocessor(name)
        t.fit(xc)
        t.transform(xc)


def test_teacher_docstring_count_of_empty_classes_is_what_the_generator_gives():
    """``make_teacher``'s docstring warns that with few input dimensions and many classes some
    classes get no samples, and gives a concrete, checkable example: "``dim=2, classes=50,
    data_seed=0``: 34 of the 50 classes are empty". A user sizing ``classes`` from that line is
    misled: the generator (whose teacher and inputs now come from separate streams) leaves 32
    classes empty with the default ``n_samples``. The documented number must match what the
    code produces."""
    import re

    _, y = make_teacher(dim=2, classes=50, data_seed=0)
    empty = 50 - len(np.unique(y))
    doc = " ".join((make_teacher.__doc__ or "").split())
    said = re.search(r"data_seed=0``: (\d+) of the 50 classes are empty", doc)
    assert said and int(said.group(1)) == empty, (
        f"the docstring says {said and said.group(1)} of 50 classes are empty; the generator "
        f"gives {empty}"
    )
