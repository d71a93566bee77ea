"""Contracts from a review of resume for models carrying state outside their parameters and
persistent buffers (Python attributes a forward advances, non-persistent buffers)."""

from __future__ import annotations

import contextlib
import warnings

import pytest
import torch
from torch import nn

from conftest import Killed, raise_in_second_epoch, small_config
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.train import Trainer, resume, train


class _Counter(nn.Module):
    """An annealed output scale driven by a Python step counter (README: "advance plain-number
    attributes (a step counter)"); with ``gru`` it runs in loop mode."""

    def __init__(self, gru: bool = False) -> None:
        super().__init__()
        self.gru = gru
        self.body = nn.GRU(64, 8, batch_first=True) if gru else nn.Linear(64, 8)
        self.out, self.t = nn.Linear(8, 10), 0

    def forward(self, x):
        x = x.flatten(1)
        if self.training:
            self.t += 1
        h = self.body(x.unsqueeze(1))[0][:, 0] if self.gru else torch.relu(self.body(x))
        return self.out(h) / (1 + 0.1 * self.t)


class _RunningMean(nn.Module):
    """Centres its input with a running mean kept in a non-persistent buffer."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.out = nn.Linear(64, 8), nn.Linear(8, 10)
        self.register_buffer("mu", torch.zeros(64), persistent=False)

    def forward(self, x):
        x = x.flatten(1)
        if self.training:
            with torch.no_grad():
                self.mu.mul_(0.5).add_(0.5 * x.mean(0))
        return self.out(torch.relu(self.a(x - self.mu)))


class _TensorAttr(nn.Module):
    """Keeps an exponential mean in a plain tensor attribute (not a buffer)."""

    def __init__(self, gru: bool = False) -> None:
        super().__init__()
        self.gru = gru
        self.g = nn.GRU(4, 4, batch_first=True) if gru else None
        self.a, self.ema = nn.Linear(4, 2), torch.zeros(())

    def forward(self, x):
        if self.gru:
            x = self.g(x.unsqueeze(1))[0][:, 0]
        if self.training:
            self.ema = 0.5 * self.ema + 0.5 * x.detach().mean()
        return self.a(x) * (1 + self.ema)


def _full_and_resumed(monkeypatch, tmp_path, make):
    """Final weights of an uninterrupted run and of one killed as its 2nd epoch starts, then
    resumed (a fresh module, as a new process has), and the warnings both gave."""
    cfg = small_config(
        train={"epochs": 2, "checkpoint_every": 1, "batch_size": 256},
        init={"scheme": "keep"},
        population={"seeds": [0, 1]},
    )
    torch.manual_seed(0)
    start = make().state_dict()

    def fresh():
        m = make()
        m.load_state_dict(start)
        return m

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = train(cfg, model=fresh(), out=tmp_path / "full", progress=False, device="cpu")
        real = raise_in_second_epoch(monkeypatch)
        with contextlib.suppress(Killed):
            train(cfg, model=fresh(), out=tmp_path / "k", progress=False, device="cpu")
        monkeypatch.setattr(Trainer, "train_epoch", real)
        res = resume(tmp_path / "k", model=fresh(), progress=False, device="cpu")
    a, b = full.population.state_dict(), res.population.state_dict()
    same = all(torch.equal(a[k], b[k]) for k in a)
    return same, [str(w.message) for w in caught]


@pytest.mark.parametrize("gru", [False, True], ids=["vmap", "loop"])
def test_resume_keeps_a_python_step_counter_the_forward_advances(monkeypatch, tmp_path, gru):
    # wrong: the checkpoint drops the template's Python counter (t restarts at 0), so the resumed
    # weights differ, silently; right: checkpoint it (bitwise resume), or warn naming self.t
    same, said = _full_and_resumed(monkeypatch, tmp_path, lambda: _Counter(gru))
    named = [m for m in said if "attribute" in m or ".t" in m]
    assert same or named, f"resumed run diverged without a word; warnings: {said}"


def test_resume_keeps_a_non_persistent_buffer_the_forward_updates(monkeypatch, tmp_path):
    # wrong: the checkpoint (pop.state_dict()) leaves out the non-persistent buffer mu, so resume
    # restarts it at zeros and diverges silently; right: checkpoint every buffer, or warn
    same, said = _full_and_resumed(monkeypatch, tmp_path, _RunningMean)
    named = [m for m in said if "mu" in m]
    assert same or named, f"resumed run diverged without a word; warnings: {said}"


def test_vmap_tensor_attribute_set_by_forward_does_not_leak_a_batched_tensor():
    # wrong: vmap leaves a BatchedTensor on the template; unstack(i) (result.model(i)) gets
    # ema=None and its forward raises TypeError; right: UserError (use a buffer) or a tensor
    pop = Population(_TensorAttr(), 2)
    pop.train()
    x = torch.randn(2, 3, 4)
    try:
        pop(x)
    except UserError:
        return
    assert isinstance(pop.unstack(0).ema, torch.Tensor), pop.unstack(0).ema


def test_loop_tensor_attribute_set_by_forward_does_not_cross_models():
    # wrong: in loop mode model 1 reads the tensor attribute model 0's forward set, so model 0's
    # output depends on K; right: refuse (UserError, as for per-model numbers) or equal outputs
    torch.manual_seed(0)
    tpl, x = _TensorAttr(gru=True), torch.randn(2, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone, two = Population(tpl, 1), Population(tpl, 2)
    alone.train(), two.train()
    try:
        for _ in range(2):
            y2 = two(x)
    except UserError:
        return
    for _ in range(2):
        y1 = alone(x[:1])
    torch.testing.assert_close(y1[0], y2[0])
