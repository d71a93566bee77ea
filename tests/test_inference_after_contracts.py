"""Review: using a finished run's models for inference (``RunResult.model(i)``, the run
directory's checkpoint, ``summary.json``).

Each test states a contract that the code does not keep.

Checked and fine (no test here): ``result.model(i)`` evaluated with plain torch on
``trainlab.train.load_dataset(cfg)`` reproduces summary.json's ``test_loss``/``test_acc`` and
``val_loss``/``val_acc`` for an MLP with batch norm and a per-model dropout grid, with ZCA
preprocessing, a 2-D convnet with batch norm and dropout, a resnet on digits and on MNIST-1D
(standardized); a model extracted from a population with per-model dropout, lr and init
overrides equals the same seed trained alone (convnet and resnet, to 1e-5), and an lr grid
for adam/sgd/adamw/rmsprop/adagrad to float rounding; a finished run resumed with a larger
``train.epochs`` gives bitwise the weights of an uninterrupted longer run; the README's Python
snippet runs as written (``result.summary["groups"]``, ``result.model(3)``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import small_config
from trainlab import models
from trainlab.population import Population
from trainlab.train import Trainer, train


class _BN(nn.BatchNorm1d):
    """A BatchNorm subclass: the population runs the module below under torch.vmap."""


class _VmapBNNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.bn1, self.out = nn.Linear(64, 16), _BN(16), nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.bn1(self.fc1(x.flatten(1))).relu())


@pytest.mark.parametrize("path", ["stacked", "vmap"])
def test_a_nan_stopped_models_batch_norm_statistics_are_those_of_the_step_before(
    tmp_path, monkeypatch, path
):
    """A model whose loss turns NaN/Inf is stopped "at that step" and gets "no update at all"
    from it (``Trainer.step_on``): its weights are rolled back to the state before the failing
    step. Its batch-norm running statistics and ``num_batches_tracked`` must be rolled back
    with them, so that ``result.model(i)`` is one consistent model (the last one that trained
    without diverging). Today the failing step's forward has already written the diverging
    batch into the running mean/variance (here: ``inf``) and counted one more batch than the
    model trained, so the extracted model mixes the weights of step t with the statistics of
    step t+1."""
    before: dict[int, dict[str, torch.Tensor]] = {}
    real = Trainer.step_on

    def step_on(self, idx):
        before[self.step] = self.pop.member_state(1)  # model 1 as it enters this step
        return real(self, idx)

    monkeypatch.setattr(Trainer, "step_on", step_on)
    cfg = small_config(
        model={"batch_norm": True},
        optim={"name": "sgd", "lr": 0.1},
        train={"epochs": 1, "batch_size": 64},
        population={"seeds": [0], "variants": [{}, {"optim.lr": 1e30}]},
    )
    module = _VmapBNNet() if path == "vmap" else None
    result = train(cfg, out=tmp_path / "run", progress=False, device="cpu", model=module)
    assert result.population.mode == path
    row = result.summary["models"][1]
    assert row["status"] == "nan"
    step = row["stopped_step"]
    want = before[step]  # the state that entered the step at which it diverged
    got = result.model(1).state_dict()
    for name in ("fc1.weight", "out.weight"):  # the rollback that does happen
        assert torch.equal(got[name], want[name]), name
    bad = [
        name
        for name in ("bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked")
        if not torch.equal(got[name], want[name])
    ]
    assert not bad, (
        f"model 1 diverged at step {step}; its weights are those from before that step, but "
        f"{bad} include the diverging step (num_batches_tracked "
        f"{int(got['bn1.num_batches_tracked'])} vs {int(want['bn1.num_batches_tracked'])} "
        f"steps trained; running_var max {got['bn1.running_var'].max().item():.3g} vs "
        f"{want['bn1.running_var'].max().item():.3g})"
    )


def test_model_i_read_from_last_pt_as_the_architecture_doc_says_loads_into_a_fresh_model(
    tmp_path,
):
    """docs/ARCHITECTURE.md: "``Population.member_state(i)`` has the plain module's state-dict
    keys (the population's own state dict adds the ``net.`` prefix and its ``seeds``
    buffer)", and the checkpoint holds that state dict (``checkpoints/last.pt``, loadable with
    ``torch.load(weights_only=True)``). So a user who wants model i from a run directory in a
    new process (without ``resume``, which rewrites the run) strips ``net.``, drops ``seeds``,
    takes row i and loads it into ``trainlab.models.create(...)``. For any model with dropout
    the population's state dict also holds each dropout layer's ``seed`` and ``p`` buffers,
    which the doc did not mention and which a plain model refuses (unexpected keys); the doc
    now names them and gives the recipe, which this test follows."""
    cfg = small_config(
        model={"hidden": [16], "dropout": 0.2},
        train={"epochs": 1, "batch_size": 64},
        population={"seeds": [0, 1]},
    )
    result = train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    ck = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    doc = (Path(__file__).parents[1] / "docs" / "ARCHITECTURE.md").read_text()
    assert "`seed` and `p`" in doc  # the keys the population's state dict adds are named
    # the documented recipe: a population of the run's architecture, loaded, unstacked
    fresh = models.create("mlp", input_shape=(1, 8, 8), num_classes=10, hidden=[16], dropout=0.2)
    pop = Population(fresh, 2)
    pop.load_state_dict(ck["population"])
    got, want = pop.unstack(1).state_dict(), result.model(1).state_dict()
    assert got.keys() == want.keys()
    for key in want:
        assert torch.equal(got[key], want[key]), key
    fresh.load_state_dict(pop.member_state(1))  # plain keys: loads into a plain model
    want = result.model(1).state_dict()
    assert all(torch.equal(fresh.state_dict()[n], want[n]) for n in want)
