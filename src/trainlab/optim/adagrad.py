"""AdaGrad (Duchi, Hazan & Singer 2011) with per-model hyperparameters.

The update is ``torch.optim.Adagrad``'s, step for step (t counts steps from 1)::

    g ← ∇L(θ) + λ θ                          (weight_decay λ: L2)
    η_t ← η / (1 + (t − 1) · lr_decay)
    G ← G + g²                               (G starts at initial_accumulator_value)
    θ ← θ − η_t · g / (√G + ε)

t is each parameter's own step count (as in torch), so a parameter that starts getting gradients
later starts its lr decay then. One difference with param groups: ``torch.optim.Adagrad`` starts
every group's G at the constructor's ``initial_accumulator_value`` (a group's own value is
ignored); here each group's own value is used (equal when the groups do not set one).

The notes (CS231n) write ``cache += dx**2; x += −lr·dx / (sqrt(cache) + eps)`` — the same rule
(torch adds the lr decay and the initial accumulator). Its weakness, which the notes point
out: G only grows, so the effective step shrinks to zero in long runs (RMSProp fixes that).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from .base import (
    OPTIMIZERS,
    Hyper,
    PopulationOptimizer,
    axpy,
    bcast,
    by_step,
    cdiv,
    is_zero,
    lr_scaled,
    split_runs,
    step_tensors,
)

__all__ = ["Adagrad"]


@OPTIMIZERS.register("adagrad", "AdaGrad: per-coordinate steps scaled by the summed squared grads")
class Adagrad(PopulationOptimizer):
    """Population AdaGrad; every hyperparameter a number or a ``(K,)`` tensor.

    Args:
        lr: learning rate η ≥ 0.
        lr_decay: ≥ 0; η_t = η / (1 + (t−1)·lr_decay).
        weight_decay: L2 penalty λ ≥ 0 added to the gradient.
        initial_accumulator_value: G₀ ≥ 0.
        eps: ε > 0 added to √G.
        maximize: ascend instead (shared).
        fused: None (default) takes torch's fused CPU kernel where it applies (CPU tensors; see
            :mod:`trainlab.optim.base`), False always takes the ``_foreach`` path.
    """

    masks_grads = True
    counts_steps = True  # (bias corrections / lr decay from t)

    _param_state = ("sum",)
    _hypers = {
        "lr": (0.0, None, False, False),
        "lr_decay": (0.0, None, False, False),
        "weight_decay": (0.0, None, False, False),
        "initial_accumulator_value": (0.0, None, False, False),
        "eps": (0.0, None, True, False),
    }

    def __init__(
        self,
        params: Iterable[Any],
        lr: Hyper = 1e-2,
        lr_decay: Hyper = 0.0,
        weight_decay: Hyper = 0.0,
        initial_accumulator_value: Hyper = 0.0,
        eps: Hyper = 1e-10,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
            fused=fused,
        )
        super().__init__(params, defaults)

    def _cpu_kernels(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("_fused_adagrad_",)

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """One AdaGrad step of every model; returns the closure's loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads = self._grads(group)
            if not params:
                continue
            sums = []
            steps: list[int] = []  # each parameter's own t (torch keeps one per parameter)
            for p in params:
                state = self.state[p]
                if len(state) == 0:
                    init = group["initial_accumulator_value"]
                    self._check_shapes({"initial_accumulator_value": init})
                    if isinstance(init, torch.Tensor):
                        view = bcast(init, [p])[0].to(p.dtype)
                        total = view.expand_as(p).clone(memory_format=torch.preserve_format)
                    else:
                        total = torch.full_like(p, init, memory_format=torch.preserve_format)
                    state["step"], state["sum"] = 0, total  # (both, or neither: no half state)
                steps.append(int(state["step"]) + 1)
                sums.append(state["sum"])
            hp = self._values(group)
            keys = ("lr", "lr_decay", "weight_decay", "eps")
            plan = self._fused_plan(
                group, params, grads, params + grads + sums, {key: hp[key] for key in keys}
            )
            for p, step in zip(params, steps, strict=True):  # counted once nothing refused it
                self.state[p]["step"] = step
            if plan is not None:
                runs, lr_k, grads, maximize = plan
                state_steps = step_tensors(steps)  # the kernel reads each parameter's own t
                with lr_scaled(params, lr_k) as stepped:  # η_t = η/(1 + (t − 1)·decay): scales
                    cuts = split_runs(runs, stepped, grads, sums)
                    for (_, _, run_hp), tensors in zip(runs, cuts, strict=True):
                        torch._fused_adagrad_(
                            *tensors,
                            state_steps,
                            lr=run_hp["lr"],
                            lr_decay=run_hp["lr_decay"],
                            weight_decay=run_hp["weight_decay"],
                            eps=run_hp["eps"],
                            maximize=maximize,
                        )
                continue
            if group["maximize"]:
                grads = torch._foreach_neg(grads)
            wd = hp["weight_decay"]
            if not is_zero(wd):
                grads = axpy(grads, params, bcast(wd, params))  # g + λθ
            lr, decay = hp["lr"], hp["lr_decay"]
            # −η_t for each parameter's t: float, list of floats, or (K,) views
            minus_clr = by_step(
                self._counts(steps), params, lambda t, lr=lr, d=decay: cdiv(-lr, 1.0 + (t - 1) * d)
            )
            torch._foreach_addcmul_(sums, grads, grads, 1.0)  # G ← G + g²
            std = torch._foreach_sqrt(sums)
            torch._foreach_add_(std, bcast(hp["eps"], params))  # √G + ε
            numer = torch._foreach_mul(grads, minus_clr)  # −η_t g
            torch._foreach_addcdiv_(params, numer, std)  # θ ← θ + (−η_t g)/(√G + ε)
        return loss
