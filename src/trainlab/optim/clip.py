"""Gradient clipping per model in a stacked population (Pascanu, Mikolov & Bengio 2013).

- :func:`clip_grad_norm_`: each model's gradients (all its parameters together) are rescaled so
  that their global norm is at most ``max_norm``:
  ``‖g_k‖ = (Σ_params ‖g_k,p‖ᵖ)^(1/p)``, ``g_k ← g_k · min(1, max_norm / (‖g_k‖ + 1e-6))`` —
  ``torch.nn.utils.clip_grad_norm_``'s formula, applied to each model separately.
- :func:`clip_grad_value_`: each gradient element is clamped to ``[−value, value]``.

Both run without a host sync; the returned ``clipped`` mask lets the trainer count the fraction
of clipped steps per model on the device. (A per-model ``max_norm`` or clip value tensor is
checked to be > 0 (``inf``: that model is not clipped) once, the first time that tensor is seen
and again after it changes in place; a change the version counter does not see, a write through
``.data`` or a shared numpy array, can still never flip a gradient's sign: the norm's scale is
clamped to [0, 1] and the value bounds are ``±|value|``.)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.weak import WeakIdKeyDictionary

from ..errors import ConfigError
from .base import bcast, compute_dtype

#: per-model clip values already checked: tensor → its ``_version`` when checked
_CHECKED: WeakIdKeyDictionary = WeakIdKeyDictionary()

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
        if isinstance(value, bool | str | bytes):  # (float() would take "1.0" and True)
            raise TypeError
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not v > 0:
        raise ConfigError(f"{name} must be > 0, got {v}")
    return v


def _check_positive_once(name: str, value: Tensor) -> None:
    """Per-model thresholds must be > 0 (``inf``: no clipping; a negative one would flip the
    gradients' sign, NaN would erase them). Checked with one host read the first time a tensor
    is seen, and again after an in-place change, so that a fixed tensor in the hot loop costs no
    sync after the first step. An inference tensor has no version counter: checked every call.
    A write through ``.data`` or ``.numpy()`` bumps no version (autograd does not see it either):
    change a threshold with an in-place op (``thr.fill_(...)``) or pass a new tensor."""
    inference = value.is_inference()
    if not inference and _CHECKED.get(value) == value._version:
        return
    v = value.detach().double().cpu()
    if not bool((v > 0).all()):  # NaN compares False
        bad = [x for x in v.tolist() if not x > 0]
        raise ConfigError(
            f"{name} must be > 0 for every model (inf: not clipped), got {bad[0]!r}; fix the "
            "per-model values"
        )
    if not inference:
        _CHECKED[value] = value._version


def _with_grads(params: Iterable[Tensor] | Tensor) -> list[Tensor]:
    if isinstance(params, Tensor):
        params = [params]
    return [p for p in params if p.grad is not None]


def _norm_type(norm_type: Any) -> float:
    """``norm_type`` as a float > 0: a real number (numpy's too) or ``inf`` (``"inf"`` as torch
    takes it); a bool, another string or a number <= 0 is a ConfigError."""
    if isinstance(norm_type, str) and norm_type.strip().lower() in ("inf", "+inf"):
        return math.inf
    real = isinstance(norm_type, numbers.Real) and not isinstance(norm_type, bool | np.bool_)
    if not real or not float(norm_type) > 0:
        raise ConfigError(f"norm_type must be a number > 0 or inf, got {norm_type!r}")
    return float(norm_type)


def grad_norms(params: Iterable[Tensor] | Tensor, *, k: int, norm_type: float = 2.0) -> Tensor:
    """Each model's global gradient norm over all of its parameters: ``(K,)``; in float32 for
    16-bit gradients (finite gradients may have a norm above float16's 65504).

    ``params`` may be any iterable (a generator is read once); with no gradients at all the
    norms are zeros (on the parameters' device, the CPU if there are no parameters), as
    ``torch.nn.utils.clip_grad_norm_`` returns 0.
    """
    norm_type = _norm_type(norm_type)
    params = [params] if isinstance(params, Tensor) else list(params)
    ps = _with_grads(params)
    if not ps:
        return torch.zeros(k, device=params[0].device if params else torch.device("cpu"))
    for p in ps:
        if p.dim() == 0 or p.shape[0] != k:
            raise ConfigError(
                f"gradient of shape {tuple(p.shape)} is not stacked for K={k} models; "
                "pass the population's (K, ...) parameters"
            )
    return _norms(ps, k, norm_type, wide=True)


def _norms(ps: list[Tensor], k: int, norm_type: float, *, wide: bool) -> Tensor:
    """The ``(K,)`` global norms of ``ps``' gradients: ``wide``, 16-bit ones in float32; else
    in their dtype, as torch computes them."""
    per_param = [
        torch.linalg.vector_norm(
            p.grad.reshape(k, -1),
            norm_type,
            dim=1,
            dtype=compute_dtype(p.grad.dtype) if wide else None,
        )
        for p in ps
    ]  # P × (K,)
    return torch.linalg.vector_norm(torch.stack(per_param), norm_type, dim=0)  # (K,)


def _coefficient(norms: Tensor, mx: float | Tensor) -> Tensor:
    """max_norm / (norm + 1e-6) as torch computes it for a number: reciprocal, then times it
    (Tensor.__rtruediv__) in the norms' compute precision (float32 for 16-bit norms), then
    rounded to their dtype, so that a (K,) max_norm rounds as the number itself would."""
    coef = (norms + 1e-6).reciprocal()  # (K,)
    if isinstance(mx, Tensor):
        return (coef * mx.to(compute_dtype(norms.dtype))).to(norms.dtype)
    return coef * mx


def clip_grad_norm_(
    params: Iterable[Tensor] | Tensor,
    max_norm: float | Tensor,
    *,
    k: int,
    norm_type: float = 2.0,
) -> tuple[Tensor, Tensor]:
    """Clip each model's global gradient norm to ``max_norm`` (a number or a ``(K,)`` tensor).

    Returns ``(norms, clipped)``: the norms before clipping ``(K,)`` (float32 for 16-bit
    gradients) and a ``(K,)`` bool mask of the models whose gradients were scaled down. Matches
    ``torch.nn.utils.clip_grad_norm_`` called on each model's parameters alone (``coef =
    max_norm / (norm + 1e-6)``, clamped to 1), but for 16-bit gradients whose norm passes their
    dtype's range: torch's inf norm zeroes them, here they are clipped by their float32 norm.
    A non-finite norm gives non-finite gradients, as in torch (the trainer stops such a model).
    """
    norm_type = _norm_type(norm_type)
    ps = _with_grads(params)
    dev = ps[0].device if ps else torch.device("cpu")
    mx = _threshold("max_norm", max_norm, k)
    if isinstance(mx, Tensor):
        _check_positive_once("max_norm", mx)  # a negative one would flip the gradients
        # a (K,) max_norm on another device than the gradients (a CPU tensor for a CUDA model):
        # copied over here (keep it on the parameters' device to avoid that copy per call)
        mx = mx.to(dev)
    norms = grad_norms(ps, k=k, norm_type=norm_type) if ps else torch.zeros(k, device=dev)
    if not ps:
        return norms, torch.zeros(k, dtype=torch.bool, device=dev)
    coef = _coefficient(norms, mx)
    # any 16-bit gradient (alone or beside float32 ones): torch's own norms, each in its dtype
    if any(compute_dtype(d) != d for d in {p.grad.dtype for p in ps}):
        ours = _norms(ps, k, norm_type, wide=False)  # (rounded as torch rounds them) where
        fits = torch.isfinite(ours)  # they fit the dtype; the float32 ones past its range
        # (float32 coefficients: torch's, exactly, where its norm fits; past it the float32
        # one, which float16 would round to a subnormal or 0; the product rounds once)
        wide = torch.promote_types(torch.float32, ours.dtype)  # (float64 beside 16-bit: kept)
        coef = torch.where(fits, _coefficient(ours, mx).to(wide), coef.to(wide))
    clipped = coef < 1.0
    coef = torch.clamp(coef, 0.0, 1.0)  # 0: never a sign flip (see the module doc)
    grads = [p.grad for p in ps]
    torch._foreach_mul_(grads, bcast(coef, ps))
    return norms, clipped


def clip_grad_value_(params: Iterable[Tensor] | Tensor, value: float | Tensor) -> Tensor | None:
    """Clamp every gradient element to ``[−value, value]`` (``value`` a number or ``(K,)``,
    each > 0). Returns ``(K,)`` bool: the models that had an element beyond ``value`` (for
    parameters that are not all ``(K, ...)``, one flag for all of them); None without
    gradients."""
    ps = _with_grads(params)
    if not ps:
        return None
    k = ps[0].shape[0] if ps[0].dim() else 1
    v = _threshold("clip value", value, k)
    # max |g| (a NaN counts as 0: the elements beside it are still clamped, and said so)
    if all(p.dim() and p.shape[0] == k for p in ps):  # per model: max |g| over its parameters
        peak = torch.stack(
            [p.grad.reshape(k, -1).abs().nan_to_num_(nan=0.0).amax(1) for p in ps]
        ).amax(0)
    else:
        peak = torch.stack([p.grad.abs().nan_to_num_(nan=0.0).max() for p in ps]).max().reshape(1)
    if isinstance(v, Tensor):
        _check_positive_once("clip value", v)
        v = v.abs()  # never a sign flip (see the module doc)
    clipped = peak > (v.to(peak.device) if isinstance(v, Tensor) else v)
    if isinstance(v, Tensor):
        for p, vv in zip(ps, bcast(v, ps), strict=True):
            torch.clamp_(p.grad, min=-vv, max=vv)
    elif not math.isinf(v):
        grads = [p.grad for p in ps]
        torch._foreach_clamp_min_(grads, -v)
        torch._foreach_clamp_max_(grads, v)
    return clipped
