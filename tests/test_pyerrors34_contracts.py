"""Review pyerrors34: user errors through the Python API (not the CLI).

Each test calls a public function with a bad input a notebook user would pass and checks
that the refusal is a one-line ``trainlab.errors.UserError`` that names the problem and the
fix (docs/ARCHITECTURE.md, "Errors"), not a raw Python exception or a misleading message.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import trainlab
from trainlab.errors import UserError

# a config that lr_find refuses before it builds anything (the checks come first)
_CFG = {
    "name": "t",
    "data": {"name": "digits"},
    "model": {"name": "mlp", "hidden": [8]},
    "optim": {"name": "sgd", "lr": 0.1},
    "train": {"epochs": 1, "batch_size": 64},
    "population": {"seeds": [0]},
}


def _one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text, text
    return text


# load_run on a study's folder: RunDir.require (runs.py) raises resume's message for it, "a
# study does not resume; run `trainlab study NAME` again (with another --out)". For load_run
# that fix is wrong: running the study again gives another study folder, which load_run
# refuses the same way. The pretrain case is already told apart by `who` in _restore ("load_run
# takes a training run's folder"); the study case must be too.
def test_load_run_on_a_study_folder_names_load_run_not_resume(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    (study / "results.json").write_text("{}")
    with pytest.raises(UserError) as err:
        trainlab.load_run(study)
    text = _one_line(err)
    assert "load_run" in text, text
    assert "does not resume" not in text and "study NAME` again" not in text, text


# resume / load_run given the path of a run's config.yaml (a file) say "not a run directory:
# .../config.yaml (no config.yaml)": the user passed config.yaml itself, so "no config.yaml" is
# false and names no fix. build_report on the same path says "... is a file; pass its folder
# (DIR)" (report/__init__), which is the message wanted here: the problem (a file) and the fix.
@pytest.mark.parametrize("call", ["resume", "load_run"])
def test_resume_and_load_run_given_a_yaml_path_say_pass_its_folder(tmp_path, call):
    run = tmp_path / "run"
    run.mkdir()
    yaml_path = run / "config.yaml"
    yaml_path.write_text("name: x\n")
    with pytest.raises(UserError) as err:
        getattr(trainlab, call)(yaml_path)
    text = _one_line(err)
    assert "(no config.yaml)" not in text, text
    assert "is a file" in text and f"({run})" in text, text


# optim.create_schedule compares total_steps / steps_per_epoch with `< 1` unchecked: a string
# or None raises a raw TypeError ("'<' not supported between instances of 'str' and 'int'"),
# and a float (steps_per_epoch = len(x) / batch in a notebook: 12.94) is taken as is, so the
# epochs of the schedule no longer start on whole steps (t_max 129.4). The repo refuses
# fractional counts elsewhere (lr_find's num_steps=10.0, a schedule's warmup_steps, epochs);
# these must be a ConfigError too.
@pytest.mark.parametrize(
    "kw",
    [
        {"total_steps": "100", "steps_per_epoch": 10},
        {"total_steps": None, "steps_per_epoch": 10},
        {"total_steps": 100, "steps_per_epoch": "10"},
        {"total_steps": 100, "steps_per_epoch": 12.94},
        {"total_steps": 129.4, "steps_per_epoch": 13},
    ],
)
def test_create_schedule_refuses_non_integer_step_counts(kw):
    with pytest.raises(UserError) as err:
        trainlab.optim.create_schedule("cosine", 0.1, **kw)
    _one_line(err)


# optim.lr_find compares start_lr / end_lr (log_spaced), beta and diverge with numbers without
# checking their type: start_lr="1e-5" (a string from a widget or argparse) or beta=None raise
# a raw TypeError ("'<' not supported between instances of 'int' and 'str'"). The same values
# out of range are a ConfigError ("the LR range needs 0 < start_lr < end_lr"); a wrong type
# must be one as well.
@pytest.mark.parametrize(
    "kw",
    [{"start_lr": "1e-5"}, {"end_lr": None}, {"beta": None}, {"diverge": "4"}],
)
def test_lr_find_refuses_non_numbers_with_a_user_error(kw):
    with pytest.raises(UserError) as err:
        trainlab.optim.lr_find(_CFG, device="cpu", **kw)
    _one_line(err)


# diagnostics.watch: every/bins/hist_values are checked, but hist_range is unpacked bare in
# _edges (`lo, hi = (float(v) for v in hist_range)`) and start_step converted with int():
# hist_range=(-3, 0, 3) raises "too many values to unpack (expected 2)", hist_range="x" and
# start_step="x" raw float()/int() ValueErrors that name neither the argument nor the fix.
@pytest.mark.parametrize(
    "kw",
    [{"hist_range": (-3.0, 0.0, 3.0)}, {"hist_range": "x"}, {"start_step": "x"}],
)
def test_watch_refuses_malformed_hist_range_and_start_step(kw):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with pytest.raises(UserError) as err:
        trainlab.diagnostics.watch(model, **kw)
    _one_line(err)


# models/mlp.py formats depth without repr ({depth}, beside {width!r}): depth="2" is refused
# with "must be an int >= 0, got 2", which reads as if 2 were refused. The message must show
# the value as given, '2' (a string), as the width message does.
def test_mlp_depth_message_shows_the_string_as_given():
    with pytest.raises(UserError) as err:
        trainlab.models.create("mlp", input_shape=(4,), num_classes=2, depth="2")
    text = _one_line(err)
    assert "got '2'" in text, text


def test_sanity_watch_still_takes_a_good_range():
    # (not a finding: the fixes above must keep a valid call working)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with trainlab.diagnostics.watch(model, hist_range=(-1.0, 1.0), start_step=0) as w:
        model(torch.randn(3, 4)).sum().backward()
    assert w is not None
