"""Review of trainlab.optim (2026-11-30): the L-BFGS state dict round trip, whole numbers
beyond float64, lr_sweep dropping per-model values."""

from __future__ import annotations

import warnings

import pytest
import torch

from trainlab.config import load_config
from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer, create_schedule, lr_sweep

CONFIG = """\
name: t
data:
  name: digits
model:
  name: mlp
  hidden: [8]
optim:
  name: sgd
  lr: 0.1
  momentum: 0.9
train:
  epochs: 1
  batch_size: 200
population:
  seeds: [0]
"""


def _lbfgs_problem():
    torch.manual_seed(0)
    base = torch.randn(2, 3, 2)
    x, y = torch.randn(2, 10, 3), torch.randn(2, 10, 2)

    def make(p):
        opt = create_optimizer("lbfgs", [p], lr=1.0, max_iter=3, history_size=2)

        def closure():
            opt.zero_grad()
            loss = ((x @ p - y) ** 2).mean((1, 2))
            loss.sum().backward()
            return loss

        return opt, closure

    return base, make


def test_lbfgs_state_dict_round_trip_continues_like_uninterrupted():
    # LBFGS.load_state_dict lets torch cast the int64 history 'count' to the parameters' float
    # dtype, so the next step crashes (IndexError: tensors used as indices must be long); a
    # loaded optimizer must continue exactly as the uninterrupted one (restore count as long).
    base, make = _lbfgs_problem()
    p = base.clone().requires_grad_()
    opt, closure = make(p)
    for _ in range(4):
        opt.step(closure)
    q = base.clone().requires_grad_()
    opt_q, closure_q = make(q)
    for _ in range(2):
        opt_q.step(closure_q)
    r = q.detach().clone().requires_grad_()
    opt_r, closure_r = make(r)
    opt_r.load_state_dict(opt_q.state_dict())
    for _ in range(2):
        opt_r.step(closure_r)
    assert torch.equal(p, r)


def test_huge_integer_optimizer_hyperparameter_is_a_config_error():
    # hyper() catches TypeError/ValueError but not OverflowError: momentum=10**400 (a YAML int,
    # `--set optim.momentum=1000…0`) crashes `trainlab train` with a traceback (exit 1); it
    # must be a ConfigError naming the value (exit 2).
    p = torch.zeros(2, 3, requires_grad=True)
    with pytest.raises(ConfigError):
        create_optimizer("sgd", [p], lr=0.1, momentum=10**400)


def test_huge_integer_schedule_parameter_is_a_config_error():
    # _Params.num keeps a Python int and torch.as_tensor(10**400) raises OverflowError:
    # `trainlab schedule --set schedule.step_size=1000…0` ends in a traceback; it must be a
    # ConfigError ("must lie in ...") like step_size=1e400 is.
    with pytest.raises(ConfigError):
        create_schedule(
            "step", torch.tensor([0.1]), total_steps=10, steps_per_epoch=1, step_size=10**400
        )


def test_lr_sweep_refuses_per_model_optim_values_of_variants(tmp_path):
    # lr_sweep (lr-find --population) replaces population.variants/grid with its lr grid, so
    # per-model optim values given there (momentum 0.0 / 0.99) are silently dropped and every
    # sweep model trains with the base momentum 0.9, a config none of the user's models has;
    # it refuses per-model optim lists in the optim section and must refuse these too.
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    cfg = load_config(
        path, ['population.variants=[{"optim.momentum": 0.0}, {"optim.momentum": 0.99}]']
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConfigError):
            lr_sweep(cfg, [0.01, 0.1], epochs=1, device="cpu")
