"""Mutation review (mut36p) of atomic.py and runs.py: atomic writes, JSONL appends, RunDir.

Each test names the mutant it kills; expected values come from POSIX semantics, the module
docstrings (atomic.py, runs.py) and README.md's run-directory section, never from running trainlab.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from trainlab import atomic
from trainlab.atomic import atomic_open, atomic_write_text, refuse_symlinks
from trainlab.errors import UserError
from trainlab.runs import RunDir, enclosing_folder, next_free_dir, to_jsonable


# kills atomic.py:102 `dir=path.parent` -> `dir=None` (temp file in /tmp): the docstring promises
# the temporary file lies "in the same folder" (a rename across file systems is not atomic); and
# a crash at the rename (os.replace raising) leaves the old file whole and no temporary behind.
def test_atomic_write_puts_its_temporary_beside_the_target_and_a_failed_rename_keeps_the_old_file(
    tmp_path, monkeypatch
):
    target = tmp_path / "sub" / "summary.json"
    target.parent.mkdir()
    target.write_text("old\n")
    seen = []

    def failing_replace(src, dst):
        seen.append((os.fspath(src), os.fspath(dst)))
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(OSError):
        atomic_write_text(target, "new\n")
    assert len(seen) == 1
    src, dst = seen[0]
    assert os.path.dirname(src) == str(target.parent)
    assert dst == str(target)
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["summary.json"]


# kills atomic.py:86 `255 - 2 - 8 - len(TEMP_SUFFIX)` -> `255 - 2 - len(TEMP_SUFFIX)`: a 236-byte
# name is legal (< 255), but "." + name + "." + 8 random chars + ".trainlab-tmp" is
# 1+236+1+8+13 = 259 bytes > 255 unless the prefix is cut; the docstring says it must be writable.
def test_a_legal_file_name_of_236_bytes_is_written(tmp_path):
    target = tmp_path / ("m" * 236)
    atomic_write_text(target, "x")
    assert target.read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


# kills atomic.py:112 `0o666 & ~_umask()` -> `0o600` (mkstemp's mode): the module docstring
# promises a new file gets what plain open() gives, 0o666 & ~0o022 = 0o644.
def test_a_new_file_gets_the_mode_open_would_give_it(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644


# kills atomic.py:110 (existing mode ignored -> umask default): open() keeps an existing
# file's mode.
def test_replacing_a_file_keeps_its_mode(tmp_path):
    target = tmp_path / "config.yaml"
    target.write_text("a: 1\n")
    target.chmod(0o640)
    atomic_write_text(target, "a: 2\n")
    assert target.stat().st_mode & 0o777 == 0o640
    assert target.read_text() == "a: 2\n"


# kills atomic.py:118 `if exclusive` -> never (always os.replace) and atomic.py:123 (temp not
# removed on FileExistsError): exclusive never replaces an existing file and leaves no temporary.
def test_exclusive_open_refuses_an_existing_file_and_leaves_it_whole(tmp_path):
    target = tmp_path / "population.json"
    target.write_text("theirs")
    with pytest.raises(FileExistsError), atomic_open(target, exclusive=True) as f:
        f.write(b"mine")
    assert target.read_text() == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["population.json"]


# kills atomic.py:148 `os.unlink(tmp)` dropped: after the hard link the temporary must be gone.
def test_exclusive_open_of_a_new_file_leaves_only_the_file(tmp_path):
    target = tmp_path / "population.json"
    with atomic_open(target, exclusive=True) as f:
        f.write(b"mine")
    assert target.read_bytes() == b"mine"
    assert [p.name for p in tmp_path.iterdir()] == ["population.json"]


# kills atomic.py:50 (no link detected): README: a run folder whose entries are symbolic links is
# refused; the message names the link.
def test_refuse_symlinks_names_a_linked_metrics_file(tmp_path):
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text("")
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").symlink_to(outside)
    with pytest.raises(UserError, match="metrics.jsonl"):
        refuse_symlinks(run)


# kills runs.py:70 `n = 1` -> `n = 0` (run-1 after run): README names the next folder
# `runs/<name>-2`; the docstring: base, base-2, base-3.
def test_next_free_dir_numbers_from_two(tmp_path):
    base = tmp_path / "run"
    assert next_free_dir(base) == base
    base.mkdir()
    assert next_free_dir(base) == tmp_path / "run-2"
    (tmp_path / "run-2").mkdir()
    assert next_free_dir(base) == tmp_path / "run-3"


# kills runs.py:113 `not math.isfinite` -> `math.isnan` and runs.py:111 (numpy scalars kept):
# docstring: NaN/Inf become None, numpy scalars plain numbers.
def test_to_jsonable_nulls_nan_and_both_infinities_and_unwraps_numpy_scalars():
    out = to_jsonable(
        {
            "a": math.inf,
            "b": -math.inf,
            "c": math.nan,
            "d": np.float32(1.5),
            "e": np.int64(3),
            "f": torch.tensor([1.0, float("inf")]),
        }
    )
    assert out == {"a": None, "b": None, "c": None, "d": 1.5, "e": 3, "f": [1.0, None]}
    assert type(out["d"]) is float and type(out["e"]) is int
    json.dumps(out, allow_nan=False)  # standard JSON


# kills runs.py:393 `open(path, "a")` -> `"w"`: metrics.jsonl is append-only (module docstring);
# Inf is written as null (append_jsonl docstring).
def test_append_jsonl_appends_and_writes_inf_as_null(tmp_path):
    run = RunDir(tmp_path)
    run.append_metrics([{"epoch": 1, "train_loss": 0.5}])
    run.append_metrics([{"epoch": 2, "train_loss": math.inf}])
    assert (tmp_path / "metrics.jsonl").read_text() == (
        '{"epoch": 1, "train_loss": 0.5}\n{"epoch": 2, "train_loss": null}\n'
    )


# kills runs.py:417 `<=` -> `<`, the default 0 -> 1, and runs.py:411 None -> []: kept_rows keeps
# rows with key at most `last`, counts a row without the key as 0, returns None for no file, and
# skips a half-written last line (the torn append of a kill).
def test_kept_rows_boundary_missing_key_and_torn_last_line(tmp_path):
    run = RunDir(tmp_path)
    path = tmp_path / "metrics.jsonl"
    assert run.kept_rows(path, "epoch", 2) is None
    path.write_text('{"note": 1}\n{"epoch": 1}\n{"epoch": 2}\n{"epoch": 3}\n{"epoch": 4, "tr')
    assert run.kept_rows(path, "epoch", 2) == [{"note": 1}, {"epoch": 1}, {"epoch": 2}]
    assert run.kept_rows(path, "epoch", 0) == [{"note": 1}]


# a corrupt line that is not the last one is a clear UserError naming the file (brief's rule);
# the data already in the file is left as it was.
def test_kept_rows_of_a_corrupt_middle_line_names_the_file_and_keeps_it(tmp_path):
    run = RunDir(tmp_path)
    path = tmp_path / "metrics.jsonl"
    text = '{"epoch": 1}\n{"epo\n{"epoch": 2}\n'
    path.write_text(text)
    with pytest.raises(UserError, match=r"metrics\.jsonl line 2"):
        run.kept_rows(path, "epoch", 2)
    assert path.read_text() == text


# kills runs.py:422 `if rows is not None` dropped: None leaves the file as it is (docstring).
def test_rewrite_jsonl_of_none_leaves_the_file(tmp_path):
    path = tmp_path / "diagnostics.jsonl"
    path.write_text('{"step": 1}\n')
    RunDir(tmp_path).rewrite_jsonl(path, None)
    assert path.read_text() == '{"step": 1}\n'
    RunDir(tmp_path).rewrite_jsonl(path, [{"step": 2, "x": -math.inf}])
    assert path.read_text() == '{"step": 2, "x": null}\n'


# kills runs.py:303 (figures/ not swept): remove_partial_writes deletes the temporaries of the
# run folder, checkpoints/ and figures/, and nothing else.
def test_remove_partial_writes_sweeps_figures_too(tmp_path):
    run = RunDir(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "figures").mkdir()
    stale = [
        tmp_path / ".summary.json.abcdefgh.trainlab-tmp",
        tmp_path / "checkpoints" / ".last.pt.abcdefgh.trainlab-tmp",
        tmp_path / "figures" / ".loss.png.abcdefgh.trainlab-tmp",
    ]
    keep = tmp_path / "figures" / "mine.tmp"
    for p in [*stale, keep]:
        p.write_text("x")
    assert sorted(run.remove_partial_writes()) == sorted(stale)
    assert not any(p.exists() for p in stale) and keep.exists()


class _Foreign:  # pickled by reference: weights_only=True must refuse it
    pass


# kills runs.py:454 `weights_only=True` -> False: a checkpoint holding an arbitrary Python object
# (code that would run on load) is refused with the one-line UserError, not unpickled.
def test_load_checkpoint_refuses_a_pickled_object(tmp_path):
    run = RunDir(tmp_path)
    run.checkpoint_path.parent.mkdir()
    torch.save({"epoch": 1, "step": 1, "population": {}, "x": _Foreign()}, run.checkpoint_path)
    with pytest.raises(UserError, match=r"last\.pt cannot be read.*delete it"):
        run.load_checkpoint()


# kills runs.py:461 "population" dropped from the required keys: a dict without it is not a
# trainlab checkpoint.
def test_load_checkpoint_refuses_a_dict_without_population(tmp_path):
    run = RunDir(tmp_path)
    run.save_checkpoint({"epoch": 1, "step": 1})
    with pytest.raises(UserError, match="not a trainlab checkpoint"):
        run.load_checkpoint()
    run.save_checkpoint({"epoch": 1, "step": 1, "population": {"w": torch.ones(2)}})
    assert run.load_checkpoint()["population"]["w"].tolist() == [1.0, 1.0]


# kills runs.py:497 (CRC check skipped) and the message of runs.py:450: a flipped byte inside a
# stored tensor is refused naming the checkpoint and the fix (README: "a bit changed on disk is
# refused"). The tensor's bytes are found by their value, independent of trainlab.
def test_a_flipped_weight_byte_is_refused_with_the_fix(tmp_path):
    run = RunDir(tmp_path)
    w = torch.full((64,), 1234.5)
    run.save_checkpoint({"epoch": 1, "step": 1, "population": {"w": w}})
    raw = bytearray(run.checkpoint_path.read_bytes())
    at = raw.find(np.float32(1234.5).tobytes() * 4)
    assert at > 0
    raw[at + 1] ^= 0x01
    run.checkpoint_path.write_bytes(bytes(raw))
    with zipfile.ZipFile(run.checkpoint_path) as z:  # the damage is a CRC mismatch
        assert z.testzip() is not None
    with pytest.raises(UserError, match=r"last\.pt is corrupt.*delete it to restart"):
        run.load_checkpoint()


# kills runs.py:514 (pid dropped from the message): a second writer is told the holder's pid.
def test_a_second_lock_is_refused_naming_the_holders_pid(tmp_path):
    first = RunDir(tmp_path)
    assert first.lock() is True
    try:
        assert RunDir(tmp_path).writer() == f" (pid {os.getpid()})"
        with pytest.raises(UserError, match=rf"another trainlab process \(pid {os.getpid()}\)"):
            RunDir(tmp_path).lock()
    finally:
        first.unlock()
    assert RunDir(tmp_path).writer() is None


# kills runs.py:175 (relative path returned absolute): the folder is written as the user wrote
# the file's path: relative to the working directory.
def test_enclosing_folder_of_a_relative_path_is_relative(tmp_path, monkeypatch):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.pt").write_bytes(b"")
    (run / "config.yaml").write_text("")
    monkeypatch.chdir(run / "checkpoints")
    holds = lambda d: (d / "config.yaml").is_file()  # noqa: E731
    assert enclosing_folder(Path("last.pt"), holds) == Path("..")
    assert enclosing_folder(run / "checkpoints" / "last.pt", holds) == run


# kills runs.py:378 (no final newline): JSON files end with a newline like every text file.
def test_write_json_ends_with_a_newline_and_nulls_nan(tmp_path):
    RunDir(tmp_path).write_json("summary.json", {"a": math.nan})
    assert (tmp_path / "summary.json").read_text() == '{\n  "a": null\n}\n'


# kills runs.py:368 `not keep_folder` inverted: discard(keep_folder=True) empties the folder and
# keeps it; keep_folder=False removes it.
def test_discard_keeps_or_removes_the_folder(tmp_path):
    kept = RunDir(tmp_path / "a").create()
    kept.discard(keep_folder=True)
    assert (tmp_path / "a").is_dir() and not any((tmp_path / "a").iterdir())
    gone = RunDir(tmp_path / "b").create()
    gone.discard(keep_folder=False)
    assert not (tmp_path / "b").exists()


# create: an existing non-empty --out is refused; with renumber, <name>-2 (README).
def test_create_refuses_a_non_empty_out_and_renumbers_when_asked(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "mine.txt").write_text("keep")
    with pytest.raises(UserError, match=r"already exists; pass a new --out"):
        RunDir(tmp_path / "run").create()
    assert (tmp_path / "run" / "mine.txt").read_text() == "keep"
    assert RunDir(tmp_path / "run").create(renumber=True).path == tmp_path / "run-2"


# kills runs.py:271 `claim.rmdir()` -> pass: of two processes claiming one folder at once, the
# loser (its checkpoints/ made, the other's .lock already there) must take back its checkpoints/
# and move on to <name>-2 (create's docstring), never leave a folder in the other's run. The race
# is staged by letting the first emptiness check miss the other's .lock.
def test_a_lost_claim_leaves_nothing_in_the_winners_folder(tmp_path, monkeypatch):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".lock").write_text("")  # the winner's claim (its checkpoints/ removed)
    real = RunDir._taken
    calls = []

    def racy(self):
        calls.append(self.path)
        return False if len(calls) == 1 else real(self)

    monkeypatch.setattr(RunDir, "_taken", racy)
    run = RunDir(tmp_path / "run").create(renumber=True)
    assert run.path == tmp_path / "run-2"
    assert [p.name for p in (tmp_path / "run").iterdir()] == [".lock"]


# kills runs.py:280 (complete-run hint skipped): a --out holding a finished run (config.yaml,
# population.json, summary.json) is refused with complete_run's hint (docstring: a complete run
# offers `trainlab report` instead of a resume), not the bare "move the old one away".
def test_create_over_a_complete_run_says_it_is_complete(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name, text in [
        ("config.yaml", "train: {epochs: 1}\n"),
        ("population.json", "{}"),
        ("summary.json", '{"models": [{"status": "ok"}]}'),
    ]:
        (run / name).write_text(text)
    with pytest.raises(
        UserError,
        match=r"already exists; pass a new --out; the run .* is "
        r"complete: `trainlab report",
    ):
        RunDir(run).create()
