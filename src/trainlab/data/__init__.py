"""Data: datasets by name with deterministic splits, file readers, and preprocessing.

>>> from trainlab import data
>>> ds = data.load("digits", seed=0, preprocess="standardize")
>>> ds.x_train.shape, ds.input_shape, ds.num_classes
(torch.Size([1294, 1, 8, 8]), (1, 8, 8), 10)

Importing this package is light: scikit-learn and ``mnist1d`` are imported only when a set
that needs them is loaded.
"""

from __future__ import annotations

from . import synthetic as _synthetic  # noqa: F401  (registers spirals, blobs, teacher)
from .datasets import (
    DATASETS,
    Dataset,
    RawData,
    dataset_options,
    list_datasets,
    load,
    split_indices,
    with_absolute_path,
)
from .preprocess import list_preprocessors, make_preprocessor
from .readers import read_cifar10, read_cifar100, read_idx, read_npz

__all__ = [
    "DATASETS",
    "Dataset",
    "RawData",
    "dataset_options",
    "list_datasets",
    "list_preprocessors",
    "load",
    "make_preprocessor",
    "read_cifar10",
    "read_cifar100",
    "read_idx",
    "read_npz",
    "split_indices",
    "with_absolute_path",
]
