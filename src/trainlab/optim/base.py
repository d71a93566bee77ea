"""The base of trainlab's population optimizers: per-model hyperparameters on stacked parameters.

A population of K models stores every parameter stacked, with the population axis first:
``(K, ...)``. Every hyperparameter of a population optimizer is either a plain number (shared by
all K models; the fast path, scalar ``torch._foreach_*`` ops exactly as ``torch.optim`` does) or a
1-D tensor of length K (one value per model), viewed as ``(K, 1, 1, ...)`` against each parameter.

The trainer sets ``group["lr"] = lr_k`` (a ``(K,)`` tensor on the device) before every step; a
model whose lr is 0 does not move at all. On an accelerator, steps do no host sync: no ``.item()``,
no Python branch on a tensor's value; the per-model arithmetic is broadcasting, never a Python loop
over models.

Per-model hyperparameter tensors are stored in float64 (float32 on MPS, which has no float64; a
tensor set on a group after construction is cast to it when it is used), as
``torch.optim`` keeps its scalars in Python floats: derived values such as ``1 − β₂`` or
``η / (1 − β₁ᵗ)`` are computed in that precision and rounded once, to the parameters' *compute*
dtype (float32 for bfloat16/float16 parameters, torch's "opmath" type; else the parameters'
dtype), when they meet the parameters (:func:`bcast`). So β₂ = 0.999 stays 0.999 next to bfloat16
parameters instead of rounding to 1.0, and float32 runs round like ``torch.optim``.

Each parameter keeps its own step count (``state["step"]``, as in ``torch.optim``): a parameter
that gets its first gradient later than the others gets its own bias correction
(:func:`by_step`). When all parameters step together (the common case) that is one value.

On the CPU, where reading a tensor is a memory read and not a sync, Adam, AdamW, SGD and Adagrad
take torch's fused CPU kernels (``torch._fused_adam_`` & co., one pass over memory instead of a
dozen ``_foreach`` passes and their temporaries; SGD not for float16/bfloat16 parameters in the
torch versions whose kernel skips their updates,
:func:`trainlab.optim.sgd.fused_sgd_handles_16bit`): the K models are split into runs of
neighbours with equal hyperparameters (:func:`equal_runs`) and each run is one fused call on a
slice of the stacked tensors. In the common case (shared values, every model running) that is
one call.
Small models (fewer than ``FUSED_MIN_NUMEL`` parameters each), for which a call per model costs
more than one broadcast step, take one fused call when the lr and weight decay are their only
per-model values (an lr grid, per-model schedules; the decay is then applied outside the
kernel, :func:`decay_outside`) and no lr exceeds 1: the kernel steps a zero copy of the
parameters with the largest lr, ``Δ = −η_max u``, and each model then adds its share,
``θ ← θ₀ + (η_k/η_max) Δ = θ₀ − η_k u`` (:func:`lr_scaled`), rounded once at θ's precision as a
model alone is (a few ulps from it, not bitwise; stepping a copy of ``θ₀`` rounded ``θ₁ − θ₀``
to ulps of θ first: a sub-ulp update was lost at lr 10 with a kernel at lr 1, or moved a whole
ulp a step beside a larger lr). An lr above 1 takes the ``_foreach`` path: ``η_max u`` could
overflow for a model whose own ``η_k u`` does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError, UserError, short_repr
from ..registry import Registry

__all__ = [
    "Hyper",
    "PopulationOptimizer",
    "OPTIMIZERS",
    "create_optimizer",
    "list_optimizers",
    "population_size",
    "bcast",
    "cpow",
    "equal_runs",
    "split_runs",
    "lr_scaled",
    "decay_outside",
    "by_step",
    "compute_dtype",
    "hyper_dtype",
    "lerp_",
    "zero_stopped_",
]

#: below this many elements per model, a run-per-call fused step loses to one broadcast step
FUSED_MIN_NUMEL = 16384
#: below this many elements per model, one lr-scaled fused call beats a call per run of equal
#: values (an lr grid: a call per model). Measured (Adam, 1 thread, K calls / one scaled call):
#: 1.73x at 16.5k elements (K=10), 1.42x at 26k, 1.51x at 51k, 1.00x at 85k
LR_SCALED_MAX_NUMEL = 65536

#: a hyperparameter: one number for all models, or a ``(K,)`` tensor (one value per model)
Hyper = float | Tensor

OPTIMIZERS: Registry[Any] = Registry("optimizer")


def population_size(params: list[Tensor]) -> int:
    """K, the first dimension shared by every stacked parameter; a clear error otherwise."""
    if not params:
        raise ConfigError("the optimizer got no parameters; pass the population's parameters")
    ks = {int(p.shape[0]) if p.dim() > 0 else -1 for p in params}
    if -1 in ks:
        raise ConfigError(
            "a population parameter is 0-d; stack every parameter with the population axis first "
            "as (K, ...)"
        )
    if len(ks) != 1:
        raise ConfigError(
            f"population parameters disagree on K (first dims {sorted(ks)}); every parameter must "
            "be stacked as (K, ...) for the same K"
        )
    return ks.pop()


def _check_range(
    name: str,
    value: Tensor | float,
    lo: float | None,
    hi: float | None,
    lo_open: bool,
    hi_open: bool,
) -> None:
    t = torch.as_tensor(value, dtype=torch.float64)
    if not bool(torch.isfinite(t).all()):  # construction only: a host read is fine here
        raise ConfigError(f"{name} must be finite, got {_show(value)}")
    bad = torch.zeros_like(t, dtype=torch.bool)
    if lo is not None:
        bad |= (t <= lo) if lo_open else (t < lo)
    if hi is not None:
        bad |= (t >= hi) if hi_open else (t > hi)
    if bool(bad.any()):
        lb = "(" if lo_open or lo is None else "["  # (an infinite value is refused above)
        rb = ")" if hi_open or hi is None else "]"
        rng = f"{lb}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{rb}"
        raise ConfigError(f"{name} must lie in {rng}, got {_show(value)}")


#: switches shared by the whole population (never per model)
_FLAGS = ("amsgrad", "maximize", "nesterov", "centered", "fused")


def _flag(key: str, value: Any) -> bool | None:
    """A shared switch: True or False (``fused`` also None, auto). Anything else is refused,
    never read as ``bool(value)``: the string "false" and a per-model list are both truthy."""
    if value is None and key == "fused":
        return None
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool_", "bool"):
        value = bool(value)
    if not isinstance(value, bool):
        auto = "; or leave it unset (auto)" if key == "fused" else ""
        shown = value.tolist() if isinstance(value, Tensor) else value  # (per-model: a list)
        raise ConfigError(
            f"{key} must be true or false, one value shared by all models, got {shown!r}{auto}"
        )
    return value


def _show(value: Any) -> str:
    if isinstance(value, Tensor):
        v = value.detach().cpu().double()
        if v.numel() > 6:
            return f"{v.numel()} values in [{v.min().item():.4g}, {v.max().item():.4g}]"
        return f"[{', '.join(_short(x) for x in v.flatten().tolist())}]"
    return repr(value)


def _short(x: float) -> str:
    """``x`` as written: a float32 value given (0.1 as float32, read as 0.10000000149011612
    in float64) by its shortest float32 text, any other by Python's."""
    if not math.isfinite(x) or abs(x) > float(np.finfo(np.float32).max):
        return repr(x)
    f32 = np.float32(x)
    return str(f32) if float(f32) == x else repr(x)


def hyper_dtype(device: torch.device) -> torch.dtype:
    """The dtype per-model hyperparameter tensors are kept in: float64, float32 on MPS."""
    return torch.float32 if device.type == "mps" else torch.float64


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype torch computes a tensor-scalar op in ("opmath"): float32 for 16-bit floats."""
    return torch.float32 if dtype in (torch.bfloat16, torch.float16) else dtype


def array_as_list(value: Any) -> Any:
    """A numpy array (``np.logspace`` per-model values) as the list of its values; anything
    else (a numpy scalar too: it is a number) as it is."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", 0) > 0:
        return value.tolist()
    return value


def too_big(values: Any) -> str:
    """Why a list holding a whole number beyond float64's range (``10**400``) is refused,
    without printing its hundreds of digits."""
    big = next((v for v in values if isinstance(v, int) and not math.isfinite(_float(v))), None)
    if big is None:
        return "must be finite numbers"
    return f"a whole number of {len(str(abs(big)))} digits is too large for a float"


def _float(v: int) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf


def hyper(
    name: str,
    value: Any,
    k: int,
    *,
    device: torch.device,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> Hyper:
    """Validate one hyperparameter and normalize it: a float, or a ``(K,)`` tensor on the device.

    Accepts a number, a 0-d tensor (becomes a float), a 1-D tensor / list / tuple of length K.
    A tensor is stored in :func:`hyper_dtype` (float64; float32 on MPS) whatever the parameters'
    dtype, and checked again after that cast (a value that rounds out of range is an error).
    """
    if isinstance(value, bool | str | bytes):  # (float("0.1") would take a string: torch's
        raise ConfigError(  # optimizers refuse one)
            f"{name} must be a number or a list of K={k} numbers, got {value!r}"
        )
    value = array_as_list(value)
    if isinstance(value, list | tuple):
        if any(isinstance(v, bool | str | bytes) for v in value):
            raise ConfigError(f"{name} must be a list of numbers, got {value!r}")
        try:
            value = torch.tensor([float(v) for v in value], dtype=torch.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a list of numbers, got {value!r}") from None
        except OverflowError:  # float(10**400)
            raise ConfigError(f"{name}: {too_big(value)}") from None
    if isinstance(value, Tensor):
        if value.dim() == 0:
            value = float(value)
        elif value.dim() != 1 or value.shape[0] != k:
            raise ConfigError(
                f"{name} has shape {tuple(value.shape)} but the population has K={k} models; "
                f"give one number or a 1-D tensor of length {k}"
            )
        elif not (value.is_floating_point() or value.dtype in (torch.int32, torch.int64)):
            raise ConfigError(f"{name} must hold numbers, got dtype {value.dtype}")
    if not isinstance(value, Tensor):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number, got {value!r}") from None
        except OverflowError:
            raise ConfigError(f"{name}: {too_big([value])}") from None
    _check_range(name, value, lo, hi, lo_open, hi_open)
    if not isinstance(value, Tensor):
        return value
    dt = hyper_dtype(device)
    stored = value.detach().to(device=device, dtype=dt).clone()
    if value.dtype != dt:  # construction only: reading the stored values is fine here
        try:
            _check_range(name, stored.cpu(), lo, hi, lo_open, hi_open)
        except ConfigError:
            raise ConfigError(
                f"{name} {_show(value)} rounds out of range in {dt} on {device.type}; "
                "give values further from the bound"
            ) from None
    return stored


def bcast(value: Hyper, params: list[Tensor]) -> float | list[Tensor]:
    """A hyperparameter against each parameter: a float, or ``(K, 1, ..., 1)`` views of it.

    A tensor is rounded once to each parameter's :func:`compute_dtype` (float32 for 16-bit
    parameters, as torch computes ``p * 0.999`` in float32), one copy per distinct dtype and
    device. A 0-d tensor gives ``(1, 1, ..., 1)`` views (broadcast to every model).
    No host sync: shapes are metadata; a dtype or device conversion is a device-side copy.
    """
    if not isinstance(value, Tensor):
        return float(value)
    cast: dict[tuple[torch.dtype, torch.device], Tensor] = {}
    out = []
    for p in params:
        key = (compute_dtype(p.dtype), p.device)
        v = cast.get(key)
        if v is None:
            v = value
            if v.dtype != key[0] or v.device != p.device:
                v = v.to(device=p.device, dtype=key[0])
            cast[key] = v
        out.append(v.reshape((-1,) + (1,) * (p.dim() - 1)))  # (K, 1, ..., 1)
    return out


def by_step(
    steps: list[int] | Tensor, params: list[Tensor], fn: Callable[[Any], Hyper]
) -> float | list[float] | list[Tensor]:
    """``fn(t)`` for each parameter's own step count ``t``, against each parameter.

    One distinct count (every parameter has stepped as often: the common case) gives what
    :func:`bcast` gives for ``fn(t)``: a float, or ``(K, 1, …)`` views. Several counts (a
    parameter that got gradients later) give a float per parameter (for the ``_foreach`` scalar
    list overloads) or a view per parameter; ``fn`` runs once per distinct count. ``steps`` as a
    0-d device tensor (:attr:`PopulationOptimizer.graph_t`: every parameter's count, read on the
    device) gives ``fn(t)`` computed there, as views.
    """
    if isinstance(steps, Tensor):
        return bcast(fn(steps), params)
    distinct = set(steps)
    if len(distinct) == 1:
        return bcast(fn(steps[0]), params)
    values = {t: fn(t) for t in distinct}
    if not any(isinstance(v, Tensor) for v in values.values()):
        return [float(values[t]) for t in steps]
    return [bcast(values[t], [p])[0] for t, p in zip(steps, params, strict=True)]


def lerp_(xs: list[Tensor], ys: list[Tensor], w: float | list[Tensor]) -> None:
    """In place ``x ← x + w (y − x)`` (torch's ``lerp``) with a float or per-parameter views.

    ``lerp`` with a tensor weight needs the weight in the tensor's dtype; for 16-bit tensors the
    weight is float32 (:func:`bcast`), so those are lerped in float32 and rounded once, which is
    what torch's lerp with a float weight computes.
    """
    if not isinstance(w, list):
        torch._foreach_lerp_(xs, ys, w)
        return
    same = [i for i, (x, wi) in enumerate(zip(xs, w, strict=True)) if x.dtype == wi.dtype]
    if len(same) == len(xs):
        torch._foreach_lerp_(xs, ys, w)
        return
    if same:
        torch._foreach_lerp_([xs[i] for i in same], [ys[i] for i in same], [w[i] for i in same])
    for i in sorted(set(range(len(xs))) - set(same)):
        wide = xs[i].to(w[i].dtype)
        wide.lerp_(ys[i].to(w[i].dtype), w[i])
        xs[i].copy_(wide)


def is_zero(value: Hyper) -> bool:
    """True only for the plain number 0 (a per-model tensor always takes the general path)."""
    return not isinstance(value, Tensor) and value == 0.0


def readable_on_host(value: Tensor) -> bool:
    """Whether reading ``value``'s numbers is a memory read (a CPU tensor), not a sync with a
    device. The CPU-only exact paths ask it (:func:`cpow`'s C ``pow``, :func:`may_be_zero`);
    tests patch it to take the path every other device takes."""
    return value.device.type == "cpu"


def may_be_zero(value: Tensor) -> bool:
    """Whether some model's value in ``value`` may be 0: read where :func:`readable_on_host`;
    elsewhere reading it would sync with the device, so it is assumed (the caller takes its
    general path, which is right whatever the values are)."""
    return not readable_on_host(value) or bool((value == 0).any())


def axpy(ys: list[Tensor], xs: list[Tensor], a: float | list[Tensor]) -> list[Tensor]:
    """New tensors ``y + a·x`` in ``y``'s dtype (``a`` a float or per-parameter ``(K, 1, …)``
    views; a float32 ``a`` against 16-bit tensors is applied in float32 and rounded once)."""
    if isinstance(a, list):
        if any(y.dtype != ai.dtype for y, ai in zip(ys, a, strict=True)):
            out = [y.clone() for y in ys]
            torch._foreach_addcmul_(out, xs, a)
            return out
        return torch._foreach_addcmul(ys, xs, a)
    return torch._foreach_add(ys, xs, alpha=a)


def axpy_(ys: list[Tensor], xs: list[Tensor], a: float | list[Tensor]) -> None:
    """In place ``y += a·x``."""
    if isinstance(a, list):
        torch._foreach_addcmul_(ys, xs, a)
    else:
        torch._foreach_add_(ys, xs, alpha=a)


def cpow(x: Hyper, e: float | Tensor) -> Hyper:
    """``x ** e`` for a number (Python's float power, C ``pow``, as ``torch.optim``'s host-side
    bias corrections) or a tensor (elementwise ``pow`` on its device, no host sync).

    A float64 tensor on the CPU with a number exponent: C's ``pow`` on each value (a memory
    read there: :func:`readable_on_host`), the bits ``torch.optim`` computes for that model's
    ``β ** t`` on the host. The vectorized CPU kernel is not C's ``pow``: on an AVX2 CPU it was
    an ulp off for 998 of 60,000 ``βᵗ`` (random β in [0.5, 0.99), t ≤ 60), so per-model betas
    drifted apart from torch.optim; and its tail is computed by the scalar ``pow``, so a model's
    ``βᵗ`` also depended on its slot and on K (276 of 16,559 values alone differed from the same
    value in a tensor of 4,000), against DESIGN.md principle 2.
    Elsewhere, tensor ``pow`` by a scalar special-cases some exponents (3 → ``x·x·x``), so the
    exponent is given as a tensor: the elementwise ``pow`` path, the same kernel a CUDA-graphed
    step (its step count a device tensor) takes.
    """
    if isinstance(e, Tensor):  # a step count on the device (a CUDA-graphed step)
        return torch.pow(x, e)
    if isinstance(x, Tensor):
        if x.dtype == torch.float64 and readable_on_host(x):
            values = [_c_pow(v, float(e)) for v in x.reshape(-1).tolist()]
            return torch.tensor(values, dtype=x.dtype).view(x.shape)
        return torch.pow(x, torch.full_like(x, float(e)))
    return x**e


def _c_pow(x: float, e: float) -> float:
    """C's ``pow(x, e)`` (Python's ``x ** e`` on floats); where C reports a domain error or an
    overflow, torch's value (NaN for a negative base to a fractional power, ±inf)."""
    try:
        return math.pow(x, e)
    except (ValueError, OverflowError):
        return float(torch.pow(torch.tensor(x, dtype=torch.float64), e))


def cdiv(a: Hyper, b: Hyper) -> Hyper:
    """``a / b`` rounded once, as Python divides two floats, for numbers or tensors: torch's
    ``number / tensor`` is ``tensor.reciprocal() * number``, rounded twice, an ulp off
    ``torch.optim``'s host-side ``lr / (1 − β₁ᵗ)`` for some per-model β₁."""
    if isinstance(b, Tensor) and not isinstance(a, Tensor):
        return torch.full_like(b, a).div_(b)
    return a / b


def equal_runs(
    k: int, values: dict[str, Hyper], max_runs: int | None = None
) -> list[tuple[int, int, dict[str, float]]] | None:
    """Split models ``0..K`` into maximal runs of neighbours whose hyperparameters are equal.

    ``values``: each a number, a 0-d tensor (shared) or a ``(K,)`` CPU tensor. Returns
    ``(start, stop, {name: float})`` per run; shared numbers and equal per-model values give one
    run ``(0, K, …)``. None if there are more than ``max_runs`` runs.
    """
    shared = {n: float(v) for n, v in values.items() if not isinstance(v, Tensor) or v.dim() == 0}
    per_model = {n: v for n, v in values.items() if isinstance(v, Tensor) and v.dim() > 0}
    if not per_model:
        return [(0, k, shared)]
    # CPU tensors (the fused kernels' case): one read each, then plain Python (a few µs for
    # K = 100, against ~90 µs for the same in a handful of tensor ops)
    rows = list(zip(*(v.tolist() for v in per_model.values()), strict=True))  # per model
    starts = [0]
    for i in range(1, k):
        if rows[i] != rows[i - 1]:  # (NaN != NaN: a NaN value is a run of its own)
            if max_runs is not None and len(starts) >= max_runs:
                return None
            starts.append(i)
    stops = [*starts[1:], k]
    return [
        (a, b, {**shared, **dict(zip(per_model, rows[a], strict=True))})
        for a, b in zip(starts, stops, strict=True)
    ]


def split_runs(
    runs: list[tuple[int, int, dict[str, float]]], *lists: list[Tensor]
) -> list[tuple[list[Tensor], ...]]:
    """Per run, each list's stacked tensors cut to that run's models (one ``split`` per tensor)."""
    if len(runs) == 1:
        return [lists]
    sizes = [b - a for a, b, _ in runs]
    cut = [[t.split(sizes) for t in ts] for ts in lists]
    return [tuple([parts[r] for parts in c] for c in cut) for r in range(len(runs))]


@contextmanager
def lr_scaled(params: list[Tensor], lr: Tensor | None) -> Iterator[list[Tensor]]:
    """Scale a step made with lr ``η_max`` to each model's: ``θ ← θ₀ + w_k Δ``.

    Yields the tensors a fused kernel should step with lr ``η_max`` (and no weight decay,
    :func:`decay_outside`): ``params`` themselves when ``lr`` is None, else zeros shaped like
    them, stepped to ``Δ = −η_max u`` in θ's dtype (not rounded to ulps of θ); at the end of the
    block each parameter becomes ``θ₀ + w_k Δ = θ₀ − η_k u``, rounded once at ``θ``'s precision
    as a model stepped alone is (``lr``: the ``(K,)`` weights ``w_k = η_k/η_max`` in [0, 1]).
    Stepping a copy of ``θ₀`` instead rounded ``θ₁ − θ₀`` to ulps of ``θ``: a model whose own
    update was under half an ulp, which alone rounds away, moved one ulp a step beside a larger
    lr. An exception inside the block leaves the parameters as they were; a model with η = 0
    keeps its parameters bit for bit where its step ``u`` is finite (the trainer zeroes a
    stopped model's gradients).
    """
    if lr is None:
        yield params
        return
    work = [torch.zeros_like(p) for p in params]
    yield work
    _add_scaled_(params, work, bcast(lr, params))


def _add_scaled_(xs: list[Tensor], ds: list[Tensor], w: list[Tensor]) -> None:
    """In place ``x ← x + w·d`` with per-parameter weight views ``w`` (float32 for 16-bit ``x``,
    :func:`bcast`: those are computed in float32 and rounded once)."""
    same = [i for i, (x, wi) in enumerate(zip(xs, w, strict=True)) if x.dtype == wi.dtype]
    if same:
        torch._foreach_addcmul_([xs[i] for i in same], [ds[i] for i in same], [w[i] for i in same])
    for i in sorted(set(range(len(xs))) - set(same)):
        xs[i].copy_(xs[i].float().addcmul_(ds[i].float(), w[i]))


def decay_outside(
    params: list[Tensor],
    grads: list[Tensor],
    wd: Hyper,
    lr: Tensor | None,
    *,
    decoupled: bool,
    maximize: bool,
) -> tuple[list[Tensor], bool]:
    """Weight decay λ of an lr-scaled step, applied outside the kernel (which gets 0: it steps
    a zero copy of the parameters, :func:`lr_scaled`, so it cannot see ``θ``).

    L2 (``decoupled`` False): the kernel's gradient becomes ``±g + λθ`` (new tensors; torch's
    kernels negate for ``maximize`` first, then add λθ, so the sign is folded in here and the
    kernel gets ``maximize=False``). Decoupled (AdamW): ``θ ← θ(1 − η_k λ)`` in place, before the
    step. Returns the gradients and the ``maximize`` flag for the kernel; the inputs back when
    there is nothing to do here (``lr`` None: not lr-scaled; λ = 0).
    """
    if lr is None or is_zero(wd):
        return grads, maximize
    if decoupled:
        torch._foreach_mul_(params, bcast(1.0 - lr * wd, params))
        return grads, maximize
    if maximize:
        grads = torch._foreach_neg(grads)
    return axpy(grads, params, bcast(wd, params)), False


def step_tensors(steps: list[int]) -> list[Tensor]:
    """The fused kernels' ``state_steps``: a 0-d float32 CPU tensor per parameter's step count,
    one tensor per distinct count (all parameters share one in the common case)."""
    made: dict[int, Tensor] = {}
    for t in steps:
        if t not in made:
            made[t] = torch.tensor(float(t))
    return [made[t] for t in steps]


def _unfusable(tensors: list[Tensor]) -> str:
    """What keeps ``tensors`` from the fused CPU kernels, for an error message."""
    t0 = tensors[0]
    for t in tensors:
        if t.device.type != "cpu":
            return f"got {t.device.type} tensors"
        if t.dtype != t0.dtype:
            return f"got {t0.dtype} and {t.dtype} tensors"
        if not t.is_contiguous():
            return f"got a non-contiguous tensor of shape {tuple(t.shape)}"
    return "got tensors it cannot take"


class FusedPlan(NamedTuple):
    """How a step calls a fused CPU kernel (:meth:`PopulationOptimizer._fused_plan`)."""

    runs: list[tuple[int, int, dict[str, float]]]  # one call per run of models (equal_runs)
    lr: Tensor | None  # an lr-scaled step's (K,) blend weights η_k/η_max (lr_scaled), else None
    grads: list[Tensor]  # the gradients to pass (± and L2 decay folded in where outside)
    maximize: bool  # the kernel's flag


def zero_stopped_(grads: list[Tensor], running: Tensor) -> None:
    """Zero, in place, the slices of the stacked ``(K, ...)`` gradients of the models where the
    ``(K,)`` bool ``running`` is False."""
    stopped = ~running  # one kernel, viewed per gradient
    for g in grads:
        g.masked_fill_(stopped.view(-1, *([1] * (g.dim() - 1))), 0.0)


def group_params(given: Any) -> tuple[list[Any], list[Tensor]]:
    """A param group's ``params`` as a list (what torch.optim stores, ``(name, parameter)``
    pairs from ``model.named_parameters()`` kept: torch records the names) and its tensors.
    A set is refused as torch.optim refuses it: state is matched to parameters by order."""
    if isinstance(given, set):
        raise TypeError(
            "optimizer parameters need to be organized in ordered collections, but the "
            "ordering of tensors in sets will change between runs. Please use a list instead."
        )
    given = [given] if isinstance(given, Tensor) else list(given)
    return given, [p[1] if isinstance(p, tuple) and len(p) == 2 else p for p in given]


def has_cpu_kernel(name: str) -> bool:
    """Whether this torch has the fused CPU optimizer kernel ``torch.<name>``
    (``_fused_adam_``, ``_fused_sgd_``, ...): torch >= 2.4 does; torch 2.3 has them for CUDA
    only (``_fused_adagrad_`` not at all). Not cached: a C call per step."""
    return hasattr(torch, name) and torch._C._dispatch_has_kernel_for_dispatch_key(
        f"aten::{name}", "CPU"
    )


def _torch_method(name: str) -> Callable[..., Any]:
    """``torch.optim.Optimizer.<name>`` without the ``torch._dynamo`` import it starts with.

    torch wraps ``add_param_group``, ``zero_grad``, ``state_dict`` and ``load_state_dict`` in
    ``torch._disable_dynamo``, which imports ``torch._dynamo`` at the first call, whether or not
    anything is compiled: 1.5-2 s of a fresh ``trainlab train`` on 2 cores (6.1 s -> 3.6-4.2 s).
    Eager calls take the method the wrapper wraps (``__wrapped__``); calls that
    ``torch.compile`` traces take torch's wrapper, which keeps them out of the graph as before.
    """
    traced = getattr(torch.optim.Optimizer, name)
    eager = getattr(traced, "__wrapped__", traced)

    def method(self: torch.optim.Optimizer, *args: Any, **kwargs: Any) -> Any:
        return (traced if torch.compiler.is_compiling() else eager)(self, *args, **kwargs)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = eager.__doc__
    return method


_add_param_group = _torch_method("add_param_group")
_load_state_dict = _torch_method("load_state_dict")


class PopulationOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` over stacked ``(K, ...)`` parameters with per-model values.

    Subclasses declare ``_hypers``: ``{name: (lo, hi, lo_open, hi_open)}`` validated at
    construction and in :meth:`add_param_group`; booleans (``nesterov``, ``amsgrad``, …) are
    shared by the whole population.
    """

    _hypers: dict[str, tuple[float | None, float | None, bool, bool]] = {}
    #: names of the per-parameter state tensors shaped like their parameter (checked at load)
    _param_state: tuple[str, ...] = ()
    #: weight decay is decoupled (AdamW's ``θ(1 − ηλ)``, which scales with the lr) rather than
    #: L2 (``g + λθ``)
    _decoupled = False
    #: during a trainer's CUDA steps (:mod:`trainlab.cuda_graphs`: captured into a graph, or
    #: eager): a 0-d float64 device tensor holding the step count t of the step being taken,
    #: which the trainer fills in before each; the step-dependent values (Adam's bias
    #: corrections, AdaGrad's lr decay) are then computed from it on the device rather than
    #: from the host counters (which a replay does not run). None: t from the host counters.
    graph_t: Tensor | None = None
    #: the t that :attr:`graph_t` was set for (at the capture or the eager step): parameters
    #: whose own count is another (their first step now, alone) take their host counters
    graph_t_host: int | None = None
    #: a trainer's ``(K,)`` bool device tensor of the models whose gradients count this step,
    #: or None (all do). A step takes a stopped model's gradient (False) as zero, so that its
    #: NaN gradient reaches neither its moments nor, with its lr of 0, its weights: the
    #: ``_foreach`` and fused CPU paths zero it in ``.grad`` (:meth:`_grads`), the Triton Adam
    #: as it reads it (one pass less over the gradients).
    grad_mask: Tensor | None = None
    #: whether :meth:`step` honours :attr:`grad_mask` (it takes its gradients from
    #: :meth:`_grads`); a trainer zeroes the gradients itself for an optimizer that does not
    masks_grads = False
    #: whether a step's values depend on its step count t (Adam's bias corrections, AdaGrad's
    #: lr decay): such a step cannot be replayed from a CUDA graph of the caller's own
    counts_steps = False

    zero_grad = _torch_method("zero_grad")
    state_dict = _torch_method("state_dict")

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.k: int | None = None
        super().__init__(params, defaults)

    def _counts(self, steps: list[int]) -> list[int] | Tensor:
        """The step counts that step-dependent values are computed from (:func:`by_step`):
        :attr:`graph_t` when it is set and the parameters stepping now share its count
        (:attr:`graph_t_host`), else the host counters ``steps``."""
        if self.graph_t is None or set(steps) != {self.graph_t_host}:
            return steps
        return self.graph_t

    def __setstate__(self, state: dict[str, Any]) -> None:
        """After ``copy.deepcopy`` or unpickling (torch keeps only ``defaults``, ``state`` and
        ``param_groups``): K again from the parameters."""
        super().__setstate__(state)
        groups = self.__dict__.get("param_groups") or []
        self.k = groups[0]["params"][0].shape[0] if groups and groups[0]["params"] else None

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        given, params = group_params(param_group["params"])
        k = population_size(params)
        if self.k is None:
            self.k = k
        elif k != self.k:
            raise ConfigError(f"param group has K={k} models but the optimizer has K={self.k}")
        dev = params[0].device
        bad = next((p.dtype for p in params if not p.dtype.is_floating_point), None)
        if bad is not None:  # (every one: a complex one after a real one was stepped as real)
            raise ConfigError(f"optimizer parameters must be floating point, got {bad}")
        group = dict(param_group)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        for key in _FLAGS:
            if key in group:
                group[key] = _flag(key, group[key])
        for key, (lo, hi, lo_open, hi_open) in self._hypers.items():
            group[key] = hyper(
                key, group[key], k, device=dev, lo=lo, hi=hi, lo_open=lo_open, hi_open=hi_open
            )
        self._check_group(group)
        off = next((p.device for p in params if p.device.type != "cpu"), None)
        if group.get("fused") is True and off is not None:
            raise ConfigError(  # said here, before a run starts, not at the first step
                f"fused=True takes trainlab's fused CPU kernels, but the parameters are on {off}; "
                "leave fused unset (auto) there"
            )
        group["params"] = given
        _add_param_group(self, group)

    def _check_group(self, group: dict[str, Any]) -> None:
        """Cross-field checks of one group (e.g. Nesterov needs momentum); override."""

    def __setattr__(self, name: str, value: Any) -> None:
        # A torch.optim.lr_scheduler scheduler wraps ``optimizer.step`` when it attaches, before
        # its first update. It writes one lr per group with ``group["lr"].fill_(value)``, which a
        # (K,) tensor cannot take: say so here, instead of torch's "fill_ only supports
        # 0-dimension value tensor" from inside the scheduler. (ReduceLROnPlateau wraps nothing
        # and is not caught: with a per-model lr it fails at its first reduction, in torch's
        # float(group["lr"]); use it with a float lr only.) By then the scheduler's __init__ has
        # written into the groups (CyclicLR fills the lr tensor in place, OneCycleLR sets
        # momentum/betas): the values cannot be taken back without a copy every step, so the
        # error says to build the optimizer again.
        if name == "step" and getattr(value, "_wrapped_by_lr_sched", False):
            for group in self.param_groups:
                lr = group.get("lr")
                if isinstance(lr, Tensor) and lr.numel() > 1:
                    raise ConfigError(
                        f"torch.optim.lr_scheduler sets one lr per param group, but this "
                        f"optimizer has a per-model lr tensor of K={lr.numel()}; use "
                        "trainlab.optim.create_schedule (per-model schedules; set "
                        "group['lr'] = schedule(step) before each step) or a shared float lr, "
                        "with the optimizer built again: the scheduler has already written "
                        "its own lr (and momentum/betas) into the param groups"
                    )
        super().__setattr__(name, value)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore state; per-model hyperparameter tensors go back to their parameters' device,
        in :func:`hyper_dtype` (older checkpoints kept them in the parameters' dtype). State of
        another shape than its parameter (another model's state, taken in parameter order) is
        refused before anything is loaded: a step would run the kernels out of bounds."""
        saved, groups = state_dict.get("state", {}), state_dict.get("param_groups", ())
        for group, given in zip(self.param_groups, groups, strict=False):  # (torch counts them)
            for p, index in zip(group["params"], given.get("params", ()), strict=False):
                for key in self._param_state:
                    v = saved.get(index, {}).get(key)
                    if isinstance(v, Tensor) and v.shape != p.shape:
                        raise ValueError(
                            f"optimizer state {key!r} of shape {tuple(v.shape)} does not fit "
                            f"a parameter of shape {tuple(p.shape)}: the state belongs to other "
                            "parameters; load a state saved from these"
                        )
        _load_state_dict(self, state_dict)
        for group in self.param_groups:
            dev = group["params"][0].device
            for key, value in list(group.items()):
                if key == "params":
                    continue
                if isinstance(value, Tensor):
                    group[key] = value.to(device=dev, dtype=hyper_dtype(dev))
                elif isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
                    group[key] = tuple(
                        v.to(device=dev, dtype=hyper_dtype(dev)) if isinstance(v, Tensor) else v
                        for v in value
                    )

    def _values(self, group: dict[str, Any]) -> dict[str, Hyper]:
        """This step's hyperparameters of ``group`` by name, their shapes checked.

        Values set on the group after construction (a trainer's ``group["lr"] = lr_k``, a torch
        scheduler) are not range-checked here (that would read the device); a 0-d tensor is
        shared by all models, any other tensor must be ``(K,)``. Subclasses with values stored
        otherwise (Adam's ``betas`` pair) override :meth:`_group_values`.
        """
        values = self._group_values(group)
        self._check_shapes(values)
        return self._in_hyper_dtype(values, group)

    def _group_values(self, group: dict[str, Any]) -> dict[str, Any]:
        """``group``'s hyperparameters by name as set (a list or array of per-model numbers set
        after construction: the tensor it stands for, kept on the group)."""
        for key in self._hypers:
            group[key] = self._listed_as_tensor(group[key], group)
        return {key: group[key] for key in self._hypers}

    @staticmethod
    def _listed_as_tensor(value: Any, group: dict[str, Any]) -> Any:
        """A list, tuple or numpy array of per-model numbers set on a group after construction
        (``group["lr"] = [0.1, 0.2, 0.3]``, as construction takes them) as a tensor on the
        parameters' device; anything else as it is."""
        value = array_as_list(value)
        if not isinstance(value, (list, tuple)):
            return value
        device = group["params"][0].device if group["params"] else None
        try:
            return torch.tensor(value, dtype=torch.float64, device=device)
        except (TypeError, ValueError, RuntimeError):
            raise ConfigError(
                f"a per-model value must be numbers (a list, array or (K,) tensor), got "
                f"{short_repr(value)}"
            ) from None

    @staticmethod
    def _in_hyper_dtype(values: dict[str, Any], group: dict[str, Any]) -> dict[str, Any]:
        """Tensor values in :func:`hyper_dtype`, as construction stores them: a float32 (or
        integer) lr set on the group later would have the update computed in its dtype
        (``-lr/(1-β₁ᵗ)`` rounded to float32: other weights than the same lr given up front).
        A device-side cast, no host read; a no-op for values already float64."""
        dtype = hyper_dtype(group["params"][0].device) if group["params"] else torch.float64
        return {
            k: v.to(dtype) if isinstance(v, Tensor) and v.dtype != dtype else v
            for k, v in values.items()
        }

    def _check_shapes(self, values: dict[str, Any]) -> None:
        for key, v in values.items():
            if isinstance(v, Tensor) and v.dim() > 0 and v.shape != (self.k,):
                raise ConfigError(
                    f"{key} has shape {tuple(v.shape)} but the population has K={self.k} "
                    f"models; set a number, a 0-d tensor or a ({self.k},) tensor"
                )

    def _grads(
        self, group: dict[str, Any], *, masked: bool = True
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Parameters that have a gradient, and their gradients (sparse gradients rejected),
        zeroed where :attr:`grad_mask` is False unless ``masked`` is False."""
        params, grads = [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise ConfigError("population optimizers do not support sparse gradients")
            params.append(p)
            grads.append(p.grad)
        if masked:
            self._mask_grads(grads)
        return params, grads

    def _mask_grads(self, grads: list[Tensor]) -> None:
        """Zero, in place, the gradients of the models :attr:`grad_mask` leaves out."""
        if self.grad_mask is not None:
            zero_stopped_(grads, self.grad_mask)

    def _cpu_kernels(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The fused CPU kernels (``torch.<name>``) a fused step of ``group`` calls."""
        return ()

    def _has_cpu_kernels(self, group: dict[str, Any]) -> bool:
        """Whether this torch has the fused CPU kernels ``group`` would call; with
        ``fused=True`` in ``group``, not having them is a ConfigError."""
        missing = [n for n in self._cpu_kernels(group) if not has_cpu_kernel(n)]
        if missing and group.get("fused"):
            raise ConfigError(
                f"fused=True: this torch ({torch.__version__}) has no CPU kernel "
                f"torch.{missing[0]} (torch >= 2.4 has); leave fused unset (auto) to take "
                "the _foreach path"
            )
        return not missing

    def _fused_runs(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        tensors: list[Tensor],
        values: dict[str, Hyper],
    ) -> tuple[list[tuple[int, int, dict[str, float]]], Tensor | None] | None:
        """``(runs, lr)`` if this step takes the fused CPU kernel, else None.

        ``runs``: :func:`equal_runs` over ``values``, one kernel call each; ``lr``: None, or the
        ``(K,)`` per-model lr of an lr-scaled step (one run, whose values give the kernel the
        largest lr and no weight decay; call the kernel inside
        :func:`lr_scaled`, after :func:`decay_outside`).

        ``group["fused"]``: False never fuses; True always does (contiguous CPU tensors of one
        floating dtype required), a call per run; None (auto) fuses on such tensors when all
        models share their values (one call); when only the lr and the weight decay differ
        between models of fewer than ``LR_SCALED_MAX_NUMEL`` parameters (one lr-scaled call);
        else when each model is big enough (≥ ``FUSED_MIN_NUMEL`` parameters) that a call per
        run of equal values costs less than one broadcast step over all models.
        """
        fused = group.get("fused")
        if fused is False or not self._fusable(group, tensors):
            return None
        if not self._has_cpu_kernels(group):  # torch 2.3: its fused kernels are CUDA-only
            return None
        k = self.k or 1
        numel = sum(p.numel() for p in params) // k
        small = fused is None and numel < FUSED_MIN_NUMEL
        runs = equal_runs(k, values, max_runs=1 if small else None)
        if runs is not None and (
            len(runs) == 1 or fused is not None or numel >= LR_SCALED_MAX_NUMEL
        ):
            return runs, None
        # several runs (or, for small models, a broadcast step): one lr-scaled call instead
        # where only the lr and the weight decay differ
        fallback = (runs, None) if runs is not None else None
        lr = values.get("lr")
        skip = {"lr", "weight_decay"}  # the kernel's, set below (decay_outside applies λ)
        one = equal_runs(k, {n: v for n, v in values.items() if n not in skip}, max_runs=1)
        if not isinstance(lr, Tensor) or lr.dim() != 1 or one is None:
            return fallback
        top = float(lr.max())  # a CPU tensor (fused kernels are CPU only): no device sync
        if top > 1.0:  # η_max·u could overflow where a neighbour's η_k·u does not (a sweep to
            return fallback  # 1e38 made an lr-1e-3 model NaN): per model
        # the kernel steps with the largest lr: every blend weight η_k/η_max is ≤ 1
        scaled = {"lr": top if top > 0 else 1.0, "weight_decay": 0.0}
        return [(0, k, {**one[0][2], **scaled})], lr

    def _fused_plan(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        tensors: list[Tensor],
        values: dict[str, Hyper],
    ) -> FusedPlan | None:
        """:meth:`_fused_runs`, then :func:`decay_outside` for an lr-scaled step: what a fused
        step calls its kernel with (the gradients and ``maximize`` flag to pass; decoupled decay
        already applied to the parameters), or None (take the ``_foreach`` path)."""
        got = self._fused_runs(group, params, tensors, values)
        if got is None:
            return None
        runs, lr = got
        grads, maximize = decay_outside(
            params, grads, values.get("weight_decay", 0.0), lr,
            decoupled=self._decoupled, maximize=group["maximize"],
        )  # fmt: skip
        blend = None if lr is None else lr / runs[0][2]["lr"]  # η_k/η_max: 1 at the largest
        return FusedPlan(runs, blend, grads, maximize)

    @staticmethod
    def _fusable(group: dict[str, Any], tensors: list[Tensor]) -> bool:
        """Whether ``tensors`` can take a fused CPU kernel (contiguous CPU tensors of one
        dtype); with ``fused=True`` in ``group``, not being so is a ConfigError."""
        t0 = tensors[0]
        if all(
            t.device.type == "cpu" and t.dtype == t0.dtype and t.is_contiguous() for t in tensors
        ):
            return True
        if group.get("fused"):
            raise ConfigError(
                f"fused=True needs contiguous CPU tensors of one dtype, {_unfusable(tensors)}"
                "; leave fused unset (auto) to take the _foreach path there"
            )
        return False

    def _refuse_at_step(self, group: dict[str, Any]) -> None:
        """Raise what this step would raise for ``group`` (its values' shapes, a sparse
        gradient, ``fused=True`` on tensors it cannot fuse), before any group is updated."""
        self._values(group)
        params, grads = self._grads(group, masked=False)
        if params and group.get("fused") is True:
            self._fusable(group, params + grads)
            if params[0].device.type == "cpu":
                self._has_cpu_kernels(group)

    def _closure_loss(self, closure: Any) -> Any:
        """The start of every step: a capture into a CUDA graph of the caller's own refused for
        an optimizer whose values depend on the step count (:attr:`counts_steps`; a trainer's
        capture sets :attr:`graph_t`): each replay would reuse the capture's t, as torch.optim
        refuses it unless ``capturable=True``; the closure's loss (None without one); then every
        group checked before any group is updated (a value refused in a later group would
        otherwise come after the earlier groups had stepped)."""
        if (  # (before any state moves; asked of CUDA only for such an optimizer)
            self.counts_steps
            and self.graph_t is None
            and torch.cuda.is_initialized()
            and torch.cuda.is_current_stream_capturing()
        ):
            raise UserError(
                f"{type(self).__name__}.step() is being captured into a CUDA graph: each replay "
                "would reuse the step count of the capture (bias corrections, lr decay); step "
                "it eagerly, or train with trainlab's Trainer, which captures its steps itself "
                "(train.cuda_graph)"
            )
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if len(self.param_groups) > 1:  # (after the closure, which makes the gradients)
            for group in self.param_groups:
                self._refuse_at_step(group)
        return loss


def create_optimizer(name: str, params: Iterable[Any], **hparams: Any) -> torch.optim.Optimizer:
    """Build the population optimizer registered as ``name`` (``sgd``, ``adam``, ``adamw``, …).

    ``params``: stacked parameters ``(K, ...)`` (or param-group dicts). Each hyperparameter may be
    a number or a ``(K,)`` tensor of per-model values. Unknown hyperparameters raise a
    :class:`~trainlab.errors.ConfigError` naming the valid ones.
    """
    check_options(name, hparams)
    return OPTIMIZERS.get(name)(params, **hparams)


def check_options(name: str, keys: Iterable[str]) -> None:
    """ConfigError naming the valid hyperparameters if optimizer ``name`` lacks one of ``keys``."""
    import inspect

    sig = inspect.signature(OPTIMIZERS.get(name).__init__)
    valid = [n for n in sig.parameters if n not in ("self", "params")]
    for key in keys:
        if key not in valid:
            from ..errors import did_you_mean

            near = did_you_mean(key, [*valid, "name"])  # (optim: {nmae: sgd}: the section's key)
            raise ConfigError(
                f"optimizer '{name}' has no hyperparameter '{key}'{near}; valid: {', '.join(valid)}"
            )


def optimizer_options(name: str) -> dict[str, Any]:
    """The hyperparameters of optimizer ``name`` with their defaults (from its signature)."""
    import inspect

    sig = inspect.signature(OPTIMIZERS.get(name).__init__)
    return {
        n: p.default
        for n, p in sig.parameters.items()
        if n not in ("self", "params") and p.default is not inspect.Parameter.empty
    }


def list_optimizers() -> list[tuple[str, str]]:
    """``(name, description)`` of every registered population optimizer."""
    return OPTIMIZERS.items()
