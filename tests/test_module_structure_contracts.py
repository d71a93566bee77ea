"""Contracts from a review of user modules with unusual parameter structure trained as populations
(frozen layers at resume, Python state in loop mode, buffers that change shape in forward)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.pretrain import arrays_dataset
from trainlab.train import resume, train


class _Two(nn.Module):
    """Two hidden Linear(8, 8) layers, one of them frozen (``requires_grad=False``)."""

    def __init__(self, frozen: str):
        super().__init__()
        self.a, self.b, self.out = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 4)
        getattr(self, frozen).requires_grad_(False)

    def forward(self, x):
        return self.out(torch.tanh(self.b(torch.tanh(self.a(x)))))


def _dataset():
    rs = np.random.RandomState(0)
    x = rs.randn(120, 8).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    return arrays_dataset(x[:100], y[:100], x[100:], y[100:], val_fraction=0.1)


def _config():
    return {
        "data": {"name": "digits"},
        "init": {"scheme": "keep"},
        "optim": {"name": "adam", "lr": 1e-2},
        "train": {"epochs": 1, "batch_size": 16},
        "population": {"seeds": [0, 1]},
    }


def _extend(run_dir, epochs=2):
    path = run_dir / "config.yaml"
    cfg = yaml.safe_load(path.read_text())
    cfg["train"]["epochs"] = epochs
    path.write_text(yaml.safe_dump(cfg))


def test_resume_refuses_a_module_that_freezes_another_layer_of_the_same_shape(tmp_path):
    # wrong: the module fingerprint ignores requires_grad, so resume silently accepts a module
    # with layer b frozen instead of a and steps a with b's Adam moments; right: refuse (UserError)
    ds = _dataset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train(_config(), model=_Two("a"), dataset=ds, out=tmp_path / "r", progress=False)
        _extend(tmp_path / "r")
        with pytest.raises(UserError):
            resume(tmp_path / "r", model=_Two("b"), dataset=ds, progress=False, device="cpu")


def test_optimizer_load_state_dict_refuses_state_of_other_shapes():
    # wrong: load_state_dict takes Adam moments (K,8,8) for (K,4,8) params without a check; a
    # resume whose module freezes another layer (frozen `out` instead of `a`) then steps the fused
    # CPU kernel out of bounds: "corrupted double-linked list", abort (exit 134); right: refuse
    # at load (ValueError, which resume turns into its one-line UserError)
    from trainlab import optim

    lr = torch.tensor([1e-2, 1e-2], dtype=torch.float64)
    old = [nn.Parameter(torch.randn(2, 8, 8)), nn.Parameter(torch.randn(2, 8))]
    opt = optim.create_optimizer("adam", old, lr=lr)
    for p in old:
        p.grad = torch.randn_like(p)
    opt.step()
    new = [nn.Parameter(torch.randn(2, 4, 8)), nn.Parameter(torch.randn(2, 4))]
    other = optim.create_optimizer("adam", new, lr=lr)
    with pytest.raises((ValueError, UserError)):
        other.load_state_dict(opt.state_dict())  # (never stepped here: that corrupts memory)


class _PyCounterGRU(nn.Module):
    """A GRU model (loop mode) whose forward keeps a Python step counter, as a plain module
    counting its training forwards (e.g. for an annealed scale)."""

    def __init__(self):
        super().__init__()
        self.g, self.out, self.t = nn.GRU(4, 4, batch_first=True), nn.Linear(4, 2), 0

    def forward(self, x):
        if self.training:
            self.t += 1
        return self.out(self.g(x.unsqueeze(1))[0][:, 0]) / self.t


def test_loop_mode_python_state_advances_once_per_forward_not_k_times():
    # wrong: the loop mode runs the shared template K times per forward, so a Python attribute
    # the forward updates advances K times and model 0's output depends on K; right: alone and
    # inside a population of 3 give model 0 the same output
    torch.manual_seed(0)
    tpl, x = _PyCounterGRU(), torch.randn(3, 5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        alone, three = Population(tpl, 1), Population(tpl, 3)
    alone.train(), three.train()
    for _ in range(2):
        y1, y3 = alone(x[:1]), three(x)
    torch.testing.assert_close(y1[0], y3[0])


class _GrowingBuffer(nn.Module):
    """A module that appends to a buffer in every training forward (a history)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 2)
        self.register_buffer("seen", torch.zeros(0))

    def forward(self, x):
        if self.training:
            self.seen = torch.cat([self.seen, x.detach().mean().reshape(1)])
        return self.a(x)


def test_a_buffer_reassigned_with_a_new_shape_is_not_silently_dropped():
    # wrong: the vmap path copy_()s the new (K, 1) buffer into the old (K, 0) one, which
    # broadcasts to nothing: the buffer silently stays empty; right: a clear UserError, or the
    # buffer grows as the plain module's does (2 entries after 2 training forwards)
    pop = Population(_GrowingBuffer(), 2)
    pop.train()
    x = torch.randn(2, 3, 4)
    try:
        pop(x)
        pop(x)
    except UserError:
        return
    assert tuple(pop.unstack(0).seen.shape) == (2,)
