"""Per-model statistics of activations, gradients and weights, with a leading model axis.

Every function takes tensors whose first axis is the model axis ``K``: a population's leaf
outputs are ``(K, B, ...)`` and its parameters ``(K, ...)``; a plain module is a population of
one (``y.unsqueeze(0)``: ``(1, B, ...)``). Statistics reduce over every axis except the first
and return ``(K,)`` device tensors; nothing here reads a value to the host, so these functions
are safe inside forward and gradient hooks (no ``.item()``, no ``.cpu()``, no data-dependent
shapes).

Definitions (the thresholds are module constants, stated here):

- **activation mean / std**: over every element of one model's output (batch and features),
  population std (``correction=0``).
- **dead fraction** (ReLU and ReLU6, whose gradient is exactly zero for inputs below 0): the
  fraction of units whose output is ``<= 0`` for *every* sample of the batch, so that no
  gradient flows through them. Activations with a non-zero gradient for negative inputs
  (LeakyReLU, PReLU, RReLU, ELU, SELU, CELU, GELU, SiLU, Mish) cannot die this way and have no
  dead fraction (a leaky unit below 0 on every sample still learns). Hardswish is exactly 0,
  with zero gradient, only below -3 (negative with a gradient on (-3, 0)): ``<= 0`` would
  overcount it, so its dead units are not measured. A unit is a
  feature of a ``(K, B, D)`` output; of a larger output it is, by ``unit_axis``, a channel
  (``"channel"``: axis 2 of ``(K, B, C, *spatial)``, conv-style) or a feature (``"last"``: the
  last axis of ``(K, B, ..., D)``, Linear-style, e.g. ``(K, B, T, D)`` sequences), and must be
  ``<= 0`` at every sample and every position. CS231n lecture 7: "dead ReLU will never
  activate".
- **saturated fraction**: fraction of elements near the limits of a squashing nonlinearity,
  where its derivative is almost zero: tanh (and softsign) ``|y| > 0.99`` (tanh'(x) < 0.02);
  sigmoid ``y < 0.01 or y > 0.99`` (sigmoid'(x) < 0.0099); hardtanh ``y <= min_val or
  y >= max_val``; hardsigmoid ``y <= 0 or y >= 1``.
- **histogram**: counts in fixed bins plus an underflow and an overflow count.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

__all__ = [
    "TANH_LIMIT",
    "SIGMOID_LOW",
    "SIGMOID_HIGH",
    "RELU_FAMILY",
    "SQUASHING",
    "NORMALIZING",
    "activation_kind",
    "flat",
    "moments",
    "moment_sums",
    "histogram",
    "uniform_histogram",
    "coprime_stride",
    "sample_stride",
    "uniform_bin_positions",
    "unit_peaks",
    "dead_fraction",
    "saturated_fraction",
    "nonfinite",
    "sq_norm",
    "norms",
]

#: tanh / softsign count as saturated where ``|y| > TANH_LIMIT``
TANH_LIMIT = 0.99
#: sigmoid counts as saturated where ``y < SIGMOID_LOW`` or ``y > SIGMOID_HIGH``
SIGMOID_LOW, SIGMOID_HIGH = 0.01, 0.99

#: activations whose units can die: output <= 0 on every sample (or ReLU6's at its cap 6), and
#: there zero gradient
RELU_FAMILY: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6)
#: squashing activations whose outputs can saturate
SQUASHING: tuple[type[nn.Module], ...] = (
    nn.Tanh,
    nn.Sigmoid,
    nn.Hardtanh,
    nn.Hardsigmoid,
    nn.Softsign,
)
_OTHER_ACTIVATIONS: tuple[type[nn.Module], ...] = (
    nn.LeakyReLU,
    nn.PReLU,
    nn.RReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Hardswish,
    nn.Softplus,
    nn.Tanhshrink,
)
#: normalizing outputs: a distribution over the units (a spread of ~1/C by construction)
NORMALIZING: tuple[type[nn.Module], ...] = (nn.Softmax, nn.LogSoftmax, nn.Softmin, nn.Softmax2d)


def activation_kind(m: nn.Module) -> str | None:
    """``"relu"`` (can die), ``"tanh"``/``"sigmoid"``/``"hardtanh"``/``"hardsigmoid"``
    (can saturate), ``"softmax"`` (a normalizing output: softmax, log-softmax, softmin),
    ``"activation"`` (another nonlinearity), or None (not an activation)."""
    if isinstance(m, RELU_FAMILY):  # ReLU6 subclasses Hardtanh: test the ReLU family first
        return "relu"
    if isinstance(m, nn.Tanh | nn.Softsign):
        return "tanh"
    if isinstance(m, nn.Sigmoid):
        return "sigmoid"
    if isinstance(m, nn.Hardtanh):
        return "hardtanh"
    if isinstance(m, nn.Hardsigmoid):
        return "hardsigmoid"
    if isinstance(m, NORMALIZING):
        return "softmax"
    if isinstance(m, _OTHER_ACTIVATIONS):
        return "activation"
    return None


def flat(y: torch.Tensor) -> torch.Tensor:
    """``(K, ...) -> (K, N)`` in float32 (float64 stays float64)."""
    y = y.detach()
    if y.dtype not in (torch.float32, torch.float64):
        y = y.float()
    return y.reshape(y.shape[0], -1)


def moments(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and population std per model: ``(K, ...) -> (K,), (K,)`` (from :func:`moment_sums`)."""
    shift, s1, norm = moment_sums(y)
    n = flat(y).shape[1]
    m = s1 / n
    return shift + m, (norm.square() / n - m.square()).clamp_min(0).sqrt()


def moment_sums(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Shifted sums per model: ``c`` (each model's first value), ``Σ(y − c)`` and ``‖y − c‖``.

    With ``n`` values, ``mean = c + Σ(y−c)/n`` and ``var = ‖y−c‖²/n − (Σ(y−c)/n)²`` (the
    shifted-data algorithm: shifting by a sample value avoids the cancellation of
    ``E[y²] − E[y]²`` when ``|mean| ≫ std``). Three kernels instead of ``torch.std_mean``'s
    Welford pass, which measured ~20× slower on CPU (115 µs vs 6 µs on (1, 25600), 1 thread).
    A NaN/Inf anywhere in ``y`` makes ``Σ(y − c)`` non-finite.

    The norm is the square root of ``(d·d).sum()``, not ``torch.linalg.vector_norm``: on CPU
    that kernel's float32 sum loses ~4e-4 (relative) on 3M contiguous values and ~2e-3 on a
    population's non-contiguous view (so a model's std depended on K in its third digit);
    ``sum`` stays within ~1e-7 (and on the non-contiguous view is ~3× faster).

    **Known limitation:** the norm is a float32 sum of squares for float32 (and 16-bit) data,
    so deviations above ~1.8e19 overflow it to inf: the std of such a layer reads as inf
    (the watch still tells it from a NaN/Inf output by ``Σ(y − c)``, which is finite up to
    ``|Σ(y − c)| ≈ 3.4e38``). Beyond that (1,000 values near 1e37) the float32 sum overflows
    too, and the watch counts the output as non-finite, as the trainer counts a gradient whose
    float32 norm overflows. Float64 sums cost 4–6× (211 µs against 49 µs for the norm on
    (16, 25600), 1 thread; 191 µs against 31 µs for the sum); left so for the diagnostics'
    per-step cost.
    """
    y2 = flat(y)  # (K, N)
    shift = y2[:, 0]  # (K,)
    d = y2 - shift[:, None]
    s1 = d.sum(dim=1)
    return shift, s1, d.mul_(d).sum(dim=1).sqrt_()


def histogram(y: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """Counts per model in the bins ``[e_i, e_{i+1})``: ``(K, ...) -> (K, len(edges) + 1)``.

    Column 0 counts values below ``edges[0]``, the last column values ``>= edges[-1]`` (and
    NaN); columns ``1..len(edges)-1`` are the bins. No host sync (``scatter_add_``, not
    ``bincount``, whose output size depends on the data). For evenly spaced bins
    :func:`uniform_histogram` is ~10× faster on CPU (``bucketize`` is slow there).
    """
    y2 = flat(y)  # (K, N)
    idx = torch.bucketize(y2.contiguous(), edges.to(y2.device, y2.dtype), right=True)  # 0..E
    counts = torch.zeros(y2.shape[0], edges.numel() + 1, dtype=torch.int64, device=y2.device)
    return counts.scatter_add_(1, idx, torch.ones_like(idx))


def uniform_histogram(
    y: torch.Tensor, low: float, high: float, bins: int, max_values: int | None = None
) -> torch.Tensor:
    """Counts per model in ``bins`` equal bins over ``[low, high)`` plus under/overflow.

    Returns ``(K, bins + 2)`` float32 counts: column 0 = values below ``low``, the last column
    = values ``>= high`` (and NaN), bin ``j`` = ``floor((y − low)/width) = j``. With
    ``max_values``, only every ``s``-th value of each model is counted (an evenly strided
    sample, ``s`` from :func:`sample_stride`; all values when ``N <= max_values``).
    """
    y2 = flat(y)  # (K, N)
    if max_values is not None and y2.shape[1] > max_values:
        y2 = y2[:, :: sample_stride(tuple(y.shape[1:]), max_values)]
    pos = uniform_bin_positions(y2, low, high, bins)
    # clamp to [0, bins + 1] then truncate: equals floor for these non-negative values;
    # NaN -> overflow (nan_to_num_ after the clamp, which passes NaN through)
    idx = pos.clamp_(0, bins + 1).nan_to_num_(nan=bins + 1).long()  # (K, n) in 0..bins+1
    counts = torch.zeros(y2.shape[0], bins + 2, dtype=torch.float32, device=y2.device)
    ones = torch.ones((), dtype=torch.float32, device=y2.device).expand(idx.shape)
    return counts.scatter_add_(1, idx, ones)


def coprime_stride(lengths: Iterable[int], least: int) -> int:
    """The smallest prime ``>= least`` that divides none of ``lengths`` (zeros, which every
    number divides, are left out)."""
    lengths = tuple(m for m in lengths if m)
    s = max(2, least)
    while not (
        all(s % q for q in range(2, math.isqrt(s) + 1)) and all(m % s for m in lengths)
    ):  # fmt: skip
        s += 1
    return s


@functools.lru_cache(maxsize=256)
def sample_stride(shape: tuple[int, ...], max_values: int) -> int:
    """Stride of an evenly strided sample of at most ``max_values`` of the ``N = prod(shape)``
    values of one model's output of per-model shape ``shape`` (row-major), 1 when ``N <=
    max_values``.

    Not ``ceil(N / max_values)``: a stride that is a multiple of the last dimension ``D`` samples
    one feature only (a ``(4096, 16)`` output and 4096 values: every value from unit 0), and one
    that is a multiple of ``H·W`` one pixel of each channel. The stride is the smallest prime
    ``>= ceil(N / max_values)`` dividing no trailing product of ``shape`` (``D``, ``H·W``, ...)
    whose sample reaches every index of every axis it has 8 samples per index for (a prime just
    above ``3·H·W`` steps the channel by 3: a third of them); the best of the first 64 such
    primes if none does.
    """
    n = math.prod(shape)
    if n <= max_values:
        return 1
    suffix, prod = [], 1
    for d in reversed(shape):
        prod *= int(d)
        suffix.append(prod)
    inner = [p // int(d) for p, d in zip(suffix, reversed(shape), strict=True)]  # below each
    best, best_score, s = 0, -1.0, -(-n // max_values)
    for _ in range(64):
        s = coprime_stride(suffix, s)
        idx = np.arange(0, n, s, dtype=np.int64)
        score = min(  # the worst axis's reached fraction of what it should reach
            len(np.unique((idx // below) % int(d))) / min(int(d), max(1, len(idx) // 8))
            for below, d in zip(inner, reversed(shape), strict=True)
        )
        if score >= 1.0:
            return s
        if score > best_score:
            best, best_score = s, score
        s += 1
    return best


def uniform_bin_positions(y: torch.Tensor, low: float, high: float, bins: int) -> torch.Tensor:
    """``(y − low)/width + 1`` as a fresh float64 tensor, ``width = (high − low)/bins``:
    ``(K, N)``.

    ``floor`` of it clamped to ``[0, bins + 1]`` is the column of :func:`uniform_histogram`
    (0 = underflow, ``bins + 1`` = overflow). In float64 because float32 rounds the position of
    a value just below an edge onto the edge (tanh's 0.99999994 against 1.0): the bins are those
    of the exact edges ``low + j·width`` (the float32 edges a record shows round them).
    """
    scale = bins / (high - low)
    return (y.to(torch.float64) * scale).sub_(low * scale - 1.0)


def dead_fraction(
    y: torch.Tensor, unit_axis: str = "channel", cap: float | None = None
) -> torch.Tensor:
    """Fraction of units that are ``<= 0`` on every sample: ``(K, B, ...) -> (K,)``.

    The units are those of :func:`unit_peaks` (``unit_axis="channel"``: axis 2, the channels of
    a convolution; ``"last"``: the last axis, the features of a Linear); a ``(K, B)`` output is
    one unit. A unit is dead when its maximum over the batch (and positions) is ``<= 0``, or,
    with ``cap`` (ReLU6's 6), when no value lies inside ``(0, cap)``: ``max min(y, cap − y) <=
    0`` (at 0 on some samples and at the cap on the others: no gradient passes either way).
    """
    if cap is not None:
        y = (cap - y).clamp_max_(y)
    return (unit_peaks(y, unit_axis) <= 0).float().mean(dim=1)  # (K,)


def unit_peaks(y: torch.Tensor, unit_axis: str = "channel") -> torch.Tensor:
    """Each unit's maximum over the batch and every other axis: ``(K, B, ...) -> (K, U)``.

    ``unit_axis="channel"``: ``(K, B, U, *S)``, units on axis 2 (conv-style ``(B, C, H, W)``
    outputs); ``"last"``: ``(K, B, ..., U)``, units on the last axis (Linear-style outputs, e.g.
    ``(B, T, D)`` sequences). Both agree on ``(K, B, U)``; a ``(K, B)`` output is one unit.
    :func:`dead_fraction` is the fraction of peaks ``<= 0``.
    """
    if unit_axis not in ("channel", "last"):
        raise ValueError(f"unit_axis must be 'channel' or 'last', got {unit_axis!r}")
    y = y.detach()
    if y.dim() < 2:
        raise ValueError(f"dead_fraction needs a (K, B, ...) tensor, got shape {tuple(y.shape)}")
    if y.dim() == 2:
        y = y.unsqueeze(-1)  # (K, B, 1)
    # "last": every axis but the model and the last; "channel": every axis but 0 and 2
    dims = tuple(range(1, y.dim() - 1)) if unit_axis == "last" else (1, *range(3, y.dim()))
    return y.amax(dim=dims)  # (K, U)


def saturated_fraction(y: torch.Tensor, kind: str, module: nn.Module | None = None) -> torch.Tensor:
    """Fraction of elements at the limits of a squashing nonlinearity: ``(K, ...) -> (K,)``.

    ``kind`` is one of ``"tanh"`` (``|y| > 0.99``), ``"sigmoid"`` (``y < 0.01 or y > 0.99``,
    i.e. ``|y − 0.5| > 0.49``), ``"hardtanh"`` (``y <= min_val or y >= max_val`` of
    ``module``), ``"hardsigmoid"`` (``y <= 0 or y >= 1``).
    """
    y2 = y.detach()  # (K, ...): no flattening, which would copy a non-contiguous output
    if y2.dim() < 2:
        y2 = y2.reshape(y2.shape[0], -1)
    if y2.dtype not in (torch.float32, torch.float64):
        y2 = y2.float()
    # float 0/1 masks from in-place comparisons: ~3x faster on CPU than bool masks + sum
    if kind == "tanh":
        sat = y2.abs().gt_(TANH_LIMIT)
    elif kind == "sigmoid":
        sat = (y2 - 0.5).abs_().gt_(0.5 - SIGMOID_LOW)
    elif kind == "hardtanh":
        lo = getattr(module, "min_val", -1.0)
        hi = getattr(module, "max_val", 1.0)
        sat = ((y2 <= lo) | (y2 >= hi)).float()
    elif kind == "hardsigmoid":
        sat = (y2 - 0.5).abs_().ge_(0.5)
    else:
        raise ValueError(
            f"saturated_fraction: unknown kind '{kind}'; use tanh, sigmoid, hardtanh, hardsigmoid"
        )
    return sat.mean(dim=tuple(range(1, sat.dim())))


def nonfinite(y: torch.Tensor) -> torch.Tensor:
    """True for each model whose tensor holds a NaN or ±Inf: ``(K, ...) -> (K,)`` bool."""
    return ~torch.isfinite(flat(y)).all(dim=1)


def sq_norm(t: torch.Tensor, k: int) -> torch.Tensor:
    """Squared Euclidean norm per model of a ``(K, ...)`` tensor, in float32: ``(K,)``.

    For a plain module pass ``k=1``: the whole tensor is one model's.
    """
    t2 = t.detach().reshape(k, -1)
    if t2.dtype not in (torch.float32, torch.float64):
        t2 = t2.float()
    return (t2 * t2).sum(dim=1)


def foreach_norms(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
    """Euclidean norm of each whole tensor, one ``torch._foreach_norm`` call; 16-bit tensors
    are summed in float32 (as the per-model norms of :func:`norms` are); a sparse tensor (the
    gradient of ``nn.Embedding(sparse=True)``) is the norm of its coalesced values."""
    low = (torch.float16, torch.bfloat16)
    dense = [_dense_values(t.detach()) for t in tensors]
    return torch._foreach_norm([t.float() if t.dtype in low else t for t in dense])


def _dense_values(t: torch.Tensor) -> torch.Tensor:
    """A sparse tensor's values, duplicates summed (same norm as its dense form); else ``t``."""
    return t.coalesce().values() if t.is_sparse else t


def norms(tensors: list[torch.Tensor], k: int) -> list[torch.Tensor]:
    """Euclidean norm per model of each ``(K, ...)`` tensor: a list of ``(K,)`` tensors.

    ``k=1`` (a plain module) uses one ``torch._foreach_norm`` call for the whole list.
    """
    if not tensors:
        return []
    if k == 1:
        return [n.reshape(1).float() for n in foreach_norms(tensors)]  # (free for float32)
    out = []
    for t in tensors:
        t = t.detach()
        if t.dim() == 1:
            t = t.unsqueeze(1)  # (K, 1)
        # reduce over the trailing axes: t.reshape(k, -1) would copy a non-contiguous tensor
        dims = tuple(range(1, t.dim()))
        low = t.dtype in (torch.float16, torch.bfloat16)
        out.append(torch.linalg.vector_norm(t, dim=dims, dtype=torch.float32 if low else None))
    return out
