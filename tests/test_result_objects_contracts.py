"""Review: what a notebook user does with a finished run's objects (``RunResult``).

Each test states a contract of ``result.model(i)`` / ``Population.from_models`` /
``Population.unstack`` that the code does not keep.

Checked and fine (no test here): ``result.model(i)`` reproduces summary.json's ``test_loss`` and
``test_acc`` to float rounding for an MLP (plain, batch norm, per-model dropout), a 2-D convnet,
a resnet on digits and on MNIST-1D, a user module in vmap mode (batch norm + dropout with a
``model.dropout`` grid, weight-norm and spectral-norm parametrizations, a Linear used twice),
an ``nn.LSTM`` module in loop mode and a cumulative-average batch norm; early-stopped models
in stacked and vmap mode (batch-norm statistics frozen at the stop); the same after
``trainlab.train.resume(dir)`` of a finished run (summary.json unchanged, dropout rates of
``model.dropout`` variants and of a module's own rates restored); the extracted model is a
copy (editing its weights or running statistics leaves the population and the next
``result.model(i)`` alone), carries no diagnostics hooks, and its state_dict loads into a fresh
``trainlab.models.create`` model; ``num_batches_tracked`` equals the steps trained; a numpy
integer or 0-d tensor index works, a negative / too large / float / bool index is a UserError
naming the range; pickling and deepcopy of a RunResult; ``result.diagnostics`` with
``write=False`` equals diagnostics.jsonl; the K=1 summary (``std`` 0.0, ``ci95`` None, one
``default`` group); ``aggregates`` keys ``mean, std, ci95, n``; ``from_models`` → forward /
``unstack`` round trips for batch norm without affine or running statistics, layer norm
without affine or bias, convolutions with ``padding='same'`` and groups, GroupNorm, PReLU; a
module passed to ``train(model=...)`` is left untouched.
"""

from __future__ import annotations

import torch
from torch import nn

from conftest import small_config
from trainlab import models
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.train import train


def test_extracted_model_keeps_the_dropout_rate_the_config_gave():
    """``result.model(i)`` must come back with model i's dropout rate, the rate the config
    gave (``Dropout(p=1/3)`` when ``model.dropout: 0.3333333333333333``), so that the extracted
    model is the documented architecture and ``model.drop1.p == cfg rate`` holds for analysis
    code that groups extracted models by rate. ``SeededDropout.to_plain`` rounds every rate
    through float32's shortest decimal (``float(str(np.float32(p)))``) to undo float32 noise,
    which turns any rate with more than ~7 significant digits, such as 1/3, into a different
    number (0.33333334); a freshly built ``models.create('mlp', dropout=1/3)`` has 1/3."""
    rate = 1 / 3
    cfg = small_config(
        model={"name": "mlp", "hidden": [8], "dropout": rate},
        train={"epochs": 1, "batch_size": 256},
    )
    result = train(cfg, write=False, progress=False, device="cpu")
    fresh = models.create("mlp", input_shape=(64,), num_classes=10, hidden=[8], dropout=rate)
    want = [m.p for m in fresh.modules() if isinstance(m, nn.Dropout)]
    got = [m.p for m in result.model(0).modules() if isinstance(m, nn.Dropout)]
    assert want == [rate]
    assert got == want, f"result.model(0) has dropout {got}, the config gave {want}"


def test_from_models_then_unstack_keeps_each_models_dropout_rate_exactly():
    """``Population.from_models`` promises that each model keeps its dropout rate, and
    ``unstack(i)`` gives model i back as a plain module: the round trip must give back
    ``Dropout(p)`` with the very ``p`` the model had. A rate such as 0.123456789 comes back as
    0.12345679 (rounded through float32's decimal form), so the round trip silently changes
    the model a user put in."""
    rate = 0.123456789
    m = models.create("mlp", input_shape=(4,), num_classes=3, hidden=(5,), dropout=rate)
    back = Population.from_models([m]).unstack(0)
    got = [d.p for d in back.modules() if isinstance(d, nn.Dropout)]
    assert got == [rate], f"dropout {got} after from_models -> unstack, the model had {rate}"


def test_from_models_keeps_a_float64_models_weights_or_refuses_it():
    """``from_models`` promises that each model keeps its weights and that models differing in
    anything else are refused. Given a float32 model 0 and a float64 model 1, it stacks both
    in float32 without a word: model 1's weights are rounded to float32 (1/3 loses ~1e-8) and
    ``unstack(1)`` returns a float32 model that is not the one passed in. It should refuse
    models of different dtypes (or keep model 1's float64 values exactly)."""
    torch.manual_seed(0)
    a = nn.Linear(4, 3)
    b = nn.Linear(4, 3).double()
    with torch.no_grad():
        b.weight.fill_(1 / 3)
    try:
        pop = Population.from_models([a, b])
    except UserError:
        return  # refusing a dtype mix is fine
    back = pop.unstack(1)
    assert back.weight.dtype == torch.float64, f"model 1 came back as {back.weight.dtype}"
    assert torch.equal(back.weight, b.weight), "model 1's float64 weights were rounded"


class _Versioned(nn.Module):
    """A module that saves a small Python extra state with its weights (torch's public
    ``get_extra_state``/``set_extra_state`` API: a format version, a vocabulary, a scale)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)
        self.meta = {"version": 1}

    def get_extra_state(self):
        return self.meta

    def set_extra_state(self, state) -> None:
        self.meta = state

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


def test_a_module_with_extra_state_trains_and_unstacks_or_is_refused_clearly():
    """Any ``nn.Module`` trains (README), and a finished run gives model i back with
    ``result.model(i)``. A module that uses torch's ``get_extra_state`` (its state_dict then
    holds a non-tensor ``_extra_state`` entry) crashes instead: ``train(cfg, model=...)`` dies
    in ``Population.load_member`` with ``AttributeError: 'dict' object has no attribute
    'shape'``, ``Population.from_models`` the same way, and ``Population(m, 2).unstack(1)``
    with ``KeyError: 1`` (``member_state`` indexes the dict). It must train and give the model
    back (with its weights and extra state), or be refused up front with a UserError naming
    the problem."""
    try:
        result = train(
            small_config(train={"epochs": 1, "batch_size": 256}),
            model=_Versioned(),
            write=False,
            progress=False,
            device="cpu",
        )
    except UserError:
        return  # a clear refusal is fine
    back = result.model(0)
    assert back.meta == {"version": 1}
    assert torch.equal(back.fc.weight, result.population.member_state(0)["fc.weight"])
