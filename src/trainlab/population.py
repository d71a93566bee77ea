"""K models of one architecture, trained in lockstep as one module.

Every parameter and buffer of a plain model is stacked along a new first axis of length K, and
a forward takes ``(K, B, ...)`` inputs to ``(K, B, C)`` outputs. Model ``k`` only ever touches
slice ``k`` of every tensor, so its result does not depend on K or on its slot (DESIGN.md
principle 2); random draws inside the network (dropout) come from :mod:`trainlab.rng` streams
keyed by the model's own seed.

Two paths, one interface (measured on 2 CPU cores, digits MLP 64-256-256-10, K=16: stacked
``baddbmm`` 64.7 model-epochs/s against 50.6 for ``vmap(functional_call)``, DESIGN.md):

- **stacked**: a copy of the module in which each known leaf is replaced by a stacked twin
  (``Linear -> baddbmm``, ``Conv1d/2d -> grouped conv``, ``BatchNorm -> batch_norm over K*C
  channels``, ``Dropout -> per-model counter-based masks``, pooling/``Flatten`` fold K into the
  batch; a ``Flatten``/``Unflatten`` whose dim may be the batch axis sends the model to
  vmap). Used when every container is an ``nn.Sequential`` or declares
  ``population_safe = True`` (its forward only calls submodules and elementwise ops) and
  holds no parameters or buffers of its own.
- **vmap**: any other ``nn.Module``, through ``torch.func.functional_call`` under ``torch.vmap``.
- **loop**: a module whose forward ``torch.vmap`` cannot batch (recurrent layers: ``nn.LSTM``,
  ``nn.GRU``, ``nn.RNN`` and the cells; any op without a batching rule; ``.item()`` or a
  Python branch on a tensor): the same ``functional_call`` on each model's slice, one model
  after another (K times the work of one model, no batching). Recurrent layers are sent here at
  construction; any other module the first time vmap refuses it (its buffers are restored
  first, so no statistic is updated twice), with a warning naming the op. A Python branch that
  leaves a parameter unused by some models in a step breaks principle 2 (their rows get a zero
  gradient, not None, which momentum and decay still act on): warned once
  (:meth:`Population._warn_unused_parameters`).

In every mode, every torch dropout module (``Dropout``, ``Dropout1d/2d/3d``, ``AlphaDropout``,
``FeatureAlphaDropout``, and subclasses that keep their forward) becomes a
:class:`SeededDropout`; a forward that draws random numbers itself (``F.dropout``, a dropout
subclass with its own forward) cannot be seeded per model and is refused with a UserError.

In every mode, sharing and freezing survive: a module used at several places, a parameter tied
between modules and ``requires_grad=False`` are as in the plain model.

In every mode, ``pop.net.state_dict()`` has the plain model's keys with a leading K axis, so
``pop.member_state(k)`` / ``pop.unstack(k)`` give model ``k`` back as a plain module.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import hashlib
import numbers
import os
import re
import sys
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils import _pytree as pytree

from . import rng
from .errors import UserError, unknown_name

__all__ = ["Population", "SeededDropout", "is_stackable"]

# Parameter-free modules that act elementwise: they work on (K, B, ...) as they are.
_ELEMENTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Softsign,
    nn.Tanhshrink, nn.Identity,
)  # fmt: skip
# Parameter-free modules that treat dim 0 as the batch: fold K into it.
_FOLDABLE = (
    nn.Flatten, nn.Unflatten, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
    nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
    nn.Upsample, nn.ZeroPad1d, nn.ZeroPad2d,
)  # fmt: skip


#: torch's dropout modules -> the kind of mask SeededDropout draws for them
_DROPOUT_KINDS: tuple[tuple[type[nn.Module], str], ...] = (
    (nn.Dropout, "dropout"),
    (nn.Dropout1d, "dropout1d"),
    (nn.Dropout2d, "dropout2d"),
    (nn.Dropout3d, "dropout3d"),
    (nn.AlphaDropout, "alpha"),
    (nn.FeatureAlphaDropout, "feature_alpha"),
)
_DROPOUT_CLASSES: dict[str, type[nn.Module]] = {kind: cls for cls, kind in _DROPOUT_KINDS}
#: channel-wise kinds -> the per-model input rank torch treats as unbatched (None: never)
_CHANNEL_KINDS: dict[str, int | None] = {
    "dropout1d": 2,  # (C, L) unbatched, (N, C, L) batched
    "dropout2d": None,  # torch reads 3-D input as (N, C, L), 4-D as (N, C, H, W)
    "dropout3d": 4,  # (N, C, D, H, W) batched, any other rank one sample (see _noise_shape)
    "feature_alpha": None,
}
#: SELU's saturation value -λα (Klambauer et al. 2017), as torch's alpha_dropout
_SELU_ALPHA = 1.7580993408473766


def _dropout_kind(m: nn.Module) -> str | None:
    """The SeededDropout kind of a torch dropout module, None for anything else (a subclass
    with a ``forward`` of its own, e.g. Monte-Carlo dropout that drops at evaluation too, is not
    replaced: its forward runs as written)."""
    return next(
        (k for cls, k in _DROPOUT_KINDS if isinstance(m, cls) and type(m).forward is cls.forward),
        None,
    )


class SeededDropout(nn.Module):
    """Dropout with a per-model probability and random stream (a torch dropout module's twin).

    ``kind`` follows the module it replaces: ``dropout`` (inverted dropout, Srivastava et al.
    2014: ``y = x · m / (1 − p)``, ``m ~ Bernoulli(1 − p)`` per element), ``dropout1d/2d/3d``
    (the same with one ``m`` per sample and channel, Tompson et al. 2015), ``alpha`` and
    ``feature_alpha`` (alpha dropout for SELU nets, Klambauer et al. 2017:
    ``y = a·(x·m + α'(1 − m)) + b``, keeping mean and variance; per element or per channel).
    The uniforms come from ``rng.uniform(seed, step, site)``; evaluation: ``y = x``. Buffers
    ``seed`` and ``p`` are ``(K,)`` in a stacked population (input ``(K, B, ...)``), scalars
    per model under vmap.
    """

    def __init__(
        self,
        p: float,
        site: int,
        k: int | None = None,
        kind: str = "dropout",
        plain: nn.Module | None = None,
    ) -> None:
        super().__init__()
        if kind not in _DROPOUT_CLASSES:
            raise unknown_name("dropout kind", kind, _DROPOUT_CLASSES)
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0 <= p <= 1:
            raise UserError(f"dropout probability must be in [0, 1], got {p!r}")  # as nn.Dropout
        self.site = site
        self.kind = kind
        self.step = 0  # set by Population.set_step before each training forward
        self.calls = 0  # training calls since set_step: each call draws its own mask
        shape = () if k is None else (k,)  # () for one plain model
        self.register_buffer("seed", torch.zeros(shape, dtype=torch.int64))
        # float64, and never cast with the model (a bfloat16 population keeps rate 0.1, not
        # 0.10009765625): the mask compares with its float32 value, the scale uses x's dtype
        self.register_buffer("p", torch.full(shape, float(p), dtype=torch.float64))
        # the torch module this one stands for (not a submodule): unstacking gives it back
        self.__dict__["_plain"] = plain

    def _apply(self, fn, recurse=True):  # type: ignore[no-untyped-def]
        rates = self.p
        super()._apply(fn, recurse)
        self.p = rates.to(self.p.device)  # moved with the model, never cast
        return self

    def to_plain(self, p: float) -> nn.Module:
        """The plain torch dropout module this layer replaces, with drop probability ``p``."""
        plain = self.__dict__.get("_plain")
        f = np.float32(p)  # a rate read back from float32 (0.1000000015): the rate given, 0.1
        p = float(str(f)) if float(f) == float(p) else float(p)
        plain = _DROPOUT_CLASSES[self.kind](p) if plain is None else copy.deepcopy(plain)
        plain.p = p
        return plain

    def restacked(self, k: int) -> SeededDropout:
        """A fresh copy of this layer for a population of ``k`` (rate from the first model)."""
        p = float(self.p.reshape(-1)[0])
        return SeededDropout(p, self.site, k, self.kind, self.__dict__.get("_plain"))

    def _noise_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of one model's mask for a per-model input of ``shape``."""
        if self.kind not in _CHANNEL_KINDS:
            return shape
        if self.kind == "dropout1d" and len(shape) not in (2, 3):  # torch's check
            raise ValueError(
                f"dropout1d: Expected 2D or 3D input, but received a {len(shape)}D input"
            )
        if self.kind == "dropout3d":  # torch batches only 5-D input; any other is one sample
            lead = 2 if len(shape) == 5 else 1
        else:
            lead = 1 if len(shape) == _CHANNEL_KINDS[self.kind] else 2  # (C, ...) or (N, C, ...)
        if len(shape) < lead:
            raise UserError(
                f"{self.kind} needs inputs with a channel axis (N, C, ...), got shape {shape}; "
                "use nn.Dropout for flat features"
            )
        return shape[:lead] + (1,) * (len(shape) - lead)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        # the n-th call since set_step draws stream (site, n), as torch draws a fresh mask per
        # call (a module used twice, or two forwards in one step). A forward run again inside
        # the backward (activation checkpointing) is not counted and draws the first call's,
        # which is right only if the module ran once in the step: otherwise it is refused.
        site = self.site
        if torch._C._current_graph_task_id() == -1:
            if self.calls:
                site = rng.seed_key("call", self.site, self.calls)
            self.calls += 1
        elif self.calls > 1:
            raise UserError(
                f"a dropout module called {self.calls} times in one training step is recomputed "
                "by activation checkpointing, which cannot tell its calls apart; give each use "
                "its own dropout module, or run one forward per step"
            )
        if self.seed.dim() == 0:  # one plain model, or one model under vmap: x is (B, ...)
            shape = self._noise_shape(tuple(x.shape))
            u = rng.uniform(self.seed.reshape(1), self.step, site, shape)[0]
            p = self.p
        else:  # stacked: x is (K, B, ...)
            shape = self._noise_shape(tuple(x.shape[1:]))
            u = rng.uniform(self.seed, self.step, site, shape)  # (K, *shape)
            p = self.p.view(-1, *([1] * (x.dim() - 1)))
        p32 = p.float()  # the rate as the float32 uniforms are compared with it
        keep = (u >= p32).to(x.dtype)  # broadcasts over the spatial axes for channel kinds
        q = p32 if x.dtype == torch.float32 else p  # the arithmetic: float32, else from float64
        if self.kind in ("alpha", "feature_alpha"):
            # torch's alpha_dropout: a = 1/√((α'²p + 1)(1 − p)), dropped units -> a·α'·(p − 1)
            a = torch.rsqrt(((_SELU_ALPHA**2) * q + 1.0) * (1.0 - q).clamp_min(1e-12))
            a, q = a.to(x.dtype), q.to(x.dtype)
            return x * keep * a + _SELU_ALPHA * a * (keep - 1.0 + q)
        if x.dtype in (torch.float32, torch.float64):
            return x * keep / (1.0 - q).clamp_min(1e-12)
        return x * keep * (1.0 / (1.0 - q).clamp_min(1e-12)).to(x.dtype)  # 16-bit: scale from f64


class _StackedLinear(nn.Module):
    """``y_k = x_k W_kᵀ + b_k`` for every model k at once (``baddbmm``)."""

    def __init__(self, m: nn.Linear, k: int) -> None:
        super().__init__()
        self.plain_kind = type(m).__name__.lower()  # watch() records the plain kind
        self.in_features, self.out_features = m.in_features, m.out_features
        self.weight = _param(m.weight, k)  # (K, out, in)
        self.bias = _param(m.bias, k) if m.bias is not None else None  # (K, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Computed feature-major, yᵀ = W xᵀ + b, so that the weight gradient g xᵀ comes out
        # in W's own (K, out, in) layout: no transpose copy per step (-9% step time, K=16 CPU).
        k = self.weight.shape[0]
        lead = x.shape[:-1]
        if x.dim() < 2 or x.shape[0] != k or x.shape[-1] != self.in_features:
            raise RuntimeError(  # as nn.Linear says it; a reshape would mix up samples
                f"mat1 and mat2 shapes cannot be multiplied: input {tuple(x.shape)} for a "
                f"Linear({self.in_features}, {self.out_features}) of K={k} models needs "
                f"(K={k}, ..., {self.in_features})"
            )
        xt = x.reshape(k, -1, self.in_features).transpose(1, 2)  # (K, in, N)
        if self.bias is None:
            yt = torch.bmm(self.weight, xt)
        else:
            yt = torch.baddbmm(self.bias[:, :, None], self.weight, xt)  # (K, out, N)
        y = yt.transpose(1, 2)  # (K, N, out), a view
        return y if x.dim() == 3 else y.reshape(*lead, self.out_features)  # (K, B, ..., out)


class _StackedConv(nn.Module):
    """Convolution of K models as one grouped convolution over K·C channels."""

    def __init__(self, m: nn.Conv1d | nn.Conv2d, k: int) -> None:
        super().__init__()
        self.plain_kind = type(m).__name__.lower()  # watch() records the plain kind
        self.conv = F.conv1d if isinstance(m, nn.Conv1d) else F.conv2d
        self.stride, self.padding, self.dilation = m.stride, m.padding, m.dilation
        self.groups, self.out_channels = m.groups, m.out_channels
        self.weight = _param(m.weight, k)  # (K, O, C/g, *kernel)
        self.bias = _param(m.bias, k) if m.bias is not None else None  # (K, O)
        self.spatial = m.weight.dim() - 2  # 1 or 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == self.spatial + 2:  # (K, C, *S): one unbatched sample per model, as torch
            return self.forward(x.unsqueeze(1)).squeeze(1)
        k, b = x.shape[:2]
        xf = x.transpose(0, 1).reshape(b, k * x.shape[2], *x.shape[3:])  # (B, K*C, *S)
        w = self.weight.reshape(-1, *self.weight.shape[2:])  # (K*O, C/g, *kernel)
        bias = self.bias.reshape(-1) if self.bias is not None else None
        y = self.conv(xf, w, bias, self.stride, self.padding, self.dilation, self.groups * k)
        return y.reshape(b, k, self.out_channels, *y.shape[2:]).transpose(0, 1)  # (K, B, O, *S')


class _StackedBatchNorm(nn.Module):
    """Batch norm (Ioffe & Szegedy 2015) of K models as one over K·C channels.

    Training normalizes with each model's batch statistics and updates its own running
    averages ``r ← (1 − momentum)·r + momentum·batch_stat`` in the ``(K, C)`` buffers.
    """

    def __init__(self, m: nn.modules.batchnorm._BatchNorm, k: int) -> None:
        super().__init__()
        if m.momentum is None and m.track_running_stats:  # (is_stackable sends it to vmap)
            raise UserError(
                "a stacked BatchNorm with momentum=None (a cumulative average) is not supported"
            )
        self.plain_kind = type(m).__name__.lower()  # watch() records the plain kind
        self.ranks = (2, 3) if isinstance(m, nn.BatchNorm1d) else (4,)  # per-model input, as torch
        self.eps = m.eps
        self.momentum = 0.0 if m.momentum is None else m.momentum  # (None: untracked, unused)
        self.track = m.track_running_stats
        self.weight = _param(m.weight, k) if m.affine else None  # (K, C)
        self.bias = _param(m.bias, k) if m.affine else None
        if self.track:
            self.register_buffer("running_mean", _repeat(m.running_mean, k))  # (K, C)
            self.register_buffer("running_var", _repeat(m.running_var, k))
            self.register_buffer("num_batches_tracked", _repeat(m.num_batches_tracked, k))  # (K,)
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self.frozen: torch.Tensor | None = None  # (K,) bool: models whose statistics stay put

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() - 1 not in self.ranks:  # the plain layer's own check (its message)
            want = " or ".join(f"{r}D" for r in self.ranks)
            raise ValueError(f"expected {want} input (got {x.dim() - 1}D input)")
        k, b = x.shape[:2]
        xf = x.transpose(0, 1).reshape(b, k * x.shape[2], *x.shape[3:])  # (B, K*C, *S)
        use_batch = self.training or not self.track
        rm, rv = self.running_mean, self.running_var
        frozen = self.frozen if self.training and self.track else None
        if frozen is not None:
            # stopped models keep their statistics: batch norm updates copies (which its
            # backward saves), and only the running models' rows are copied back below
            rm, rv = rm.clone(), rv.clone()
        if self.training and self.track:
            self.num_batches_tracked.add_((~frozen).long() if frozen is not None else 1)
        y = F.batch_norm(
            xf,
            rm.view(-1) if self.track else None,  # views: updated in place
            rv.view(-1) if self.track else None,
            self.weight.reshape(-1) if self.weight is not None else None,
            self.bias.reshape(-1) if self.bias is not None else None,
            use_batch,
            self.momentum,
            self.eps,
        )
        if frozen is not None:
            with torch.no_grad():
                f = frozen[:, None]
                self.running_mean.copy_(torch.where(f, self.running_mean, rm))
                self.running_var.copy_(torch.where(f, self.running_var, rv))
        return y.reshape(b, k, *x.shape[2:]).transpose(0, 1)  # (K, B, C, *S)


class _StackedLayerNorm(nn.Module):
    """Layer norm (Ba et al. 2016) with a per-model affine ``(K, *normalized_shape)``."""

    def __init__(self, m: nn.LayerNorm, k: int) -> None:
        super().__init__()
        self.plain_kind = type(m).__name__.lower()  # watch() records the plain kind
        self.shape, self.eps = tuple(m.normalized_shape), m.eps
        self.weight = _param(m.weight, k) if m.weight is not None else None
        self.bias = _param(m.bias, k) if m.bias is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.layer_norm(x, self.shape, None, None, self.eps)
        view = (x.shape[0],) + (1,) * (x.dim() - 1 - len(self.shape)) + self.shape
        if self.weight is not None:
            y = y * self.weight.view(view)
        if self.bias is not None:
            y = y + self.bias.view(view)
        return y


class _Fold(nn.Module):
    """Run a parameter-free batch-first module on ``(K·B, ...)`` and unfold to ``(K, B, ...)``."""

    folded = True  # watch() describes it by ``inner``

    def __init__(self, m: nn.Module) -> None:
        super().__init__()
        self.inner = m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.inner(x.reshape(x.shape[0] * x.shape[1], *x.shape[2:]))  # sizes: B may be 0
        return y.reshape(x.shape[0], x.shape[1], *y.shape[1:])


def _repeat(t: torch.Tensor, k: int) -> torch.Tensor:
    """``(K, *t.shape)`` copies of a plain tensor."""
    return t.detach().unsqueeze(0).repeat(k, *([1] * t.dim())).clone()


def _param(p: torch.Tensor, k: int) -> nn.Parameter:
    """``(K, *p.shape)`` copies of a plain parameter, frozen where it is
    (``requires_grad=False`` stays so)."""
    return nn.Parameter(_repeat(p, k), requires_grad=p.requires_grad)


def _twin(m: nn.Module, k: int, name: str) -> nn.Module | None:
    """The stacked twin of a known leaf module, ``m`` itself for elementwise ones (a copy that
    works out of place for an ``inplace=True`` one), else None."""
    if isinstance(m, SeededDropout):
        return m.restacked(k)  # a plain one, re-stacked
    kind = _dropout_kind(m)
    if kind is not None:
        return SeededDropout(m.p, rng.seed_key("dropout", name), k, kind, m)
    t = type(m)  # exact types: a subclass has its own forward or state
    if t is nn.Linear:
        return _StackedLinear(m, k)
    if t in (nn.Conv1d, nn.Conv2d) and m.padding_mode == "zeros":
        return _StackedConv(m, k)
    # (a cumulative average, or a track_running_stats flag switched after construction so that
    # it no longer says whether the buffers exist, runs under vmap as torch's own layer)
    if (
        t in (nn.BatchNorm1d, nn.BatchNorm2d)
        and (m.running_mean is not None) == m.track_running_stats
        and not (m.momentum is None and m.track_running_stats)
    ):
        return _StackedBatchNorm(m, k)
    if t is nn.LayerNorm:
        return _StackedLayerNorm(m, k)
    if t in _ELEMENTWISE and not any(True for _ in m.parameters()):
        if getattr(m, "inplace", False):  # its input may be a (K, ...) expanded view of one
            m = copy.copy(m)  # batch (pop(x.expand(K, ...)), the trainer's evaluation), which
            m.inplace = False  # no in-place op can write; the result is the same
        return m
    if t in _FOLDABLE and not getattr(m, "return_indices", False):  # (values, indices): vmap
        # a Flatten/Unflatten that may reach the batch axis (frame-wise layers: Flatten(0, 1)
        # ... Unflatten(0, (-1, T))) would act on K·B: vmap (a negative dim is not known yet)
        dim = m.start_dim if t is nn.Flatten else m.dim if t is nn.Unflatten else 1
        return _Fold(m) if isinstance(dim, int) and dim >= 1 else None
    return None


def _is_container(m: nn.Module) -> bool:
    return type(m) in (nn.Sequential, nn.ModuleList, nn.ModuleDict) or _declared_safe(type(m))


def _declared_safe(cls: type) -> bool:
    """``population_safe = True`` vouches for the ``forward`` of the class that declares it (or
    one it inherits): a subclass with its own ``forward`` (``super().forward(x).log_softmax(1)``,
    where axis 1 is no longer the classes once K leads) must declare it again."""
    mro = cls.__mro__
    declared = next((i for i, c in enumerate(mro) if "population_safe" in vars(c)), None)
    forward = next((i for i, c in enumerate(mro) if "forward" in vars(c)), len(mro))
    return declared is not None and declared <= forward and bool(mro[declared].population_safe)


def is_stackable(model: nn.Module) -> bool:
    """True if every module is a population-safe container or a leaf with a stacked twin.

    A container with parameters or buffers of its own (a ``population_safe`` block with a
    learned scale) is not: only leaves get stacked twins, so those would stay shared by all
    models; the vmap path stacks them.
    """
    for name, m in model.named_modules():
        if m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks:
            return False  # a twin would drop them (user hooks, nn.utils.spectral_norm)
        children = list(m.children())
        if children:
            own = [*m.parameters(recurse=False), *m.buffers(recurse=False)]
            if not _is_container(m) or own:
                return False
        elif _twin(m, 1, name) is None:
            return False
    return True


def _stack(model: nn.Module, k: int) -> nn.Module:
    """A copy of ``model`` whose leaves are replaced by their K-stacked twins.

    Sharing survives: a module used at several places gets one twin, and a parameter or
    buffer tied between modules (``b.weight = a.weight``) is one stacked tensor.
    """
    net = copy.deepcopy(model)
    if not list(net.children()):  # the template is one layer (nn.Linear): its own twin
        return _twin(net, k, "")
    twins: dict[int, nn.Module] = {}  # id of a plain leaf -> its twin
    for name, m in list(net.named_modules(remove_duplicate=False)):
        if name and not list(m.children()):
            if id(m) not in twins:
                twins[id(m)] = _twin(m, k, name)
            _replace(net, name, twins[id(m)])
    _tie_like(model, net)
    return net


def _tie_like(plain: nn.Module, net: nn.Module) -> None:
    """Make ``net``'s parameters and buffers shared where ``plain``'s are (same module names)."""
    first: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # id -> (plain tensor, net's)
    for name, m in plain.named_modules(remove_duplicate=False):
        twin = net.get_submodule(name)
        for attr in ("_parameters", "_buffers"):
            mine = getattr(twin, attr)
            for n, t in getattr(m, attr).items():
                if t is None or mine.get(n) is None:
                    continue
                if id(t) in first:
                    mine[n] = first[id(t)][1]
                else:
                    first[id(t)] = (t, mine[n])


def _replace(net: nn.Module, name: str, new: nn.Module) -> None:
    parent, _, attr = name.rpartition(".")
    setattr(net.get_submodule(parent) if parent else net, attr, new)


def _seeded(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with every torch dropout module (``Dropout``, ``Dropout1d/2d/3d``,
    ``AlphaDropout``, ``FeatureAlphaDropout``) replaced by a :class:`SeededDropout`."""
    net = copy.deepcopy(model)
    seeded: dict[int, SeededDropout] = {}  # a dropout module used at several places: one twin
    for name, m in list(net.named_modules(remove_duplicate=False)):
        kind = _dropout_kind(m)
        if kind is not None:
            if id(m) not in seeded:
                seeded[id(m)] = SeededDropout(m.p, rng.seed_key("dropout", name), None, kind, m)
            _replace(net, name, seeded[id(m)])
    return net


def _stack_state(model: nn.Module, k: int) -> nn.Module:
    """A copy of ``model`` whose parameters and buffers are replaced by ``(K, ...)`` stacks
    (a tensor tied between modules stays one tensor, as ``functional_call`` expects)."""
    net = copy.deepcopy(model)
    stacked: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # id -> (plain, stacked)
    for m in net.modules():
        for table, make in ((m._parameters, _param), (m._buffers, _repeat)):
            for n, t in list(table.items()):
                if t is not None:
                    if id(t) not in stacked:
                        stacked[id(t)] = (t, make(t, k))
                    table[n] = stacked[id(t)][1]
    return net


def _architecture(model: nn.Module) -> list:
    """What a state_dict does not hold: each module's name, type and settings (dropout rates,
    per model in a population, left out), which parameters are frozen, each parameter's and
    buffer's dtype, and which names share one tensor (tied weights)."""
    out: list = [
        (n, type(m).__name__, "" if _dropout_kind(m) else _settings(m))
        for n, m in model.named_modules(remove_duplicate=False)
    ]
    owners: dict[int, list[str]] = {}
    for n, t in [
        *model.named_parameters(remove_duplicate=False),
        *model.named_buffers(remove_duplicate=False),
    ]:
        owners.setdefault(id(t), []).append(n)
    for n, t in model.named_parameters(remove_duplicate=False):
        out.append((n, "frozen" if not t.requires_grad else "trained", ""))
    for n, t in [*model.named_parameters(), *model.named_buffers()]:  # (float64 stays float64)
        out.append((n, "dtype", str(t.dtype).removeprefix("torch.")))
        out.append((n, "shape", str(tuple(t.shape))))  # (a non-persistent buffer's too)
    out += [
        (names[0], "tied to", ", ".join(names[1:])) for names in owners.values() if len(names) > 1
    ]
    return out


#: attributes that change no result (or are per call): not compared by from_models
_UNCOMPARED = frozenset({"training", "inplace"})
_INPLACE = re.compile(r"(, )?inplace=(True|False)")


def _settings(m: nn.Module) -> str:
    """A module's settings: its ``extra_repr()``, and the plain attributes it leaves out
    (``MultiheadAttention``'s ``num_heads``, ``TransformerEncoderLayer``'s ``norm_first``,
    ``AvgPool1d``'s ``count_include_pad``, ``Upsample``'s ``align_corners``)."""

    def plain(v: Any) -> bool:
        if isinstance(v, tuple | list):
            return all(plain(u) for u in v)
        return v is None or isinstance(v, bool | int | float | str)

    def shown(v: Any) -> str | None:
        """A plain value's repr; a function's name (``torch.relu`` vs ``torch.tanh`` kept as
        an attribute); a plain tensor attribute's dtype, shape and a hash of its bytes; None
        for anything else (its repr may hold a memory address: not compared)."""
        if plain(v):
            return repr(v)
        if isinstance(v, torch.Tensor):
            what = f"tensor({str(v.dtype).removeprefix('torch.')}, {tuple(v.shape)}"
            if v.layout != torch.strided or v.is_meta:  # (sparse, meta: no bytes to hash)
                return f"{what}, {v.layout})"
            raw = v.detach().cpu().reshape(-1).contiguous().view(torch.uint8).numpy().tobytes()
            return f"{what}, {hashlib.sha256(raw).hexdigest()[:12]})"
        if callable(v) and hasattr(v, "__qualname__"):
            return f"{getattr(v, '__module__', None) or ''}.{v.__qualname__}"
        return None

    text = _INPLACE.sub("", m.extra_repr()).removeprefix(", ")  # (inplace: no result)
    # (a hook-based spectral_norm's `weight`: recomputed from the compared weight_orig, u, v)
    hooked = {getattr(h, "name", None) for h in m._forward_pre_hooks.values()}
    more = [
        f"{k}={r}"
        for k, v in sorted(vars(m).items())
        if not k.startswith("_")
        and k not in _UNCOMPARED
        and k not in hooked
        and f"{k}=" not in text
        and (r := shown(v)) is not None
    ]
    return ", ".join([text, *more] if text else more)


def _first_difference(a: list, b: list) -> tuple[tuple | None, tuple | None]:
    """The first entries of two :func:`_architecture` lists that differ, matched by name within
    each kind of entry (modules, then frozen flags, dtypes, shapes, ties): a layer one model
    lacks is paired with nothing, not with the next entry of the other list."""

    def kind(e: tuple) -> str:
        return {"frozen": "grad", "trained": "grad"}.get(e[1], e[1]) if e[1] in (
            "frozen", "trained", "dtype", "shape", "tied to"
        ) else "module"  # fmt: skip

    for k in ("module", "grad", "dtype", "shape", "tied to"):
        da = {e[0]: e for e in a if kind(e) == k}
        db = {e[0]: e for e in b if kind(e) == k}
        for name in [*da, *(n for n in db if n not in da)]:
            if da.get(name) != db.get(name):
                return da.get(name), db.get(name)
    return None, None


def _described(entry: tuple | None) -> str:
    """An :func:`_architecture` entry as ``Type(settings)`` (or ``frozen``, ``tied to b``), or
    ``nothing``."""
    if entry is None:
        return "nothing"
    if entry[1] in ("frozen", "trained"):
        return entry[1]
    if entry[1] == "tied to":
        return f"tied to {entry[2]}"
    if entry[1] in ("dtype", "shape"):
        return entry[2]
    return f"{entry[1]}({entry[2]})"


def _caller_stacklevel() -> int:
    """The ``stacklevel`` that points a warning raised here at the first frame outside torch
    and trainlab: the user's line that called the model (or the trainer)."""
    internal = tuple(os.path.dirname(f) + os.sep for f in (torch.__file__, __file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(internal):
        frame, level = frame.f_back, level + 1
    return level


def _randomness_problem(name: str, message: str) -> str | None:
    """One line for a forward that draws random numbers itself (vmap's ``randomness`` error),
    which no mode can seed per model; None for any other error."""
    if "randomness" not in message:
        return None
    return (
        f"{name}.forward draws random numbers itself (e.g. F.dropout, torch.rand or "
        "nn.MultiheadAttention with dropout > 0), which a population cannot seed per model; "
        "use dropout modules (nn.Dropout, nn.Dropout2d, nn.AlphaDropout, ...) as attributes "
        "instead"
    )


def _unbatchable(message: str) -> str | None:
    """What in a forward ``torch.vmap`` cannot batch (the loop mode runs it), from vmap's error;
    None for an error that is not vmap's (a shape mismatch, ...), which propagates as it is."""
    op = re.search(
        r"(?:Batching rule not implemented for|vmap: we do not yet support) (aten::\w+(?:\.\w+)?)",
        message,
    )
    if op is not None:
        return op.group(1)
    if ".item()" in message or "data-dependent control flow" in message:
        return "a read of a tensor's value in Python (.item(), float(t), `if t:`)"
    return None


def embedding_modules(model: nn.Module) -> list[nn.Module]:
    """The modules of ``model`` that look ids up in a table (Embedding, EmbeddingBag)."""
    return [m for m in model.modules() if isinstance(m, nn.Embedding | nn.EmbeddingBag)]


@contextlib.contextmanager
def _ids_in_range(embeddings: list[nn.Module], k: int) -> Iterator[None]:
    """torch.vmap looks a population's ids up in its K tables flattened to ``(K·V, D)``, model
    k's ids offset by ``k·V``: an id out of range for one model would silently read a
    neighbour's row (where the plain module raises). Inside the block every embedding's ids
    outside ``[0, V)`` become ``K·V``, out of range for every model: the lookup raises, as one
    model's does. ``embeddings``: the template's Embedding and EmbeddingBag modules."""
    if not embeddings:
        yield
        return

    def hook(m: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if args:  # (the ids: the first argument, `input`)
            ids, args = args[0], args[1:]
        else:
            ids = kwargs.pop("input")
        v = m.num_embeddings
        return (torch.where((ids < 0) | (ids >= v), v * k, ids), *args), kwargs

    handles = [m.register_forward_pre_hook(hook, with_kwargs=True) for m in embeddings]
    try:
        yield
    except RuntimeError as err:  # EmbeddingBag's words name the id K·V (+ k·V): not the data's
        found = re.search(
            r"takes value (\d+) which is not in the valid range|found idx to be (\d+)", str(err)
        )
        bags = [m.num_embeddings * k for m in embeddings if isinstance(m, nn.EmbeddingBag)]
        if found is None or not any(int(found.group(1) or found.group(2)) >= s for s in bags):
            raise  # (an Embedding's "index out of range in self" is one model's words already)
        raise IndexError(
            "index out of range: an nn.Embedding/EmbeddingBag of the model got an id outside "
            "[0, num_embeddings), which a population refuses as one model does"
        ) from None
    finally:
        for h in handles:
            h.remove()


#: the uses of torch.utils.checkpoint by this thread's watched forward (:func:`_checkpoint_calls`)
_CKPT_LOCAL = threading.local()
_CKPT_LOCK = threading.Lock()
_CKPT_STATE: dict[str, Any] = {"users": 0, "saved": {}}
#: torch.utils.checkpoint's names that both forms and torch.distributed's composable checkpoint
#: look up when called: ``CheckpointFunction`` (reentrant), ``_checkpoint_hook`` (non-reentrant)
_CKPT_NAMES = ("CheckpointFunction", "_checkpoint_hook")


def _ckpt_wrappers(saved: dict[str, Any]) -> dict[str, Any]:
    def seen(form: str) -> None:
        uses = getattr(_CKPT_LOCAL, "uses", None)
        if uses is not None:  # (this thread watches a forward; other threads' calls pass)
            uses.append(form)

    class _Reentrant:
        @staticmethod
        def apply(*args: Any, **kwargs: Any) -> Any:
            seen("reentrant")
            return saved["CheckpointFunction"].apply(*args, **kwargs)

    def _hook(*args: Any, **kwargs: Any) -> Any:
        seen("non-reentrant")
        return saved["_checkpoint_hook"](*args, **kwargs)

    return {"CheckpointFunction": _Reentrant, "_checkpoint_hook": _hook}


@contextlib.contextmanager
def _checkpoint_calls() -> Iterator[list[str]]:
    """Record this thread's uses of ``torch.utils.checkpoint`` in the block (both forms, also
    through ``checkpoint_sequential`` or torch.distributed's composable ``checkpoint``): the
    module's ``CheckpointFunction`` and ``_checkpoint_hook``, which they look up when called,
    are wrapped while any thread is in such a block (installed once, under a lock, with a
    count; a thread records only its own calls)."""
    import torch.utils.checkpoint as ckpt

    with _CKPT_LOCK:
        if _CKPT_STATE["users"] == 0:
            saved = {n: getattr(ckpt, n) for n in _CKPT_NAMES if hasattr(ckpt, n)}
            wrappers = _ckpt_wrappers(saved)
            for n in saved:
                setattr(ckpt, n, wrappers[n])
            _CKPT_STATE["saved"] = saved
        _CKPT_STATE["users"] += 1
    outer = getattr(_CKPT_LOCAL, "uses", None)
    _CKPT_LOCAL.uses = uses = []
    try:
        yield uses
    finally:
        _CKPT_LOCAL.uses = outer
        with _CKPT_LOCK:
            _CKPT_STATE["users"] -= 1
            if _CKPT_STATE["users"] == 0:
                for n, v in _CKPT_STATE["saved"].items():
                    setattr(ckpt, n, v)
                _CKPT_STATE["saved"] = {}


def _from_checkpoint(err: BaseException) -> bool:
    """Whether ``err`` was raised inside ``torch.utils.checkpoint`` (vmap refuses its reentrant
    ``autograd.Function``)."""
    import traceback

    target = os.path.join("torch", "utils", "checkpoint.py")
    return any(f.filename.endswith(target) for f in traceback.extract_tb(err.__traceback__))


def _refuse_checkpoint(tpl: nn.Module) -> UserError:
    """The error for a forward that calls ``torch.utils.checkpoint``: its recompute runs in the
    backward, after ``functional_call`` has put the template's own tensors back, so every
    model's backward used the template's weights (reentrant: the checkpointed layers got no
    gradient and never trained; non-reentrant: wrong gradients before them)."""
    return UserError(
        f"{type(tpl).__name__}'s forward uses torch.utils.checkpoint, which a population cannot "
        "run: its recompute in the backward reads one shared copy of the weights, not each "
        "model's (the checkpointed layers would not train); remove the checkpointing (small "
        "models seldom need it), or train each model alone"
    )


def _call_keeping_buffers(
    tpl: nn.Module, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor], x: Any
) -> tuple[Any, dict[str, torch.Tensor]]:
    """``torch.func.functional_call(tpl, (params, buffers), (x,))`` and the buffers its forward
    reassigned (``self.mu = 0.9 * self.mu + 0.1 * m``, where ``functional_call`` alone would
    drop the new tensor and the model's buffer would never change): ``(output, {name: new})``.
    Buffers updated in place (batch norm) are the tensors passed in and need nothing."""
    from torch.nn.utils.stateless import _reparametrize_module

    # a module registered under two names (self.first = self.a) makes torch's restore leave
    # the call's tensors on the template: its own tensors are put back here
    kept = [(m, dict(m._parameters), dict(m._buffers)) for m in _aliased_modules(tpl)]
    try:
        with _reparametrize_module(tpl, {**params, **buffers}, tie_weights=True):
            out = tpl(x)
            now = {n: tpl.get_buffer(n) for n in buffers}
    finally:
        for m, ps, bs in kept:
            for n in (*ps, *bs):
                m.__dict__.pop(n, None)  # (a plain tensor attribute left by the swap)
            m._parameters.clear()
            m._parameters.update(ps)
            m._buffers.clear()
            m._buffers.update(bs)
    return out, {
        n: v.detach() for n, v in now.items() if v is not buffers[n] and isinstance(v, torch.Tensor)
    }


_PLAIN = (int, float, bool)


#: one module's Python state: its name, the module, its attribute names, and the values of
#: those that are plain numbers or None (see :func:`_python_state`)
_PyState = list[tuple[str, nn.Module, set[str], dict[str, Any]]]


def _mark_used(models: set[int], i: int) -> Callable[[torch.Tensor], None]:
    """A backward hook that records model ``i`` in ``models`` (its slice got a gradient)."""

    def hook(_grad: torch.Tensor) -> None:
        models.add(i)

    return hook


def _python_state(module: nn.Module) -> _PyState:
    """Per module of ``module``: its name, itself, its attribute names, and the values of those
    that are plain numbers (int, float, bool) or None: state a forward may advance (a step
    counter, trainlab's dropout call counts), set (``self.scale = None`` made a number) or
    create (a lazy flag)."""
    return [
        (name, m, set(attrs), {k: v for k, v in attrs.items() if v is None or type(v) in _PLAIN})
        for name, m in module.named_modules()
        for attrs in [vars(m)]
    ]


def _restore_python_state(state: _PyState) -> None:
    """Put back the values of :func:`_python_state` and remove numbers created since."""
    for _, m, names, saved in state:
        attrs = m.__dict__
        for k in [k for k, v in attrs.items() if type(v) in _PLAIN and k not in names]:
            del attrs[k]
        attrs.update(saved)


def _refuse_per_model_state(tpl: nn.Module, first: _PyState, other: _PyState) -> None:
    """Two models' forwards left different plain numbers on the template (a calibration read
    from the data into ``self.scale``): one module's attributes cannot hold one per model."""
    for (name, _, _, a), (_, _, _, b) in zip(first, other, strict=True):
        key = next((k for k in a.keys() | b.keys() if a.get(k) != b.get(k)), None)
        if key is not None:
            where = f"{type(tpl).__name__}{'.' + name if name else ''}.{key}"
            raise UserError(
                f"the models' forwards set {where} to different values ({a.get(key)!r}, "
                f"{b.get(key)!r}): a population keeps one Python attribute for all its models; "
                "keep per-model state in a buffer (register_buffer), which it stacks"
            )


def _moved_buffer(owner: nn.Module, name: str, new: torch.Tensor, old: torch.Tensor) -> None:
    """Refuse a buffer a forward reassigned with another shape (or a dtype it would be cut to):
    a population's buffers are stacked tensors of fixed shapes, updated in place."""
    if new.shape != old.shape or not torch.can_cast(new.dtype, old.dtype):
        raise UserError(
            f"{type(owner).__name__}.forward reassigns buffer '{name}' as {tuple(new.shape)} "
            f"{new.dtype} (it was {tuple(old.shape)} {old.dtype}); a population keeps each "
            "buffer's shape and dtype: update it in place, or keep its shape and dtype"
        )


#: template -> its modules if one of them is registered under two names, else [] (found once:
#: the template's structure never changes, and a loop population calls K times per forward)
#: template -> one name of each of its distinct modules (names: a module would keep its key
#: alive, the template being among its own modules)
_ALIASED: weakref.WeakKeyDictionary[nn.Module, list[str]] = weakref.WeakKeyDictionary()


def _aliased_modules(tpl: nn.Module) -> list[nn.Module]:
    """``tpl``'s distinct modules when some module is registered under two names, else []."""
    names = _ALIASED.get(tpl)
    if names is None:
        named = list(tpl.named_modules(remove_duplicate=False))
        first: dict[int, str] = {}
        for n, m in named:
            first.setdefault(id(m), n)
        unique = list(first.values())
        names = _ALIASED[tpl] = unique if len(unique) != len(named) else []
    return [tpl.get_submodule(n) for n in names]


def _global_rng_states(device: torch.device) -> list[torch.Tensor]:
    """The states of torch's global generators a forward on ``device`` may draw from."""
    states = [torch.random.get_rng_state()]
    if device.type == "cuda":
        states.append(torch.cuda.get_rng_state(device))
    return states


#: layers torch.vmap cannot batch (no batching rule for their fused kernels): loop mode
_LOOP_TYPES = (nn.RNNBase, nn.RNNCellBase)


def _needs_loop(m: nn.Module) -> bool:
    # vmap's embedding backward offsets each model's indices but not padding_idx: the padding
    # rows of models 1..K-1 would get gradients
    return isinstance(m, _LOOP_TYPES) or (isinstance(m, nn.Embedding) and m.padding_idx is not None)


def refuse_uncopyable(model: nn.Module) -> None:
    """A module a population cannot copy or stack (the hook-based, deprecated
    ``torch.nn.utils.weight_norm``, ``torch.nn.utils.prune``'s masks, ``nn.DataParallel``) is a
    UserError naming the fix; a population copies its template."""
    from torch.nn.utils.prune import BasePruningMethod
    from torch.nn.utils.weight_norm import WeightNorm

    for name, m in model.named_modules():
        where = f"layer {name!r}" if name else "the model"
        hooks = m._forward_pre_hooks.values()
        if any(isinstance(h, WeightNorm) for h in hooks):
            raise UserError(
                f"{where} uses torch.nn.utils.weight_norm (hook-based, deprecated), "
                "which cannot be copied; use torch.nn.utils.parametrizations.weight_norm instead"
            )
        if pruned := [h._tensor_name for h in hooks if isinstance(h, BasePruningMethod)]:
            raise UserError(
                f"{where} is pruned with torch.nn.utils.prune (its {pruned[0]} is recomputed "
                f"from {pruned[0]}_orig and a mask by a hook), which a population cannot copy; "
                f"make the pruning permanent first: prune.remove(module, {pruned[0]!r})"
            )
        if isinstance(m, nn.DataParallel) and m.device_ids:  # (none: it calls its module)
            raise UserError(
                f"{where} is wrapped in nn.DataParallel; a population runs its K models on one "
                "device, stacked: pass the module inside (model.module)"
            )


class Population(nn.Module):
    """K models with the architecture of ``template``, stacked along a leading axis.

    Args:
        template: a plain ``nn.Module`` taking ``(B, ...)`` to ``(B, C)``. Its weights seed every
            member; use :meth:`load_member` (or :meth:`from_models`) to give each its own.
        k: number of models.
        seeds: one integer seed per model (dropout streams); default ``0..K-1``.

    Forward: ``(K, B, ...) -> (K, B, C)``; share one batch with ``pop(x.expand(K, *x.shape))``.
    """

    def __init__(
        self, template: nn.Module, k: int, seeds: Sequence[int] | torch.Tensor | None = None
    ) -> None:
        super().__init__()
        if not isinstance(template, nn.Module):
            what = (
                f"the class {template.__name__}" if isinstance(template, type) else repr(template)
            )
            raise UserError(
                f"template must be an nn.Module instance, got {what[:80]}; e.g. "
                "Population(trainlab.models.create('mlp', ...), k)"
            )
        refuse_uncopyable(template)
        extra = [n for n, v in template.state_dict().items() if not isinstance(v, torch.Tensor)]
        if extra:
            raise UserError(
                f"the model's state '{extra[0]}' is not a tensor (a module's get_extra_state), "
                "which a population cannot stack per model; keep such state in buffers"
            )
        if isinstance(k, bool) or not isinstance(k, numbers.Integral):
            raise UserError(f"k (the number of models) must be an int >= 1, got {k!r}")
        if k < 1:
            raise UserError(f"a population needs at least one model, got k={k}")
        k = int(k)
        self.k = k
        plain = _seeded(template)
        for name, m in plain.named_modules():
            if isinstance(m, nn.Embedding | nn.EmbeddingBag) and m.sparse:
                raise UserError(
                    f"{name or 'the model'} ({type(m).__name__}, sparse=True) gives sparse "
                    "gradients, which a population cannot stack per model; use sparse=False"
                )
        if is_stackable(plain):
            self.mode = "stacked"
        elif any(_needs_loop(m) for m in plain.modules()):
            self.mode = "loop"
            if k > 1:
                m = next(m for m in plain.modules() if _needs_loop(m))
                why = (
                    "torch.vmap would give the padding rows of models 2..K gradients through the "
                    "model's Embedding(padding_idx)"
                    if isinstance(m, nn.Embedding)
                    else f"torch.vmap cannot batch the model's {type(m).__name__} per model"
                )
                warnings.warn(
                    f"{why}: this population "
                    f"runs its {k} models one after another (K times one model's time)",
                    stacklevel=_caller_stacklevel(),
                )
            for name, m in plain.named_modules():
                # torch applies an RNN's dropout between its layers only: none with one layer
                if isinstance(m, nn.RNNBase) and m.dropout > 0 and m.num_layers > 1:
                    raise UserError(
                        f"{name} ({type(m).__name__}, dropout={m.dropout}) draws its own dropout "
                        "masks between layers, which a population cannot seed per model; give "
                        "it dropout=0 and put nn.Dropout modules around it instead"
                    )
        else:
            self.mode = "vmap"
        self.net = _stack(plain, k) if self.mode == "stacked" else _stack_state(plain, k)
        # the modes (training or not) in which vmap has run this template; in another it may
        # still fall back to the loop (a forward can take other ops in training)
        self.__dict__["_vmap_ran"] = set()
        # set_frozen's models (vmap and loop modes): a (K,) bool device mask, or None
        self.__dict__["_frozen"] = None
        # the plain template, kept out of the module tree (not a parameter holder)
        self.__dict__["_template"] = plain
        # tensors the template's modules keep as plain attributes (not parameters or buffers):
        # a forward that replaces one keeps state a population cannot hold per model (not one
        # a pre-hook recomputes from the parameters each forward: hook-based spectral norm's)
        self.__dict__["_tensor_attrs"] = [
            (m, key, v) for m in plain.modules() for key, v in vars(m).items()
            if isinstance(v, torch.Tensor)
            and key not in {getattr(h, "name", None) for h in m._forward_pre_hooks.values()}
        ]  # fmt: skip
        arrays = torch.Tensor | np.ndarray
        listed = isinstance(seeds, Iterable) and not isinstance(seeds, str | bytes | arrays)
        if seeds is not None and not listed and not (isinstance(seeds, arrays) and seeds.ndim == 1):
            raise UserError(f"seeds must be a list of {k} integers, got {seeds!r}")
        given = list(range(k)) if seeds is None else list(seeds)
        if any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral | torch.Tensor)
            or (
                isinstance(s, torch.Tensor)
                and (s.is_floating_point() or s.dtype == torch.bool or s.numel() != 1)
            )
            for s in given
        ):  # fmt: skip
            raise UserError(f"seeds must be integers, got {given[:8]!r}")
        big = [s for s in given if abs(int(s)) >= 2**63]
        if big:
            raise UserError(f"seeds must fit in 64 bits (|seed| < 2**63), got {big[:8]!r}")
        seeds = torch.as_tensor([int(s) for s in given], dtype=torch.int64)
        if seeds.shape != (k,):
            raise UserError(f"need {k} seeds, one per model; got {seeds.numel()}")
        self.register_buffer("seeds", seeds)
        for m in self.net.modules():
            if isinstance(m, SeededDropout):
                m.seed.copy_(seeds)

    @classmethod
    def from_models(
        cls, models: Sequence[nn.Module], seeds: Sequence[int] | None = None
    ) -> Population:
        """Stack existing models of one architecture into a population: each keeps its weights,
        buffers (non-persistent ones too) and dropout rates; models that differ in anything
        else (a layer's type or settings) are refused."""
        if isinstance(models, nn.Module) and not isinstance(models, nn.ModuleList):
            raise UserError(
                f"from_models takes a list of models, got one {type(models).__name__}; "
                "pass [model] for a population of one"
            )
        models = list(models)
        if not models:
            raise UserError("from_models needs at least one model")
        for i, m in enumerate(models):
            if not isinstance(m, nn.Module):
                raise UserError(f"model {i} is not an nn.Module ({type(m).__name__})")
        first = _architecture(models[0])
        for i, m in enumerate(models[1:], start=1):
            arch = _architecture(m)
            if arch != first:  # (the order of submodules too: a Sequential's is its forward's)
                a, b = _first_difference(first, arch)
                if a is None and b is None:
                    raise UserError(
                        f"model {i} registers its submodules in another order than model 0 (a "
                        "Sequential's order is the order its layers run in); build the models "
                        "in one order"
                    )
                where = (b or a)[0] or "the model itself"
                raise UserError(
                    f"model {i} differs from model 0 at '{where}' ({_described(b)} vs "
                    f"{_described(a)}); from_models stacks models of one architecture, "
                    "differing in their weights and dropout rates only"
                )
        pop = cls(models[0], len(models), seeds)
        buffers = dict(pop.net.named_buffers())  # (every mode: a dropout's rates are "name.p")
        for i, m in enumerate(models):
            pop._load_model(i, m)
            with torch.no_grad():
                for n, d in m.named_modules():
                    if _dropout_kind(d) is not None and f"{n}.p" in buffers:
                        buffers[f"{n}.p"][i] = float(d.p)  # each model's own rate
        return pop

    def _load_model(self, i: int, model: nn.Module) -> None:
        """:meth:`load_member` of ``model.state_dict()``, and its non-persistent buffers (which
        a state_dict leaves out) into slot ``i`` too."""
        state = model.state_dict()
        self.load_member(i, state)
        buffers = dict(self.net.named_buffers())
        with torch.no_grad():
            for n, b in model.named_buffers():
                if n not in state and n in buffers:  # non-persistent buffers
                    buffers[n][i].copy_(b)

    # -- members ------------------------------------------------------------------------------
    def _stacked_state(self) -> dict[str, torch.Tensor]:
        """The learned state ``(K, ...)`` by plain name; dropout seeds and rates are settings."""
        skip = self._dropout_keys()
        return {n: t for n, t in self.net.state_dict(keep_vars=True).items() if n not in skip}

    def _dropout_keys(self) -> set[str]:
        return {
            f"{name}.{b}"
            for name, m in self.net.named_modules(remove_duplicate=False)
            if isinstance(m, SeededDropout)
            for b in ("seed", "p")
        }

    def _index(self, i: int) -> int:
        """``i`` checked against the population size: a UserError naming the valid range. A 0-d
        integer tensor (``acc.argmax()``) is an index too."""
        if (
            isinstance(i, torch.Tensor)
            and i.dim() == 0
            and not i.is_floating_point()
            and i.dtype != torch.bool  # (acc.argmax() == 2 is no index)
        ):
            i = int(i)
        if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < self.k:
            raise UserError(
                f"model index {i!r} is out of range for a population of {self.k}; "
                f"use 0..{self.k - 1}"
            )
        return int(i)

    def load_member(self, i: int, state: dict[str, torch.Tensor]) -> None:
        """Copy a plain model's ``state_dict`` into slot ``i``; keys and shapes must match."""
        i = self._index(i)
        if isinstance(state, nn.Module):
            raise UserError("load_member takes a state_dict; pass model.state_dict()")
        if not isinstance(state, Mapping):
            raise UserError(f"load_member takes a state_dict, got {type(state).__name__}")
        stacked = self._stacked_state()
        state = {n: t for n, t in state.items() if n not in self._dropout_keys()}
        missing = [n for n in stacked if n not in state]
        unexpected = [n for n in state if n not in stacked]
        if missing or unexpected:
            raise UserError(
                "state does not fit the population: "
                f"missing {missing[:5]}, unexpected {unexpected[:5]}"
            )
        with torch.no_grad():
            for n, t in state.items():
                if not isinstance(t, torch.Tensor):  # (numpy arrays, lists: as torch loads them)
                    try:
                        t = torch.as_tensor(
                            t.copy(order="C") if isinstance(t, np.ndarray) else t
                        )  # (a flipped array: negative strides, which torch refuses)
                    except (TypeError, ValueError, RuntimeError) as err:
                        raise UserError(
                            f"load_member: '{n}' is a {type(t).__name__}, not a tensor ({err})"
                        ) from None
                if tuple(t.shape) != tuple(stacked[n].shape[1:]):
                    raise UserError(
                        f"shape mismatch for '{n}': population has {tuple(stacked[n].shape[1:])}, "
                        f"state has {tuple(t.shape)}"
                    )
                stacked[n][i].copy_(t)

    def member_state(self, i: int) -> dict[str, torch.Tensor]:
        """Model ``i``'s plain ``state_dict`` (copies, on the population's device)."""
        i = self._index(i)
        return {n: t[i].detach().clone() for n, t in self._stacked_state().items()}

    def unstack(self, i: int) -> nn.Module:
        """Model ``i`` as a plain module: the template's architecture with model i's weights.

        Its dropout layers are the plain torch modules of the template (``nn.Dropout``, ...)
        at model i's rate, drawing from torch's global generator like any plain module, and its
        ``state_dict`` has the plain keys, so it loads into a freshly built model. It is in
        the population's mode (``pop.eval()`` first: an evaluating module), in every path.
        """
        i = self._index(i)
        m = copy.deepcopy(self._template, self._leaked())
        rates = {n: d.p[i] for n, d in self.net.named_modules() if isinstance(d, SeededDropout)}
        plain: dict[int, nn.Module] = {}  # a dropout module used at several places: one module
        for n, d in list(m.named_modules(remove_duplicate=False)):
            if isinstance(d, SeededDropout):
                if id(d) not in plain:
                    plain[id(d)] = d.to_plain(float(rates[n]) if n in rates else float(d.p))
                _replace(m, n, plain[id(d)])
        state = self.member_state(i)
        meta = getattr(m.state_dict(), "_metadata", None)
        if meta is not None:  # the layers' versions: torch's BatchNorm loader reads them
            state = collections.OrderedDict(state)
            state._metadata = meta  # type: ignore[attr-defined]
        m.load_state_dict(state)
        stacked = dict(self.net.named_buffers())
        with torch.no_grad():
            for n, b in m.named_buffers():
                if n not in state and n in stacked:  # non-persistent buffers
                    b.copy_(stacked[n][i])
        return m.train(self.training)

    # -- per-step controls ----------------------------------------------------------------------
    def _leaked_attrs(self) -> list[tuple[nn.Module, str, torch.Tensor]]:
        """``(module, name, tensor)`` of each tensor a forward left on a template module from
        inside vmap (``self.features = h``, a hook's ``mod.last = out``): a batched view, dead
        outside vmap, which cannot be copied."""
        return [
            (t, name, v)
            for t in self._template.modules()
            for name, v in vars(t).items()
            if isinstance(v, torch.Tensor) and torch._C._functorch.is_functorch_wrapped_tensor(v)
        ]

    def _leaked(self) -> dict[int, None]:
        """A ``copy.deepcopy`` memo that maps to None each of :meth:`_leaked_attrs`' tensors
        (the copy gets None there)."""
        return {id(v): None for _, _, v in self._leaked_attrs()}

    def __getstate__(self) -> dict[str, Any]:
        """For ``copy.deepcopy`` and pickle: the state with vmap's leftover tensors set to None
        on the template modules first, here too (they are dead outside vmap: any operation on
        one raises), so that the caller's copy (its one memo) keeps every sharing: an
        optimizer copied with the population steps the copy's parameters."""
        if "_template" in self.__dict__:
            for t, name, _ in self._leaked_attrs():
                vars(t)[name] = None
        return super().__getstate__()  # (nn.Module's: a compiled call is left out)

    def set_step(self, step: int | torch.Tensor) -> None:
        """Counter of the random streams (dropout masks) for the next training forward (an
        int, or a 0-d int64 device tensor: :func:`trainlab.rng.uniform` reads either)."""
        for m in self._dropouts():
            m.step, m.calls = step, 0

    def set_dropout_p(self, p: torch.Tensor | float, *, models: torch.Tensor | None = None) -> None:
        """Per-model dropout probability for every dropout layer: float or ``(K,)``; with
        ``models`` (a ``(K,)`` bool mask), only those models' rates change."""
        try:
            p = torch.as_tensor(p, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise UserError(
                f"dropout probability must be a number or {self.k} numbers, got {p!r}"
            ) from None
        if p.numel() != 1 and tuple(p.shape) != (self.k,):
            raise UserError(
                f"dropout probability must be one number or {self.k} (one per model), got "
                f"shape {tuple(p.shape)}"
            )
        p = p.reshape(-1).expand(self.k)
        if not bool(((p >= 0) & (p < 1)).all()):  # (NaN fails both)
            raise UserError(f"dropout probability must be in [0, 1), got {p.tolist()}")
        layers = [m for m in self.net.modules() if isinstance(m, SeededDropout)]
        if models is not None:
            models = torch.as_tensor(models, dtype=torch.bool).reshape(-1)
            if tuple(models.shape) != (self.k,):
                raise UserError(
                    f"models must be a ({self.k},) bool mask, got {tuple(models.shape)}"
                )
            p = torch.where(models, p, 0.0)  # (the check below: only those models' rates)
        if not layers and bool((p > 0).any()):
            rates = [round(v, 6) for v in p.tolist()]
            raise UserError(
                f"dropout {rates} has no effect: the model has no dropout layer; add nn.Dropout "
                "modules to the model (or build it with dropout > 0), or remove model.dropout"
            )
        for m in layers:
            new = p.to(m.p.device, m.p.dtype)
            m.p.copy_(new if models is None else torch.where(models.to(m.p.device), new, m.p))

    def set_frozen(self, frozen: torch.Tensor | None) -> None:
        """``(K,)`` bool: models that no longer train keep their batch-norm statistics (every
        buffer a training forward updates in place, in every mode). No host read: the trainer
        passes its stopped models before every step (None: every model trains)."""
        k = self.seeds.shape[0]
        if frozen is not None and (
            not isinstance(frozen, torch.Tensor) or tuple(frozen.shape) != (k,)
        ):  # (shape only, no host read)
            got = tuple(frozen.shape) if isinstance(frozen, torch.Tensor) else type(frozen).__name__
            raise UserError(
                f"set_frozen takes a ({k},) bool tensor, one per model, or None; got {got}"
            )
        mask = None if frozen is None else frozen.to(self.seeds.device, torch.bool)
        self.__dict__["_frozen"] = mask
        for m in self._batch_norms():
            m.frozen = mask

    def _batch_norms(self) -> list[_StackedBatchNorm]:
        """The stacked net's batch-norm layers; found once."""
        found = self.__dict__.get("_bn_layers")
        if found is None:
            found = [m for m in self.net.modules() if isinstance(m, _StackedBatchNorm)]
            self.__dict__["_bn_layers"] = found
        return found

    def _dropouts(self) -> list[SeededDropout]:
        """Dropout layers of the stacked net and of the template (used under vmap); found once."""
        found = self.__dict__.get("_dropout_layers")
        if found is None:
            mods = [*self.net.modules(), *self._template.modules()]
            found = [m for m in mods if isinstance(m, SeededDropout)]
            self.__dict__["_dropout_layers"] = found  # a plain attribute: not a submodule list
        return found

    # -- forward --------------------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(K, B, ...)``, one batch per model; returns ``(K, B, C)``."""
        if x.dim() < 2 or x.shape[0] != self.k:
            raise UserError(
                f"a population of {self.k} models takes inputs of shape (K={self.k}, B, ...), "
                f"got {tuple(x.shape)}; to give every model the same batch x of shape (B, ...), "
                f"call it on x.expand({self.k}, *x.shape)"
            )
        if self.mode == "stacked":
            return self.net(x)
        if any(st == 0 and n > 1 for st, n in zip(x.stride(), x.shape, strict=True)):
            # x.expand(K, ...) (one batch for all): the models' rows share memory, which an
            # in-place op of the forward (ReLU(inplace=True)) would write through; their copy
            x = x.clone(memory_format=torch.contiguous_format)
        out = self._loop_forward(x) if self.mode == "loop" else self._vmap_forward(x)
        self._check_tensor_attrs()
        return out

    def _check_tensor_attrs(self) -> None:
        """Refuse a forward that replaced a tensor its template keeps as a plain attribute
        (``self.ema = 0.9 * self.ema + ...``): under vmap it would keep a batched tensor, in the
        loop one model's value for the next; a buffer is stacked per model."""
        for m, key, v in self._tensor_attrs:
            if m.__dict__.get(key) is not v:
                m.__dict__[key] = v  # (not a batched tensor left behind)
                raise UserError(
                    f"{type(self._template).__name__}.forward replaces the tensor attribute "
                    f"{type(m).__name__}.{key}: a population keeps one Python attribute for all "
                    "its models; keep per-model state in a buffer (register_buffer), which it "
                    "stacks"
                )

    def python_state(self) -> dict[str, dict[str, int | float | bool]]:
        """The plain numbers the template's modules keep as attributes, by module name: state
        a forward may advance (a step counter) that no ``state_dict`` holds; a checkpoint keeps
        it (:meth:`load_python_state`)."""
        return {
            name: {k: v for k, v in saved.items() if v is not None}
            for name, _, _, saved in _python_state(self._template)
        }

    def load_python_state(self, state: dict[str, dict[str, Any]]) -> None:
        """Put back :meth:`python_state` (names the template lacks are passed over)."""
        for name, values in state.items():
            try:
                m = self._template.get_submodule(name) if name else self._template
            except AttributeError:
                continue
            m.__dict__.update({k: v for k, v in values.items() if type(v) in _PLAIN})

    def _vmap_forward(self, x: torch.Tensor) -> torch.Tensor:
        tpl = self._template
        tpl.train(self.training)
        params = dict(self.net.named_parameters())
        buffers = dict(self.net.named_buffers())

        def one(p: dict, b: dict, xi: torch.Tensor) -> tuple[Any, dict[str, torch.Tensor]]:
            return _call_keeping_buffers(tpl, p, b, xi)

        fn: Callable = torch.vmap(one, in_dims=(0, 0, 0), randomness="error")
        first = self.training not in self._vmap_ran
        frozen = self.__dict__.get("_frozen") if self.training else None
        # stopped models keep their statistics: the forward updates copies (which its backward
        # saves) and the running models' rows are copied back after it
        work = {n: b.clone() for n, b in buffers.items()} if frozen is not None else buffers
        saved = {n: b.clone() for n, b in buffers.items()} if first and frozen is None else {}
        # (a failed first attempt drew masks, advanced or created counters: undone below)
        start = _python_state(tpl) if first else []
        try:
            embeddings = self.__dict__.get("_embeddings")  # (found once: not every forward)
            if embeddings is None:
                embeddings = self.__dict__["_embeddings"] = embedding_modules(tpl)  # (no submodule)
            with _ids_in_range(embeddings, self.k):
                out, moved = fn(params, work, x)
        except RuntimeError as err:
            name = type(tpl).__name__
            problem = _randomness_problem(name, str(err))
            if problem is not None:
                raise UserError(problem) from None
            if _from_checkpoint(err):  # (a forward that starts checkpointing at a later step)
                raise _refuse_checkpoint(tpl) from None
            if not first:
                raise
            what = _unbatchable(str(err))

            def restore() -> None:  # undo what a failed forward did to the statistics
                with torch.no_grad():  # and to the dropout layers' call counters
                    for n, b in saved.items():
                        buffers[n].copy_(b)
                _restore_python_state(start)

            restore()
            if what is None:  # vmap refused it in words not listed: the loop decides
                try:
                    out = self._loop_forward(x)
                except UserError:  # the loop's own refusal (a checkpoint, global randomness)
                    restore()
                    raise
                except Exception:
                    restore()
                    raise err from None  # not vmap's limit: the forward's own error
                what = "an op torch.vmap refused (" + str(err).strip().splitlines()[0][:80] + ")"
            else:
                out = None
            if self.k > 1:  # (one model: nothing to batch, nothing lost)
                warnings.warn(
                    f"{name}.forward runs {what}, which torch.vmap cannot batch: this population "
                    f"runs its {self.k} models one after another (K times one model's time)",
                    stacklevel=_caller_stacklevel(),
                )
            self.mode = "loop"
            return self._loop_forward(x) if out is None else out
        self._vmap_ran.add(self.training)
        with torch.no_grad():
            for n, v in moved.items():  # buffers the forward reassigned, (K, ...)
                _moved_buffer(tpl, n, v[0], work[n][0])  # (one model's shapes in the message)
            for n, v in moved.items():
                work[n].copy_(v)
        if frozen is not None:  # (no host read)
            with torch.no_grad():
                for n, b in buffers.items():
                    mask = frozen.to(b.device).view(-1, *([1] * (b.dim() - 1)))
                    b.copy_(torch.where(mask, b, work[n]))
        return out

    def _loop_forward(self, x: torch.Tensor) -> torch.Tensor:
        """Model by model: ``functional_call`` of the template on slice ``i`` of every tensor.

        A forward that draws from torch's global generator (``F.dropout``, ``torch.rand``, an
        ``nn.MultiheadAttention`` with dropout) is refused as under vmap: its numbers would
        depend on K and the model's slot. Told by the generator's state before and after (a host
        copy of a few kB on the CPU; on CUDA the seed and offset, kept on the host: no sync).
        """
        tpl = self._template
        tpl.train(self.training)
        params = dict(self.net.named_parameters())
        buffers = dict(self.net.named_buffers())
        frozen = self.__dict__.get("_frozen") if self.training else None
        # stopped models keep their statistics: every model updates copies (which its backward
        # saves) and the running models' rows are copied back after the loop (no host read)
        work = {n: b.clone() for n, b in buffers.items()} if frozen is not None else buffers
        before = _global_rng_states(x.device)
        outs = []
        # each model's forward starts from the same Python state, so that a counter the forward
        # advances (a step count, the dropout layers' calls: each model draws the masks of the
        # same calls) moves once per population forward, as under vmap, not K times
        start = _python_state(tpl)
        first: _PyState | None = None  # what model 0's forward left
        # (once warned, no more hooks: K x P hooks a step cost ~15% of a small model's step)
        training = self.training and torch.is_grad_enabled()  # (a forward a backward follows)
        track = training and "_warned_unused" not in self.__dict__
        if track:
            self._warn_unused_parameters()  # (what the previous training forward's backward saw)
        used: dict[str, set[int]] = {}  # parameter -> the models whose backward reached it
        # every training forward is watched for torch.utils.checkpoint (a forward may start
        # checkpointing at a later step): two attribute swaps under a lock, once per forward
        with _checkpoint_calls() if training else contextlib.nullcontext([]) as ckpt:
            for i in range(self.k):
                _restore_python_state(start)
                slices = {n: p[i] for n, p in params.items()}
                if track:
                    for n, sl in slices.items():
                        if sl.requires_grad:
                            sl.register_hook(_mark_used(used.setdefault(n, set()), i))
                out, moved = _call_keeping_buffers(
                    tpl,
                    slices,
                    {n: b[i] for n, b in work.items()},
                    x[i].clone(),  # views of x share one version counter: a forward that edits its
                )  # input in place would invalidate what the models before it saved for backward
                if ckpt:
                    raise _refuse_checkpoint(tpl)
                now = _python_state(tpl)
                if first is None:
                    first = now
                elif [e[3] for e in now] != [e[3] for e in first]:
                    _refuse_per_model_state(tpl, first, now)
                with torch.no_grad():
                    for n, v in moved.items():
                        _moved_buffer(tpl, n, v, work[n][i])
                    for n, v in moved.items():
                        work[n][i].copy_(v)
                outs.append(out)
        if frozen is not None:
            with torch.no_grad():
                for n, b in buffers.items():
                    mask = frozen.to(b.device).view(-1, *([1] * (b.dim() - 1)))
                    b.copy_(torch.where(mask, b, work[n]))
        after = _global_rng_states(x.device)
        if any(not torch.equal(a, b) for a, b in zip(before, after, strict=True)):
            torch.random.set_rng_state(before[0])  # a refused forward leaves the caller's RNG
            if len(before) > 1:
                torch.cuda.set_rng_state(before[1], x.device)
            raise UserError(_randomness_problem(type(tpl).__name__, "randomness") or "")
        if track:  # (an evaluation forward leaves the last training step's record to check)
            self.__dict__["_loop_used"] = used
        # a model's output may be a tuple/dict of tensors (nn.LSTM's (y, (h, c))), as under vmap
        return pytree.tree_map(lambda *ts: torch.stack(ts), outs[0], *outs[1:])

    def _warn_unused_parameters(self) -> None:
        """Warn once when, in the last training forward of the loop mode, some models' backward
        reached a parameter and others' did not (a Python branch on the data choosing a head).

        Alone, such a model's unused parameter has ``.grad`` None and ``torch.optim`` skips it;
        in the population its row gets a zero gradient, and momentum, weight decay and Adam's
        moments still move it (Adam's step count is per parameter, not per model): its result
        then depends on its neighbours. Read from backward hooks on each model's slices (host
        bookkeeping, no device read)."""
        used = self.__dict__.pop("_loop_used", None)
        if not used or self.__dict__.get("_warned_unused"):
            return
        split = sorted(n for n, models in used.items() if 0 < len(models) < self.k)
        if not split:
            return
        self.__dict__["_warned_unused"] = True
        n = split[0]
        skipped = sorted(set(range(self.k)) - used[n])
        warnings.warn(
            f"loop mode: the forward of model(s) {skipped[:5]} did not use parameter '{n}' "
            f"({len(split)} such parameter(s)) in a step where other models did; an optimizer "
            "with momentum, weight decay or Adam still moves it (a zero gradient here, none "
            "when the model trains alone), so those models' results depend on the population. "
            "Use every parameter in every forward (compute both branches and select with "
            "torch.where) or train such a model alone",
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )

    def _apply(self, fn, recurse=True):  # keep the template on the population's device
        super()._apply(fn, recurse)
        self.__dict__["_template"] = self._template._apply(fn)
        return self

    def extra_repr(self) -> str:
        return f"k={self.k}, mode={self.mode}"
