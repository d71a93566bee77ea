"""Adam and AdamW (Kingma & Ba 2015; Loshchilov & Hutter 2019) with per-model hyperparameters.

The update is ``torch.optim.Adam`` / ``AdamW``'s, step for step (t counts steps from 1)::

    g ← ∇L(θ) + λ θ                       (Adam: L2 weight decay λ, enters the moments)
    θ ← θ (1 − η λ)                        (AdamW: decoupled decay, scaled by the lr η)
    m ← β₁ m + (1 − β₁) g                  (first moment)
    v ← β₂ v + (1 − β₂) g²                 (second moment; amsgrad: v̂max ← max(v̂max, v))
    θ ← θ − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

The notes (CS231n) write ``m̂ = m/(1−β₁ᵗ)``, ``v̂ = v/(1−β₂ᵗ)``, ``θ −= η m̂ / (√v̂ + ε)``: the
same update, since ``√v̂ + ε = √v/√(1−β₂ᵗ) + ε`` is what torch computes (ε added *after* the
bias correction of √v). Where ε sits differs only from the paper's "efficient version"
(Algorithm 1's last lines), which adds ε̂ to √v before the correction,
``η √(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε̂)``; that is torch's formula only with ε̂ = ε √(1−β₂ᵗ).
The difference matters only early, while √v is as small as ε.

A model with η = 0 does not move: its step and its decoupled decay are both multiplied by η.

t is each parameter's own step count (as in torch): a parameter that starts getting gradients
later than the others starts its bias correction at t = 1 then.

The pair is stored as ``group["betas"] = (β₁, β₂)``, each a number or a ``(K,)`` tensor, as torch
stores it, so ``torch.optim.lr_scheduler.OneCycleLR`` / ``CyclicLR`` can cycle β₁ (they write a
float β₁ for the whole group and keep β₂, per-model or not).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError
from . import triton_adam
from .base import (
    OPTIMIZERS,
    Hyper,
    PopulationOptimizer,
    axpy,
    bcast,
    by_step,
    cdiv,
    cpow,
    group_params,
    hyper,
    is_zero,
    lerp_,
    lr_scaled,
    population_size,
    split_runs,
    step_tensors,
)

__all__ = ["Adam", "AdamW"]

#: the device types on which a step whose values are all plain numbers takes torch's fused
#: kernel (:meth:`Adam._torch_fused_device`); the CPU has its own fused paths (base.py)
TORCH_FUSED_ON = ("cuda",)


def _betas(betas: Any) -> tuple[Any, Any]:
    """``(β₁, β₂)`` from a pair, a ``(2,)`` tensor or a ``(2, K)`` tensor."""
    if isinstance(betas, Tensor):
        if betas.dim() >= 1 and betas.shape[0] == 2:
            return betas[0], betas[1]
        raise ConfigError(f"betas must be a pair (beta1, beta2), got shape {tuple(betas.shape)}")
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise ConfigError(
            f"betas must be a pair (beta1, beta2), e.g. [0.9, 0.999]; got {betas!r}"
        ) from None
    return b1, b2


_FUSED_KEYS = ("lr", "beta1", "beta2", "eps", "weight_decay")
_BETA_RANGE = {"lo": 0.0, "hi": 1.0, "hi_open": True}  # each β in [0, 1)


@OPTIMIZERS.register("adam", "Adam with bias correction, L2 weight decay, amsgrad option")
class Adam(PopulationOptimizer):
    """Population Adam: every hyperparameter is a number or a ``(K,)`` tensor of per-model values.

    Args:
        lr: learning rate η ≥ 0 (units of θ per step, roughly: Adam's step is ≈ η per coordinate).
        betas: (β₁, β₂), each in [0, 1); each may be a ``(K,)`` tensor.
        eps: ε > 0, added to the bias-corrected √v.
        weight_decay: λ ≥ 0 (Adam: L2 added to the gradient; AdamW: decoupled, ``θ ← θ(1−ηλ)``).
        amsgrad: use the running maximum of v (Reddi et al. 2018); shared.
        maximize: ascend instead of descend; shared.
        fused: None (default) takes torch's fused CPU kernel where it applies (CPU tensors; see
            :mod:`trainlab.optim.base`); on CUDA, torch's fused kernel when every value is a
            plain number and no gradient is masked (one or two launches for all parameters:
            small models' steps are bound by launches), else trainlab's one-pass Triton kernel
            (:mod:`trainlab.optim.triton_adam`: float32 tensors, Triton installed); False
            always takes the ``_foreach`` path.
    """

    masks_grads = True
    counts_steps = True  # (bias corrections / lr decay from t)
    _steps_buf: Tensor | None = None  # the fused kernel's step counts (_device_steps)

    _param_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _hypers = {
        "lr": (0.0, None, False, False),
        "eps": (0.0, None, True, False),
        "weight_decay": (0.0, None, False, False),
    }  # and betas: validated in add_param_group

    def __init__(
        self,
        params: Iterable[Any],
        lr: Hyper = 1e-3,
        betas: Any = (0.9, 0.999),
        eps: Hyper = 1e-8,
        weight_decay: Hyper = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = dict(
            lr=lr,
            betas=_betas(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            fused=fused,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        group = dict(param_group)
        if "beta1" in group or "beta2" in group:  # the layout before betas was one pair
            b1, b2 = _betas(self.defaults["betas"])
            group["betas"] = (group.pop("beta1", b1), group.pop("beta2", b2))
        b1, b2 = _betas(group.get("betas", self.defaults["betas"]))
        given, params = group_params(group["params"])
        k, dev = population_size(params), params[0].device
        group["betas"] = (
            hyper("beta1", b1, k, device=dev, **_BETA_RANGE),
            hyper("beta2", b2, k, device=dev, **_BETA_RANGE),
        )
        group["params"] = given
        super().add_param_group(group)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state; a checkpoint that stored ``beta1``/``beta2`` gets ``betas``."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            if "beta1" in group or "beta2" in group:
                b1, b2 = _betas(group.get("betas", self.defaults["betas"]))
                group["betas"] = (group.pop("beta1", b1), group.pop("beta2", b2))

    def _group_values(self, group: dict[str, Any]) -> dict[str, Any]:
        values = super()._group_values(group)
        b1, b2 = _betas(group["betas"])  # (stored as the pair: each part may be a list)
        values["beta1"] = self._listed_as_tensor(b1, group)
        values["beta2"] = self._listed_as_tensor(b2, group)
        return values

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """One Adam(W) step of every model; returns the closure's loss if a closure is given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            params, grads = self._grads(group, masked=False)  # (_step_group masks them)
            if not params:
                continue
            self._step_group(group, params, grads)
        return loss

    def _cpu_kernels(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("_fused_adamw_",) if self._decoupled else ("_fused_adam_",)

    def _torch_fused_device(
        self, group: dict[str, Any], tensors: list[Tensor], values: dict[str, Hyper]
    ) -> bool:
        """Whether this step takes torch's fused kernel on an accelerator (``TORCH_FUSED_ON``):
        every value a plain number (shared by all models: the kernel takes scalars), no
        gradient mask (it would cost a pass of its own), no CUDA graph being captured (the
        step count is written into a device tensor), and contiguous tensors of one floating
        dtype on one device."""
        t0 = tensors[0]
        return (
            t0.device.type in TORCH_FUSED_ON
            and group.get("fused") is not False
            and self.grad_mask is None
            and self.graph_t is None
            and not any(isinstance(v, Tensor) for v in values.values())
            and t0.dtype in (torch.float64, torch.float32, torch.float16, torch.bfloat16)
            and all(t.device == t0.device and t.dtype == t0.dtype for t in tensors)
            and all(t.is_contiguous() for t in tensors)
            and not (t0.device.type == "cuda" and torch.cuda.is_current_stream_capturing())
        )

    def _device_steps(self, steps: list[int], dev: torch.device) -> list[Tensor]:
        """The fused kernel's ``state_steps`` on the parameters' device: 0-d float32 views of
        one buffer kept between steps, written by ``fill_`` (a launch, no host-to-device copy:
        the step stays free of host syncs); one fill when all parameters share their count."""
        buf = self._steps_buf
        if buf is None or buf.device != dev or buf.numel() != len(steps):
            buf = self._steps_buf = torch.empty(len(steps), dtype=torch.float32, device=dev)
        if len(set(steps)) == 1:
            buf.fill_(float(steps[0]))
        else:
            for i, t in enumerate(steps):
                buf[i].fill_(float(t))
        return list(buf.unbind())

    def _step_group(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        amsgrad = group["amsgrad"]
        exp_avgs, exp_avg_sqs, max_sqs = [], [], []
        steps: list[int] = []  # each parameter's own t (torch keeps one per parameter)
        for p in params:
            state = self.state[p]
            if len(state) == 0:
                state["step"] = 0
                state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if amsgrad:
                    state["max_exp_avg_sq"] = torch.zeros_like(p)
            steps.append(int(state["step"]) + 1)  # host counter: no device read
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            if amsgrad:
                max_sqs.append(state["max_exp_avg_sq"])

        hp = self._values(group)
        fused_hp = {key: hp[key] for key in _FUSED_KEYS}
        states = exp_avgs + exp_avg_sqs + max_sqs
        if self._torch_fused_device(group, params + grads + states, fused_hp):
            kernel = torch._fused_adamw_ if self._decoupled else torch._fused_adam_
            kernel(
                params, grads, exp_avgs, exp_avg_sqs, max_sqs,
                self._device_steps(steps, params[0].device),
                amsgrad=amsgrad, maximize=group["maximize"], **fused_hp,
            )  # fmt: skip
            for p, step in zip(params, steps, strict=True):
                self.state[p]["step"] = step
            return
        if group.get("fused") is not False and triton_adam.usable(params + grads + states):
            try:
                triton_adam.adam_step_(
                    params, grads, exp_avgs, exp_avg_sqs, max_sqs if amsgrad else None,
                    k=self.k or 1, t=self._counts(steps), decoupled=self._decoupled,
                    maximize=group["maximize"], grad_mask=self.grad_mask,
                    **fused_hp,
                )  # fmt: skip
            except triton_adam.KernelUnavailable as err:  # nothing written: the _foreach path
                triton_adam.disable(str(err))
            else:
                for p, step in zip(params, steps, strict=True):
                    self.state[p]["step"] = step
                return
        self._mask_grads(grads)
        plan = self._fused_plan(group, params, grads, params + grads + states, fused_hp)
        for p, step in zip(params, steps, strict=True):  # counted once nothing can refuse it
            self.state[p]["step"] = step
        if plan is not None:
            runs, lr_k, grads, maximize = plan
            kernel = torch._fused_adamw_ if self._decoupled else torch._fused_adam_
            state_steps = step_tensors(steps)  # the kernel reads each parameter's own t
            with lr_scaled(params, lr_k) as stepped:
                cuts = split_runs(runs, stepped, grads, exp_avgs, exp_avg_sqs, max_sqs)
                for (_, _, run_hp), tensors in zip(runs, cuts, strict=True):
                    kernel(
                        *tensors,
                        state_steps,
                        lr=run_hp["lr"],
                        beta1=run_hp["beta1"],
                        beta2=run_hp["beta2"],
                        weight_decay=run_hp["weight_decay"],
                        eps=run_hp["eps"],
                        amsgrad=amsgrad,
                        maximize=maximize,
                    )
            return

        lr, b1, b2 = hp["lr"], hp["beta1"], hp["beta2"]
        eps, wd = hp["eps"], hp["weight_decay"]
        if group["maximize"]:
            grads = torch._foreach_neg(grads)
        if not is_zero(wd):
            if self._decoupled:
                torch._foreach_mul_(params, bcast(1.0 - lr * wd, params))  # θ ← θ(1 − ηλ)
            else:
                grads = axpy(grads, params, bcast(wd, params))  # g + λθ

        # m ← β₁ m + (1 − β₁) g   (torch: lerp)
        lerp_(exp_avgs, grads, bcast(1.0 - b1, params))
        # v ← β₂ v + (1 − β₂) g²
        torch._foreach_mul_(exp_avg_sqs, bcast(b2, params))
        if isinstance(b2, Tensor):
            # torch: v + ((1 − β₂)·g)·g — the same rounding order
            scaled = torch._foreach_mul(grads, bcast(1.0 - b2, params))
            torch._foreach_addcmul_(exp_avg_sqs, scaled, grads)
        else:
            torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1.0 - b2)

        if amsgrad:
            torch._foreach_maximum_(max_sqs, exp_avg_sqs)
            denom = torch._foreach_sqrt(max_sqs)
        else:
            denom = torch._foreach_sqrt(exp_avg_sqs)
        # √(1 − β₂ᵗ) and −η/(1 − β₁ᵗ) for each parameter's t: floats, or (K,) for per-model values
        bc2_sqrt = by_step(self._counts(steps), params, lambda t: cpow(1.0 - cpow(b2, t), 0.5))
        torch._foreach_div_(denom, bc2_sqrt)  # √v / √(1 − β₂ᵗ)
        torch._foreach_add_(denom, bcast(eps, params))  # + ε
        neg_step = by_step(self._counts(steps), params, lambda t: -cdiv(lr, 1.0 - cpow(b1, t)))
        if isinstance(neg_step, list) and isinstance(neg_step[0], Tensor):
            # torch's addcdiv computes θ + (value·m)/denom: scale m first to round the same way
            scaled = torch._foreach_mul(exp_avgs, neg_step)
            torch._foreach_addcdiv_(params, scaled, denom)
        else:
            torch._foreach_addcdiv_(params, exp_avgs, denom, neg_step)


@OPTIMIZERS.register("adamw", "AdamW: Adam with decoupled weight decay θ ← θ(1 − ηλ)")
class AdamW(Adam):
    """Population AdamW (Loshchilov & Hutter 2019): like :class:`Adam` with decoupled decay.

    ``weight_decay`` defaults to 1e-2, as in ``torch.optim.AdamW``.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: Hyper = 1e-3,
        betas: Any = (0.9, 0.999),
        eps: Hyper = 1e-8,
        weight_decay: Hyper = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, fused=fused
        )
