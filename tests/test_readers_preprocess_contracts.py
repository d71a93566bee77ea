"""Readers and preprocessing: corrupt CIFAR pickles and unextractable .npz files are DataErrors,
numeric paths, float64 data transformed in float64, NaN refused by fit, absolute data paths in
config.yaml so resume reads the same file from any folder."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import assert_npz_train_refused, assert_user_error, run_cli
from trainlab.data import load, read_cifar10, read_npz
from trainlab.data.preprocess import PCA, ZCA, Standardize
from trainlab.errors import DataError, UserError

SMALL = """
name: review
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 16}
population: {seeds: [0]}
"""


# ----------------------------------------------------------------------------- CIFAR


def _cifar_batch(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {
        b"batch_label": b"training batch",
        b"labels": [int(v) for v in rng.integers(0, 10, n)],
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }


def _write_cifar10(folder: Path, n: int = 4) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate([f"data_batch_{j}" for j in range(1, 6)] + ["test_batch"]):
        (folder / name).write_bytes(pickle.dumps(_cifar_batch(n, i), protocol=2))


def _corrupt_codec_name(raw: bytes) -> bytes:
    i = raw.index(b"latin1")
    return raw[:i] + b"latinX" + raw[i + 6 :]  # one byte changed, same length


def _corrupt_first_string_opcode(raw: bytes) -> bytes:
    # the first BINUNICODE ('X', 4-byte length) becomes BINUNICODE8 (0x8d, 8-byte length):
    # the length now reads as ~7e18 bytes
    i = raw.index(b"X\x04\x00\x00\x00")
    return raw[:i] + b"\x8d" + raw[i + 1 :]


@pytest.mark.parametrize("corrupt", [_corrupt_codec_name, _corrupt_first_string_opcode])
def test_cifar_batch_with_one_corrupt_byte_is_a_data_error(tmp_path, corrupt):
    """A CIFAR batch with a single corrupted byte must raise DataError ("corrupt CIFAR batch").

    The readers promise (module docstring, issue 3: "every reader on ... truncated/corrupt ones
    (clear error)") that a corrupt file is one DataError naming the file. ``_load_batch`` only
    catches UnpicklingError/EOFError/ValueError/TypeError/AttributeError, so a flipped byte in the
    ``'latin1'`` codec name of a protocol-2 batch escapes as ``LookupError: unknown encoding``,
    and a flipped opcode byte that turns a string length into ~7e18 escapes as ``MemoryError``;
    ``trainlab train`` then prints a traceback instead of one line with exit code 2.
    """
    _write_cifar10(tmp_path)
    victim = tmp_path / "data_batch_3"
    victim.write_bytes(corrupt(victim.read_bytes()))
    with pytest.raises(DataError, match=r"data_batch_3: corrupt CIFAR batch"):
        read_cifar10(tmp_path)


# ----------------------------------------------------------------------------- npz


def _write_npz(path: Path, seed: int = 0, n: int = 40, offset: float = 0.0) -> None:
    rng = np.random.default_rng(seed)
    np.savez(
        path,
        x_train=offset + rng.normal(size=(n, 4)),
        y_train=np.arange(n) % 2,
        x_test=offset + rng.normal(size=(10, 4)),
        y_test=np.arange(10) % 2,
    )


def _patch_zip_headers(raw: bytes, local_off: int, central_off: int, value: int, *, flag: bool):
    """Set a 2-byte field in every local (PK\\3\\4) and central (PK\\1\\2) header: OR a flag
    bit in, or write a value."""
    buf = bytearray(raw)
    for sig, off in ((b"PK\x03\x04", local_off), (b"PK\x01\x02", central_off)):
        i = buf.find(sig)
        while i >= 0:
            old = int.from_bytes(buf[i + off : i + off + 2], "little")
            new = (old | value) if flag else value
            buf[i + off : i + off + 2] = new.to_bytes(2, "little")
            i = buf.find(sig, i + 4)
    return bytes(buf)


def _encrypted(raw: bytes) -> bytes:  # general-purpose flag bit 0: encrypted (zip -e)
    return _patch_zip_headers(raw, 6, 8, 0x1, flag=True)


def _deflate64(raw: bytes) -> bytes:  # compression method 9 (Windows' "compressed folder")
    return _patch_zip_headers(raw, 8, 10, 9, flag=False)


@pytest.mark.parametrize("patch", [_encrypted, _deflate64])
def test_npz_that_python_cannot_extract_is_a_data_error(tmp_path, patch):
    """An .npz whose members are password-protected (``zip -e``) or compressed with a method
    Python's zipfile lacks (Deflate64, which Windows' "compressed folder" writes) must give a
    DataError, like every other unreadable .npz (``read_npz`` docstring: "not a readable .npz
    file ... write it with numpy.savez").

    ``read_npz`` catches BadZipFile/ValueError/OSError/EOFError/KeyError/zlib.error only, so
    zipfile's ``RuntimeError: File 'x_train.npy' is encrypted, password required`` and
    ``NotImplementedError: That compression method is not supported`` escape as tracebacks.
    """
    path = tmp_path / "data.npz"
    _write_npz(path)
    path.write_bytes(patch(path.read_bytes()))
    with pytest.raises(DataError, match=r"data\.npz"):
        read_npz(path)


def test_cli_train_on_an_encrypted_npz_is_one_line(monkeypatch, capsys, tmp_path):
    """``trainlab train`` with ``data.options.path`` naming a password-protected .npz must print
    one clear line and exit 2 (issue 3, CLI: user errors "print one clear line and exit 2,
    without a traceback"). Today the zipfile RuntimeError escapes ``read_npz`` and the CLI
    prints a traceback with exit status 1."""
    path = tmp_path / "data.npz"
    _write_npz(path)
    path.write_bytes(_encrypted(path.read_bytes()))
    assert_npz_train_refused(monkeypatch, capsys, tmp_path, path)


def test_cli_train_with_a_numeric_data_path_is_one_line(monkeypatch, capsys, tmp_path):
    """``--set data.options.path=2024`` (a folder named by a year or a number, which YAML reads
    as an int) must not crash: it is a path like any other, so the run either reads it or
    stops with one line and exit 2 (here the folder does not exist: "file not found").

    ``_require_file``/``_require_folder`` call ``Path(path)`` on the int and raise
    ``TypeError: expected str, bytes or os.PathLike object, not int``, a traceback with exit 1.
    """
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(SMALL)
    for dataset in ("npz", "mnist"):
        code, _, err = run_cli(
            monkeypatch, capsys, "train", cfg, "--set", f"data.name={dataset}",
            "--set", "data.options.path=2024", "--out", tmp_path / "run", "--device", "cpu",
        )  # fmt: skip
        assert_user_error(code, err, "2024")
    assert not (tmp_path / "run").exists()


# ----------------------------------------------------------------------------- preprocessing


def test_standardize_of_float64_data_keeps_float64_precision(tmp_path):
    """``load(preprocess="standardize")`` on float64 inputs must give the float64 answer
    (scikit-learn's StandardScaler fitted on x_train) to float32 rounding of the *result*.

    The preprocessing module promises "Statistics are fitted in float64", and the npz reader
    keeps float64 inputs "in its own precision". But ``load`` casts every split to float32
    before fitting, so a feature with a large offset and a small spread, e.g. UTM northings in
    metres (5e6 ± 1 m: float32 spacing there is 0.5 m) or Unix timestamps, is quantised before
    it is standardized: test values land up to ~0.25σ (here) from the right ones and the
    standardized feature carries mostly rounding noise. Fitting and applying the transform on
    the float64 arrays, and casting the transformed result to float32, fixes it.
    """
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    x_train = 5e6 + rng.normal(size=(200, 3))  # float64 (N, 3)
    x_test = 5e6 + rng.normal(size=(50, 3))
    path = tmp_path / "utm.npz"
    np.savez(
        path, x_train=x_train, y_train=np.arange(200) % 2, x_test=x_test,
        y_test=np.arange(50) % 2,
    )  # fmt: skip
    ds = load("npz", path=path, val_fraction=0.0, preprocess="standardize")
    ref = StandardScaler().fit(x_train).transform(x_test)
    np.testing.assert_allclose(ds.x_test.numpy(), ref, atol=1e-3)


@pytest.mark.parametrize(
    "make", [Standardize, lambda: PCA(3, whiten=True, epsilon=1e-2), lambda: ZCA(1e-2)]
)
def test_fit_on_inputs_with_nan_is_a_clear_error(make):
    """``Transform.fit`` on training inputs containing NaN must raise a UserError (a ValueError)
    that says the inputs are not finite (DESIGN.md house style: "Public functions validate
    their inputs and raise ValueError/TypeError with the fix").

    Today ``Standardize().fit`` silently learns NaN statistics (every transformed value of the
    feature becomes NaN, and training later stops as "NaN loss"), and ``PCA``/``ZCA`` crash in
    ``torch.linalg.eigh`` with ``LinAlgError: ... the input matrix is ill-conditioned or has too
    many repeated eigenvalues``, a RuntimeError that points the user at the wrong problem.
    """
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x[7, 2] = float("nan")
    with pytest.raises(UserError, match=r"(?i)nan|finite"):
        make().fit(x)


# ----------------------------------------------------------------------------- resume


def test_resume_reads_the_data_file_the_run_was_trained_on(monkeypatch, capsys, tmp_path):
    """A run trained with a relative ``data.options.path`` must resume on the same data from
    any working directory (DESIGN.md principle 5: "Every run is reproducible from its
    directory"; issue 3: resume "reaches the same final weights as an uninterrupted run").

    ``config.yaml`` keeps the path as typed (``path: d.npz``) and ``load`` resolves it against
    the *current* directory, so ``trainlab resume RUN`` started elsewhere either fails with
    "file not found" or, where that directory has its own ``d.npz``, silently trains the
    remaining epochs on other data. Here two copies of a 1-epoch run are extended to 2 epochs
    (``train.epochs`` may change on resume), one resumed from the data's folder and one from a
    folder holding another ``d.npz`` of the same shape: their final metrics must agree.
    Writing the resolved (absolute) path into ``config.yaml`` fixes it.
    """
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _write_npz(a / "d.npz", seed=0)
    _write_npz(b / "d.npz", seed=1)  # same shapes, other values
    cfg = tmp_path / "c.yaml"
    cfg.write_text(SMALL)
    run = tmp_path / "run"
    monkeypatch.chdir(a)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "data.name=npz",
        "--set", "data.options.path=d.npz", "--out", run, "--device", "cpu",
    )  # fmt: skip
    assert code == 0, err
    config = (run / "config.yaml").read_text()
    assert "epochs: 1\n" in config
    (run / "config.yaml").write_text(config.replace("epochs: 1\n", "epochs: 2\n", 1))
    other = tmp_path / "run_copy"
    shutil.copytree(run, other)

    code, _, err = run_cli(monkeypatch, capsys, "resume", run, "--device", "cpu")
    assert code == 0, err
    monkeypatch.chdir(b)
    code, _, err = run_cli(monkeypatch, capsys, "resume", other, "--device", "cpu")
    assert code == 0, err  # resumed: it must have trained on a/d.npz, as the run did
    want = json.loads((run / "summary.json").read_text())["models"][0]["final"]
    got = json.loads((other / "summary.json").read_text())["models"][0]["final"]
    assert got == want
