"""PopulationOptimizer.grad_mask (a trainer's stopped models) and Adam's fallback from its Triton
kernel to the _foreach path. CPU only; Triton is not needed."""

from __future__ import annotations

import warnings

import pytest
import torch

from conftest import small_config
from trainlab.optim import LBFGS, Newton, create_optimizer, triton_adam
from trainlab.train import Trainer

K = 3
OPTIMIZERS = {
    "sgd": {"momentum": 0.9},
    "adam": {"weight_decay": 0.1},
    "adamw": {},
    "adagrad": {},
    "rmsprop": {"momentum": 0.5},
}


def _start() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return [torch.randn(K, 4, 3, generator=g), torch.randn(K, 4, generator=g)]


def _grads(step: int, nan_model: int | None) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(10 + step)
    grads = [torch.randn(K, 4, 3, generator=g), torch.randn(K, 4, generator=g)]
    if nan_model is not None:
        for x in grads:
            x[nan_model] = float("nan")
    return grads


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("fused", [None, False])
def test_a_masked_models_nan_gradient_counts_as_zero(name, fused):
    """grad_mask False for model 1, whose gradients are NaN and whose lr is 0: its weights stay
    bit for bit and its state finite; the others step as if model 1's gradients were zeros."""
    lr = torch.tensor([0.01, 0.0, 0.03], dtype=torch.float64)
    mask = torch.tensor([True, False, True])
    out = []
    for masked in (True, False):
        params = [p.clone().requires_grad_() for p in _start()]
        fuse = {} if name == "rmsprop" else {"fused": fused}  # (RMSprop has no fused kernel)
        opt = create_optimizer(name, params, lr=lr, **fuse, **OPTIMIZERS[name])
        for step in range(3):
            grads = _grads(step, nan_model=1 if masked else None)
            if not masked:  # the reference: zeros where the mask would zero them
                for g in grads:
                    g[1] = 0.0
            for p, g in zip(params, grads, strict=True):
                p.grad = g
            opt.grad_mask = mask if masked else None
            opt.step()
        out.append((params, opt))
    (got, opt), (want, _) = out
    for g, w, s in zip(got, want, _start(), strict=True):
        assert torch.equal(g.detach(), w.detach())
        assert torch.equal(g.detach()[1], s[1])
    for state in opt.state.values():
        for v in state.values():
            if isinstance(v, torch.Tensor) and v.is_floating_point():
                assert torch.isfinite(v).all()


def test_which_optimizers_honour_the_mask():
    """The trainer zeroes stopped models' gradients itself for optimizers that do not."""
    p = [torch.zeros(2, 3, requires_grad=True)]
    for name in OPTIMIZERS:
        assert create_optimizer(name, p).masks_grads, name
    assert not LBFGS.masks_grads and not Newton.masks_grads


def test_the_trainer_clears_the_mask_after_each_step():
    """A NaN model's mask is set for the step and cleared after it (a later optimizer.step()
    outside the trainer is not masked), also when the step raises."""
    trainer = Trainer(
        small_config(population={"seeds": [0], "grid": {"optim.lr": [0.1, 1e30]}}),
        device="cpu",
    )
    seen = []
    real = trainer.optimizer.step

    def step(*args, **kwargs):
        seen.append(trainer.optimizer.grad_mask)
        return real(*args, **kwargs)

    trainer.optimizer.step = step
    trainer.fit(progress=False)
    assert any(m is not None and not bool(m.all()) for m in seen)  # the 1e30 model stopped
    assert trainer.optimizer.grad_mask is None

    def fail(*args, **kwargs):
        assert trainer.optimizer.grad_mask is not None
        raise RuntimeError("boom")

    trainer.optimizer.step = fail
    perm = torch.arange(128).view(2, 64)
    with pytest.raises(RuntimeError, match="boom"):
        trainer.step_on(perm)
    assert trainer.optimizer.grad_mask is None


@pytest.fixture
def kernel_that_cannot_compile(monkeypatch):
    """Adam sees a usable kernel whose compilation fails (as without a C compiler)."""
    calls = []

    def fail(*args, **kwargs):
        calls.append(1)
        raise triton_adam.KernelUnavailable("CalledProcessError: no C compiler")

    monkeypatch.setattr(triton_adam, "_disabled", [])
    monkeypatch.setattr(
        triton_adam, "usable", lambda tensors: not triton_adam._disabled, raising=True
    )
    monkeypatch.setattr(triton_adam, "adam_step_", fail)
    return calls


def test_adam_falls_back_to_foreach_once_with_one_warning(kernel_that_cannot_compile):
    """A kernel that cannot be compiled: one warning naming why, then the path Adam takes
    without it; the steps equal a second optimizer's (which no longer tries the kernel) and
    count each step once."""
    start = _start()
    results = []
    for _ in range(2):
        params = [p.clone().requires_grad_() for p in start]
        opt = create_optimizer("adam", params, lr=0.01)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for step in range(3):
                for p, g in zip(params, _grads(step, None), strict=True):
                    p.grad = g
                opt.step()
        results.append((params, opt, caught))
    (got, opt, caught), (want, _, none) = results
    assert len(kernel_that_cannot_compile) == 1  # tried once, then off for the process
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "no C compiler" in messages[0], messages
    assert "fused: false" in messages[0]
    assert not none
    for g, w in zip(got, want, strict=True):
        assert torch.equal(g.detach(), w.detach())
    assert all(s["step"] == 3 for s in opt.state.values())
