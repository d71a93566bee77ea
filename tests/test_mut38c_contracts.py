"""Mutation review mut38c: trainlab.data.datasets (splits, load() checks, file readers).

Expected values are hand computations from the docstrings / README, numpy, or files written
here under tmp_path; never trainlab's own output.
"""

from __future__ import annotations

import numpy as np
import pytest

from trainlab.data import load, split_indices
from trainlab.errors import DataError


def _labels(counts: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(counts)), counts)


def _held_per_class(y: np.ndarray, held: np.ndarray) -> list[int]:
    return np.bincount(y[held], minlength=int(y.max()) + 1).tolist()


def _npz(path, x_train, y_train, x_test, y_test, **extra):
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, **extra)
    return str(path)


# --- _allocate: largest remainder, ties to the lower class index -----------------------------


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_stratified_split_gives_the_extra_samples_to_the_largest_remainders(seed):
    # counts (4, 3, 3), fraction 0.3: round(0.3 * 10) = 3 held out; ideal shares
    # (1.2, 0.9, 0.9) -> floors (1, 0, 0), 2 left over -> the two largest remainders (0.9,
    # classes 1 and 2): (1, 1, 1).
    y = _labels([4, 3, 3])
    keep, held = split_indices(y, 0.3, seed)
    assert len(held) == 3
    assert _held_per_class(y, held) == [1, 1, 1]
    assert sorted(np.concatenate([keep, held]).tolist()) == list(range(10))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_stratified_split_ties_go_to_the_lower_class_index_whatever_the_seed(seed):
    # counts (3, 5, 2), fraction 0.5: 5 held out; ideal (1.5, 2.5, 1.0) exact in float64 ->
    # floors (1, 2, 1), 1 left over, remainders (0.5, 0.5, 0): the tie goes to class 0.
    y = _labels([3, 5, 2])
    _, held = split_indices(y, 0.5, seed)
    assert _held_per_class(y, held) == [2, 2, 1]


@pytest.mark.parametrize("seed", [0, 3])
def test_unstratified_split_returns_both_index_arrays_sorted(seed):
    # docstring: "Split range(len(y)) into (keep, held_out) index arrays, both sorted."
    y = np.arange(50) % 2
    keep, held = split_indices(y, 0.3, seed, stratify=False)
    assert len(held) == 15  # round(0.3 * 50)
    assert np.array_equal(keep, np.sort(keep))
    assert np.array_equal(held, np.sort(held))
    assert np.array_equal(np.sort(np.concatenate([keep, held])), np.arange(50))


# --- load(): checks on the labels and the training split ---------------------------------------


def test_inferred_num_classes_with_exactly_half_of_the_indices_in_use_is_accepted(tmp_path):
    # module docstring: "where num_classes is inferred as max label + 1 at least half of those
    # indices in use": labels {0, 3} use 2 of 4 -> accepted, num_classes 4.
    rng = np.random.default_rng(0)
    y = np.array([0, 3] * 6)
    p = _npz(tmp_path / "d.npz", rng.random((12, 2)), y, rng.random((4, 2)), np.array([0, 3] * 2))
    ds = load("npz", path=p, val_fraction=0.0)
    assert ds.num_classes == 4
    # and fewer than half (labels {0, 4}: 2 of 5) is refused
    p2 = _npz(tmp_path / "e.npz", rng.random((12, 2)), np.array([0, 4] * 6), rng.random((4, 2)),
              np.array([0, 4] * 2))  # fmt: skip
    with pytest.raises(DataError, match="only 2 of the 5"):
        load("npz", path=p2, val_fraction=0.0)


def test_a_training_split_of_one_sample_is_refused_as_too_small(tmp_path):
    # 3 training samples, labels (0, 1, 1), val_fraction 0.5: round(1.5) = 2 held out, so 1
    # training sample is left: the error is about the size, not "one class only".
    rng = np.random.default_rng(0)
    p = _npz(tmp_path / "d.npz", rng.random((3, 2)), np.array([0, 1, 1]), rng.random((2, 2)),
             np.array([0, 1]))  # fmt: skip
    with pytest.raises(DataError, match=r"training split has 1 sample\(s\)"):
        load("npz", path=p, val_fraction=0.5)


def test_labels_zero_to_num_classes_are_not_called_counted_from_one(tmp_path):
    # labels 0..3 with num_classes=3: the fix is num_classes=4, not "subtract 1" (that hint is
    # for labels 1..C only).
    rng = np.random.default_rng(0)
    y = np.array([0, 1, 2, 3] * 3)
    p = _npz(tmp_path / "d.npz", rng.random((12, 2)), y, rng.random((4, 2)), np.arange(4))
    with pytest.raises(DataError) as err:
        load("npz", path=p, num_classes=3)
    assert "num_classes=4" in str(err.value) and "subtract 1" not in str(err.value)
    # labels 1..3 with num_classes=3 are counted from 1
    p2 = _npz(tmp_path / "e.npz", rng.random((12, 2)), np.array([1, 2, 3] * 4),
              rng.random((3, 2)), np.array([1, 2, 3]))  # fmt: skip
    with pytest.raises(DataError, match="subtract 1"):
        load("npz", path=p2, num_classes=3)


# --- file readers through load() -------------------------------------------------------------

_IDX_CODES = {np.uint8: 0x08, np.float32: 0x0D}


def _write_idx(path, arr: np.ndarray) -> None:
    import struct

    head = bytes([0, 0, _IDX_CODES[arr.dtype.type], arr.ndim])
    head += b"".join(struct.pack(">I", d) for d in arr.shape)
    path.write_bytes(head + arr.astype(arr.dtype.newbyteorder(">")).tobytes())


def _mnist_folder(folder, xs, ys, xt, yt):
    folder.mkdir(parents=True)
    _write_idx(folder / "train-images-idx3-ubyte", xs)
    _write_idx(folder / "train-labels-idx1-ubyte", ys)
    _write_idx(folder / "t10k-images-idx3-ubyte", xt)
    _write_idx(folder / "t10k-labels-idx1-ubyte", yt)
    return str(folder)


def _pixels(n, dtype=np.uint8):
    x = np.zeros((n, 2, 3), dtype=dtype)
    x[:, 0, 0] = 255
    x[:, 1, 2] = 51
    return x


def test_mnist_uint8_pixels_are_scaled_by_1_over_255(tmp_path):
    y = (np.arange(10) % 2).astype(np.uint8)
    p = _mnist_folder(tmp_path / "m", _pixels(10), y, _pixels(4), y[:4])
    ds = load("mnist", path=p, val_fraction=0.0)
    assert ds.input_shape == (1, 2, 3) and ds.num_classes == 2
    for x in (ds.x_train, ds.x_test):
        assert float(x[:, 0, 0, 0].min()) == 1.0 == float(x[:, 0, 0, 0].max())
        assert np.allclose(x[:, 0, 1, 2].numpy(), 0.2)  # 51 / 255


def test_mnist_image_files_of_different_types_are_refused(tmp_path):
    y = (np.arange(10) % 2).astype(np.uint8)
    p = _mnist_folder(tmp_path / "m", _pixels(10), y, _pixels(4).astype(np.float32), y[:4])
    with pytest.raises(DataError, match="same IDX type"):
        load("mnist", path=p)


def test_mnist_images_that_are_not_three_dimensional_are_refused(tmp_path):
    y = (np.arange(10) % 2).astype(np.uint8)
    p = _mnist_folder(tmp_path / "m", _pixels(10).reshape(10, 6), y,
                      _pixels(4).reshape(4, 6), y[:4])  # fmt: skip
    with pytest.raises(DataError, match=r"expected images of shape \(N, H, W\)"):
        load("mnist", path=p)


def test_mnist_label_count_mismatch_names_the_label_file(tmp_path):
    y = (np.arange(10) % 2).astype(np.uint8)
    p = _mnist_folder(tmp_path / "m", _pixels(10), y[:9], _pixels(4), y[:4])
    with pytest.raises(DataError, match="9 labels for 10 images"):
        load("mnist", path=p)


def _cifar(folder, names, labels_key, n, k):
    import pickle

    folder.mkdir(parents=True)
    for name in names:
        x = np.zeros((n, 3072), dtype=np.uint8)
        x[:, 0] = 255
        x[:, 1] = 51
        batch = {b"data": x, labels_key: [i % k for i in range(n)]}
        if labels_key == b"coarse_labels":
            batch[b"fine_labels"] = [i % 100 for i in range(n)]
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh, protocol=2)
    return str(folder)


def test_cifar10_pixels_scaled_by_1_over_255(tmp_path):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    p = _cifar(tmp_path / "c", names, b"labels", 4, 10)
    ds = load("cifar10", path=p, val_fraction=0.0)
    assert ds.input_shape == (3, 32, 32) and ds.num_classes == 10
    assert float(ds.x_train[:, 0, 0, 0].min()) == 1.0
    assert np.allclose(ds.x_test[:, 0, 0, 1].numpy(), 0.2)


def test_cifar100_coarse_labels_give_20_classes(tmp_path):
    p = _cifar(tmp_path / "c", ["train", "test"], b"coarse_labels", 40, 20)
    ds = load("cifar100", path=p, label_mode="coarse", val_fraction=0.0)
    assert ds.num_classes == 20
    assert sorted(set(ds.y_train.tolist())) == list(range(20))


# --- mnist1d options and the memory guard ------------------------------------------------------


def test_mnist1d_smallest_n_samples_is_10():
    ds = load("mnist1d", n_samples=10, val_fraction=0.0)
    assert len(ds.y_train) + len(ds.y_test) == 10  # 80/20: 8 train, 2 test
    assert len(ds.y_test) == 2


def test_mnist1d_data_seed_of_2_to_the_32_is_refused():
    # numpy's legacy seed (which make_dataset uses) takes [0, 2**32)
    from trainlab.errors import UserError

    with pytest.raises(UserError, match="data_seed"):
        load("mnist1d", data_seed=2**32)
    with pytest.raises(ValueError):
        np.random.RandomState(2**32)


def test_memory_guard_refuses_a_set_just_beyond_the_machine(monkeypatch):
    from trainlab.data import datasets
    from trainlab.errors import UserError

    # mnist1d counts 1 kB a sample: 1000 samples need 1024000 bytes
    monkeypatch.setattr(datasets, "_physical_memory", lambda: 1024 * 1000 - 1)
    with pytest.raises(UserError, match="more than"):
        load("mnist1d", n_samples=1000)


def test_cache_keeps_the_four_most_recently_used(monkeypatch):
    from collections import OrderedDict

    from trainlab.data import datasets

    monkeypatch.setattr(datasets, "_CACHE", OrderedDict())
    made = []

    def maker(i):
        def make():
            made.append(i)
            return datasets.RawData(x=np.zeros((2, 1)), y=np.arange(2))

        return make

    for i in range(4):
        datasets._cached(("mut38c", i), maker(i))
    datasets._cached(("mut38c", 0), maker(0))  # used again: now the most recent
    datasets._cached(("mut38c", 4), maker(4))  # evicts the least recently used: 1
    assert made == [0, 1, 2, 3, 4]
    first = datasets._cached(("mut38c", 4), maker(4))
    datasets._cached(("mut38c", 0), maker(0))
    assert made == [0, 1, 2, 3, 4]  # 4 and 0 still cached
    datasets._cached(("mut38c", 1), maker(1))
    assert made == [0, 1, 2, 3, 4, 1]  # 1 was evicted
    assert first is datasets._cached(("mut38c", 4), maker(4)) or 4 in made


# --- npz options ---------------------------------------------------------------------------------


def test_npz_float32_inputs_are_scaled_in_float32(tmp_path):
    # the npz loader multiplies float32 inputs by float32(scale) (float32 products: the values a
    # run's data fingerprint is of); wider inputs are scaled in float64
    rng = np.random.default_rng(0)
    x = rng.random((64, 8)).astype(np.float32) * 255
    y = np.arange(64) % 2
    p = _npz(tmp_path / "d.npz", x, y, x[:8], y[:8])
    ds = load("npz", path=p, scale=1 / 255, val_fraction=0.0)
    want = x * np.float32(1 / 255)
    assert want.dtype == np.float32
    assert np.array_equal(ds.x_train.numpy(), want)
    assert np.array_equal(ds.x_test.numpy(), want[:8])


def test_npz_scale_zero_is_allowed(tmp_path):
    # "scale must be a number >= 0"
    rng = np.random.default_rng(0)
    y = np.arange(8) % 2
    p = _npz(tmp_path / "d.npz", rng.random((8, 3)), y, rng.random((4, 3)), y[:4])
    ds = load("npz", path=p, scale=0, val_fraction=0.0)
    assert float(ds.x_train.abs().max()) == 0.0


def test_num_classes_may_be_as_large_as_max_classes(tmp_path):
    # datasets.MAX_CLASSES = 2**31 - 1 is the most a data set may declare: allowed, one more is
    # refused
    rng = np.random.default_rng(0)
    y = np.arange(8) % 2
    p = _npz(tmp_path / "d.npz", rng.random((8, 3)), y, rng.random((4, 3)), y[:4])
    assert load("npz", path=p, num_classes=2**31 - 1, val_fraction=0.0).num_classes == 2**31 - 1
    from trainlab.errors import UserError

    with pytest.raises(UserError, match="num_classes"):
        load("npz", path=p, num_classes=2**31)


def test_with_absolute_path_resolves_dotdot_and_symlinks(tmp_path, monkeypatch):
    import os

    from trainlab.data.datasets import with_absolute_path

    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    out = with_absolute_path({"path": "link/sub/../data.npz", "scale": 2})
    assert out == {"path": os.path.realpath(tmp_path / "real" / "data.npz"), "scale": 2}
    (tmp_path / "2024").mkdir()
    assert with_absolute_path({"path": 2024})["path"] == os.path.realpath(tmp_path / "2024")


# --- Dataset.info / meta ------------------------------------------------------------------------


def test_info_counts_each_split_and_meta_marks_given_splits(tmp_path):
    rng = np.random.default_rng(0)
    y = np.arange(20) % 2
    p = _npz(tmp_path / "d.npz", rng.random((20, 3)), y, rng.random((6, 3)), y[:6],
             x_val=rng.random((4, 3)), y_val=y[:4])  # fmt: skip
    ds = load("npz", path=p)
    info = ds.info()
    assert (info["n_train"], info["n_val"], info["n_test"]) == (20, 4, 6)
    # both splits come with the file: no fraction was used
    assert ds.meta["val_fraction"] is None and ds.meta["test_fraction"] is None
    # digits: 1797 samples, test round(0.2 * 1797) = 359, val round(0.1 * 1438) = 144
    d = load("digits")
    assert (d.info()["n_train"], d.info()["n_val"], d.info()["n_test"]) == (1294, 144, 359)
    assert d.meta["val_fraction"] == 0.1 and d.meta["test_fraction"] == 0.2


def test_load_stratifies_by_default():
    # module docstring: the splits are "stratified by class by default, so each class keeps its
    # share": every class's test count is within 1 of 0.2 x its count in scikit-learn's digits,
    # and its val count within 1 of 0.1 x what was left for training
    from sklearn.datasets import load_digits

    counts = np.bincount(load_digits().target, minlength=10)
    ds = load("digits")
    test = np.bincount(ds.y_test.numpy(), minlength=10)
    val = np.bincount(ds.y_val.numpy(), minlength=10)
    train = np.bincount(ds.y_train.numpy(), minlength=10)
    assert np.array_equal(train + val + test, counts)
    assert np.all(np.abs(test - 0.2 * counts) < 1), test
    assert np.all(np.abs(val - 0.1 * (train + val)) < 1), val
