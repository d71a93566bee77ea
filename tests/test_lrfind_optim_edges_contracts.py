"""Adversarial review: the LR range test and the population optimizers at their edges
(``trainlab.optim.lr_find``, ``trainlab.optim`` optimizers, ``trainlab lr-find``)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from conftest import assert_user_error, run_cli, small_config
from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer
from trainlab.optim.lr_find import lr_find

F64 = torch.float64


def test_lr_find_over_a_very_wide_range_sweeps_finite_lrs_inside_it():
    """``lr_find`` accepts any ``0 < start_lr < end_lr < inf`` and documents the swept LRs as
    ``start_lr · r^i`` with ``r = (end_lr / start_lr)^(1/(n−1))``, running from ``start_lr`` to
    ``end_lr``. For a range wider than ~308 decades (here 1e-200 … 1e200, both ordinary
    floats) the quotient ``end_lr / start_lr`` overflows to ``inf`` before the root is taken,
    so every LR after the first is ``inf``: the test trains at an infinite LR, reports
    ``stopped at lr inf`` and suggests ``min/10 = inf``, a value outside the range the user
    asked for. The LRs should be computed in log space and stay finite and inside
    ``[start_lr, end_lr]``, and so should every suggestion."""
    cfg = small_config(optim={"name": "sgd", "lr": 0.1})
    start, end = 1e-200, 1e200
    res = lr_find(cfg, start_lr=start, end_lr=end, num_steps=5, device="cpu")
    assert all(math.isfinite(lr) for lr in res.lrs), res.lrs
    assert all(start * (1 - 1e-9) <= lr <= end * (1 + 1e-9) for lr in res.lrs), res.lrs
    for sug in res.suggestions:
        for key, value in sug.items():
            assert value is None or math.isfinite(value), (key, value, res.lrs)


FLAGS = [
    ("adam", "amsgrad", {}, "false"),
    ("adamw", "maximize", {}, [False, False]),
    ("sgd", "nesterov", {"momentum": 0.9}, [False, False]),
    ("rmsprop", "centered", {}, "false"),
]


@pytest.mark.parametrize("name,flag,extra,value", FLAGS, ids=[f"{n}-{f}" for n, f, _, _ in FLAGS])
def test_a_shared_flag_given_a_non_boolean_is_refused_not_read_as_true(name, flag, extra, value):
    """The optimizers' switches (``amsgrad``, ``maximize``, ``nesterov``, ``centered``) are
    documented as shared booleans, while every numeric hyperparameter is validated (a bool
    where a number belongs is refused). The switches are stored as ``bool(value)``, so the
    string ``"false"`` (a quoted YAML value, a typo such as ``flase`` through ``--set``) and a
    per-model list such as ``[False, False]`` both become **True**: the user who wrote false
    silently gets AMSGrad, gradient *ascent*, Nesterov or centered RMSprop. A non-boolean must
    be refused with a clear error (or at least never turn false into True)."""
    p = torch.zeros(2, 3, dtype=F64)
    try:
        opt = create_optimizer(name, [p], **extra, **{flag: value})
    except (ConfigError, TypeError, ValueError):
        return  # refused: fine
    got = opt.param_groups[0][flag]
    assert got is False, f"{flag}={value!r} was stored as {got!r}"


def test_lr_find_cli_refuses_a_per_model_list_for_a_shared_flag(monkeypatch, capsys, tmp_path):
    """A population whose models differ in ``optim.amsgrad`` (through ``population.variants``
    or ``population.grid``) is refused in one line: "optim.amsgrad differs between models …
    only numbers can vary inside one population". The same request written directly as a
    per-model list, ``--set optim.amsgrad=[true,false]``, is passed to the optimizer as a list,
    which stores ``bool([True, False]) == True``: the run goes ahead with AMSGrad for *every*
    model, with exit code 0 and no word about it. It must be the same one-line user error
    (exit 2) as the variants form."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: t\nmodel: {name: mlp, hidden: [16]}\noptim: {name: adam, lr: 0.01}\n"
        "train: {epochs: 1, batch_size: 64}\npopulation: {seeds: [0, 1]}\n"
    )
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", cfg, "--set", "optim.amsgrad=[true,false]",
        "--steps", "5", "--device", "cpu", "--out", tmp_path / "lr.png",
    )  # fmt: skip
    assert_user_error(code, err, "amsgrad")


@pytest.mark.parametrize("steps", [20.0, True, "20"])
def test_lr_find_refuses_a_step_count_that_is_not_a_whole_number(steps):
    """``lr_find(num_steps=...)`` is a count of steps: 20.0, True or "20" must be one clear
    ConfigError (as ``check_every`` is), not a bare TypeError from ``range()``."""
    cfg = small_config(optim={"name": "sgd", "lr": 0.1})
    with pytest.raises(ConfigError, match="num_steps"):
        lr_find(cfg, num_steps=steps, device="cpu")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_lr_find_refuses_an_out_folder_that_takes_no_files_before_training(
    monkeypatch, capsys, tmp_path
):
    """An ``--out`` in a folder no file can be written to (``/proc``; read-only mounts alike,
    whatever the user's rights) is refused in one line naming ``--out`` before the range test
    trains, not after it with an error naming trainlab's internal temporary file."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: t\nmodel: {name: mlp, hidden: [8]}\ntrain: {batch_size: 64}\n")
    code, out, err = run_cli(monkeypatch, capsys, "lr-find", cfg, "--out", "/proc/x.png",
                             "--steps", "5", "--device", "cpu")  # fmt: skip
    assert_user_error(code, err, "--out /proc/x.png")
    assert "trainlab-tmp" not in err and "LR range test" not in out


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_atomic_write_that_cannot_start_names_the_file_meant():
    """``atomic_write_text`` into a folder that takes no files raises an OSError naming the file
    the caller asked for, never the hidden temporary file beside it."""
    from trainlab.atomic import atomic_write_text

    with pytest.raises(OSError) as info:
        atomic_write_text("/proc/report.html", "x")
    assert info.value.filename == "/proc/report.html"
