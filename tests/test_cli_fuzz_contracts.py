"""Adversarial review of the CLI's handling of bad input (every command).

Contract (issue 3, DESIGN.md principle 6 "Errors are for people"): a user error prints ONE
clear line that names the problem and the fix, exits 2, shows no traceback, and leaves nothing
half-made on disk; a valid input is not refused with a false reason.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import assert_user_error, config_file, run_cli

SMALL = """
name: fuzz
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0]}
"""

SPIRALS = """
name: fuzz
data: {name: spirals}
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 128}
population: {seeds: [0]}
"""


@pytest.fixture
def small(tmp_path):
    return config_file(tmp_path, SMALL)


# --------------------------------------------------------------------------- did-you-mean hints
@pytest.mark.parametrize("key", ["data_seed", "stratify", "n_samples", "noise"])
def test_a_data_set_option_written_under_data_is_pointed_to_data_options(
    monkeypatch, capsys, tmp_path, key
):
    """`--set data.<option>=...` for an option that the configured data set really has
    (spirals' ``data_seed``, ``stratify``, ``n_samples``, ``noise``: the very names its own error
    lists as "valid options") must say that it belongs under ``data.options.<option>``;
    config.py's _format_error has exactly that hint, but a weak fuzzy match wins first and the
    user is told e.g. "did you mean 'seed'?" for ``data.data_seed`` (following it silently
    changes the split seed instead of the data set's generation seed), "'test_fraction'" for
    ``data.stratify``, "'name'" for ``data.n_samples``."""
    cfg = tmp_path / "spirals.yaml"
    cfg.write_text(SPIRALS)
    value = "true" if key == "stratify" else "3"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", f"data.{key}={value}",
        "--out", tmp_path / "run", "--device", "cpu",
    )  # fmt: skip
    assert_user_error(code, err, f"data.options.{key}")
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- memory
@pytest.mark.parametrize("cmd", ["train", "lr-find"])
def test_a_model_too_big_to_allocate_is_one_line_not_a_traceback(
    monkeypatch, capsys, tmp_path, small, cmd
):
    """A population that does not fit in memory (too many ``--seeds`` for the device, or a
    width with extra zeros; here 64x10^12 weights, which no machine can allocate, so the test
    is quick and safe) must be a user error: one line naming memory and the fix (fewer
    models, a smaller model), exit 2. Today torch's allocator RuntimeError (on a GPU,
    torch.OutOfMemoryError) escapes main() as a 20-line traceback with exit 1."""
    out = tmp_path / ("run" if cmd == "train" else "lr.png")
    try:
        code, _, err = run_cli(
            monkeypatch, capsys, cmd, small, "--set", "model.hidden=[1000000000000]",
            "--out", out, "--device", "cpu",
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - what the shell shows as a traceback
        pytest.fail(f"`trainlab {cmd}` ended in a traceback: {type(exc).__name__}: {exc}")
    assert_user_error(code, err, "memory")
    assert not out.exists()


# --------------------------------------------------------------------------- config files
def test_a_config_piped_in_is_read_not_reported_as_missing():
    """``trainlab schedule /dev/stdin < cfg`` (and ``trainlab train <(sed ... base.yaml)``, whose
    path is a pipe too) names a readable YAML stream; read_yaml_file checks ``is_file()``, so
    the user is told "config file not found: /dev/stdin" about a file that exists and holds a
    valid config. A real subprocess: the exit code and stderr the shell sees."""
    exe = Path(sys.executable).with_name("trainlab")
    proc = subprocess.run(
        [str(exe), "schedule", "/dev/stdin"],
        input=SMALL, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "not found" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "schedule 'none'" in proc.stdout


def test_a_utf16_config_is_not_called_a_binary_file(monkeypatch, capsys, tmp_path):
    """YAML streams may be UTF-8, UTF-16 or UTF-32 (the YAML spec; PyYAML reads a UTF-16 stream
    with its BOM), and UTF-16 with a BOM is what Windows PowerShell's ``>`` writes. Such a
    config must load, or at least be refused for its encoding; today it is refused as "not a
    text YAML file (is it a checkpoint or an image?)", which sends the user looking for the
    wrong problem."""
    cfg = tmp_path / "utf16.yaml"
    cfg.write_bytes(SMALL.encode("utf-16"))  # with a BOM
    code, out, err = run_cli(monkeypatch, capsys, "schedule", cfg)
    if code == 0:
        assert "schedule 'none'" in out
    else:
        assert_user_error(code, err)
        assert "checkpoint or an image" not in err, err
        assert "UTF-16" in err or "encoding" in err, err


# --------------------------------------------------------------------------- --seeds, --device
class _Reached(Exception):
    """The study went on to train (the patched ``trainlab.train.train`` was called)."""


def test_study_seeds_is_capped_like_train_seeds(monkeypatch, capsys, tmp_path):
    """``trainlab train --seeds`` refuses more than MAX_SEEDS models ("a typo like
    0-1000000000 would not fit", cli/app.py), but ``trainlab study NAME --seeds N`` takes any
    count: ``--seeds 1000000`` (a typo for 10) claims the study folder and starts training a
    million models per scheme (a population that cannot fit: minutes, then a crash, and a
    half-made study folder). It must be one line naming --seeds, exit 2, before any folder
    is made. (``trainlab.train.train`` is patched to stop the run at once if it gets there.)"""
    import trainlab.train

    def reached(*args, **kwargs):
        raise _Reached

    monkeypatch.setattr(trainlab.train, "train", reached)
    out = tmp_path / "study"
    try:
        code, _, err = run_cli(
            monkeypatch, capsys, "study", "init", "--quick", "--seeds", "1000000",
            "--out", out, "--device", "cpu",
        )  # fmt: skip
    except _Reached:
        pytest.fail(
            f"study --seeds 1000000 was accepted and went on to train (folder made: "
            f"{out.exists()}); train's --seeds stops at 100000"
        )
    assert_user_error(code, err, "--seeds")
    assert not out.exists()


def test_pretrain_refuses_an_empty_device_like_every_other_command(monkeypatch, capsys, tmp_path):
    """``--device ''`` (e.g. ``--device "$DEV"`` with DEV unset) is refused by train, resume,
    diagnose, lr-find and study ("unknown device ''; use auto, cpu or cuda"), but
    ``trainlab pretrain`` treats the empty string as "not given" (``if grid or device`` in
    run_pretrain) and silently trains on the config's device."""
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        "name: p\nmodel: {kind: rbm, n_components: 4}\ntrain: {n_iter: 1, batch_size: 200}\n"
    )
    out = tmp_path / "p"
    code, _, err = run_cli(monkeypatch, capsys, "pretrain", cfg, "--device", "", "--out", out)
    assert_user_error(code, err, "device")
    assert not out.exists()


# --------------------------------------------------------------------------- per-model values
@pytest.mark.parametrize(
    "setting",
    ["population.grid.optim.lr=[0.1, -1]", "population.variants=[{optim.weight_decay: -1}]"],
)
def test_a_bad_per_model_value_names_where_it_was_set(
    monkeypatch, capsys, tmp_path, small, setting
):
    """A bad value in ``population.grid`` / ``population.variants`` is reported as
    "config: optim.lr: Input should be greater than 0 (got -1)": it names neither the config
    file nor the population entry, and the file's own ``optim.lr`` is valid, so the user is
    sent to the wrong key. The line must say that the value comes from the population
    (``population.grid`` / ``population.variants``)."""
    code, _, err = run_cli(
        monkeypatch, capsys, "train", small, "--set", setting,
        "--out", tmp_path / "run", "--device", "cpu",
    )  # fmt: skip
    where = "population.grid" if "grid" in setting else "population.variants"
    assert_user_error(code, err, where)
    assert not (tmp_path / "run").exists()


def test_a_diverging_pretrain_says_so_once_without_numpy_warnings(monkeypatch, capsys, tmp_path):
    """An RBM whose learning rate makes it diverge is reported in one line ("diverged ... lower
    their learning_rate"); numpy's overflow/invalid RuntimeWarnings from its steps and from
    scoring its NaN weights are noise around that line and must not be printed."""
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        "data: {name: digits, scale: minmax}\nmodel: {kind: rbm, n_components: 8}\n"
        "train: {learning_rate: 1.0e+300, n_iter: 1, batch_size: 100}\n"
    )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        code, out, err = run_cli(monkeypatch, capsys, "pretrain", cfg, "--out", tmp_path / "p")
    assert code == 0, err
    assert "diverged" in out and "RuntimeWarning" not in out + err
