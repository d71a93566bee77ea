"""Adam(W) for CUDA populations in one pass over memory: a Triton kernel with per-model values.

:class:`trainlab.optim.Adam` on CUDA takes this path when Triton is installed (it comes with
torch's CUDA wheels) and the parameters, gradients and states are contiguous float32 CUDA
tensors; ``fused=False`` keeps the ``_foreach`` path. The update is the ``_foreach`` path's
(:mod:`trainlab.optim.adam`), element by element, with each model's values read from a small
``(7, K)`` table computed on the device each step (float64, rounded once to float32, as
:func:`trainlab.optim.base.bcast` rounds them)::

    g ← ±g (+ λθ for Adam's L2)          θ ← θ (1 − ηλ)  (AdamW)
    m ← lerp(m, g, 1 − β₁)                v ← β₂ v + ((1 − β₂) g) g   (amsgrad: v̂ ← max(v̂, v))
    θ ← θ + (−η/(1 − β₁ᵗ) · m) / (√v / √(1 − β₂ᵗ) + ε)

with IEEE square roots and divisions (``sqrt_rn``, ``div_rn``), so a step agrees with the
``_foreach`` path to float rounding (the compilers may contract ``a + b·c`` differently).

Why: the ``_foreach`` path makes about ten passes over every parameter-sized tensor (the
moments, the denominator, the per-model scalings), where Adam needs one: read θ, g, m, v and
write θ, m, v. For a population of 1000 MLPs of 784-256-256-10 that is ~1 GB per tensor: the
``_foreach`` step took ~6.1 ms of an 11.9 ms training step on an H200, the kernel 1.78 ms.

One launch per parameter, of K × (blocks per model) programs: a program reads its model's
seven values once. No host sync; the launches can be captured into a CUDA graph (the first call
compiles the kernel, so a trainer's eager step before the capture does that). Each variant is
compiled before any launch of a step: where it cannot be (no C compiler for Triton's launcher, a
GPU Triton does not support), :class:`KernelUnavailable` is raised with every tensor untouched,
and :class:`~trainlab.optim.Adam` warns once and takes the ``_foreach`` path from then on.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.autograd.graph import increment_version

from .base import cdiv, cpow

__all__ = ["available", "usable", "adam_step_", "disable", "KernelUnavailable"]

#: elements per program (a power of two; smaller parameters get the next power of two ≥ 128)
BLOCK = 1024
ROWS = 7  # decay, 1 − β₁, β₂, 1 − β₂, √(1 − β₂ᵗ), ε, −η/(1 − β₁ᵗ); (8: the grad mask, 1/0)


class KernelUnavailable(RuntimeError):
    """The kernel cannot be compiled here; raised before a step writes any tensor."""


_disabled: list[str] = []  # why the kernel is off in this process (see disable), if it is
_compiled: set[tuple[Any, ...]] = set()  # the variants compiled so far: (device, constants)


def disable(reason: str) -> None:
    """Turn the kernel off for this process (:func:`usable` is False from now on), warning once
    with ``reason``."""
    if not _disabled:
        _disabled.append(reason)
        warnings.warn(
            f"trainlab: Adam's Triton kernel cannot run here ({reason}); Adam steps take the "
            "_foreach path (training steps up to ~1.7x slower on large populations; set optim "
            "fused: false to choose it and silence this)",
            stacklevel=3,
        )


@functools.cache
def available() -> bool:
    """Whether Triton can be imported (it is not a trainlab dependency)."""
    try:
        import triton  # noqa: F401
        import triton.language  # noqa: F401
    except Exception:  # ImportError, or a broken install: the _foreach path then
        return False
    return True


def usable(tensors: Sequence[Tensor]) -> bool:
    """Whether a step over ``tensors`` can take the kernel: contiguous float32 tensors on one
    CUDA device, non-empty, and Triton installed. Metadata only: no device read."""
    t0 = tensors[0]
    if t0.device.type != "cuda" or t0.dim() == 0:
        return False
    ok = all(
        t.device == t0.device and t.dtype == torch.float32 and t.is_contiguous() and t.numel()
        for t in tensors
    )
    return ok and not _disabled and available()


@functools.cache
def _kernels() -> tuple[Any, Any]:
    """The kernel, compiled for CUDA (``triton.jit``) and for Triton's CPU interpreter (what
    the tests run where there is no GPU), built on first use."""
    import triton
    import triton.language as tl

    def adam_kernel(
        p_ptr, g_ptr, m_ptr, v_ptr, vmax_ptr, coef_ptr, n, k, blocks,
        BLOCK: tl.constexpr, DECOUPLED: tl.constexpr, L2: tl.constexpr,
        MAXIMIZE: tl.constexpr, AMSGRAD: tl.constexpr, MASKED: tl.constexpr,
    ):  # fmt: skip
        pid = tl.program_id(0)  # (a 1-D grid: a second axis would cap K at 65,535)
        model = pid // blocks
        offs = (pid % blocks) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        at = model.to(tl.int64) * n + offs
        decay = tl.load(coef_ptr + model)  # AdamW: 1 − ηλ; Adam: λ
        w1 = tl.load(coef_ptr + k + model)
        b2 = tl.load(coef_ptr + 2 * k + model)
        w2 = tl.load(coef_ptr + 3 * k + model)
        bc2 = tl.load(coef_ptr + 4 * k + model)
        eps = tl.load(coef_ptr + 5 * k + model)
        neg_step = tl.load(coef_ptr + 6 * k + model)
        p = tl.load(p_ptr + at, mask=mask)
        g = tl.load(g_ptr + at, mask=mask)
        m = tl.load(m_ptr + at, mask=mask)
        v = tl.load(v_ptr + at, mask=mask)
        if MASKED:  # a stopped model's gradient counts as zero (its NaNs too)
            g = tl.where(tl.load(coef_ptr + 7 * k + model) != 0.0, g, 0.0)
        if MAXIMIZE:
            g = -g
        if L2:
            g = g + decay * p
        if DECOUPLED:
            p = p * decay
        d = g - m  # torch's lerp: m + w (g − m) for |w| < 0.5, else g − (g − m)(1 − w)
        m = tl.where(tl.abs(w1) < 0.5, m + w1 * d, g - d * (1.0 - w1))
        v = v * b2
        v = v + (w2 * g) * g
        tl.store(m_ptr + at, m, mask=mask)
        tl.store(v_ptr + at, v, mask=mask)
        if AMSGRAD:
            vmax = tl.load(vmax_ptr + at, mask=mask)
            vmax = tl.maximum(vmax, v, propagate_nan=tl.PropagateNan.ALL)
            tl.store(vmax_ptr + at, vmax, mask=mask)
            v = vmax
        denom = tl.div_rn(tl.sqrt_rn(v), bc2) + eps
        p = p + tl.div_rn(m * neg_step, denom)
        tl.store(p_ptr + at, p, mask=mask)

    from triton.runtime.interpreter import InterpretedFunction

    return triton.jit(adam_kernel), InterpretedFunction(adam_kernel)


def _table(rows: list[Any], k: int, device: torch.device) -> Tensor:
    """The ``(ROWS, K)`` float32 table of per-model values: a number fills its row, a 0-d or
    ``(K,)`` tensor is rounded into it (kernels on the device; nothing read back)."""
    table = torch.empty((len(rows), k), dtype=torch.float32, device=device)
    for row, value in zip(table, rows, strict=True):
        if isinstance(value, Tensor):
            row.copy_(value.expand(k) if value.dim() == 0 else value)
        else:
            row.fill_(float(value))
    return table


def adam_step_(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor] | None,
    *,
    k: int,
    t: list[int] | Tensor,
    lr: Any,
    beta1: Any,
    beta2: Any,
    eps: Any,
    weight_decay: Any,
    decoupled: bool,
    maximize: bool,
    grad_mask: Tensor | None = None,
) -> None:
    """One Adam(W) step of K stacked models, in place (see the module docstring).

    The hyperparameters are numbers or ``(K,)`` (or 0-d) tensors; ``t``: each parameter's step
    count, or one 0-d device tensor (a CUDA-graphed step's count, shared by all parameters).
    ``grad_mask``: a ``(K,)`` bool tensor, False for the models whose gradients count as zero
    (:attr:`trainlab.optim.base.PopulationOptimizer.grad_mask`); ``.grad`` is not written.
    """
    states = [*params, *grads, *exp_avgs, *exp_avg_sqs, *(max_exp_avg_sqs or [])]
    if not all(x.is_contiguous() for x in states):  # (usable() says so before Adam calls it)
        raise ValueError(
            "adam_step_ takes contiguous tensors: the kernel writes through raw pointers "
            "(pass .contiguous() ones, or step with trainlab.optim.Adam, which checks this)"
        )
    device = params[0].device
    jit, interpreted = _kernels()
    kernel = interpreted if device.type == "cpu" else jit
    amsgrad = max_exp_avg_sqs is not None
    l2 = not decoupled and not (not isinstance(weight_decay, Tensor) and weight_decay == 0.0)
    decay = 1.0 - lr * weight_decay if decoupled else weight_decay
    counts = [t] * len(params) if isinstance(t, Tensor) else list(t)
    tables: dict[Any, Tensor] = {}
    launches = []
    for i, p in enumerate(params):
        ti = counts[i]
        key = id(ti) if isinstance(ti, Tensor) else ti
        table = tables.get(key)
        if table is None:
            bc2 = cpow(1.0 - cpow(beta2, ti), 0.5)  # (as the _foreach path computes them)
            neg_step = -cdiv(lr, 1.0 - cpow(beta1, ti))
            rows = [decay, 1.0 - beta1, beta2, 1.0 - beta2, bc2, eps, neg_step]
            if grad_mask is not None:
                rows.append(grad_mask)
            table = tables[key] = _table(rows, k, device)
        n = p.numel() // k
        block = min(BLOCK, max(128, 1 << (n - 1).bit_length()))
        vmax = max_exp_avg_sqs[i] if amsgrad else exp_avg_sqs[i]
        blocks = (n + block - 1) // block
        grid = (k * blocks,)
        args = (p, grads[i], exp_avgs[i], exp_avg_sqs[i], vmax, table, n, k, blocks)
        consts = dict(
            BLOCK=block, DECOUPLED=decoupled, L2=l2, MAXIMIZE=maximize, AMSGRAD=amsgrad,
            MASKED=grad_mask is not None,
        )  # fmt: skip
        launches.append((grid, args, consts))
    # Triton launches on the current CUDA device: make it the parameters' (cuda:1 and others)
    with torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext():
        if kernel is jit:
            for grid, args, consts in launches:
                _compile(kernel, grid, args, consts)
        for grid, args, consts in launches:  # every variant compiled: nothing fails half-way
            kernel[grid](*args, **consts)
    # written through raw pointers, unseen by autograd: bump their versions as an in-place op
    # would, so that a graph that saved the old weights refuses a backward through them
    for x in (*params, *exp_avgs, *exp_avg_sqs, *(max_exp_avg_sqs or [])):
        increment_version(x)


def _compile(kernel: Any, grid: tuple[int], args: tuple[Any, ...], consts: dict) -> None:
    """Compile the variant ``consts`` of ``kernel`` for ``args`` without launching it, once per
    variant and device (:class:`KernelUnavailable` if it cannot be compiled). Triton also
    specializes on the sizes' divisibility, which a launch then compiles itself: what makes a
    compilation fail here (the toolchain, the GPU) fails the first one."""
    key = (args[0].device, *sorted(consts.items()))
    if key in _compiled:
        return
    try:
        kernel.warmup(*args, grid=grid, **consts)
    except Exception as err:  # Triton's own errors: a missing compiler, an unsupported GPU
        raise KernelUnavailable(f"{type(err).__name__}: {err}".splitlines()[0]) from err
    _compiled.add(key)
