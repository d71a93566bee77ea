"""Review (clihelp31): the CLI's help and options as a contract (each option honoured, each
default shown the real one, bad values and conflicting combinations refused with one line)."""

from __future__ import annotations

import json

import yaml

import trainlab.cli  # noqa: F401  (imported at collection: each test times its own work)
import trainlab.diagnostics.run  # noqa: F401
import trainlab.train  # noqa: F401
from conftest import assert_user_error, config_file, run_cli

SMALL = """
name: helprev31
model: {name: mlp, hidden: [8]}
train: {epochs: 4, batch_size: 256}
population: {seeds: [0]}
"""


def _epochs(run_dir) -> list[int]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return sorted({r["epoch"] for r in rows})


# `trainlab diagnose --help`: "--epochs  epochs of the short training [default: 3, or --set
# train.epochs]". cli/diagnose.py decides whether --set gave train.epochs with
# `{set_key(item) for item in set_}`, which sees only the --set's own key: a section value,
# `--set 'train={epochs: 1, batch_size: 256}'` (a form `--set` accepts, and that with_seeds
# already looks inside through config.set_keys), has the key "train", so the default 3
# silently replaces the train.epochs=1 the user gave. Expected: the --set's 1 epoch is trained
# (set_keys instead of set_key), as `--set train.epochs=1` already is.
def test_diagnose_honours_train_epochs_given_inside_a_section_set(monkeypatch, capsys, tmp_path):
    cfg = config_file(tmp_path, SMALL)
    out = tmp_path / "diag"
    code, _, err = run_cli(
        monkeypatch, capsys, "diagnose", cfg, "--set", "train={epochs: 1, batch_size: 256}",
        "--out", out, "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert code == 0, err[-1500:]
    assert len(_epochs(out)) == 1, f"--set train={{epochs: 1}} trained epochs {_epochs(out)}"


# The same for --every: "[default: 10, or --set train.diagnose_every]"; `--set
# 'train={diagnose_every: 2, ...}'` is replaced by 10 (the run's config.yaml records 10).
def test_diagnose_honours_diagnose_every_given_inside_a_section_set(monkeypatch, capsys, tmp_path):
    cfg = config_file(tmp_path, SMALL)
    out = tmp_path / "diag"
    code, _, err = run_cli(
        monkeypatch, capsys, "diagnose", cfg, "--epochs", "1", "--set",
        "train={diagnose_every: 2, batch_size: 256}", "--out", out, "--device", "cpu",
        "--no-report",
    )  # fmt: skip
    assert code == 0, err[-1500:]
    written = yaml.safe_load((out / "config.yaml").read_text())
    assert written["train"]["diagnose_every"] == 2, written["train"]


# `trainlab lr-find --help`: "--epochs  epochs of the --population variant [default: 1, or --set
# train.epochs]". cli/optim.py tests `"train.epochs" in map(set_key, set_)`, so `--set
# 'train={epochs: 2, ...}'` is not seen and the sweep trains 1 epoch ("2 models at fixed LRs,
# 1 epoch(s)"), while `--set train.epochs=2` trains 2. Expected: 2 epochs (config.set_keys).
def test_lr_find_population_honours_train_epochs_given_inside_a_section_set(
    monkeypatch, capsys, tmp_path
):
    cfg = config_file(tmp_path, SMALL)
    code, out, err = run_cli(
        monkeypatch, capsys, "lr-find", cfg, "--population", "2", "--set",
        "train={epochs: 2, batch_size: 256}", "--device", "cpu", "--out", tmp_path / "lr.png",
    )  # fmt: skip
    assert code == 0, err[-1500:]
    assert "2 epoch(s)" in out, out


# `--population N` is "instead: train N models at N log-spaced fixed LRs" and N below 2 is
# refused ("--population needs 2 to 100000 models, got 1"), but 0 is read as "no --population"
# (`whole_number(...) or 0`, and the range check is skipped for a falsy N): `--population 0`
# silently runs the single-model range test instead, and `--population 0 --epochs 2` is told
# "--epochs is the --population variant's". Expected: the same one-line refusal as for 1.
def test_lr_find_population_zero_is_refused(monkeypatch, capsys, tmp_path):
    cfg = config_file(tmp_path, SMALL)
    png = tmp_path / "lr.png"
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", cfg, "--population", "0", "--steps", "5",
        "--device", "cpu", "--out", png,
    )  # fmt: skip
    assert_user_error(code, err, "--population")
    assert not png.exists()


# `trainlab pretrain --set grid.learning_rate=[0.1] --grid learning_rate=0.01,0.02`: both
# options give the same grid axis on one command line, and run_pretrain merges --grid over the
# already-set config (`raw["grid"] = {**raw["grid"], **grid}`), so the --set is silently
# dropped (the run trains lr 0.01 and 0.02). trainlab refuses the same kind of conflict for
# `--seeds` beside `--set population.seeds` ("give them one way", cli/app.py with_seeds), and
# the brief's contract is that conflicting options are refused. Expected: exit 2, one line
# naming the axis, no run folder.
def test_pretrain_set_grid_axis_beside_grid_option_is_refused(monkeypatch, capsys, tmp_path):
    out = tmp_path / "pt"
    code, _, err = run_cli(
        monkeypatch, capsys, "pretrain", "--set", "grid.learning_rate=[0.1]", "--grid",
        "learning_rate=0.01,0.02", "--set", "train.n_iter=1", "--set", "seeds=[0]",
        "--set", "model.n_components=4", "--device", "cpu", "--out", out,
    )  # fmt: skip
    assert_user_error(code, err, "learning_rate")
    assert not out.exists()


# (newcomer31) `trainlab schedule CFG --plot` with a schedule.png already there said
# "--out schedule.png exists" to a user who passed no --out: the file is --plot's default.
def test_schedule_plot_default_file_taken_is_named_as_the_default(tmp_path, monkeypatch, capsys):
    cfg = config_file(tmp_path, SMALL)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "schedule.png").write_bytes(b"mine")
    code, _, err = run_cli(monkeypatch, capsys, "schedule", cfg, "--plot")
    assert_user_error(code, err, "default")
    assert (tmp_path / "schedule.png").read_bytes() == b"mine"
