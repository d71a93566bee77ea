"""Review diff35e: commits 0849237, 5095aa9, f54078c (config --set check, SGD message, summary)."""

from __future__ import annotations

import io

import torch
from rich.console import Console

from trainlab.cli.core import summary_table
from trainlab.config import as_config


# config.py _sets_reach_a_model (0849237) dedupes the models' overrides with
# `{tuple(m.overrides.items()): ...}`, a dict key that holds each override's value. A grid over
# a list-valued option (optim.betas, which the config accepts per model) makes that key
# unhashable: `--set init.std=0.2` on such a config crashes with "TypeError: unhashable type:
# 'list'" (a traceback from `trainlab train/schedule/diagnose/lr-find`) instead of loading.
# Every model here trains the base `normal` scheme, so init.std=0.2 reaches all of them and the
# config must load with it.
def test_set_init_option_with_a_list_valued_grid_loads():
    raw = {
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [16]},
        "init": {"scheme": "normal"},
        "population": {"grid": {"optim.betas": [[0.9, 0.999], [0.8, 0.99]]}},
    }
    cfg = as_config(raw, ["init.std=0.2"])
    assert cfg.init.model_dump()["std"] == 0.2


def _agg(mean, std, ci=0.0123):
    return {"mean": mean, "std": std, "ci95": ci, "n": 3}


def _summary(names, loss=(0.4143, 0.0335)):
    acc = _agg(0.8913649, 0.0078786)
    return {
        "name": "sweep",
        "k": 3 * len(names),
        "epochs": 2,
        "groups": [
            {
                "group": g,
                "n": 3,
                "aggregates": {"test_acc": acc, "test_loss": _agg(*loss), "val_acc": acc},
            }
            for g in names
        ],  # fmt: skip
    }


def _render(summary, width):
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None, emoji=False).print(
        summary_table(summary, has_test=True, has_val=True)
    )
    return buf.getvalue()


# cli/core.py _TableOrLines (f54078c) picks the table when GROUP_MIN + the longest word of each
# number column + borders fits, but leaves out the header cells (test_loss: 9 characters, wider
# than 0.4143) that rich also keeps whole; rich then scales every column down and folds the
# numbers again: at 40 columns "0.4143 ± 0.0335" prints as "0.414" / "3 ±" / "0.033" / "5",
# and at 43-47 columns a loss of 1.235e+05 is split. The class promises the table only where
# every number fits whole, else one line per group; either way each number must appear whole.
def test_summary_numbers_whole_at_40_columns():
    text = _render(_summary(["optim.lr=0.001", "optim.lr=0.01"]), 40)
    for number in ("0.8914", "0.0079", "0.0123", "0.4143", "0.0335"):
        assert number in text, f"{number} split across lines at 40 columns:\n{text}"


def test_summary_large_loss_whole_at_43_to_47_columns():
    for width in range(43, 48):
        text = _render(_summary(["a", "b"], loss=(123456.7, 2345.6)), width)
        assert "1.235e+05" in text and "2345.6000" in text, f"split at {width}:\n{text}"


# The same check lets rich fold the group column down to GROUP_MIN=5 characters, so a group
# label's number is cut: at 41-65 columns the group "optim.lr=0.001" prints as "optim.lr=0.0" /
# "01" (or "optim.lr=0.00" / "1"), which reads as another learning rate -- the defect this
# commit (and `trainlab schedule`, whose labels are kept whole) fixed for the number cells. The
# one-line-per-group form keeps the label whole ("optim.lr=0.001: n 3, ..."), so at 50 columns
# the label must be printed whole.
def test_summary_group_label_number_whole_at_50_columns():
    text = _render(_summary(["optim.lr=0.001", "optim.lr=0.01"]), 50)
    assert "optim.lr=0.001" in text, text


# optim/sgd.py _check_group (5095aa9) shows a per-model float32 tensor through _show, which
# converts it to float64 first: dampening=torch.tensor([0.0, 0.1, 0.0]) is reported as
# "dampening=[0.0, 0.10000000149011612, 0.0]", a value the user never wrote (torch prints the
# tensor as 0.1000). The message should name the value as given, 0.1.
def test_nesterov_dampening_message_shows_float32_values_as_given():
    import pytest

    import trainlab.optim as to
    from trainlab.errors import ConfigError

    p = torch.zeros(3, 4, requires_grad=True)
    with pytest.raises(ConfigError) as info:
        to.SGD([p], lr=0.1, momentum=0.9, dampening=torch.tensor([0.0, 0.1, 0.0]), nesterov=True)
    assert "0.10000000149" not in str(info.value), str(info.value)
    assert "0.1" in str(info.value)
