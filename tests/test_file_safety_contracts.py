"""Adversarial review: files a user did not write themselves (run folders received from someone
else, data files, configs). Untrusted or damaged inputs must never run code, crash, exhaust
memory, or make trainlab write outside the folder the user named."""

from __future__ import annotations

import os
import pickle
import resource
import shutil
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_user_error, run_cli, small_config
from trainlab.data import readers
from trainlab.errors import DataError


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    """One finished tiny training run (CPU), copied by each test that changes it."""
    from trainlab.train import train

    out = tmp_path_factory.mktemp("finished") / "run"
    train(small_config(train={"epochs": 1}), out=out, device="cpu", progress=False)
    return out


def _copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


# --------------------------------------------------------------------------- run folders


def test_resume_does_not_truncate_the_file_a_lock_symlink_points_to(
    monkeypatch, capsys, tmp_path, finished_run
):
    """``trainlab resume DIR`` must never modify files outside DIR. A run folder received from
    someone else (a tarball keeps symlinks) whose ``.lock`` is a symlink to a file elsewhere
    makes ``RunDir.lock`` open it with ``O_CREAT`` (following the link), ``ftruncate`` it to 0
    and write the pid into it: the user's file outside the run folder is destroyed. The lock
    file must not be followed (``O_NOFOLLOW``), or be replaced by a regular file first."""
    run = _copy_run(finished_run, tmp_path / "run")
    precious = tmp_path / "elsewhere" / "notes.txt"
    precious.parent.mkdir()
    precious.write_text("a year of lab notes\n")
    (run / ".lock").unlink()
    (run / ".lock").symlink_to(precious)
    run_cli(monkeypatch, capsys, "resume", run, "--device", "cpu")
    assert precious.read_text() == "a year of lab notes\n", (
        f"resume overwrote {precious} through {run / '.lock'}: now {precious.read_text()!r}"
    )


def test_report_does_not_write_through_a_figures_symlink(
    monkeypatch, capsys, tmp_path, finished_run
):
    """``trainlab report DIR`` writes ``DIR/report.html`` and ``DIR/figures/*.png`` and nothing
    else. When ``figures`` is a symlink to a folder elsewhere (a received run folder, or one
    whose figures were linked to another run's), ``plots.save_figure`` writes (and replaces)
    ``curves_loss.png`` etc. inside that other folder: a file the user never named is
    overwritten. ``report.html`` as a symlink is handled (the link is replaced, the target kept);
    ``figures/`` must be treated the same way (refuse it with one line, or replace the link by a
    real folder)."""
    run = _copy_run(finished_run, tmp_path / "run")
    other = tmp_path / "other_project" / "figures"
    other.mkdir(parents=True)
    (other / "curves_loss.png").write_bytes(b"my own figure")
    shutil.rmtree(run / "figures", ignore_errors=True)
    (run / "figures").symlink_to(other, target_is_directory=True)
    run_cli(monkeypatch, capsys, "report", run)
    assert (other / "curves_loss.png").read_bytes() == b"my own figure", (
        f"trainlab report {run} overwrote {other / 'curves_loss.png'}"
    )
    assert sorted(p.name for p in other.iterdir()) == ["curves_loss.png"]


# --------------------------------------------------------------------------- MNIST IDX


def test_gzip_idx_with_a_lying_header_is_not_decompressed_whole(tmp_path):
    """``read_idx`` on a ``.gz`` must not allocate far more than the header promises. A label
    file whose header says 10 items followed by 64 MiB of zeros compresses to ~64 KB, yet
    ``_read_bytes`` calls ``gzip.decompress`` on the whole file before the header is checked:
    peak memory grows ~2x the decompressed size (a 10 MB file -> ~20 GB -> the process is
    OOM-killed instead of printing the one-line "corrupt IDX file" error it prints today for
    small bombs). Decompress incrementally: the header, then at most the expected byte count
    plus one."""
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    co = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: a gzip stream
    with path.open("wb") as f:
        f.write(co.compress(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + bytes(10)))
        block = bytes(1 << 20)
        for _ in range(64):
            f.write(co.compress(block))
        f.write(co.flush())
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(DataError):
            readers.read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"read_idx allocated {peak / 2**20:.0f} MiB for a 10-item file"


# --------------------------------------------------------------------------- CIFAR batches


class _Dataless:
    """Pickles as ``numpy.ndarray(*args)``: an array whose values are not in the file."""

    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (np.ndarray, self.args)


@pytest.mark.parametrize("kind", ["uninitialized", "zero_strides"])
def test_cifar_batch_whose_arrays_hold_no_data_is_refused(tmp_path, kind):
    """A CIFAR python batch is unpickled by a restricted unpickler that "accepts only the numpy
    types such a batch holds" and every reader "checks the file before trusting it". But the
    whitelist lets a pickle *call* ``numpy.ndarray(shape, dtype, ...)`` directly: a 250-byte
    file then yields 20000 images of uninitialized memory (or one byte repeated through zero
    strides; claim 10 GB and it is allocated, then touched at float conversion). The reader
    must refuse arrays whose data is not in the file (e.g. allow ``numpy.ndarray`` only as
    ``_reconstruct``'s argument, or check that the arrays' bytes fit in the file size)."""
    n = 20_000
    if kind == "uninitialized":
        data, labels = _Dataless((n, 3072), np.dtype("u1")), _Dataless((n,), np.dtype("i8"))
    else:
        data = _Dataless((n, 3072), np.dtype("u1"), b"\x07", 0, (0, 0))
        labels = _Dataless((n,), np.dtype("i8"), bytes(8), 0, (0,))
    for name in ("train", "test"):
        with (tmp_path / name).open("wb") as f:
            pickle.dump({b"data": data, b"fine_labels": labels}, f, protocol=3)
    assert (tmp_path / "train").stat().st_size < 1000
    try:
        out = readers.read_cifar100(tmp_path)
    except DataError:
        return
    pytest.fail(
        f"a {(tmp_path / 'train').stat().st_size}-byte batch was read as {out[0].shape} images "
        f"({out[0].nbytes / 2**20:.0f} MiB that the file does not hold)"
    )


# --------------------------------------------------------------------------- YAML configs


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    """YAML aliases are expanded nowhere in a 1 KB file, but trainlab's config handling
    (``model_dump`` of the members' configs, then ``copy.deepcopy`` in ``parse_config``) expands
    them: nine nested levels of ten aliases ("billion laughs") under ``data.options`` make
    ``trainlab train`` spin at 100% CPU for minutes and grow without bound instead of printing
    the one-line "unknown option" error it gives for the same key without aliases (``trainlab
    report`` on a run whose config.yaml holds such a bomb in ``model`` hangs the same way, in
    its header's summary). The loader must bound alias expansion (as SnakeYAML's
    ``maxAliasesForCollections`` does) or refuse it with one line."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text(
        "name: review\nmodel: {name: mlp, hidden: [8]}\ntrain: {epochs: 1}\n"
        "data:\n  name: digits\n  options:\n" + "".join(f"    {line}\n" for line in lines)
    )
    assert cfg.stat().st_size < 1500

    def limit_memory():  # the child may not take the machine down while it expands
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    cmd = [sys.executable, "-m", "trainlab", "train", str(cfg), "--out", str(tmp_path / "run"),
           "--device", "cpu"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=20, preexec_fn=limit_memory, env=env
        )
    except subprocess.TimeoutExpired:
        pytest.fail("trainlab train on a 1 KB config with nested YAML aliases ran for > 20 s")
    assert "out of memory" not in proc.stderr, proc.stderr[-500:]
    assert_user_error(proc.returncode, proc.stderr)
    assert not (tmp_path / "run").exists()
