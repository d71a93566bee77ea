"""Every CLI error path prints one clear line and exits 2, without a traceback, and never
touches an existing run directory."""

import json
import subprocess
import sys

import pytest

from conftest import assert_user_error, config_file, run_cli
from trainlab.cli.app import parse_seeds
from trainlab.errors import UserError

SMALL = """
name: cli
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0]}
"""


run = run_cli


@pytest.fixture
def small(tmp_path):
    return config_file(tmp_path, SMALL)


def test_missing_config(monkeypatch, capsys, tmp_path):
    code, _, err = run(monkeypatch, capsys, "train", tmp_path / "nope.yaml")
    assert_user_error(code, err, "config file not found")


def test_bad_yaml(monkeypatch, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {name: mlp\n  hidden: [\n")
    code, _, err = run(monkeypatch, capsys, "train", bad)
    assert_user_error(code, err, "not valid YAML")


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ("train.epoch=3", "did you mean 'epochs'"),
        ("data.name=digitz", "unknown dataset 'digitz'"),
        ("model.name=mlpp", "unknown model 'mlpp'"),
        ("optim.name=adamm", "did you mean 'adam'"),
        ("init.scheme=xavier", "unknown init scheme"),
        ("model.hiden=[4]", "hiden"),
        ("data.preprocess=pca --set model.name=convnet", "convnet"),
    ],
)
def test_bad_settings(monkeypatch, capsys, small, tmp_path, setting, needle):
    args = []
    for part in setting.split(" --set "):
        args += ["--set", part]
    code, _, err = run(
        monkeypatch, capsys, "train", small, *args, "--out", tmp_path / "r", "--device", "cpu"
    )
    assert_user_error(code, err, needle)


def test_bad_seeds_and_device(monkeypatch, capsys, small):
    code, _, err = run(monkeypatch, capsys, "train", small, "--seeds", "a-b")
    assert_user_error(code, err, "--seeds")
    code, _, err = run(monkeypatch, capsys, "train", small, "--device", "tpu")
    assert_user_error(code, err, "device")
    assert parse_seeds("0-3") == [0, 1, 2, 3] and parse_seeds("1,5") == [1, 5]
    assert parse_seeds("3") == [0, 1, 2]
    with pytest.raises(UserError):
        parse_seeds("5-1")


def test_train_resume_report_and_no_overwrite(monkeypatch, capsys, small, tmp_path):
    out = tmp_path / "run"
    code, stdout, _ = run(
        monkeypatch, capsys, "train", small, "--seeds", "0-1", "--out", out, "--device", "cpu"
    )
    assert code == 0
    assert (out / "report.html").is_file() and "run directory" in stdout
    before = (out / "summary.json").read_text()
    code, _, err = run(monkeypatch, capsys, "train", small, "--out", out, "--device", "cpu")
    assert_user_error(code, err, "already exists")
    assert (out / "summary.json").read_text() == before
    assert json.loads(before)["k"] == 2
    code, _, _ = run(monkeypatch, capsys, "resume", out, "--device", "cpu")
    assert code == 0
    code, stdout, _ = run(monkeypatch, capsys, "report", out)
    assert code == 0 and "report.html" in stdout
    code, _, err = run(monkeypatch, capsys, "resume", tmp_path)
    assert_user_error(code, err, "not a run directory")


def test_listings(monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, "datasets")
    assert code == 0 and "digits" in out and "mnist1d" in out
    code, out, _ = run(monkeypatch, capsys, "models")
    assert "mlp" in out and "resnet" in out


def test_module_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "trainlab", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and "train" in proc.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", "--bogus"], "No such option: --bogus"),
        (["train"], "Missing argument 'CONFIG'"),
        (["nosuch"], "No such command 'nosuch'"),
        (["train", "x.yaml", "--seeds"], "requires an argument"),
    ],
)
def test_usage_errors_print_usage_and_exit_2(monkeypatch, capsys, args, needle):
    code, _, err = run(monkeypatch, capsys, *args)
    assert code == 2 and "Traceback" not in err
    assert needle.lower() in err.lower()


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    """A command that wrote nothing to continue from says to run it again (a training run's
    own note names `trainlab resume DIR`: tests/test_interrupt20_contracts.py and others)."""
    import trainlab.data

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(trainlab.data, "list_datasets", interrupted)
    code, _, err = run(monkeypatch, capsys, "datasets")
    assert code == 130 and "Traceback" not in err
    assert err.strip() == "interrupted; nothing was written to continue from; run the command again"


def test_seed_counts_and_devices_are_checked(monkeypatch, capsys, small):
    with pytest.raises(UserError, match="at least 1 model"):
        parse_seeds("0")
    with pytest.raises(UserError, match="more than 100000"):
        parse_seeds("0-99999999999")
    assert parse_seeds("2-4") == [2, 3, 4]
    code, _, err = run(monkeypatch, capsys, "train", small, "--device", "mps")
    assert_user_error(code, err, "unknown device 'mps'")


def test_run_files_follow_the_umask(monkeypatch, capsys, small, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        out = tmp_path / "run"
        code, _, _ = run(monkeypatch, capsys, "train", small, "--out", out, "--device", "cpu")
    finally:
        os.umask(old)
    assert code == 0
    for name in ("config.yaml", "summary.json", "report.html", "checkpoints/last.pt"):
        assert (out / name).stat().st_mode & 0o777 == 0o644, name


def test_diagnose_keeps_the_configs_interval_and_early_stopping_needs_val(
    monkeypatch, capsys, small, tmp_path
):
    out = tmp_path / "d"
    args = ["--set", "train.diagnose_every=3", "--diagnose", "--out", out, "--device", "cpu"]
    code, _, _ = run(monkeypatch, capsys, "train", small, *args, "--no-report")
    assert code == 0 and "diagnose_every: 3" in (out / "config.yaml").read_text()
    sets = ["--set", "data.val_fraction=0", "--set", "train.early_stopping_patience=1"]
    code, _, err = run(monkeypatch, capsys, "train", small, *sets, "--out", tmp_path / "e")
    assert_user_error(code, err, "needs a validation split")


def test_resume_refuses_a_changed_config_or_a_foreign_run(monkeypatch, capsys, small, tmp_path):
    out = tmp_path / "run"
    code, _, _ = run(monkeypatch, capsys, "train", small, "--out", out, "--device", "cpu")
    assert code == 0
    text = (out / "config.yaml").read_text()
    (out / "config.yaml").write_text(text.replace("- 8", "- 16"))  # hidden width
    code, _, err = run(monkeypatch, capsys, "resume", out, "--device", "cpu")
    assert_user_error(code, err, "changed since the checkpoint (model.hidden: [8] -> [16])")
    (out / "config.yaml").write_text(text.replace("seeds:\n  - 0", "seeds:\n  - 7"))
    code, _, err = run(monkeypatch, capsys, "resume", out, "--device", "cpu")
    assert_user_error(code, err, "(population.seeds: [0] -> [7])")
    (out / "population.json").unlink()
    code, _, err = run(monkeypatch, capsys, "resume", out, "--device", "cpu")
    assert_user_error(code, err, "not a `trainlab train` run")


def test_schedule_plot_path_gets_its_png_suffix(monkeypatch, capsys, small, tmp_path):
    code, out, _ = run(monkeypatch, capsys, "schedule", small, "--plot", "--out", tmp_path / "s")
    assert code == 0 and (tmp_path / "s.png").is_file() and f"{tmp_path / 's.png'}" in out


def test_a_backwards_seed_range_says_so(monkeypatch, capsys, small):
    with pytest.raises(UserError, match="runs backwards.*'1-3'"):
        parse_seeds("3-1")
    code, _, err = run(monkeypatch, capsys, "train", small, "--seeds", "3-1")
    assert_user_error(code, err, "'1-3'")


def test_brackets_in_messages_and_listings_are_text_not_markup(monkeypatch, capsys, small):
    code, _, err = run(monkeypatch, capsys, "train", small, "--seeds", "[x]")
    assert_user_error(code, err, "--seeds '[x]'")
    code, out, _ = run(monkeypatch, capsys, "models")
    assert code == 0 and "[conv-BN-act-pool]" in out


def test_output_paths_under_a_file_or_of_an_unknown_format_are_user_errors(
    monkeypatch, capsys, small, tmp_path
):
    import importlib

    lr_find_module = importlib.import_module("trainlab.optim.lr_find")
    afile = tmp_path / "afile"
    afile.write_text("keep me")
    for args in (
        ["train", small, "--out", afile / "run"],
        ["pretrain", "--out", afile / "run"],
        ["schedule", small, "--plot", "--out", afile / "lr.png"],
    ):
        code, _, err = run(monkeypatch, capsys, *args)
        assert_user_error(code, err, f"{afile} is a file")
    assert afile.read_text() == "keep me"

    def never(*args, **kwargs):
        raise AssertionError("lr-find ran before its --out was checked")

    monkeypatch.setattr(lr_find_module, "lr_find", never)
    code, _, err = run(monkeypatch, capsys, "lr-find", small, "--out", tmp_path / "curve.txt")
    assert_user_error(code, err, "cannot write '.txt' files")
    code, _, err = run(
        monkeypatch, capsys, "schedule", small, "--plot", "--out", tmp_path / "x.foo"
    )
    assert_user_error(code, err, "cannot write '.foo' files")


def test_an_empty_config_or_a_folder_is_refused_before_a_run_starts(monkeypatch, capsys, tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    out = tmp_path / "run"
    code, _, err = run(monkeypatch, capsys, "train", empty, "--out", out)
    assert_user_error(code, err, "is empty")
    assert not out.exists()
    code, _, err = run(monkeypatch, capsys, "train", tmp_path, "--out", out)
    assert_user_error(code, err, "is a folder, not a config")
    assert not out.exists()


def test_an_os_error_on_a_named_path_is_one_line_and_exit_2(monkeypatch, capsys):
    import trainlab.data

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/srv/[data]/x.npz")

    monkeypatch.setattr(trainlab.data, "list_datasets", denied)
    code, _, err = run(monkeypatch, capsys, "datasets")
    assert_user_error(code, err, "cannot use /srv/[data]/x.npz: Permission denied")


def test_lr_find_range_errors_are_one_line_naming_the_options(monkeypatch, capsys, tmp_path, small):
    """A bad LR range or epoch count, for the range test and its --population variant alike,
    is one line naming the option (it was a ZeroDivisionError / TypeError traceback)."""
    out = tmp_path / "lr.png"
    cases = [
        (["--population", "3", "--start-lr", "0"], "(--start-lr, --end-lr), got 0.0 and 10.0"),
        (["--population", "3", "--start-lr", "-1"], "0 < start_lr < end_lr"),
        (["--population", "3", "--epochs", "0"], "epochs (--epochs) ≥ 1, got 0"),
        (["--steps", "3"], "num_steps (--steps) ≥ 5, got 3"),
        (["--end-lr", "inf"], "0 < start_lr < end_lr"),
    ]
    for extra, message in cases:
        code, _, err = run(monkeypatch, capsys, "lr-find", small, "--out", out, *extra)
        assert_user_error(code, err, message)
    assert not out.exists()


def test_the_summary_table_counts_the_models_in_its_statistics_and_shows_the_ci():
    """A group whose NaN models are left out says so in n; huge losses stay readable."""
    from rich.console import Console

    from trainlab.cli.core import summary_table
    from trainlab.report import aggregate

    accs, losses = [0.9, 0.92, 0.94], [0.3, 2.5e22, 0.2]
    group = {
        "group": "optim.lr=3.0",
        "overrides": {"optim.lr": 3.0},
        "n": 4,  # the fourth model stopped for NaN/Inf: not in the statistics
        "aggregates": {"test_acc": aggregate(accs), "test_loss": aggregate(losses)},
    }
    summary = {"name": "s", "k": 4, "epochs": 2, "groups": [group]}
    console = Console(width=200, record=True)
    console.print(summary_table(summary))
    text = console.export_text()
    assert "3 of 4" in text
    assert f"{aggregate(accs)['ci95']:.4f}" in text  # the 95% CI half-width of test_acc
    assert "e+22" in text and "0000000" not in text


def test_hundreds_of_nan_models_do_not_flood_the_terminal(capsys):
    from trainlab.cli.core import MAX_NAN_LINES, _finish

    nan = [{"index": i, "seed": i, "group": "optim.lr=10", "step": 3} for i in range(500)]
    none = {"mean": None, "std": None, "ci95": None, "n": 0}
    group = {"group": "optim.lr=10", "n": 500, "aggregates": {"test_acc": none, "test_loss": none}}
    summary = {"name": "s", "k": 500, "epochs": 1, "groups": [group], "nan_models": nan}
    _finish(None, summary, report=False)
    out = capsys.readouterr().out
    assert out.count("became NaN/Inf at step 3") == MAX_NAN_LINES
    assert "and 490 more models stopped for NaN/Inf" in out
    assert out.count("fix: lower optim.lr, or set train.clip_norm") == 1


def test_a_run_without_nan_models_prints_no_nan_fix(capsys):
    from trainlab.cli.core import _finish

    none = {"mean": None, "std": None, "ci95": None, "n": 0}
    group = {"group": "default", "n": 1, "aggregates": {"test_acc": none, "test_loss": none}}
    summary = {"name": "s", "k": 1, "epochs": 1, "groups": [group], "nan_models": []}
    _finish(None, summary, report=False)
    assert "fix:" not in capsys.readouterr().out


def test_summary_table_of_a_run_without_a_test_split_shows_validation_numbers():
    """``data.test_fraction: 0`` leaves every test number null: the table then shows the
    validation split's (and says so) instead of "0 of 2" and dashes, which read as if the
    models had been dropped for NaN."""
    from rich.console import Console

    from trainlab.cli.core import summary_table
    from trainlab.report import aggregate

    none = {"mean": None, "std": None, "ci95": None, "n": 0}
    group = {
        "group": "default",
        "n": 2,
        "aggregates": {"test_acc": none, "test_loss": none, "val_acc": aggregate([0.7, 0.8]),
                       "val_loss": aggregate([1.9, 2.0])},
    }  # fmt: skip
    console = Console(width=200, record=True)
    console.print(summary_table({"name": "s", "k": 2, "epochs": 1, "groups": [group]}))
    text = console.export_text()
    assert "no test split" in text and "val_acc" in text and "0.7500 ± 0.0707" in text
    assert "0 of 2" not in text
