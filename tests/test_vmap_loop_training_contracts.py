"""Adversarial review: user modules trained through the vmap and loop population paths
(trainlab.population's vmap/loop modes, the vmap -> loop fallback, buffers, and the Trainer's
evaluation of such modules). Each test states a contract the current code does not keep."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import small_config
from trainlab import rng
from trainlab.population import Population
from trainlab.train import Trainer, train

LRS = [0.01, 0.003, 0.03]
BATCH = 256  # few steps per epoch: the file stays fast


def _config(lrs=LRS, **train_kw):
    """K = len(lrs) models of one user module, every one starting from its weights
    (init.scheme keep), each with its own Adam learning rate."""
    return small_config(
        init={"scheme": "keep"},
        optim={"name": "adam", "lr": lrs[0]},
        train={"epochs": 1, "batch_size": BATCH, **train_kw},
        population={"seeds": [0], "grid": {"optim.lr": list(lrs)}},
    )


def _plain_adam_runs(base: nn.Module, data, lrs, seed: int = 0) -> list[nn.Module]:
    """One plain PyTorch loop per learning rate (torch.optim.Adam), over the batch indices the
    trainer draws for ``seed`` in epoch 0 (``trainlab.rng.permutations``)."""
    n = data.x_train.shape[0]
    perm = rng.permutations(torch.tensor([seed]), 0, n)[0]
    out = []
    for lr in lrs:
        m = copy.deepcopy(base).train()
        opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=lr)
        for s in range(0, n, BATCH):
            idx = perm[s : s + BATCH]
            loss = F.cross_entropy(m(data.x_train[idx]), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        out.append(m)
    return out


# ------------------------------------------------ forwards vmap refuses, which the loop runs


class _MaskedFeatures(nn.Module):
    """Keeps the pixels a boolean mask buffer selects (feature selection): boolean-mask
    indexing, an op with a data-dependent output shape that vmap refuses."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("keep", torch.arange(64) % 2 == 0)
        self.a = nn.Linear(32, 8)
        self.c = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(torch.tanh(self.a(x.flatten(1)[:, self.keep])))


class _NonzeroFeatures(_MaskedFeatures):
    """The same selection through ``nonzero`` (``index_select`` of the kept columns)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cols = self.keep.nonzero().flatten()
        return self.c(torch.tanh(self.a(x.flatten(1).index_select(1, cols))))


class _ReadsAsList(nn.Module):
    """Reads a value into Python with ``.tolist()`` (as ``float(t)`` / ``.item()`` would)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(64, 8)
        self.c = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x.flatten(1))
        scale = h.detach().abs().max().tolist()  # a Python float
        return self.c(torch.tanh(h / (1.0 + scale)))


@pytest.mark.parametrize(
    "factory",
    [_MaskedFeatures, _NonzeroFeatures, _ReadsAsList],
    ids=["bool-mask", "nonzero", "tolist"],
)
def test_a_forward_vmap_refuses_trains_in_the_loop_mode_as_plain_pytorch(factory):
    """population.py promises that a module whose forward ``torch.vmap`` cannot batch ("any op
    without a batching rule; .item() or a Python branch on a tensor") runs model by model
    (the loop mode), switched to "the first time vmap refuses it", with a warning. Boolean-mask
    indexing (``x[:, mask]``), ``nonzero`` and ``.tolist()`` are such forwards: plain PyTorch
    and the loop mode run them, but vmap refuses them with messages ("We do not support
    batching operators that can output dynamic shape", "Cannot access data pointer") that
    ``_unbatchable`` does not recognise, so ``train(cfg, model=...)`` died with a raw
    RuntimeError at its first step. Trained by the Trainer with three learning rates, each
    model must equal its own plain ``torch.optim.Adam`` loop over the same batches."""
    torch.manual_seed(0)
    base = factory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the vmap -> loop fallback's warning
        result = train(_config(), model=copy.deepcopy(base), write=False, progress=False,
                       device="cpu")  # fmt: skip
    assert result.population.mode == "loop"
    data = Trainer(_config(), device="cpu", model=copy.deepcopy(base)).data
    for k, plain in enumerate(_plain_adam_runs(base, data, LRS)):
        got = result.population.member_state(k)
        for name, t in plain.state_dict().items():
            torch.testing.assert_close(got[name], t, rtol=1e-4, atol=1e-5, msg=f"{k} {name}")


# ------------------------------------------------------------ a buffer the forward reassigns


class _EMACenter(nn.Module):
    """Subtracts a running mean it keeps as a buffer, updated the common way: by assigning
    the new tensor (``self.mu = 0.9 * self.mu + 0.1 * batch_mean``), as many hand-written
    normalization layers do. In plain PyTorch the assignment replaces the registered buffer."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.register_buffer("mu", torch.zeros(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            with torch.no_grad():
                self.mu = 0.9 * self.mu + 0.1 * x.mean(0)
        return x - self.mu


class _CenteredMLP(nn.Module):  # vmap mode
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(6, 4)
        self.center = _EMACenter(4)
        self.c = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(torch.tanh(self.center(self.a(x))))


class _CenteredGRU(nn.Module):  # loop mode
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(6, 4, batch_first=True)
        self.center = _EMACenter(4)
        self.c = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.rnn(x.unsqueeze(1).expand(-1, 3, -1))[0][:, -1]
        return self.c(torch.tanh(self.center(h)))


@pytest.mark.parametrize(
    "factory, mode", [(_CenteredMLP, "vmap"), (_CenteredGRU, "loop")], ids=["vmap", "loop"]
)
def test_a_buffer_the_forward_reassigns_is_updated_per_model(factory, mode):
    """A training forward that assigns a new tensor to a registered buffer updates that buffer
    in PyTorch. Under ``torch.func.functional_call`` (vmap and loop modes) the assignment only
    replaces the swapped-in tensor, which functional_call throws away afterwards: every model's
    running mean silently stays at its initial zeros, so evaluation (which subtracts it), the
    checkpoint and ``unstack(k)`` all hold a model that is not the one PyTorch trains. Each
    member's buffer must end as the plain model's after the same training forwards."""
    torch.manual_seed(0)
    models = [factory() for _ in range(3)]
    pop = Population.from_models([copy.deepcopy(m) for m in models]).train()
    assert pop.mode == mode
    x = torch.randn(3, 5, 6, generator=torch.Generator().manual_seed(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(2):
            pop(x)
    for k, m in enumerate(models):
        m.train()
        for _ in range(2):
            m(x[k])
        assert not torch.equal(m.center.mu, torch.zeros(4))  # the plain model did update it
        torch.testing.assert_close(pop.member_state(k)["center.mu"], m.center.mu, msg=str(k))
        torch.testing.assert_close(pop.unstack(k).center.mu, m.center.mu, msg=str(k))


# ------------------------------------- evaluation of a user module with batch statistics


class _HandWrittenBatchNorm(nn.Module):
    """The CS231n batch norm written by hand, without running statistics: it normalizes every
    batch, evaluation batches included, with that batch's own mean and variance."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(64, 16)
        self.gamma = nn.Parameter(torch.ones(16))
        self.beta = nn.Parameter(torch.zeros(16))
        self.c = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.a(x.flatten(1))
        h = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + 1e-5)
        return self.c(torch.relu(h * self.gamma + self.beta))


def test_evaluation_of_a_user_module_that_uses_batch_statistics_does_not_depend_on_k():
    """DESIGN.md principle 2: a model's result never depends on K. The trainer evaluates in
    chunks of ``eval_batch_size // (K // 16)`` samples, shrinking as K grows, and keeps the
    full chunk only for the layers it recognises as using batch statistics
    (``nn.BatchNorm`` with ``track_running_stats=False``). A user's own forward that normalizes
    with the batch's statistics (vmap mode: trainlab cannot see inside it) therefore gets other
    validation and test metrics in a population of 32 than alone: same weights, same data,
    val accuracy 0.056 alone and 0.076 in the population. (With the default eval_batch_size
    4096, a 10,000-sample test split differs from K=32 on.)"""

    def cfg(seeds):
        return small_config(
            init={"scheme": "keep"}, train={"eval_batch_size": 64}, population={"seeds": seeds}
        )

    torch.manual_seed(0)
    net = _HandWrittenBatchNorm()
    alone = Trainer(cfg([0]), device="cpu", model=copy.deepcopy(net))
    many = Trainer(cfg(list(range(32))), device="cpu", model=copy.deepcopy(net), dataset=alone.data)
    assert many.pop.mode == "vmap"
    for split in ("val", "test"):
        (la, aa), (lm, am) = alone.evaluate(split), many.evaluate(split)
        torch.testing.assert_close(lm[0], la[0], msg=split)
        torch.testing.assert_close(am[0], aa[0], msg=split)


# ------------------------------------------------------ a forward that edits its input in place


class _ShiftsInputInPlace(nn.Module):
    """Centres its input in place (``x -= 0.5``), legal in PyTorch: with a DataLoader the batch
    is the forward's own tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(64, 8)
        self.c = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.size(0), -1)
        x -= 0.5
        return self.c(torch.tanh(self.a(x)))


class _GRUShiftsInputInPlace(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(8, 6, batch_first=True)
        self.c = nn.Linear(6, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.size(0), 8, 8)
        x -= 0.5
        return self.c(self.rnn(x)[0][:, -1])


@pytest.mark.parametrize(
    "factory, mode",
    [(_ShiftsInputInPlace, "vmap"), (_GRUShiftsInputInPlace, "loop")],
    ids=["vmap", "loop"],
)
def test_evaluating_a_forward_that_edits_its_input_leaves_the_data_and_the_slots_alone(
    factory, mode
):
    """Trainer.evaluate hands every model a view of the dataset itself
    (``x_val[s:e].expand(K, ...)``). A forward that edits its input in place then either crashes
    under vmap ("more than one element of the written-to tensor refers to a single memory
    location", a raw RuntimeError after a whole epoch of training) or, in the loop mode,
    shifts the stored validation split once per model: model k sees the data shifted k+1
    times, so three identical models get three different validation losses (their slot
    decides), and every later epoch evaluates on data drifting further. Three models with the
    same weights must get the same metrics, and the dataset must be left as it was."""
    torch.manual_seed(0)
    tr = Trainer(_config([0.01, 0.02, 0.03]), device="cpu", model=factory())
    assert tr.pop.mode == mode
    before = tr.data.x_val.clone()
    loss, acc = tr.evaluate("val")
    assert torch.equal(tr.data.x_val, before), "the validation split was modified"
    torch.testing.assert_close(loss, loss[:1].expand(3).contiguous())
    torch.testing.assert_close(acc, acc[:1].expand(3).contiguous())
