"""Review (lrfind18) of the LR range test: a range too narrow for its step count."""

from __future__ import annotations

import pytest
import torch

from conftest import assert_user_error, config_file, run_cli
from trainlab.errors import UserError

SMALL = """
name: lrf
model: {name: mlp, hidden: [8]}
optim: {name: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 500}
population: {seeds: [0]}
"""


def _blobs():
    from trainlab.data.datasets import Dataset

    g = torch.Generator().manual_seed(0)
    y = torch.arange(64) % 2
    x = torch.randn(64, 4, generator=g) * 0.5 + (y[:, None] * 2 - 1)
    return Dataset("blobs", x, y, x[:8], y[:8], x[:8], y[:8], (4,), 2)


def test_lr_find_refuses_a_range_too_narrow_for_its_steps_instead_of_zero_division():
    # wrong: log_spaced gives repeated LRs for 1 .. 1+2e-16 over 10 steps and suggest() divides
    # by log10(lr[i+1]) - log10(lr[i-1]) == 0 after the whole test ran (ZeroDivisionError);
    # right: refuse the range up front with a ConfigError, as lr_sweep refuses repeated LRs
    from trainlab.optim.lr_find import lr_find

    cfg = {
        "model": {"name": "mlp", "hidden": [4]},
        "optim": {"name": "sgd", "lr": 0.1},
        "train": {"epochs": 1, "batch_size": 32},
        "population": {"seeds": [0]},
    }
    with pytest.raises(UserError):
        lr_find(
            cfg, start_lr=1.0, end_lr=1.0000000000000002, num_steps=10, device="cpu",
            dataset=_blobs(),
        )  # fmt: skip


def test_lr_find_cli_a_range_too_narrow_for_its_steps_is_one_line_exit_2(
    monkeypatch, capsys, tmp_path
):
    # wrong: `trainlab lr-find --start-lr 1 --end-lr 1.0000000000000002 --steps 10` ends in a
    # ZeroDivisionError traceback (lr_find.py suggest); right: one line, exit 2
    path = config_file(tmp_path, SMALL)
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", path, "--start-lr", "1", "--end-lr",
        "1.0000000000000002", "--steps", "10", "--device", "cpu", "--out", tmp_path / "p.png",
    )  # fmt: skip
    assert_user_error(code, err)


def test_suggest_skips_zero_width_spans_of_a_users_repeated_lrs():
    # suggest() is public: a curve with a repeated LR divided by zero; the span is skipped
    from trainlab.optim.lr_find import suggest

    lrs = [1e-4, 1e-3, 1e-3, 1e-3, 1e-2]
    out = suggest(lrs, [2.0, 1.9, 1.8, 1.5, 1.0])
    assert out == {"min/10": 1e-3, "steep": 1e-3}  # slopes -0.2 at i=1, -0.8 at i=3; i=2 skipped


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--population", "3", "--steps", "20"], "--steps"),
        (["--epochs", "2"], "--epochs"),
        (["--steps", "0"], "step"),
    ],
)
def test_lr_find_cli_refuses_an_option_the_chosen_variant_would_ignore(
    monkeypatch, capsys, tmp_path, args, needle
):
    # wrong: --steps with --population (or --epochs without it) changed nothing, without a word;
    # right: one line, exit 2, no folder made for --out
    path = config_file(tmp_path, SMALL)
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", path, "--device", "cpu", "--out",
        tmp_path / "o" / "p.png", *args,
    )  # fmt: skip
    assert_user_error(code, err, needle)
    assert not (tmp_path / "o").exists()
