"""Schedules, the LR finder and their CLIs: per-model lists checked like scalars, no draws from
torch's global generator, array LR grids, and the schedule parameters `trainlab schedule` shows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import assert_user_error, config_file, run_cli, small_config
from trainlab.errors import ConfigError
from trainlab.optim import create_schedule

SMALL = """
name: review
model: {name: mlp, hidden: [8]}
train: {epochs: 2, batch_size: 128}
population: {seeds: [0, 1]}
"""


@pytest.fixture
def small(tmp_path):
    return config_file(tmp_path, SMALL)


@pytest.mark.parametrize(
    "sets,needle",
    [
        (["schedule.name=step", "schedule.step_size=1", "schedule.gamma=[0.5,x]"], "gamma"),
        (["schedule.name=step", "schedule.step_size=1", "schedule.gamma=[0.5,null]"], "gamma"),
        (["schedule.name=cosine", "schedule.eta_min=[0,[1]]"], "eta_min"),
        (["schedule.name=cosine", "schedule.warmup_steps=[1,x]"], "warmup_steps"),
    ],
    ids=["string-in-list", "null-in-list", "nested-list", "warmup-string-in-list"],
)
def test_a_non_number_in_a_per_model_schedule_list_is_a_one_line_error(
    monkeypatch, capsys, small, sets, needle
):
    """Schedule parameters may be given per model as a YAML list (one value per model). A typo
    inside that list (`--set schedule.gamma=[0.5,x]`, a `null`, a nested list) must be the
    CLI's one clear line naming the parameter, with exit code 2, like every other bad schedule
    parameter (a scalar `gamma: x` already is). Today `_Params.num` calls `float(v)` on each
    element unguarded (and `_Params.count` calls `torch.as_tensor` on the raw list), so
    `trainlab schedule` and `trainlab train` crash with a ValueError/TypeError traceback."""
    args = ["schedule", small]
    for s in sets:
        args += ["--set", s]
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert_user_error(code, err, needle)


def test_booleans_in_a_per_model_schedule_list_are_rejected_like_a_boolean_scalar():
    """A boolean is not a number: `gamma: true` is refused ("must be a number"), as the config
    layer refuses `--set train.epochs=true` (pydantic would read it as 1). The same boolean
    inside a per-model list (`gamma: [true, false]`) is silently read as gammas 1.0 and 0.0,
    so one model never decays and the other drops to lr 0 after the first step, without a
    word. A per-model list must be checked like its scalar form."""
    base = torch.tensor([0.1, 0.2], dtype=torch.float64)
    with pytest.raises(ConfigError, match="must be a number"):
        create_schedule("step", base, total_steps=10, steps_per_epoch=2, step_size=1, gamma=True)
    with pytest.raises(ConfigError):
        create_schedule(
            "step", base, total_steps=10, steps_per_epoch=2, step_size=1, gamma=[True, False]
        )


def test_lr_find_does_not_draw_from_torchs_global_generator():
    """`trainlab.optim.lr_find` promises: "Nothing of the caller's is changed ... and trainlab
    draws no randomness from global state" (and DESIGN.md: randomness "never from global
    state"). A user who seeds torch, runs the range test and then builds their own model must
    get the same model as without the range test. Today the trainer builds the config's model
    with torch's default layer init (`nn.Linear.reset_parameters`), which draws from the
    global generator before trainlab re-initializes the weights, so the caller's RNG stream
    is advanced."""
    from trainlab.optim.lr_find import lr_find

    cfg = small_config(train={"epochs": 1})
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    lr_find(cfg, start_lr=1e-4, end_lr=1.0, num_steps=5, check_every=5, device="cpu")
    assert torch.equal(torch.get_rng_state(), before), "lr_find advanced torch's global RNG"


@pytest.mark.parametrize(
    "make",
    [lambda: np.logspace(-3, -1, 3), lambda: torch.logspace(-3, -1, 3)],
    ids=["numpy", "torch"],
)
def test_lr_sweep_accepts_an_array_of_learning_rates(make):
    """The population LR sweep takes "a list of positive learning rates"; the usual way to
    build an LR grid is `np.logspace(...)` (or `torch.logspace`). Its input check
    `if not lrs or any(...)` evaluates the truth value of the array and crashes with numpy's
    "truth value of an array ... is ambiguous" (torch: RuntimeError) before any training,
    instead of sweeping the given LRs (or giving a clear ConfigError)."""
    from trainlab.optim.lr_find import lr_sweep

    lrs = make()
    cfg = small_config(train={"epochs": 1})
    res = lr_sweep(cfg, lrs, device="cpu")
    assert res.lrs == pytest.approx([1e-3, 1e-2, 1e-1])
    assert len(res.train_loss) == 3


def test_trainlab_schedule_shows_the_schedule_parameters_config_yaml_leaves_out(
    monkeypatch, capsys, small
):
    """README ("schedule parameters left out take the defaults `trainlab schedule` shows") and
    `config.with_factory_defaults` ("schedule parameters ... some defaults derive from the
    run's length, e.g. cosine's `t_max`; `trainlab schedule` shows them") promise that the
    command shows the schedule parameters that config.yaml does not record. It prints only
    lr values per epoch: neither cosine's `t_max`/`eta_min` nor step's default `gamma` (0.1)
    appear anywhere, so a user cannot find out the values their run used."""
    code, out, err = run_cli(
        monkeypatch, capsys, "schedule", small, "--set", "schedule.name=cosine"
    )
    assert code == 0, err
    assert "t_max" in out and "eta_min" in out, out
    code, out, err = run_cli(
        monkeypatch, capsys, "schedule", small, "--set", "schedule.name=step",
        "--set", "schedule.step_size=1",
    )  # fmt: skip
    assert code == 0, err
    assert "gamma" in out, out


def test_init_keep_on_a_config_model_does_not_depend_on_the_global_seed():
    """``init.scheme: keep`` keeps the weights the model was built with; for a model built from
    the config those came from torch's global generator, so the run depended on whatever the
    caller had seeded (DESIGN.md: randomness never from global state)."""
    from trainlab.train import Trainer

    weights = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        t = Trainer(small_config(init={"scheme": "keep"}), device="cpu")
        weights.append([p.detach().clone() for p in t.pop.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*weights, strict=True))


def test_training_longer_warns_about_the_schedule_only_when_its_rates_change(tmp_path):
    """Resuming with more ``train.epochs`` notes that the schedule's learning rates change from
    here on; that is true of cosine (its t_max is the run's length), false of a per-epoch step
    decay, whose note must not claim it."""
    import yaml

    from trainlab.train import resume, train

    notes = {}
    for name, extra in (("cosine", {}), ("step", {"step_size": 1, "gamma": 0.5})):
        out = tmp_path / name
        cfg = small_config(schedule={"name": name, **extra}, train={"epochs": 1})
        train(cfg, out=out, device="cpu", progress=False)
        edited = yaml.safe_load((out / "config.yaml").read_text())
        edited["train"]["epochs"] = 2
        (out / "config.yaml").write_text(yaml.safe_dump(edited))
        notes[name] = []
        resume(out, device="cpu", progress=False, on_note=notes[name].append)
    assert "'cosine' schedule" in notes["cosine"][0]
    assert len(notes["step"]) == 1 and "schedule" not in notes["step"][0], notes["step"]


def test_lr_find_labels_each_model_once_when_a_group_has_several_seeds():
    """The range test's table and legend name each model; with two seeds per variant the
    variant's label appeared twice, and the user could not tell the rows apart."""
    from trainlab.optim.lr_find import lr_find

    cfg = small_config(population={"seeds": [0, 1], "variants": [{"optim.weight_decay": 0.01}, {}]})
    res = lr_find(cfg, start_lr=1e-4, end_lr=1.0, num_steps=5, check_every=5, device="cpu")
    assert len(set(res.groups)) == len(res.groups) == 4, res.groups
