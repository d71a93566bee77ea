"""Review (data20): a user's own data files through ``trainlab.data`` (npz, CIFAR batches) and
the preprocessing. Every test here fails on the code it was written against."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from trainlab import data
from trainlab.data.preprocess import PCA
from trainlab.errors import DataError, UserError


class _ForgedObjectDtype:
    """Pickles as ``np.dtype('O')`` whose BUILD state clears its flags (no 'list pickle')."""

    def __reduce__(self):
        return (np.dtype, ("O8", False, True), (3, "|", None, None, None, -1, -1, 0))


class _ForgedObjectArray:
    """Pickles as an object array whose 'pointers' are raw bytes taken from the file."""

    def __reduce__(self):
        from numpy._core.multiarray import _reconstruct

        raw = b"\x41\x41\x41\x41\x41\x41\x00\x00" * 2  # two fake PyObject* (0x414141414141)
        return (_reconstruct, (np.ndarray, (0,), b"b"), (1, (2,), _ForgedObjectDtype(), False, raw))


def test_cifar_batch_with_forged_object_labels_is_a_data_error_not_a_segfault(tmp_path):
    # readers.py allows numpy.dtype + ndarray BUILD: a batch can forge an object array from raw
    # bytes (fake PyObject pointers); the labels error path calls labels[:3].tolist() and the
    # process dies with SIGSEGV (CLI too). Must be a one-line DataError, never a memory deref.
    good = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
    for n in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        obj = dict(good)
        if n == "data_batch_1":
            obj[b"labels"] = _ForgedObjectArray()
        (tmp_path / n).write_bytes(pickle.dumps(obj, protocol=2))
    code = (
        "import sys\nfrom trainlab import data\nfrom trainlab.errors import DataError\n"
        "try:\n    data.load('cifar10', path=sys.argv[1])\n"
        "except DataError as e:\n    print('DATAERROR', e)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0 and "DATAERROR" in p.stdout, (p.returncode, p.stdout, p.stderr[-500:])


def test_npz_with_an_empty_training_split_is_not_blamed_on_the_fractions(tmp_path):
    # x_train of 0 rows in the file: the error says 'use ... val_fraction: 0 and/or
    # test_fraction: 0', a fix that cannot help (val_fraction is already 0); it should say the
    # file's x_train/y_train hold no samples
    rng = np.random.default_rng(0)
    p = tmp_path / "e.npz"
    np.savez(p, x_train=np.zeros((0, 3)), y_train=np.zeros(0, np.int64),
             x_test=rng.normal(size=(4, 3)), y_test=np.array([0, 1, 0, 1]))  # fmt: skip
    with pytest.raises(DataError) as err:
        data.load("npz", path=str(p), val_fraction=0)
    assert "val_fraction" not in str(err.value) and "x_train" in str(err.value), str(err.value)


def test_pca_components_are_capped_at_what_centred_samples_span():
    # N centred samples span at most N-1 directions (the PCA docstring says so for the
    # default); pca_components=N is accepted (and suggested by the 'pass 1..N' error) and its
    # last component is arbitrary: a 1-ulp change of one training value flips the test
    # projections on it. k = N must be refused (or the error suggest 1..N-1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 50))
    with pytest.raises(UserError, match=r"1\.\.9"):
        PCA(10).fit(torch.as_tensor(x))


def test_val_fraction_ignored_for_a_file_with_its_own_val_split_warns_like_test_fraction(tmp_path):
    # load(): test_fraction != default with a given test split warns 'is ignored', but
    # val_fraction=0.3 with an npz holding x_val/y_val is dropped silently; it should warn too
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    p = tmp_path / "v.npz"
    np.savez(p, x_train=rng.normal(size=(40, 3)), y_train=y, x_test=rng.normal(size=(10, 3)),
             y_test=y[:10], x_val=rng.normal(size=(6, 3)), y_val=y[:6])  # fmt: skip
    with pytest.warns(UserWarning, match="val_fraction"):
        data.load("npz", path=str(p), val_fraction=0.3)


def test_npz_with_near_miss_val_array_names_is_not_silently_ignored(tmp_path):
    # arrays x_valid/y_valid (a near miss of x_val/y_val) are ignored without a word and a
    # random 10% of x_train becomes the validation split; it should warn or refuse, naming x_val
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    p = tmp_path / "typo.npz"
    np.savez(p, x_train=rng.normal(size=(40, 3)), y_train=y, x_test=rng.normal(size=(10, 3)),
             y_test=y[:10], x_valid=rng.normal(size=(6, 3)), y_valid=y[:6])  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data.load("npz", path=str(p))
        except DataError as err:
            assert "x_val" in str(err)
            return
    assert any("x_val" in str(w.message) for w in caught), [str(w.message) for w in caught]


def _py2_batch(raw: bytes, labels: tuple[int, ...]) -> bytes:
    """A CIFAR batch pickled as Python 2 wrote them (str as SHORT_BINSTRING, numpy.core)."""
    import struct

    def s(b: bytes) -> bytes:
        return b"U" + bytes([len(b)]) + b

    def i1(n: int) -> bytes:
        return b"K" + bytes([n])

    arr = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + i1(0) + b"\x85" + s(b"b")
    arr += b"\x87R(" + i1(1) + i1(len(raw) // 3072) + b"M" + struct.pack("<H", 3072) + b"\x86"
    arr += b"cnumpy\ndtype\n" + s(b"u1") + i1(0) + i1(1) + b"\x87R(" + i1(3) + s(b"|") + b"NNN"
    arr += b"J" + struct.pack("<i", -1) + b"J" + struct.pack("<i", -1) + i1(0) + b"tb"
    arr += b"\x89T" + struct.pack("<i", len(raw)) + raw + b"tb"
    listed = b"](" + b"".join(i1(n) for n in labels) + b"e"
    return b"\x80\x02}(" + s(b"data") + arr + s(b"labels") + listed + b"u."


def test_python2_cifar_batches_still_load_with_arrays_built_from_their_bytes(tmp_path):
    # the unpickler records dtypes and arrays and builds them itself (np.frombuffer): the
    # original files' Python 2 form (byte-string dtype name and values) must still load exactly
    from trainlab.data.readers import read_cifar10

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
    for n in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (tmp_path / n).write_bytes(_py2_batch(pixels.tobytes(), (3, 7)))
    x, y, xt, yt = read_cifar10(tmp_path)
    assert x.shape == (10, 3, 32, 32) and list(yt) == [3, 7]
    np.testing.assert_array_equal(xt.reshape(2, 3072), pixels)


def test_a_batchs_shared_references_are_walked_once():
    # a pickle's memo lets a few hundred bytes hold 2**40 references to one list ([L, L] forty
    # times over): the unpickler's array-building walk must build each shared object once (it
    # copied every reference: hours of CPU for a 346-byte file); shared stays shared
    import io

    from trainlab.data.readers import _BatchUnpickler, _built

    nested = [0]
    for _ in range(40):
        nested = [nested, nested]
    raw = pickle.dumps({b"filenames": nested}, protocol=2)
    out = _built(_BatchUnpickler(io.BytesIO(raw), encoding="bytes").load())[b"filenames"]
    assert out[0] is out[1]
