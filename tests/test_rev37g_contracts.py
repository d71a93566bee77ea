"""Review rev37g: ``trainlab schedule`` / ``trainlab lr-find`` (src/trainlab/cli/optim.py)."""

from __future__ import annotations

import pytest

from conftest import assert_user_error, config_file, run_cli

SMALL = """
name: rev37g
data: {name: digits}
model: {name: mlp, hidden: [8]}
optim: {name: sgd, lr: 0.1}
schedule: {name: step, step_size: 1, gamma: 0.5}
train: {epochs: 2, batch_size: 500}
population: {seeds: [0]}
"""


@pytest.fixture
def dangling(tmp_path):
    """``link.png`` -> ``missing.png`` (a symbolic link whose target does not exist)."""
    link = tmp_path / "link.png"
    link.symlink_to(tmp_path / "missing.png")
    return link


def test_schedule_out_dangling_symlink_is_refused_up_front_with_a_true_message(
    tmp_path, dangling, monkeypatch, capsys
):
    """``_png`` (cli/optim.py) checks ``out.exists()``, which follows links: a dangling
    symbolic link given as ``--out`` passes the check, the command does its work and prints
    its table, and only the final exclusive write fails, with ``link.png was made by something
    else while this ran`` -- false: the link was there before the command started.
    Expected: refused like any existing --out, before the work ('--out ... exists'), with no
    table printed; got: table printed, then the 'made by something else while this ran' line."""
    monkeypatch.chdir(tmp_path)
    cfg = config_file(tmp_path, SMALL)
    code, out, err = run_cli(monkeypatch, capsys, "schedule", cfg, "--out", dangling)
    assert_user_error(code, err)
    assert "while this ran" not in err, err
    assert "lr at the start of each epoch" not in out, out  # refused before the work
    assert dangling.is_symlink() and not (tmp_path / "missing.png").exists()


def test_lr_find_out_dangling_symlink_is_refused_before_training(
    tmp_path, dangling, monkeypatch, capsys
):
    """Same for ``trainlab lr-find --out LINK``: ``_png``'s docstring promises that an --out
    that cannot be written is 'a UserError, raised before any training', but with a dangling
    link the whole range test trains first and then fails with the false claim that the file
    'was made by something else while this ran'.
    Expected: exit 2 before any training (no 'LR range test' table); got: the test trains,
    prints its table, then exits 2 with 'made by something else while this ran'."""
    monkeypatch.chdir(tmp_path)
    cfg = config_file(tmp_path, SMALL)
    code, out, err = run_cli(monkeypatch, capsys, "lr-find", cfg, "--steps", "5", "--out", dangling)
    assert_user_error(code, err)
    assert "while this ran" not in err, err
    assert "LR range test" not in out, out  # nothing trained


def test_schedule_default_png_dangling_symlink_is_refused_up_front(tmp_path, monkeypatch, capsys):
    """The same for --plot's default file: a schedule.png that is a link to nothing is said
    to exist before anything is computed, and the link is kept."""
    monkeypatch.chdir(tmp_path)
    cfg = config_file(tmp_path, SMALL)
    link = tmp_path / "schedule.png"
    link.symlink_to(tmp_path / "nowhere.png")
    code, out, err = run_cli(monkeypatch, capsys, "schedule", cfg, "--plot")
    assert_user_error(code, err, "schedule.png (--plot's default file) exists")
    assert "lr at the start of each epoch" not in out, out
    assert link.is_symlink() and not (tmp_path / "nowhere.png").exists()
