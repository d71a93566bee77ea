"""Readers on small files written here: IDX (raw, gzip), CIFAR batches, npz, and broken ones."""

from __future__ import annotations

import gzip
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from trainlab.data import load, read_cifar10, read_cifar100, read_idx, read_npz
from trainlab.errors import DataError, UserError

# ----------------------------------------------------------------------------- IDX helpers

_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D}


def idx_bytes(a: np.ndarray) -> bytes:
    code = _CODES[a.dtype.type]
    header = bytes([0, 0, code, a.ndim]) + b"".join(d.to_bytes(4, "big") for d in a.shape)
    return header + a.astype(a.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, a: np.ndarray, *, gz: bool = False) -> Path:
    data = idx_bytes(a)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_mnist(folder: Path, *, n_train=30, n_test=10, gz=False, h=28, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, h, h), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, h, h), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for name, a in arrays.items():
        write_idx(folder / (name + (".gz" if gz else "")), a, gz=gz)
    return arrays


# ----------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32])
@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_roundtrip(tmp_path, dtype, gz):
    a = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5)
    a = (a % 120).astype(dtype) if dtype in (np.uint8, np.int8) else a.astype(dtype)
    out = read_idx(write_idx(tmp_path / "a.idx", a, gz=gz))
    assert out.shape == (2, 3, 5)
    assert out.dtype == np.dtype(dtype)  # native endian
    np.testing.assert_array_equal(out, a)


def test_read_idx_truncated_names_file_and_sizes(tmp_path):
    a = np.arange(4 * 28 * 28, dtype=np.int64).astype(np.uint8).reshape(4, 28, 28)
    p = tmp_path / "train-images-idx3-ubyte"
    p.write_bytes(idx_bytes(a)[:-100])
    with pytest.raises(DataError, match=r"truncated.*expected 3136 bytes.*found 3036") as e:
        read_idx(p)
    assert str(p) in str(e.value)


def test_read_idx_truncated_gzip_and_header(tmp_path):
    a = np.zeros((5, 4), np.uint8)
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(idx_bytes(a))[:-6])
    with pytest.raises(DataError, match="gzip"):
        read_idx(p)
    p2 = tmp_path / "short"
    p2.write_bytes(bytes([0, 0, 8, 3, 0, 0]))  # 3 dims announced, header cut
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(p2)


def test_read_idx_bad_magic_and_extra_bytes(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(DataError, match="bad magic number 0x89504E47"):
        read_idx(p)
    p.write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 0]))  # unknown type code
    with pytest.raises(DataError, match="magic"):
        read_idx(p)
    p.write_bytes(idx_bytes(np.zeros(3, np.uint8)) + b"\x00\x00")
    with pytest.raises(DataError, match="2 extra"):
        read_idx(p)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"file not found: .*nope.*pass path="):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_folder(tmp_path, gz):
    arrays = write_mnist(tmp_path / "mnist", gz=gz)
    ds = load("mnist", path=tmp_path / "mnist", val_fraction=0.2)
    assert ds.input_shape == (1, 28, 28) and ds.num_classes == 10
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert len(ds.y_train) + len(ds.y_val) == 30 and len(ds.y_test) == 10
    assert float(ds.x_train.min()) >= 0.0 and float(ds.x_train.max()) <= 1.0
    # test split is the t10k files, unshuffled, scaled by 1/255
    expect = arrays["t10k-images-idx3-ubyte"].astype(np.float32)[:, None] / 255
    np.testing.assert_allclose(ds.x_test.numpy(), expect, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_test.numpy(), arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_dotted_names(tmp_path):
    """Some copies name the files train-images.idx3-ubyte; those are found too."""
    write_mnist(tmp_path)
    for f in tmp_path.iterdir():
        f.rename(tmp_path / f.name.replace("-idx", ".idx"))
    assert load("mnist", path=tmp_path).x_train.shape[1:] == (1, 28, 28)


def test_load_mnist_errors(tmp_path):
    with pytest.raises(DataError, match=r"file not found: .*missing.*pass path="):
        load("mnist", path=tmp_path / "missing")
    with pytest.raises(DataError, match="no path given"):
        load("mnist")
    write_mnist(tmp_path / "m")
    os.remove(tmp_path / "m" / "t10k-labels-idx1-ubyte")
    with pytest.raises(DataError, match=r"file not found: .*t10k-labels-idx1-ubyte\[\.gz\]"):
        load("mnist", path=tmp_path / "m")
    # label count does not match image count
    write_idx(tmp_path / "m" / "t10k-labels-idx1-ubyte", np.zeros(9, np.uint8))
    with pytest.raises(DataError, match="9 labels for 10 images"):
        load("mnist", path=tmp_path / "m")
    # labels out of range of a declared class count
    write_idx(tmp_path / "m" / "t10k-labels-idx1-ubyte", np.full(10, 12, np.uint8))
    with pytest.raises(DataError, match=r"label 12 is out of range \[0, 10\)"):
        load("mnist", path=tmp_path / "m", num_classes=10)


# ----------------------------------------------------------------------------- CIFAR


def write_cifar_batch(path: Path, n: int, seed: int, *, str_keys=False, label_key="labels"):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    d = {"data": data, label_key: labels, "batch_label": "b"}
    if not str_keys:  # the original files: Python 2 pickles read with encoding="bytes"
        d = {k.encode(): (v.encode() if isinstance(v, str) else v) for k, v in d.items()}
    with open(path, "wb") as fh:
        pickle.dump(d, fh, protocol=2)
    return data, labels


def write_cifar10(folder: Path, n: int = 4, str_keys=False):
    folder.mkdir(parents=True, exist_ok=True)
    parts = [write_cifar_batch(folder / f"data_batch_{i}", n, i, str_keys=str_keys) for i in (1, 2)]
    parts += [write_cifar_batch(folder / f"data_batch_{i}", n, i) for i in (3, 4, 5)]
    test = write_cifar_batch(folder / "test_batch", n, 9)
    return parts, test


@pytest.mark.parametrize("str_keys", [False, True])
def test_read_cifar10(tmp_path, str_keys):
    parts, test = write_cifar10(tmp_path / "cifar-10-batches-py", str_keys=str_keys)
    x, y, xt, yt = read_cifar10(tmp_path)  # the parent folder works too
    assert x.shape == (20, 3, 32, 32) and x.dtype == np.uint8 and y.dtype == np.int64
    assert xt.shape == (4, 3, 32, 32)
    # channel-major layout: first 1024 values are the red plane
    np.testing.assert_array_equal(x[0, 0].ravel(), parts[0][0][0, :1024])
    np.testing.assert_array_equal(x[4, 2].ravel(), parts[1][0][0, 2048:])
    np.testing.assert_array_equal(y, sum((p[1] for p in parts), []))
    ds = load("cifar10", path=tmp_path / "cifar-10-batches-py", val_fraction=0.25)
    assert ds.input_shape == (3, 32, 32) and ds.num_classes == 10
    assert len(ds.y_train) == 15 and len(ds.y_val) == 5 and len(ds.y_test) == 4
    assert float(ds.x_train.min()) >= 0.0 and float(ds.x_train.max()) <= 1.0


def test_read_cifar10_missing_and_corrupt(tmp_path):
    write_cifar10(tmp_path)
    os.remove(tmp_path / "data_batch_3")
    with pytest.raises(DataError, match=r"file not found: .*data_batch_3"):
        read_cifar10(tmp_path)
    write_cifar_batch(tmp_path / "data_batch_3", 4, 3)
    raw = (tmp_path / "data_batch_4").read_bytes()
    (tmp_path / "data_batch_4").write_bytes(raw[: len(raw) // 2])  # truncated pickle
    with pytest.raises(DataError, match=r"data_batch_4: corrupt CIFAR batch"):
        read_cifar10(tmp_path)
    (tmp_path / "data_batch_4").write_bytes(b"this is not a pickle")
    with pytest.raises(DataError, match=r"data_batch_4: corrupt CIFAR batch"):
        load("cifar10", path=tmp_path)
    with pytest.raises(DataError, match="file not found"):
        load("cifar10", path=tmp_path / "elsewhere")


def test_read_cifar10_wrong_content(tmp_path):
    write_cifar10(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, fh)
    with pytest.raises(DataError, match=r"\(n, 3072\)"):
        read_cifar10(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"pixels": np.zeros((2, 3072), np.uint8)}, fh)
    with pytest.raises(DataError, match="expected keys 'data' and 'labels', found pixels"):
        read_cifar10(tmp_path)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_read_cifar10_refuses_code_in_pickle(tmp_path):
    write_cifar10(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": _Evil(), b"labels": [0]}, fh)
    with pytest.raises(DataError, match="refusing to load"):
        read_cifar10(tmp_path)


def test_read_cifar100(tmp_path):
    for name, n in (("train", 6), ("test", 3)):
        rng = np.random.default_rng(n)
        d = {
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"fine_labels": list(range(90, 90 + n)),
            b"coarse_labels": list(range(n)),
        }
        with open(tmp_path / name, "wb") as fh:
            pickle.dump(d, fh, protocol=5)  # modern numpy pickles work too
    x, y, xt, yt = read_cifar100(tmp_path)
    assert x.shape == (6, 3, 32, 32) and list(yt) == [90, 91, 92]
    assert list(read_cifar100(tmp_path, "coarse")[1]) == list(range(6))
    ds = load("cifar100", path=tmp_path, label_mode="coarse", val_fraction=0.0)
    assert ds.num_classes == 20 and len(ds.y_val) == 0
    with pytest.raises(DataError, match="label_mode"):
        read_cifar100(tmp_path, "medium")


# ----------------------------------------------------------------------------- npz


def test_read_npz_and_load(tmp_path):
    rng = np.random.default_rng(0)
    p = tmp_path / "d.npz"
    np.savez(
        p,
        x_train=rng.normal(size=(50, 6)),
        y_train=np.arange(50) % 3,
        x_test=rng.normal(size=(10, 6)),
        y_test=np.arange(10) % 3,
    )
    arrays = read_npz(p)
    assert set(arrays) == {"x_train", "y_train", "x_test", "y_test"}
    ds = load("npz", path=p)
    assert ds.input_shape == (6,) and ds.num_classes == 3
    assert len(ds.y_train) == 45 and len(ds.y_val) == 5 and len(ds.y_test) == 10
    np.testing.assert_allclose(ds.x_test.numpy(), arrays["x_test"].astype(np.float32))


def test_npz_given_val_and_scale(tmp_path):
    p = tmp_path / "d.npz"
    x = np.full((8, 2, 2), 255, np.uint8)
    y = np.arange(8) % 2
    np.savez(p, x_train=x, y_train=y, x_val=x[:3], y_val=y[:3], x_test=x[:4], y_test=y[:4])
    ds = load("npz", path=p, scale=1 / 255, val_fraction=0.5)
    assert len(ds.y_train) == 8 and len(ds.y_val) == 3  # the given val split is kept
    assert torch.allclose(ds.x_val, torch.ones(3, 2, 2))


def test_read_npz_missing_keys_lists_contents(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, X=np.zeros((3, 2)), y=np.zeros(3))
    with pytest.raises(DataError, match=r"missing array\(s\) x_train, y_train.*file has: X, y"):
        read_npz(p)


def test_read_npz_mismatched_lengths(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x_train=np.zeros((5, 2)), y_train=np.zeros(4), x_test=np.zeros((2, 2)),
             y_test=np.zeros(2))  # fmt: skip
    with pytest.raises(DataError, match=r"x_train has shape \(5, 2\) but y_train \(4,\)"):
        read_npz(p)
    np.savez(p, x_train=np.zeros((5, 2)), y_train=np.zeros(5), x_test=np.zeros((2, 2)),
             y_test=np.zeros(2), x_val=np.zeros((1, 2)))  # fmt: skip
    with pytest.raises(DataError, match="x_val without its partner"):
        read_npz(p)


def test_read_npz_corrupt_and_missing(tmp_path):
    p = tmp_path / "d.npz"
    p.write_bytes(b"PK\x03\x04 garbage")
    with pytest.raises(DataError, match="not a readable .npz"):
        read_npz(p)
    with pytest.raises(DataError, match=r"file not found: .*none\.npz \(pass path="):
        load("npz", path=tmp_path / "none.npz")
    with pytest.raises(DataError, match="no path given"):
        load("npz")


def test_npz_nan_and_bad_labels(tmp_path):
    p = tmp_path / "d.npz"
    x = np.zeros((6, 3))
    x[2, 1] = np.nan
    z = np.zeros((6, 3))
    np.savez(p, x_train=x, y_train=np.arange(6) % 2, x_test=z[:2], y_test=[0, 1])
    with pytest.raises(DataError, match="train inputs contain NaN or Inf in 1 sample"):
        load("npz", path=p)
    np.savez(p, x_train=z, y_train=[0, 1, 2, 3, 4, 5], x_test=z[:2], y_test=[0, 1])
    with pytest.raises(DataError, match=r"label 5 is out of range \[0, 3\)"):
        load("npz", path=p, num_classes=3)
    np.savez(p, x_train=z, y_train=[0, 1, -1, 0, 1, 0], x_test=z[:2], y_test=[0, 1])
    with pytest.raises(DataError, match="label -1 is out of range"):
        load("npz", path=p)
    np.savez(p, x_train=z, y_train=[0, 1, 0.5, 0, 1, 0], x_test=z[:2], y_test=[0, 1])
    with pytest.raises(DataError, match="integer class indices"):
        load("npz", path=p)
    np.savez(p, x_train=z, y_train=np.arange(6) % 2, x_test=np.zeros((2, 4)), y_test=[0, 1])
    with pytest.raises(DataError, match="same sample shape"):
        load("npz", path=p)
    assert issubclass(DataError, UserError)


# ----------------------------------------------------------------------------- clear errors


def test_idx_dims_whose_product_overflows_int64_are_a_truncation_error(tmp_path):
    p = tmp_path / "huge.idx"
    dims = (3, 2**31, 2**31)  # 1.4e19 bytes: overflows int64
    p.write_bytes(bytes([0, 0, 0x08, 3]) + b"".join(d.to_bytes(4, "big") for d in dims))
    with pytest.raises(DataError, match=r"truncated IDX file: expected 13835058055282163712 "):
        read_idx(p)


def test_mnist_label_file_of_the_wrong_shape(tmp_path):
    write_mnist(tmp_path, n_train=30)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((30, 1), np.uint8))
    with pytest.raises(DataError, match=r"expected labels of shape \(N,\), found \(30, 1\)"):
        load("mnist", path=tmp_path)


@pytest.mark.parametrize("labels", [[1.5, 2.0, 3.0, 4.0], ["a", "b", "c", "d"]])
def test_cifar_labels_must_be_integers(tmp_path, labels):
    write_cifar10(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": np.zeros((4, 3072), np.uint8), b"labels": labels}, fh)
    with pytest.raises(DataError, match=r"test_batch: corrupt CIFAR batch: 'labels' must hold "):
        read_cifar10(tmp_path)


def test_cifar10_label_out_of_range_names_no_missing_option(tmp_path):
    write_cifar10(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        pickle.dump({b"data": np.zeros((4, 3072), np.uint8), b"labels": [0, 1, 10, 2]}, fh)
    with pytest.raises(DataError, match=r"label 10 is out of range") as err:
        load("cifar10", path=tmp_path)
    assert "num_classes" not in str(err.value) and "check the data files" in str(err.value)


def _npz_arrays(x_train: np.ndarray) -> dict[str, np.ndarray]:
    n = len(x_train)
    return {"x_train": x_train, "y_train": np.arange(n) % 2, "x_test": x_train[:4].real,
            "y_test": np.arange(4) % 2}  # fmt: skip


def test_npz_values_beyond_float32_and_complex_inputs(tmp_path):
    p = tmp_path / "d.npz"
    x = np.zeros((10, 3))
    x[3, 1] = 1e300  # finite in float64, inf in float32
    np.savez(p, **_npz_arrays(x))
    for scale in (1.0, 0.5):
        with pytest.raises(DataError, match=r"exceed the float32 range .* in 1 sample"):
            load("npz", path=p, scale=scale)
    np.savez(p, **_npz_arrays(np.ones((10, 3)) + 1j))
    with pytest.raises(DataError, match=r"inputs are complex \(complex128\)"):
        load("npz", path=p)
    with pytest.raises(DataError, match=r"inputs are complex"):
        load("npz", path=p, scale=2.0)
    np.savez(p, **_npz_arrays(np.full((10, 3), 1e30)))
    assert float(load("npz", path=p).x_train.max()) == pytest.approx(1e30)


def test_npy_file_given_as_npz(tmp_path):
    p = tmp_path / "a.npy"
    np.save(p, np.zeros(3))
    with pytest.raises(DataError, match=r"a\.npy: holds a single array .*numpy\.savez"):
        read_npz(p)


# ----------------------------------------------------------------------------- review: broken files


def test_npz_with_a_corrupt_compressed_member_is_a_clear_error(tmp_path):
    p = tmp_path / "d.npz"
    np.savez_compressed(p, **_npz_arrays(np.random.default_rng(0).normal(size=(40, 5))))
    raw = bytearray(p.read_bytes())
    raw[100:140] = bytes(range(40))  # inside the first member's deflate stream
    p.write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"d\.npz: not a readable \.npz file"):
        load("npz", path=p)


def test_npz_that_is_not_a_zip_archive_says_so(tmp_path):
    p = tmp_path / "d.npz"
    p.write_bytes(bytes(range(7, 250)))
    with pytest.raises(DataError, match=r"d\.npz: not an \.npz file .*starts with") as err:
        read_npz(p)
    assert "allow_pickle" not in str(err.value)  # numpy's advice to unpickle is not repeated


def test_npz_object_array_names_the_array(tmp_path):
    p = tmp_path / "d.npz"
    arrays = _npz_arrays(np.zeros((6, 2)))
    arrays["y_train"] = np.array(["cat", 1, 2, 3, 4, 5], dtype=object)
    np.savez(p, **arrays)
    with pytest.raises(DataError, match=r"y_train is an array of Python objects.*numpy\.unique"):
        read_npz(p)


def test_npz_one_hot_and_string_labels_say_how_to_fix_them(tmp_path):
    p = tmp_path / "d.npz"
    arrays = _npz_arrays(np.zeros((6, 2)))
    np.savez(p, **{**arrays, "y_train": np.eye(2)[arrays["y_train"]]})
    with pytest.raises(DataError, match=r"y_train has shape \(6, 2\): one-hot.*argmax\(1\)"):
        read_npz(p)
    np.savez(p, **{**arrays, "y_train": np.array(["cat", "dog"] * 3)})
    with pytest.raises(DataError, match=r"integer class indices, got dtype <U3; .*numpy\.unique"):
        load("npz", path=p)


def test_inputs_with_one_value_per_sample_are_a_data_error(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x_train=np.arange(8.0), y_train=np.arange(8) % 2, x_test=np.arange(4.0),
             y_test=np.arange(4) % 2)  # fmt: skip
    with pytest.raises(DataError, match=r"train inputs have shape \(8,\).*x\[:, None\]"):
        load("npz", path=p)


def test_single_class_is_a_data_error(tmp_path):
    p = tmp_path / "d.npz"
    z = np.random.default_rng(0).normal(size=(10, 3))
    np.savez(p, x_train=z, y_train=np.zeros(10, int), x_test=z[:4], y_test=np.zeros(4, int))
    with pytest.raises(DataError, match="every training label is 0; .*at least 2 classes"):
        load("npz", path=p)
    with pytest.raises(DataError, match="every training label is 0"):  # however many declared
        load("npz", path=p, num_classes=3)


def test_sparse_class_ids_are_not_taken_as_max_plus_one_classes(tmp_path):
    """Labels {3, 7} would give a model 8 outputs (6 never trained); {0, 1e12} one that cannot
    be allocated. Either is refused with the remap, unless num_classes is passed."""
    p = tmp_path / "d.npz"
    z = np.random.default_rng(0).normal(size=(10, 3))
    y = np.where(np.arange(10) % 2, 3, 7)
    np.savez(p, x_train=z, y_train=y, x_test=z[:4], y_test=y[:4])
    with pytest.raises(DataError, match=r"only 2 of the 8 class indices 0\.\.7 \(3, 7\); remap"):
        load("npz", path=p)
    assert load("npz", path=p, num_classes=8).num_classes == 8
    np.savez(p, x_train=z, y_train=y * 10**11, x_test=z[:4], y_test=y[:4])
    with pytest.raises(DataError, match=r"only 4 of the 700000000001 class indices") as err:
        load("npz", path=p)
    assert "pass num_classes" not in str(err.value)  # more than an output layer can hold
    write_mnist(tmp_path / "m", n_train=20)
    write_idx(tmp_path / "m" / "train-labels-idx1-ubyte", (y.repeat(2)).astype(np.uint8))
    write_idx(tmp_path / "m" / "t10k-labels-idx1-ubyte", y.astype(np.uint8))
    used = r"mnist \(.*m\): the labels use only 2 of the 8 .*num_classes=8"
    with pytest.raises(DataError, match=used):
        load("mnist", path=tmp_path / "m")


def test_data_without_any_sample_is_a_data_error(tmp_path):
    p = tmp_path / "d.npz"
    e = np.zeros((0, 3))
    np.savez(p, x_train=e, y_train=np.zeros(0, int), x_test=e, y_test=np.zeros(0, int))
    with pytest.raises(DataError, match=r"npz \(.*d\.npz\): the data has no samples"):
        load("npz", path=p)


def test_mnist_image_files_of_different_types_would_be_scaled_differently(tmp_path):
    write_mnist(tmp_path, n_train=20)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.full((20, 28, 28), 200.0, np.float32))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: holds uint8 pixels but "
                       r"train-images-idx3-ubyte float32"):  # fmt: skip
        load("mnist", path=tmp_path)


def test_cifar_labels_of_the_wrong_shape_and_an_empty_batch(tmp_path):
    write_cifar10(tmp_path)
    with open(tmp_path / "test_batch", "wb") as fh:
        labels = np.zeros((4, 1), np.int64)
        pickle.dump({b"data": np.zeros((4, 3072), np.uint8), b"labels": labels}, fh)
    with pytest.raises(DataError, match=r"'labels' must be a list of class indices .*\(4, 1\)"):
        read_cifar10(tmp_path)
    with open(tmp_path / "data_batch_5", "wb") as fh:  # an empty batch is no error
        pickle.dump({b"data": np.zeros((0, 3072), np.uint8), b"labels": []}, fh)
    write_cifar_batch(tmp_path / "test_batch", 4, 9)
    x, y, _, _ = read_cifar10(tmp_path)
    assert x.shape == (16, 3, 32, 32) and y.dtype == np.int64


def test_an_archive_given_as_the_folder_says_extract_it(tmp_path):
    p = tmp_path / "cifar-10-python.tar.gz"
    p.write_bytes(gzip.compress(b"not really a tar"))
    with pytest.raises(DataError, match=r"is an archive; extract it \(e\.g\. tar xf cifar-10"):
        load("cifar10", path=p)
    with pytest.raises(DataError, match="is not a folder"):  # a plain file: the old message
        load("mnist", path=write_idx(tmp_path / "x-idx1-ubyte", np.zeros(3, np.uint8)))


def test_mnist_files_in_folders_of_their_own_names(tmp_path):
    """Some copies (e.g. Kaggle's) hold train-images-idx3-ubyte/train-images-idx3-ubyte."""
    arrays = write_mnist(tmp_path / "flat")
    for name in arrays:
        (tmp_path / "m" / name).mkdir(parents=True)
        (tmp_path / "flat" / name).rename(tmp_path / "m" / name / name)
    ds = load("mnist", path=tmp_path / "m")
    np.testing.assert_array_equal(ds.y_test.numpy(), arrays["t10k-labels-idx1-ubyte"])


@pytest.mark.parametrize("sub", ["MNIST/raw", "FashionMNIST/raw", "raw"])
def test_mnist_in_a_torchvision_root(tmp_path, sub):
    arrays = write_mnist(tmp_path / sub, gz=True)
    ds = load("mnist", path=tmp_path)
    np.testing.assert_array_equal(ds.y_test.numpy(), arrays["t10k-labels-idx1-ubyte"])


def test_npz_images_with_their_channels_last_say_how_to_transpose(tmp_path):
    """(N, 32, 32, 3) would make a convnet read 32 channels of 32x3 images: refused with the
    transpose that gives torch's (N, C, H, W); (N, 3, 32, 32) loads."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 12)
    nhwc = tmp_path / "nhwc.npz"
    x = rng.random((12, 32, 32, 3), dtype=np.float32)
    np.savez(nhwc, x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])
    with pytest.raises(DataError, match=r"channels last .*x_train.transpose\(0, 3, 1, 2\)"):
        read_npz(nhwc)
    nchw = tmp_path / "nchw.npz"
    x = x.transpose(0, 3, 1, 2)
    np.savez(nchw, x_train=x, y_train=y, x_test=x[:4], y_test=y[:4])
    assert read_npz(nchw)["x_train"].shape == (12, 3, 32, 32)
