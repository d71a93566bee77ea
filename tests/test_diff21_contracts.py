"""Review of f91a6e9^..HEAD (diff21): watch's unbatched-output rule, complete-run hints."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from conftest import small_config
from trainlab.diagnostics.watch import watch
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.train import resume, train


def _dead(model, x, layer):
    with watch(model, every=1) as w:
        model(x).sum().backward()
    (rec,) = [r for r in w.records() if r["layer"] == layer]
    return rec["dead_fraction"]


def _half_dead_mlp() -> nn.Sequential:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    with torch.no_grad():
        m[0].bias[:5] = -100.0  # 5 of 8 units dead for every input
    return m


def test_a_batched_1d_output_is_not_read_as_one_sample_of_b_units():
    # Linear(4,1) -> Flatten(0) -> ReLU on a (16, 4) batch gives (16,): ONE unit over 16 samples,
    # alive for some of them; the new unbatched rule reads it as 16 units of one sample and
    # reports dead_fraction 0.4375 (the share of the batch at 0; it was 0.0 before f91a6e9).
    # Right: a (B,) output of a batched forward keeps B samples (same as the (B, 1) model: 0.0)
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 1), nn.Flatten(0), nn.ReLU())
    with torch.no_grad():
        m[0].weight.zero_()
        m[0].bias.zero_()
        m[0].weight[0, 0] = 1.0  # relu(x[:, 0]): zero for about half the batch, not dead
    x = torch.randn(16, 4)
    assert 0 < (m(x) <= 0).float().mean() < 1
    assert _dead(m, x, "2") == 0.0


def test_a_stacked_population_reads_an_unbatched_sample_as_the_plain_model_does():
    # a stacked population fed one unbatched sample per model, (K, 4), reads each model's (8,)
    # ReLU output as 8 samples of one unit: dead_fraction 0.0, while watch(model) on (4,) and a
    # vmap population of the same model read 0.75 (the f91a6e9 fix covers plain modules only).
    # Right: a model's statistics do not depend on being stacked: 0.75 here too
    m = _half_dead_mlp()
    x = torch.randn(4)
    plain = _dead(m, x, "1")
    pop = Population(m, 2)
    assert pop.mode == "stacked"
    with watch(pop, every=1) as w:
        pop(x.expand(2, 4).clone()).sum().backward()
    got = [r["dead_fraction"] for r in w.records() if r["layer"] == "1"]
    assert got == pytest.approx([plain, plain])


def test_an_unbatched_conv_input_counts_its_channels_as_units():
    # Conv2d on an unbatched (C, H, W) input (torch accepts it) reads the (8, 4, 4) output as 8
    # samples with H as the channel axis: dead_fraction 0.0 for a layer with 5 of 8 channels dead
    # (x[None] reads 0.625); the unbatched fix stopped at Linear. Right: the same as x[None]
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 8, 3)
    m = nn.Sequential(conv, nn.ReLU())
    with torch.no_grad():
        conv.bias[:5] = -100.0
    x = torch.randn(2, 6, 6)
    assert _dead(m, x, "1") == pytest.approx(_dead(m, x[None], "1"))


def _module() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))


@pytest.fixture
def complete_custom_run(tmp_path):
    cfg = small_config(train={"epochs": 1, "batch_size": 256})
    train(cfg, model=_module(), out=tmp_path / "run", progress=False, device="cpu")
    return cfg, tmp_path / "run"


def test_rerun_into_a_complete_custom_model_run_does_not_offer_the_cli_resume(
    complete_custom_run,
):
    # runs.complete_run says "then `trainlab resume DIR`" for a run trained on a user module,
    # which the CLI refuses (exit 2: "resume it from Python"); before 0fecde3 the hint used
    # run_resume_command. Right: trainlab.train.resume(DIR, model=the_same_module)
    cfg, run = complete_custom_run
    with pytest.raises(UserError) as exc:
        train(cfg, model=_module(), out=run, progress=False, device="cpu")
    msg = str(exc.value)
    assert "`trainlab resume" not in msg, msg
    assert "model=the_same_module" in msg, msg


def test_resume_of_a_complete_custom_model_run_does_not_offer_the_cli_resume(
    complete_custom_run,
):
    # resume(DIR, model=...) of a complete user-module run warns "nothing to train: ... then
    # `trainlab resume DIR`", a command that refuses this run. Right: the Python resume call
    _, run = complete_custom_run
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resume(run, model=_module(), progress=False)
    notes = [str(w.message) for w in caught if "nothing to train" in str(w.message)]
    assert notes, [str(w.message) for w in caught]
    assert "`trainlab resume" not in notes[0], notes[0]
