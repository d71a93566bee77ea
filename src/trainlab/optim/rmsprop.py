"""RMSProp (Tieleman & Hinton 2012, lecture 6.5) with momentum and the centered variant.

The update is ``torch.optim.RMSprop``'s, step for step::

    g ← ∇L(θ) + λ θ                                  (weight_decay λ: L2)
    s ← α s + (1 − α) g²                             (squared-gradient average; decay rate α)
    c ← α c + (1 − α) g ;  a ← √(s − c²) + ε         (centered: Graves 2013)   else a ← √s + ε
    b ← μ b + g / a ;  θ ← θ − η b                   (momentum μ; μ = 0: θ ← θ − η g / a)

The notes (CS231n) write ``cache = decay·cache + (1 − decay)·dx²; x += −lr·dx/(√cache + eps)``:
the same rule with α = decay (torch's default α = 0.99; the notes suggest 0.9, 0.99 or 0.999).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from .base import (
    OPTIMIZERS,
    Hyper,
    PopulationOptimizer,
    axpy,
    bcast,
    is_zero,
    lerp_,
    may_be_zero,
)

__all__ = ["RMSprop"]


@OPTIMIZERS.register("rmsprop", "RMSProp: steps scaled by a running RMS of the gradient")
class RMSprop(PopulationOptimizer):
    """Population RMSProp; every hyperparameter a number or a ``(K,)`` tensor.

    Args:
        lr: learning rate η ≥ 0.
        alpha: decay rate α ∈ [0, 1] of the squared-gradient average.
        eps: ε > 0 added to the RMS.
        weight_decay: L2 penalty λ ≥ 0 added to the gradient.
        momentum: μ ∈ [0, 1]; per-model 0 equals torch without momentum.
        centered: subtract the squared mean gradient (shared).
        maximize: ascend instead (shared).
    """

    masks_grads = True

    _param_state = ("square_avg", "momentum_buffer", "grad_avg")
    _hypers = {
        "lr": (0.0, None, False, False),
        "alpha": (0.0, 1.0, False, False),
        "eps": (0.0, None, True, False),
        "weight_decay": (0.0, None, False, False),
        "momentum": (0.0, 1.0, False, False),
    }

    def __init__(
        self,
        params: Iterable[Any],
        lr: Hyper = 1e-2,
        alpha: Hyper = 0.99,
        eps: Hyper = 1e-8,
        weight_decay: Hyper = 0.0,
        momentum: Hyper = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """One RMSProp step of every model; returns the closure's loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads = self._grads(group)
            if not params:
                continue
            hp = self._values(group)
            mom = hp["momentum"]
            use_mom = not is_zero(mom)
            sq, gavg, bufs = [], [], []
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["square_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if use_mom:
                        state["momentum_buffer"] = torch.zeros_like(p)
                    if group["centered"]:
                        state["grad_avg"] = torch.zeros_like(p)
                state["step"] = int(state["step"]) + 1
                sq.append(state["square_avg"])
                if use_mom:
                    bufs.append(state["momentum_buffer"])
                if group["centered"]:
                    gavg.append(state["grad_avg"])
            if group["maximize"]:
                grads = torch._foreach_neg(grads)
            wd = hp["weight_decay"]
            if not is_zero(wd):
                grads = axpy(grads, params, bcast(wd, params))  # g + λθ
            alpha = hp["alpha"]
            torch._foreach_mul_(sq, bcast(alpha, params))  # s ← α s
            if isinstance(alpha, Tensor):
                scaled = torch._foreach_mul(grads, bcast(1.0 - alpha, params))
                torch._foreach_addcmul_(sq, scaled, grads)  # + ((1 − α) g) g, torch's order
            else:
                torch._foreach_addcmul_(sq, grads, grads, 1.0 - alpha)
            if group["centered"]:
                lerp_(gavg, grads, bcast(1.0 - alpha, params))  # c ← α c + (1 − α) g
                avg = torch._foreach_addcmul(sq, gavg, gavg, -1.0)  # s − c²
                torch._foreach_sqrt_(avg)
            else:
                avg = torch._foreach_sqrt(sq)
            torch._foreach_add_(avg, bcast(hp["eps"], params))
            lr = hp["lr"]
            if use_mom:
                # a per-model μ of 0 steps as torch without momentum does (which rounds
                # (η g)/a, not η (g/a)): that step is taken on copies and selected per model,
                # where some μ is 0 (read on the CPU; elsewhere assumed: reading would sync)
                plain = None
                if isinstance(mom, Tensor) and may_be_zero(mom):
                    plain = [p.detach().clone() for p in params]
                    _plain_step(plain, grads, avg, lr, params)
                torch._foreach_mul_(bufs, bcast(mom, params))  # b ← μ b
                torch._foreach_addcdiv_(bufs, grads, avg)  # + g / a
                if isinstance(lr, Tensor):
                    torch._foreach_addcmul_(params, bufs, bcast(-lr, params))  # θ − η b
                else:
                    torch._foreach_add_(params, bufs, alpha=-lr)
                if plain is not None:
                    zero = mom == 0  # (K,)
                    for p, q in zip(params, plain, strict=True):
                        z = zero.to(p.device).view(-1, *([1] * (p.dim() - 1)))
                        p.copy_(torch.where(z, q, p))
            else:
                _plain_step(params, grads, avg, lr, params)
        return loss


def _plain_step(
    out: list[Tensor], grads: list[Tensor], avg: list[Tensor], lr: Any, like: list[Tensor]
) -> None:
    """RMSprop's step without momentum, in torch's rounding: ``θ ← θ − η g / a`` in place on
    ``out`` (the parameters, or copies of them shaped ``like``)."""
    if isinstance(lr, Tensor):
        numer = torch._foreach_mul(grads, bcast(-lr, like))  # torch: θ + (−η g)/a
        torch._foreach_addcdiv_(out, numer, avg)
    else:
        torch._foreach_addcdiv_(out, grads, avg, -lr)
