"""Adam(W)'s torch-fused accelerator path (``Adam._torch_fused_device``): on CUDA a step whose
values are all plain numbers and whose gradients need no mask calls torch's fused kernel with
its step counts in a device buffer. CPU machines run the same code by letting the path take the
CPU (``TORCH_FUSED_ON``); tests/test_triton_adam.py runs it on CUDA."""

from __future__ import annotations

import pytest
import torch

from trainlab.optim import Adam, AdamW, adam

K = 3
SHAPES = [(K, 4, 3), (K, 3)]


@pytest.fixture
def fused_on_cpu(monkeypatch):
    monkeypatch.setattr(adam, "TORCH_FUSED_ON", ("cpu",))


def _params(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(s, generator=g, dtype=torch.float64).requires_grad_() for s in SHAPES]


def _grad(step: int, i: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(1000 * step + i)
    return torch.randn(SHAPES[i], generator=g, dtype=torch.float64)


def _reference(cls, options: dict, steps: int, late: bool = False) -> list[torch.Tensor]:
    """K separate torch.optim runs; ``late``: the second parameter gets gradients from step 1."""
    out = [p.detach().clone() for p in _params()]
    for m in range(K):
        ps = [p.detach()[m].clone().requires_grad_() for p in _params()]
        opt = cls(ps, foreach=False, **options)
        for s in range(steps):
            for i, p in enumerate(ps):
                p.grad = None if (late and i == 1 and s == 0) else _grad(s, i)[m].clone()
            opt.step()
        for i, p in enumerate(ps):
            out[i][m] = p.detach()
    return out


def _ours(cls, options: dict, steps: int, late: bool = False, mask: bool = False):
    params = _params()
    opt = cls(params, **options)
    for s in range(steps):
        for i, p in enumerate(params):
            p.grad = None if (late and i == 1 and s == 0) else _grad(s, i)
        if mask:
            opt.grad_mask = torch.ones(K, dtype=torch.bool)
        opt.step()
    return [p.detach() for p in params], opt


CASES = {
    "adam": (Adam, torch.optim.Adam, {"lr": 0.01}),
    "l2, amsgrad, maximize": (
        Adam,
        torch.optim.Adam,
        {"lr": 0.02, "weight_decay": 0.1, "amsgrad": True, "maximize": True, "betas": (0.6, 0.7)},
    ),
    "adamw": (AdamW, torch.optim.AdamW, {"lr": 0.05, "weight_decay": 0.5, "eps": 1e-3}),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("late", [False, True], ids=["same-steps", "a-late-parameter"])
def test_the_torch_fused_path_steps_as_torch_optim(fused_on_cpu, case, late):
    """Five steps equal K separate torch.optim runs (float64), also when one parameter starts
    later (its own step count: the buffer is filled per parameter), and the path ran."""
    ours_cls, torch_cls, options = CASES[case]
    got, opt = _ours(ours_cls, options, 5, late=late)
    assert opt._steps_buf is not None  # the path ran
    assert opt._steps_buf.tolist() == ([5.0, 4.0] if late else [5.0, 5.0])
    assert [opt.state[p]["step"] for p in opt.param_groups[0]["params"]] == (
        [5, 4] if late else [5, 5]
    )
    for w, g in zip(_reference(torch_cls, options, 5, late=late), got, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=0)


@pytest.mark.parametrize(
    "why",
    ["mask", "per-model lr", "fused=False"],
)
def test_the_torch_fused_path_is_not_taken_when_it_cannot_serve(fused_on_cpu, why):
    """A gradient mask (the trainer's), a per-model value or fused=False take another path,
    which steps the same."""
    options: dict = {"lr": 0.01}
    if why == "per-model lr":
        options["lr"] = torch.tensor([0.01, 0.01, 0.01], dtype=torch.float64)
    if why == "fused=False":
        options["fused"] = False
    got, opt = _ours(Adam, options, 3, mask=why == "mask")
    assert opt._steps_buf is None
    for w, g in zip(_reference(torch.optim.Adam, {"lr": 0.01}, 3), got, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=0)


def test_the_path_takes_only_the_devices_it_names():
    """By default only CUDA takes it: a CPU step keeps the CPU's own fused paths."""
    assert adam.TORCH_FUSED_ON == ("cuda",)
    _, opt = _ours(Adam, {"lr": 0.01}, 2)
    assert opt._steps_buf is None
