"""cliuser34's review of the CLI as a user types it (src/trainlab/cli/)."""

from __future__ import annotations

from conftest import run_cli

TINY = (
    "name: tilde\ndata: {name: digits}\nmodel: {name: mlp, hidden: [8]}\n"
    "optim: {name: sgd, lr: 0.1}\ntrain: {epochs: 1, batch_size: 200}\n"
    "population: {seeds: [0]}\n"
)


# `--out=~/runs/x` (the `--opt=value` form, where the shell does not expand the tilde, as it
# does not in a quoted '~/runs/x' or a value from a script variable) makes a folder literally
# named `~` in the working folder (`./~/runs/x`) and trains there: the run is not where the
# user asked, and the stray `~` folder invites an `rm -rf ~` that would empty the home folder.
# trainlab itself expands `~` "as the shell does" for data paths (data.readers.expand_home:
# `data.options.path: ~/data/x.npz` reads the home folder's file); `--out` must mean the same
# home folder: the run lands in $HOME/runs/x and no `~` folder is made.
def test_train_out_with_a_tilde_is_the_home_folder(monkeypatch, capsys, tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    (work / "c.yaml").write_text(TINY)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", "c.yaml", "--out=~/runs/x", "--device", "cpu", "--no-report"
    )
    assert code in (0, None), err
    assert not (work / "~").exists(), "a folder literally named '~' was made in the cwd"
    assert (home / "runs" / "x" / "config.yaml").is_file()


# The same for `trainlab schedule CONFIG --out=~/plots/lr.png`: the PNG went to
# ./~/plots/lr.png (a literal '~' folder) instead of $HOME/plots/lr.png.
def test_schedule_out_with_a_tilde_is_the_home_folder(monkeypatch, capsys, tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    (work / "c.yaml").write_text(TINY)
    code, _, err = run_cli(monkeypatch, capsys, "schedule", "c.yaml", "--out=~/plots/lr.png")
    assert code in (0, None), err
    assert not (work / "~").exists(), "a folder literally named '~' was made in the cwd"
    assert (home / "plots" / "lr.png").is_file()


# `trainlab pretrain --grid learning_rate=nan` (no --device) began its error with
# "--grid/--device:", naming an option the user never typed; it names what was given.
def test_pretrain_grid_error_names_only_the_given_option(monkeypatch, capsys):
    code, _, err = run_cli(monkeypatch, capsys, "pretrain", "--grid", "learning_rate=nan")
    assert code == 2
    assert "--grid:" in err and "--device" not in err, err
