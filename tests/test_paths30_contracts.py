"""Review paths30: file-system paths and file edge cases of the CLI. Each test fails on the
code it was written against and passes once the defect it describes is fixed."""

from __future__ import annotations

import os

import pytest

from conftest import SMALL_YAML, config_file, run_cli


# runs.make_folder: an --out whose path goes through a dangling symbolic link (``runs ->
# /mnt/scratch/runs`` while that disk is not mounted, a common setup on clusters) makes
# Path.mkdir raise FileExistsError; make_folder then looks for "the part that is a file" with
# ``p.exists() and not p.is_dir()``, which is False for a dangling link (exists() follows it),
# falls back to the --out itself and prints "cannot create folder scratch/run: scratch/run is
# a file" -- a path that does not exist at all. The right message names the real culprit, the
# symbolic link (and where it points), and never calls a missing path a file.
@pytest.mark.parametrize("out", ["scratch/run", "scratch"])
def test_out_through_a_dangling_symlink_names_the_link_not_a_file(
    monkeypatch, capsys, tmp_path, out
):
    cfg = config_file(tmp_path, SMALL_YAML)
    os.symlink(tmp_path / "unmounted", tmp_path / "scratch")  # target missing
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu")
    assert code == 2, err[-1500:]
    assert "Traceback" not in err
    assert f"{out} is a file" not in err, err  # it is not: nothing exists at that path
    assert "scratch" in err and ("link" in err or "unmounted" in err), err
    assert os.path.islink(tmp_path / "scratch") and not (tmp_path / "unmounted").exists()


# train.resume (_restore -> Trainer -> the npz reader): a project moved together with its data
# (``mv project /other/disk``) leaves config.yaml naming the .npz at its old absolute place.
# ``trainlab resume`` then stops with the reader's "file not found: OLD (pass path=... to an
# existing .npz file)": resume takes no path= and no --set, so the hint cannot be followed. The
# README's fix is to point ``data.options.path`` in the run's config.yaml at the new place
# (resume accepts that edit, the data fingerprint proves it is the same file); the message
# should say so, naming the run's config.yaml.
def test_resume_of_a_moved_project_says_to_edit_data_path_in_config_yaml(
    monkeypatch, capsys, tmp_path
):
    import shutil

    import numpy as np

    old, new = tmp_path / "project", tmp_path / "moved"
    (old / "data").mkdir(parents=True)
    rng = np.random.default_rng(0)
    with open(old / "data" / "d.npz", "wb") as f:
        np.savez(
            f,
            x_train=rng.random((60, 4)).astype(np.float32),
            y_train=np.arange(60) % 3,
            x_test=rng.random((21, 4)).astype(np.float32),
            y_test=np.arange(21) % 3,
        )
    cfg = config_file(old, SMALL_YAML + "data: {name: npz, options: {path: data/d.npz}}\n")
    monkeypatch.chdir(old)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", "runs/a", "--device", "cpu", "--no-report"
    )
    assert code in (0, None), err[-1500:]
    monkeypatch.chdir(tmp_path)
    shutil.move(old, new)
    run = new / "runs" / "a"
    text = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(text.replace("epochs: 1", "epochs: 2"))
    code, _, err = run_cli(monkeypatch, capsys, "resume", run, "--device", "cpu", "--no-report")
    assert code == 2, err[-1500:]
    assert "Traceback" not in err
    assert "config.yaml" in err and "data.options.path" in err, err
    # and the fix it names works: the path edited to the data's new place resumes
    text = (run / "config.yaml").read_text()
    (run / "config.yaml").write_text(text.replace(str(old / "data"), str(new / "data")))
    code, _, err = run_cli(monkeypatch, capsys, "resume", run, "--device", "cpu", "--no-report")
    assert code in (0, None), err[-1500:]
