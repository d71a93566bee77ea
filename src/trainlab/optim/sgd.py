"""Stochastic gradient descent with momentum and Nesterov momentum, per-model hyperparameters.

The update is ``torch.optim.SGD``'s, step for step (Sutskever et al. 2013 for momentum as
written here)::

    g ← ∇L(θ) + λ θ                               (weight_decay λ: L2, multiplied by lr below)
    b ← g                                          (first step)
    b ← μ b + (1 − τ) g                            (later steps; momentum μ, dampening τ)
    d ← g + μ b   (nesterov)    or    d ← b   (classical momentum)
    θ ← θ − η d                                   (lr η)

Where the notes (CS231n) differ: they write momentum as ``v = μ v − η g; θ += v`` — the lr inside
the velocity. With a constant lr that is the same trajectory (substitute ``v = −η b``); when the
lr changes (a schedule) the two differ: torch (and trainlab) scale the whole accumulated step by
the *current* lr. The notes' Nesterov is ``v_prev = v; v = μ v − η g; θ += −μ v_prev + (1 + μ) v``,
with g evaluated at the stored θ (the "look-ahead" point of Sutskever et al. 2013, rewritten by
Bengio et al. 2012). Substituting ``v = −η b`` gives ``θ −= η (g + μ b)`` with ``b = μ b + g``:
torch's form, again identical for a constant lr.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError
from .base import (
    OPTIMIZERS,
    Hyper,
    PopulationOptimizer,
    _show,
    axpy,
    axpy_,
    bcast,
    has_cpu_kernel,
    is_zero,
    lr_scaled,
    split_runs,
)

__all__ = ["SGD"]

_16BIT = (torch.float16, torch.bfloat16)


@functools.cache
def fused_sgd_handles_16bit() -> bool:
    """Whether torch's CPU ``_fused_sgd_`` updates float16/bfloat16 tensors correctly.

    In torch 2.12-2.13 it does not (pytorch/pytorch#191763): every full SIMD block of a 16-bit
    parameter is left as it was (a tensor of 16, 32, 64, ... elements never moves) and momentum
    buffers are written wrong. Probed once per process on a small tensor (two momentum steps,
    bfloat16 and float16, checked against the update torch.optim's other paths make).
    """
    if not has_cpu_kernel("_fused_sgd_"):  # (torch 2.3: CUDA-only; no fused step is taken)
        return False
    for dtype in _16BIT:
        p = torch.zeros(67, dtype=dtype)  # several SIMD blocks and a remainder
        g, buf = torch.ones_like(p), torch.zeros_like(p)
        for first in (True, False):
            torch._fused_sgd_(
                [p], [g], [buf], weight_decay=0.0, momentum=0.9, lr=0.5, dampening=0.0,
                nesterov=False, maximize=False, is_first_step=first,
            )  # fmt: skip
        # b = 1, then 0.9 + 1 = 1.9; θ = −0.5·1 − 0.5·1.9 = −1.45 (to 16-bit rounding)
        if not (
            bool(((p.float() + 1.45).abs() < 0.02).all())
            and bool(((buf.float() - 1.9).abs() < 0.02).all())
        ):
            return False
    return True


@OPTIMIZERS.register("sgd", "SGD with momentum, dampening, Nesterov and L2 weight decay")
class SGD(PopulationOptimizer):
    """Population SGD: every hyperparameter is a number or a ``(K,)`` tensor of per-model values.

    Args:
        lr: learning rate η (units of θ per unit gradient), ≥ 0; 0 freezes a model.
        momentum: μ ∈ [0, 1]; 0 disables momentum (as in torch).
        dampening: τ ∈ [0, 1]; scales the new gradient in the momentum buffer by ``1 − τ``.
        weight_decay: λ ≥ 0, L2 penalty added to the gradient (so it is multiplied by lr).
        nesterov: Nesterov momentum (shared); needs μ > 0 and τ = 0 for every model.
        maximize: ascend instead of descend (shared).
        fused: None (default) takes torch's fused CPU kernel where it applies (CPU tensors; see
            :mod:`trainlab.optim.base`; not float16/bfloat16 ones where torch's kernel skips
            their updates, :func:`fused_sgd_handles_16bit`), False always takes the
            ``_foreach`` path.

    **Known difference from torch:** a model whose per-model μ is 0 and is later raised
    (``param_groups[0]["momentum"] = new_tensor``, a momentum warm-up from 0) continues the
    buffer it kept while μ was 0 (its last gradient, or zeros on the fused path), where torch,
    which keeps no buffer while μ = 0, restarts it at ``b = g``; its next steps differ. A warm-up
    from a small positive μ, or a shared μ that starts at 0, matches torch.
    """

    masks_grads = True

    _param_state = ("momentum_buffer",)
    _hypers = {
        "lr": (0.0, None, False, False),
        "momentum": (0.0, 1.0, False, False),
        "dampening": (0.0, 1.0, False, False),
        "weight_decay": (0.0, None, False, False),
    }

    def __init__(
        self,
        params: Iterable[Any],
        lr: Hyper = 1e-3,
        momentum: Hyper = 0.0,
        dampening: Hyper = 0.0,
        weight_decay: Hyper = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        if group["nesterov"]:
            mom, damp = group["momentum"], group["dampening"]
            no_mom = bool((torch.as_tensor(mom) <= 0).any())
            damped = bool((torch.as_tensor(damp) != 0).any())
            if no_mom:
                raise ConfigError(
                    f"nesterov needs momentum > 0 for every model, got momentum={_show(mom)}; "
                    "set optim.momentum (e.g. 0.9) or nesterov: false"
                )
            if damped:
                raise ConfigError(
                    f"nesterov needs dampening = 0 for every model, got dampening={_show(damp)}; "
                    "set optim.dampening: 0 or nesterov: false"
                )

    def _cpu_kernels(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("_fused_sgd_",)

    def _fused_16bit_broken(self, group: dict[str, Any], params: list[Tensor]) -> bool:
        """Whether this torch's fused CPU kernel would get the group's 16-bit parameters wrong
        (then the step takes the foreach path); with ``fused=True`` that is a ConfigError."""
        if not (
            params
            and params[0].device.type == "cpu"
            and any(p.dtype in _16BIT for p in params)
            and group.get("fused") is not False
            and has_cpu_kernel("_fused_sgd_")  # (none at all: the general check speaks)
            and not fused_sgd_handles_16bit()
        ):
            return False
        if group.get("fused"):
            raise ConfigError(
                f"fused=True: this torch's ({torch.__version__}) fused CPU SGD kernel leaves "
                "most float16/bfloat16 weights unchanged (pytorch/pytorch#191763); leave "
                "fused unset (auto) to take the _foreach path for 16-bit parameters"
            )
        return True

    def _refuse_at_step(self, group: dict[str, Any]) -> None:
        super()._refuse_at_step(group)
        self._fused_16bit_broken(group, [p for p in group["params"] if p.grad is not None])

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """One SGD step of every model; returns the closure's loss if a closure is given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads = self._grads(group)
            if not params:
                continue
            hp = self._values(group)
            if self._fused_step(group, hp, params, grads):
                continue
            if group["maximize"]:
                grads = torch._foreach_neg(grads)
            wd = hp["weight_decay"]
            if not is_zero(wd):
                grads = axpy(grads, params, bcast(wd, params))  # g + λθ (new tensors)
            mom = hp["momentum"]
            if not is_zero(mom):
                grads = self._momentum(group, hp, params, grads)
            lr = hp["lr"]
            axpy_(params, grads, bcast(-lr, params))  # θ ← θ − η d
        return loss

    def _fused_step(
        self,
        group: dict[str, Any],
        hp: dict[str, Hyper],
        params: list[Tensor],
        grads: list[Tensor],
    ) -> bool:
        """``torch._fused_sgd_`` per run of equal values (CPU); False if this step cannot fuse.

        Parameters without a momentum buffer yet (first step, or first gradient after some steps
        without one) take the kernel's first step (``b ← g``); the others continue their buffers.
        In the common case all parameters are in one of the two sets: one call per run.
        16-bit parameters never fuse where torch's kernel gets them wrong
        (:func:`fused_sgd_handles_16bit`).
        """
        if self._fused_16bit_broken(group, params):
            return False
        bufs = [self.state[p].get("momentum_buffer") for p in params]
        have = [b for b in bufs if b is not None]
        plan = self._fused_plan(group, params, grads, params + grads + have, hp)
        if plan is None:
            return False
        runs, lr_k, grads, maximize = plan
        fresh: list[int] = []
        if not is_zero(hp["momentum"]):
            fresh = [i for i, b in enumerate(bufs) if b is None]
            for i in fresh:  # zeros, not empty: a μ = 0 model's buffer is later read as 0·b
                bufs[i] = self.state[params[i]]["momentum_buffer"] = torch.zeros_like(params[i])
        with lr_scaled(params, lr_k) as stepped:
            # (indices, first step?): one part, or the fresh and the continuing buffers apart
            parts = [(range(len(params)), bool(fresh))]
            if 0 < len(fresh) < len(params):
                old = sorted(set(range(len(params))) - set(fresh))
                parts = [(fresh, True), (old, False)]
            for ix, first in parts:
                ps, gs = [stepped[i] for i in ix], [grads[i] for i in ix]
                bs = [bufs[i] for i in ix] if not is_zero(hp["momentum"]) else []
                for (_, _, run_hp), (rp, rg, rb) in zip(
                    runs, split_runs(runs, ps, gs, bs), strict=True
                ):
                    torch._fused_sgd_(
                        rp,
                        rg,
                        rb if run_hp["momentum"] != 0.0 else [],
                        weight_decay=run_hp["weight_decay"],
                        momentum=run_hp["momentum"],
                        lr=run_hp["lr"],
                        dampening=run_hp["dampening"],
                        nesterov=group["nesterov"],
                        maximize=maximize,
                        is_first_step=first,
                    )
        return True

    def _momentum(
        self, group: dict[str, Any], hp: dict[str, Hyper], params: list[Tensor], grads: list[Tensor]
    ) -> list[Tensor]:
        mom, damp = hp["momentum"], hp["dampening"]
        one_minus_damp: Hyper
        if is_zero(damp):
            one_minus_damp = 1.0
        elif isinstance(mom, Tensor):
            # a model with μ = 0 keeps no buffer in torch: its step is the plain gradient, so its
            # "1 − τ" must be 1 (b = 0·b + 1·g = g). In μ's dtype (float64: rounded once, in
            # bcast; two Python scalars in where() would make it float32), no host copy.
            one_minus_damp = torch.where(mom == 0, torch.ones_like(mom), 1.0 - damp)
        else:
            one_minus_damp = 1.0 - damp
        fresh_p, fresh_g, bufs, old_g = [], [], [], []
        for p, g in zip(params, grads, strict=True):
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:
                state["momentum_buffer"] = g.detach().clone()  # b ← g on the first step
                fresh_p.append(p)
                fresh_g.append(g)
            else:
                bufs.append(buf)
                old_g.append(g)
        if bufs:
            torch._foreach_mul_(bufs, bcast(mom, bufs))  # b ← μ b
            axpy_(bufs, old_g, bcast(one_minus_damp, bufs))  # b ← b + (1 − τ) g
        all_bufs = [self.state[p]["momentum_buffer"] for p in params]
        if group["nesterov"]:
            return axpy(grads, all_bufs, bcast(mom, params))  # d ← g + μ b
        return all_bufs
