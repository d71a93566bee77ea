"""Datasets: registry, shapes, dtypes, deterministic splits, options, mnist1d, synthetic sets."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from trainlab.data import Dataset, dataset_options, list_datasets, load, split_indices
from trainlab.data.synthetic import make_blobs, make_spirals, make_teacher
from trainlab.errors import UserError


def rows(x: torch.Tensor) -> set[bytes]:
    return {r.tobytes() for r in x.reshape(len(x), -1).numpy()}


# ----------------------------------------------------------------------------- registry


def test_list_datasets_names_and_descriptions():
    names = dict(list_datasets())
    for n in ("digits", "mnist1d", "spirals", "blobs", "teacher", "mnist", "cifar10", "npz"):
        assert n in names and len(names[n]) > 20
    assert "(1, 8, 8)" in names["digits"] and "4000" in names["mnist1d"]


def test_unknown_dataset_and_option_hints():
    with pytest.raises(UserError, match=r"unknown dataset 'digts' \(did you mean 'digits'\?\)"):
        load("digts")
    with pytest.raises(UserError, match=r"unknown option 'n_sample'.*did you mean 'n_samples'"):
        load("spirals", n_sample=10)
    with pytest.raises(UserError, match=r"unknown option 'path' for dataset 'digits'"):
        load("digits", path="x")
    with pytest.raises(UserError, match=r"unknown preprocessing 'zac' \(did you mean 'zca'\?\)"):
        load("digits", preprocess="zac")
    with pytest.raises(UserError, match="val_fraction must be a number in"):
        load("digits", val_fraction=1.0)
    with pytest.raises(UserError, match="test_fraction"):
        load("digits", test_fraction=-0.1)
    with pytest.raises(UserError, match="seed must be an integer"):
        load("digits", seed=-1)
    with pytest.raises(UserError, match="no effect with preprocess='none'"):
        load("digits", epsilon=0.1)
    with pytest.raises(UserError, match="classes must be an integer >= 2"):
        load("blobs", classes=1)
    assert "n_samples" in dataset_options("teacher") and "hidden" in dataset_options("teacher")


# ----------------------------------------------------------------------------- digits


def test_digits_shapes_dtypes_sizes():
    ds = load("digits")
    assert isinstance(ds, Dataset)
    assert ds.input_shape == (1, 8, 8) and ds.num_classes == 10
    for x, y in (ds.split("train"), ds.split("val"), ds.split("test")):
        assert x.dtype == torch.float32 and y.dtype == torch.int64
        assert x.shape[1:] == (1, 8, 8) and x.shape[0] == y.shape[0] and y.ndim == 1
    n_tr, n_va, n_te = len(ds.y_train), len(ds.y_val), len(ds.y_test)
    assert n_tr + n_va + n_te == 1797
    assert n_te == round(0.2 * 1797) and n_va == round(0.1 * (1797 - n_te))
    assert float(ds.x_train.min()) == 0.0 and float(ds.x_train.max()) == 1.0  # /16
    assert set(ds.y_train.tolist()) == set(range(10))
    info = ds.info()
    assert info["n_train"] == n_tr and info["input_shape"] == [1, 8, 8] and info["seed"] == 0


def test_splits_deterministic_and_seed_dependent():
    a, b, c = load("digits", seed=3), load("digits", seed=3), load("digits", seed=4)
    for split in ("train", "val", "test"):
        assert torch.equal(a.split(split)[0], b.split(split)[0])
        assert torch.equal(a.split(split)[1], b.split(split)[1])
    assert not torch.equal(a.x_test, c.x_test)
    assert not torch.equal(a.x_val, c.x_val)


@pytest.mark.parametrize("stratify", [True, False])
def test_splits_disjoint_and_cover_everything(stratify):
    x, _ = make_blobs(n_samples=503, dim=3, classes=4)  # continuous: every row is unique
    ds = load("blobs", n_samples=503, dim=3, classes=4, stratify=stratify, seed=7)
    tr, va, te = rows(ds.x_train), rows(ds.x_val), rows(ds.x_test)
    assert len(tr) + len(va) + len(te) == 503
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert tr | va | te == {r.tobytes() for r in x}
    assert len(te) == round(0.2 * 503) and len(va) == round(0.1 * (503 - len(te)))


def test_split_indices_stratified_keeps_class_shares():
    y = np.repeat(np.arange(5), [100, 37, 61, 8, 200])
    keep, held = split_indices(y, 0.25, seed=11)
    assert len(held) == round(0.25 * len(y))
    assert np.intersect1d(keep, held).size == 0 and len(keep) + len(held) == len(y)
    counts = np.bincount(y[held], minlength=5)
    assert np.all(np.abs(counts - 0.25 * np.bincount(y)) <= 1.0)
    # same seed, same draw; another stage or seed, another draw
    assert np.array_equal(held, split_indices(y, 0.25, seed=11)[1])
    assert not np.array_equal(held, split_indices(y, 0.25, seed=12)[1])
    assert not np.array_equal(held, split_indices(y, 0.25, seed=11, stage=1)[1])
    assert split_indices(y, 0.0, seed=0)[1].size == 0


def test_to_device_moves_every_split_once():
    ds = load("spirals", n_samples=60)
    moved = ds.to("meta")
    for f in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert getattr(moved, f).device.type == "meta"
        assert getattr(ds, f).device.type == "cpu"  # the original is untouched
    assert moved.input_shape == ds.input_shape and moved.num_classes == ds.num_classes
    assert ds.to("cpu").x_train.data_ptr() == ds.x_train.data_ptr()  # no copy if already there


def test_loaded_tensors_do_not_alias_the_cache():
    a = load("digits")
    ref = a.x_test.clone()
    a.x_test.add_(5.0)
    a.x_train.add_(5.0)
    b = load("digits")
    assert torch.equal(b.x_test, ref)


def test_val_fraction_zero_gives_empty_val():
    ds = load("digits", val_fraction=0.0, preprocess="standardize")
    assert ds.x_val.shape == (0, 1, 8, 8) and ds.y_val.shape == (0,)


def test_import_is_light():
    code = (
        "import sys, trainlab.data as d; "
        "print(int('sklearn' in sys.modules), int('mnist1d' in sys.modules), "
        "int('matplotlib' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0", "0", "0"]


# ----------------------------------------------------------------------------- mnist1d


def test_mnist1d_offline_default_sizes(monkeypatch, tmp_path):
    """Generated by make_dataset: no download, no file written, global RNGs untouched."""
    import requests

    def no_network(*a, **k):
        raise AssertionError("mnist1d tried to download")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.chdir(tmp_path)
    np.random.seed(123)
    random.seed(123)
    before_np, before_py = np.random.get_state()[1].copy(), random.getstate()
    ds = load("mnist1d")
    assert np.array_equal(np.random.get_state()[1], before_np)
    assert random.getstate() == before_py
    assert list(tmp_path.iterdir()) == []
    assert ds.input_shape == (1, 40) and ds.num_classes == 10
    assert len(ds.y_train) + len(ds.y_val) == 4000 and len(ds.y_test) == 1000
    assert len(ds.y_val) == 400
    assert ds.x_train.dtype == torch.float32 and ds.y_test.dtype == torch.int64
    assert set(ds.y_test.tolist()) == set(range(10))
    # the generator is seeded (42): the set is the same every time, only val moves with seed
    again = load("mnist1d", seed=1)
    assert torch.equal(again.x_test, ds.x_test)
    assert rows(again.x_train) | rows(again.x_val) == rows(ds.x_train) | rows(ds.x_val)
    assert not torch.equal(again.x_val, ds.x_val)


# ----------------------------------------------------------------------------- synthetic


def test_spirals_shape_balance_and_seeds():
    x, y = make_spirals(301, classes=4, noise=0.0)
    assert x.shape == (301, 2) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [76, 75, 75, 75]
    assert np.all(np.linalg.norm(x, axis=1) <= 1.0 + 1e-6)
    ds = load("spirals", classes=4, n_samples=301, noise=0.1)
    assert ds.input_shape == (2,) and ds.num_classes == 4
    a = load("spirals", n_samples=100, data_seed=1)
    b = load("spirals", n_samples=100, data_seed=2)
    assert not torch.equal(a.x_train, b.x_train)


def test_blobs_are_separable_clusters():
    x, y = make_blobs(600, dim=5, classes=3, std=0.1, data_seed=3)
    centers = np.stack([x[y == c].mean(0) for c in range(3)])
    nearest = np.argmin(((x[:, None] - centers[None]) ** 2).sum(-1), axis=1)
    assert (nearest == y).mean() == 1.0
    assert np.allclose(x[y == 0].std(0), 0.1, rtol=0.3)


def test_teacher_any_size_and_balanced():
    x, y = make_teacher(4000, dim=30, classes=7, hidden=[32, 16], data_seed=0)
    assert x.shape == (4000, 30) and x.dtype == np.float32 and y.dtype == np.int64
    counts = np.bincount(y, minlength=7)
    assert counts.min() > 4000 / 7 / 5  # centred logits: no class vanishes
    # labels are a deterministic function of the inputs: same seed, same set
    x2, y2 = make_teacher(4000, dim=30, classes=7, hidden=[32, 16], data_seed=0)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    ds = load("teacher", n_samples=500, dim=12, classes=3, hidden=8, test_fraction=0.1)
    assert ds.input_shape == (12,) and ds.num_classes == 3 and len(ds.y_test) == 50
    with pytest.raises(UserError, match="hidden must be"):
        load("teacher", hidden=[8, 0])


# ----------------------------------------------------------------------------- options


def test_loader_options_may_be_positional_or_keyword_or_kwargs():
    from trainlab.data import DATASETS, RawData

    @DATASETS.register("_test_plain", "a loader with a positional-or-keyword option")
    def _plain(n=100):
        return RawData(x=np.zeros((n, 2), np.float32), y=np.arange(n) % 2)

    @DATASETS.register("_test_kw", "a loader with **kw")
    def _kw(**kw):
        n = kw.get("n", 20)
        return RawData(x=np.zeros((n, 2), np.float32), y=np.arange(n) % 2)

    try:
        assert dataset_options("_test_plain") == {"n": 100}
        ds = load("_test_plain", n=50, test_fraction=0.2, val_fraction=0.0)
        assert len(ds.y_train) + len(ds.y_test) == 50
        with pytest.raises(UserError, match=r"unknown option 'm' for dataset '_test_plain'"):
            load("_test_plain", m=3)
        ds = load("_test_kw", n=30, stratify=False, test_fraction=0.0, val_fraction=0.0)
        assert len(ds.y_train) == 30  # n went to the loader, stratify to load()
    finally:
        DATASETS._entries.pop("_test_plain", None)
        DATASETS._entries.pop("_test_kw", None)


def test_option_types_are_checked():
    with pytest.raises(UserError, match="stratify must be true or false, got 'no'"):
        load("digits", stratify="no")
    assert len(load("digits", stratify=np.bool_(False)).y_val) > 0
    with pytest.raises(UserError, match=r"data_seed must be an integer in \[0, 2\*\*32\), got -1"):
        load("mnist1d", data_seed=-1)


@pytest.mark.parametrize("stratify", [True, False])
def test_a_positive_fraction_of_a_tiny_set_holds_out_at_least_one(stratify):
    """round(0.1 * 4) = 0 would leave the asked-for validation split silently empty."""
    y = np.array([0, 1, 0, 1])
    keep, held = split_indices(y, 0.1, seed=0, stratify=stratify)
    assert len(held) == 1 and len(keep) == 3
    ds = load("spirals", n_samples=6, classes=2, stratify=stratify)  # test 1.2 -> 1, val 0.5 -> 1
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (4, 1, 1)
    assert split_indices(y, 0.0, seed=0)[1].size == 0  # 0 still means none
