"""Review popapi22: the Python API for populations and per-model overrides (issue 3 item 4).

The numbers held up: per-model lr / weight decay / momentum / dampening / nesterov / betas /
eps / amsgrad / maximize for sgd, adam, adamw, adagrad and rmsprop, init schemes with their
scales (std, gain, mode, nonlinearity, orthogonal, LSUV), dropout rates, for mlp (with and
without batch norm), convnet, resnet, an ``nn.Sequential`` (stacked), a user module (vmap) and
a GRU module (loop): a member alone (K=1) equals the same member in slot 4..10 of a population
of 6..9 with other overrides around it to 1e-15 in float64 (bitwise in most cases), and resume
after one epoch is bitwise. What follows are the input paths that fail.
"""

from __future__ import annotations

import json

import pytest
import torch

from trainlab.config import parse_config
from trainlab.errors import UserError
from trainlab.train import train


def _raw(population: dict, **sections) -> dict:
    raw = {
        "name": "review",
        "model": {"name": "mlp", "hidden": [8]},
        "init": {"scheme": "xavier_uniform"},
        "optim": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "train": {"epochs": 1, "batch_size": 256},
        "population": population,
    }
    raw.update(sections)
    return raw


# config.py `_python_numbers` turns numpy values into Python numbers so that a grid built with
# `np.logspace` "validates, trains and writes as config.yaml as its YAML would"; torch tensors,
# what a PyTorch user has at hand (`torch.logspace(-3, -1, 3)`), are left as they are. They
# validate and train, but `train(cfg, out=...)` then dies in `_start_run` -> `dump_config` with
# pydantic's "PydanticSerializationError: Unable to serialize unknown type: <class
# 'torch.Tensor'>" (naming neither the key nor the fix), and with `write=False` the summary's
# `overrides` hold tensors (not the JSON-able dict summary.json would hold). Right: the run is
# written with each model's lr as a plain number (as for numpy), or, if tensors are not
# accepted, a trainlab UserError naming the key before anything trains.
def test_a_grid_given_as_a_torch_tensor_writes_its_run_or_is_refused_by_name(tmp_path):
    cfg = parse_config(_raw({"seeds": [0], "grid": {"optim.lr": torch.tensor([0.01, 0.1])}}))
    try:
        res = train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    except UserError as err:
        assert "optim.lr" in str(err)
        return
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    lrs = [m["overrides"]["optim.lr"] for m in summary["models"]]
    assert all(type(v) is float for v in lrs), lrs
    assert lrs == pytest.approx([0.01, 0.1], rel=1e-6)
    assert res.summary["models"][1]["overrides"] == summary["models"][1]["overrides"]


# train.py `_on` turns a per-model list into a tensor with `torch.tensor(v, dtype=float64)`,
# which raises a bare OverflowError ("int too large to convert to float") for a whole number
# beyond float64; alone (K=1) the same member's value reaches `optim.base.hyper`, which says
# "momentum: a whole number of 401 digits is too large for a float" (ConfigError, exit 2 in
# the CLI). Whether a member's value is refused cleanly must not depend on K: in the CLI the
# population case is a traceback with exit 1. Right: the same ConfigError as alone.
def test_a_huge_whole_number_per_model_is_the_same_config_error_as_alone():
    big = 10**400
    with pytest.raises(UserError, match="momentum"):  # alone: one clear line
        train(parse_config(_raw({"seeds": [0], "variants": [{"optim.momentum": big}]})),
              write=False, progress=False, device="cpu")  # fmt: skip
    pop = parse_config(_raw({"seeds": [0], "variants": [{}, {"optim.momentum": big}]}))
    with pytest.raises(UserError, match="momentum"):
        train(pop, write=False, progress=False, device="cpu")


# An init scale whose uniform range leaves float32's (`xavier_uniform` with gain 1e39: the
# 64->8 layer's bound is 1e39 * sqrt(6 / 72) = 2.9e38, its range 2b = 5.8e38 > 3.4e38) ends in
# torch's `RuntimeError: uniform_ expects to-from <= std::numeric_limits<Float>::max()` (or
# "from is out of bounds for float") from `tensor.uniform_` in init.py: a traceback (exit 1)
# in `trainlab train`. The same scale with `normal` (std 1e39) trains, and
# the model is stopped and flagged as NaN, as the README says a diverging model is. Right: one
# or the other (a UserError naming the option, or a NaN-stopped model), not an uncaught
# RuntimeError; alone and as a per-model override alike.
@pytest.mark.parametrize(
    "population",
    [
        {"seeds": [0]},
        {"seeds": [0], "variants": [{}, {"init.gain": 1e39}]},
    ],
    ids=["alone", "per-model"],
)
def test_an_init_scale_beyond_float32_is_not_a_runtime_error(population):
    init = {"scheme": "xavier_uniform", "gain": 1e39 if len(population) == 1 else 1.0}
    cfg = parse_config(_raw(population, init=init))
    try:
        res = train(cfg, write=False, progress=False, device="cpu")
    except UserError as err:
        assert "gain" in str(err)
        return
    assert res.summary["models"][-1]["status"] == "nan"


# record_schedule_overrides recorded `schedule.gamma: 0.5` (the config's own value) as an
# override of a model without one whenever a neighbour varied schedule.gamma, so its group
# read "schedule.gamma=0.5" in a population and "default" alone, where an optimizer key set the
# same way records nothing. Right: a model's recorded overrides depend only on its own config.
def test_a_models_schedule_overrides_do_not_depend_on_its_neighbours():
    sched = {"name": "step", "step_size": 1, "gamma": 0.5}
    alone = train(parse_config(_raw({"seeds": [0]}, schedule=sched)),
                  write=False, progress=False, device="cpu")  # fmt: skip
    varied = {"seeds": [0], "variants": [{}, {"schedule.gamma": 0.1}]}
    pop = train(parse_config(_raw(varied, schedule=sched)),
                write=False, progress=False, device="cpu")  # fmt: skip
    assert alone.summary["models"][0]["overrides"] == {}
    assert pop.summary["models"][0]["overrides"] == {}
    assert pop.summary["models"][1]["overrides"] == {"schedule.gamma": 0.1}
