"""Gradient clipping per model in a stacked population (Pascanu, Mikolov & Bengio 2013).

- :func:`clip_grad_norm_`: each model's gradients (all its parameters together) are rescaled so
  that their global norm is at most ``max_norm``:
  ``‖g_k‖ = (Σ_params ‖g_k,p‖ᵖ)^(1/p)``, ``g_k ← g_k · min(1, max_norm / (‖g_k‖ + 1e-6))`` —
  ``torch.nn.utils.clip_grad_norm_``'s formula, applied to each model separately.
- :func:`clip_grad_value_`: each gradient element is clamped to ``[−value, value]``.

Both run without a host sync; the returned ``clipped`` mask lets the trainer count the fraction
of clipped steps per model on the device.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

from ..errors import ConfigError
from .base import bcast

__all__ = ["clip_grad_norm_", "clip_grad_value_", "grad_norms"]


def _threshold(name: str, value: float | Tensor, k: int) -> float | Tensor:
    """A float checked > 0 on the host, or a ``(K,)`` tensor (shape checked; values are not
    read, so that clipping in the hot loop never syncs with the device)."""
    if isinstance(value, Tensor) and value.dim() > 0:
        if value.shape != (k,):
            raise ConfigError(
                f"{name} has shape {tuple(value.shape)}; give a number or a (K,)=({k},) tensor"
            )
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not v > 0:
        raise ConfigError(f"{name} must be > 0, got {v}; fix train.clip_norm / clip_value")
    return v


def _with_grads(params: Iterable[Tensor] | Tensor) -> list[Tensor]:
    if isinstance(params, Tensor):
        params = [params]
    return [p for p in params if p.grad is not None]


def grad_norms(params: Iterable[Tensor] | Tensor, *, k: int, norm_type: float = 2.0) -> Tensor:
    """Each model's global gradient norm over all of its parameters: ``(K,)``."""
    ps = _with_grads(params)
    if not ps:
        dev = next(iter(params)).device if not isinstance(params, Tensor) else params.device
        return torch.zeros(k, device=dev)
    for p in ps:
        if p.dim() == 0 or p.shape[0] != k:
            raise ConfigError(
                f"gradient of shape {tuple(p.shape)} is not stacked for K={k} models; "
                "pass the population's (K, ...) parameters"
            )
    per_param = [
        torch.linalg.vector_norm(p.grad.reshape(k, -1), norm_type, dim=1) for p in ps
    ]  # P × (K,)
    return torch.linalg.vector_norm(torch.stack(per_param), norm_type, dim=0)  # (K,)


def clip_grad_norm_(
    params: Iterable[Tensor] | Tensor,
    max_norm: float | Tensor,
    *,
    k: int,
    norm_type: float = 2.0,
) -> tuple[Tensor, Tensor]:
    """Clip each model's global gradient norm to ``max_norm`` (a number or a ``(K,)`` tensor).

    Returns ``(norms, clipped)``: the norms before clipping ``(K,)`` and a ``(K,)`` bool mask of
    the models whose gradients were scaled down. Matches ``torch.nn.utils.clip_grad_norm_``
    called on each model's parameters alone (``coef = max_norm / (norm + 1e-6)``, clamped to 1).
    A non-finite norm gives non-finite gradients, as in torch (the trainer stops such a model).
    """
    ps = _with_grads(params)
    norm_type = float(norm_type)
    if not (norm_type > 0):
        raise ConfigError(f"norm_type must be > 0 (2 for the Euclidean norm), got {norm_type}")
    dev = ps[0].device if ps else torch.device("cpu")
    mx = _threshold("max_norm", max_norm, k)
    norms = grad_norms(ps, k=k, norm_type=norm_type) if ps else torch.zeros(k, device=dev)
    if not ps:
        return norms, torch.zeros(k, dtype=torch.bool, device=dev)
    coef = mx / (norms + 1e-6)  # (K,)
    clipped = coef < 1.0
    coef = torch.clamp(coef, max=1.0)
    grads = [p.grad for p in ps]
    torch._foreach_mul_(grads, bcast(coef, ps))
    return norms, clipped


def clip_grad_value_(params: Iterable[Tensor] | Tensor, value: float | Tensor) -> None:
    """Clamp every gradient element to ``[−value, value]`` (``value`` a number or ``(K,)``)."""
    ps = _with_grads(params)
    if not ps:
        return
    k = ps[0].shape[0] if ps[0].dim() else 1
    v = _threshold("clip value", value, k)
    if isinstance(v, Tensor):
        for p, vv in zip(ps, bcast(v, ps), strict=True):
            torch.clamp_(p.grad, min=-vv, max=vv)
    else:
        if math.isinf(v):
            return
        grads = [p.grad for p in ps]
        torch._foreach_clamp_min_(grads, -v)
        torch._foreach_clamp_max_(grads, v)
