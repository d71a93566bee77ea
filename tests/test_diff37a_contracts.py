"""Review (diff37a) of the session's source changes since 71c77f3: atomic.py, threads.py,
optimizers_2d.zigzag_stats and report.tables.fmt's docstring."""

from __future__ import annotations

import errno
import os
from unittest import mock

import numpy as np

from trainlab.atomic import atomic_open, atomic_write_text
from trainlab.report.tables import fmt


def test_atomic_write_survives_a_file_system_that_refuses_fchmod(tmp_path):
    """atomic.py:123 (``os.fchmod(f.fileno(), mode)``): the chmod only copies the permissions
    a plain ``open()`` would give (module docstring), yet a refusal aborts the whole write. On
    vfat/exfat (Linux's fat_setattr returns EPERM when the asked r/x bits differ from what
    fmask allows, e.g. 0644 against the default 0755 — and atomic.py's own _link_new names FAT
    as a target) and on file systems that do not allow chmod, every new file trainlab writes
    fails with "Operation not permitted" and its data is lost, while ``open(path, 'w')`` writes
    it. Expected: the file is written with its data (permissions left as the file system gives
    them); got: PermissionError [Errno 1] naming the file, and no file."""
    path = tmp_path / "summary.json"
    refuse = PermissionError(errno.EPERM, "Operation not permitted")
    with mock.patch("os.fchmod", side_effect=refuse):
        atomic_write_text(path, '{"ok": 1}\n')
    assert path.read_text() == '{"ok": 1}\n'
    assert os.listdir(tmp_path) == ["summary.json"]  # (no temporary file left)


def test_atomic_open_exclusive_survives_a_file_system_that_refuses_fchmod(tmp_path):
    """atomic.py:123, exclusive=True (save_figure's path): as above, a refused chmod loses the
    figure. Expected: the file written; got: PermissionError [Errno 1]."""
    path = tmp_path / "fig.png"
    refuse = PermissionError(errno.EPERM, "Operation not permitted")
    with mock.patch("os.fchmod", side_effect=refuse), atomic_open(path, exclusive=True) as f:
        f.write(b"\x89PNG")
    assert path.read_bytes() == b"\x89PNG"


def test_fmt_numpy_integers_print_whole():
    """report/tables.py:33-34: the new docstring says "integers whole", but only Python ints
    are; a numpy or torch integer goes through float and the 1e5 / 4-significant-digit rule.
    Expected (docstring): np.int64(123456) -> '123456', np.int32(12345) -> '12345';
    got: '1.235e+05' and '1.234e+04'."""
    assert fmt(np.int64(123456)) == "123456"
    assert fmt(np.int32(12345)) == "12345"


def test_fmt_torch_integers_print_whole_and_bools_as_words():
    """A 0-d integer tensor prints whole like an int; a float rounding up to 1e5 (99995 at 4
    digits) prints in the scientific form the docstring gives outside [1e-3, 1e5)."""
    import torch

    assert fmt(torch.tensor(123456)) == "123456"
    assert fmt(np.array(7, dtype=np.uint8)) == "7"
    assert fmt(np.bool_(True)) == "True" and fmt(torch.tensor(False)) == "False"
    assert fmt(True) == "True"
    assert fmt(99995.0) == f"{99995.0:.3e}" == "1.000e+05"
    assert fmt(99994.0) == "9.999e+04"
    assert fmt(1234.5) == "1234"
    assert fmt(torch.tensor(0.5)) == "0.5"
