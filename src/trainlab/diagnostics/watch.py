"""``watch(model, every=N)``: per-layer training statistics of any ``nn.Module`` or population.

Hooks in the style of fastai's ``Hooks`` (a context manager that always removes them, also
after an exception), with the memory and speed lessons of its users built in:

- **Summaries only.** A sampled layer output is reduced in its hook to a few small fresh
  tensors (moment sums, per-unit peaks, the bin positions of the histogram's strided sample;
  an in-place op later in the forward cannot change them), and at the end of the forward those
  of all layers are reduced together, with a few stacked kernels, to per-model moments, a
  fixed-bin histogram, dead/saturated fractions and a finiteness flag. The raw activation is
  not kept, so memory stays flat however long the run (fastai's ``ActivationStats`` keeps
  growing lists). Summaries stay on the device and are read to the host lazily, in one transfer,
  by :meth:`Watch.records` — there is no ``.item()`` / ``.cpu()`` in any hook.
- **Deferred reductions for small outputs.** With ``every <= 8`` (the layer hooks stay
  registered), when a sampled step's watched outputs hold at most ``DEFER_BYTES`` (1 MiB) in
  all, each output is instead copied, in its hook, into its slot of a per-layer buffer of
  ``DEFER_STEPS`` (16) steps, and the reductions run once for up to 16 steps (at the 16th, or
  at :meth:`Watch.records`): the steps are stacked along the model axis and each kernel is
  launched once instead of 16 times. On small models these kernels cost mostly their launch.
  The results are those of reducing each step at once up to float32 summation order (a test
  compares the two paths). Memory: at most 16 MiB of buffers per output shape, for at most
  two shapes per layer (a full and an epoch's last batch); a step whose first output has a
  new shape first reduces the steps deferred before it. Each sampled step defers unless a
  step whose inputs had its shapes exceeded the limit before; a step whose outputs exceed it
  stops deferring in its forward: its copies so far (measured in the layers' own memory
  layout, as they would be at once) and the deferred steps are reduced at once, and the
  buffers let go. Which steps are reduced together thus depends only on the steps and the
  :meth:`Watch.records` calls, not on where the watch started, so a run resumed at an epoch
  (the trainer reads the records once per epoch) records bitwise what the uninterrupted run
  records.
- **Cost** (``benchmarks/diagnostics.py``, CPU time, 1 thread, on a shared 2-core VM whose speed
  drifts by ±10-20% between runs; README "Benchmarks" has the tables). Every 50 steps: +0.2% to
  +6.2% on a K=16 population of a 64-256-256-10 MLP, +3.8% and +1.6% at widths 512 and 1024, and
  -2% to +17% on the small MLP itself in a hand-written loop (+7% to +14% in the runs of
  2026-12-04), where the root hooks that tell its steps apart cost +2% to +11% of its 1.6-2 ms
  step even when they do nothing (the benchmark's ``HookFloor``) and each sampled step adds
  2-4 ms; +4.7% to +8.1% through the trainer, which skips those hooks on the steps it does not
  sample. Every step: +7-21% on a 64-1024-1024-10 MLP, +29-34% on the K=16 population (bound by
  memory traffic: the statistics read every activation, gradient and parameter a few times) and
  +58-110% on the small plain MLP (+87-101% before the deferred reductions, in the same runs).
  The smallest kernel set these statistics need per step, with no binning and no records
  (``--floor``), costs +31-56% and +22-25% there, and the hooks' Python calls and the
  per-parameter norms come on top, so issue 4's every-step goal (≤ 25%) is not met on small
  models; ``trainlab train --diagnose`` samples every 50 steps.
- **Sampled, training mode only.** A *step* is one training iteration of the root module: it
  starts at a training-mode forward with autograd enabled, and every further such forward
  belongs to it until a backward reaches the output of one of them (two views / siamese
  losses ``(m(x1) - m(x2)).pow(2).mean()``, a second forward for a regulariser: one step) and
  the watched parameters: ``.backward()`` or ``torch.autograd.grad(loss, params)``, not a
  derivative taken inside the loss (``torch.autograd.grad(u, x, create_graph=True)`` of a
  physics-informed net or a gradient penalty). A call of the root inside its own forward (a
  recursive model) belongs to that forward.
  Forwards in evaluation mode or without autograd (``torch.no_grad()``,
  ``torch.inference_mode()``, e.g. logging the loss in training mode) are not steps and are
  not measured. A forward whose output needs no gradient (a frozen model) is a step of its
  own. A forward run inside the backward that ends a step (``torch.utils.checkpoint`` of the
  whole model recomputing it) belongs to that step. Steps ``0, every, 2·every, ...`` are
  sampled. For ``every > 8`` the per-layer hooks are registered only then (and removed
  again after the forward), so an unsampled step costs two
  Python calls on the root module and one autograd pre-hook on its output's ``grad_fn``, which
  tells that the step has ended (registered in the forward, called once in the backward), and
  nothing else: on the 2-core VM, with a tiny MLP whose step takes 100 µs, the root calls add
  ~7 µs and the hook ~11 µs; for ``every <= 8`` the layer hooks stay registered for the whole
  block (registering them each step costs more than an idle call). The trainer, which knows
  where its steps are, skips even those calls (:func:`counting_watches`). Steps are counted from
  ``start_step`` (a resumed run passes its step) and those divisible by ``every`` are
  sampled, so a resumed run samples the same steps as an uninterrupted one. A sampled step's
  activations come from its first forward; gradients from the backward that ends it.

Per sampled step ``s`` and layer (modules with parameters of their own: the leaves, and
modules such as ``nn.MultiheadAttention`` whose ``in_proj_weight`` is its own beside a child
``out_proj``; a module reparametrized with ``torch.nn.utils.parametrize``, e.g. by
``weight_norm`` or ``spectral_norm``, owns its parametrizations' parameters, which are not
layers of their own; and activation modules; names from ``named_modules()``; a watched model
that is itself such a module, ``watch(nn.Linear(4, 3))``, is the layer ``""``) it records, for
every model ``i`` of a population (``model=0`` for a plain module), reducing over every axis
but the model axis:

- ``act_mean``, ``act_std``, ``hist`` (counts in the bins ``hist_edges``, plus ``hist_under``
  and ``hist_over``) of the layer's output (of a tuple, list, dict or dataclass output its
  first floating-point tensor, e.g. an RNN's ``out`` of ``(out, (h, c))``; the values of a
  ``PackedSequence``);
- ``dead_fraction`` (ReLU, ReLU6) and ``saturated_fraction`` (tanh/sigmoid family), see
  :mod:`trainlab.diagnostics.stats` for the definitions and thresholds; None for other layers.
  ``dead_fraction`` is the fraction of *units* that are ``<= 0`` on every sample and position of
  the batch (for ReLU6 also those at its cap 6 on every one: no gradient passes either); where the
  units are depends on the layer that produced the activation's input (of the watched layers that
  ran before it in the forward and set a layout: where the input is a view of one's output, a
  permute or a flatten and transpose, the axis its units went to (a convolution's channels
  moved last, ``(B, H, W, C)``, or to tokens, ``(B, H*W, C)``); else the last whose output has the
  activation's shape; else the last whose unit count matches through a flatten or broadcast (a
  squeeze-excitation gate's Linear, ``(B, C)``, does not decide for the ``(B, C, H, W)`` it
  scales, the convolution before it does); else the last with as many values per sample,
  reshaped (a convolution's channels stay on axis 1, a pixel shuffle; a Linear's ``C*H*W``
  features unflattened to ``(B, C, H, W)`` are its channels)): after a convolution,
  batch/instance/group norm or a per-channel PReLU they are the channels (axis 1 of ``(B, C,
  *spatial)``), after a Linear, LayerNorm/RMSNorm, embedding, recurrent layer or attention the
  last axis (the features of ``(B, D)``, ``(B, T, D)``, ``(B, ..., D)``). Activations and
  parameter-free modules (dropout, pooling) keep the layout of what ran before them, another
  layer with parameters feeding it leaves it unknown; with none known (e.g. ``layers=`` picked
  the activation only) the nearest such module before it in ``named_modules()`` order decides,
  else the channels. (A custom ``forward`` that permutes axes and then copies, ``.contiguous()``
  or ``.reshape``, can mislead it.) A population's outputs have the model axis in front; the rule
  is the same behind it;
- ``nonfinite``: the output held a NaN or ±Inf (read from its sums, so a float overflow of the
  sum counts too); ``order``: the layer's position in forward order;
- ``grad_norm`` = ‖θ.grad‖ over the layer's own parameters (a sparse gradient, as of
  ``nn.Embedding(sparse=True)``, as its dense form), read when the backward of step
  ``s`` ends (before clipping; if gradients are accumulated without zeroing, the sum so far;
  with several forwards in the step, the gradient of all of them; with several backward calls
  of one forward, e.g. two losses, the first that reached the layer, which also gives its
  ``out_grad_norm``; a parameter two layers share, a tied weight, is read at the first
  backward that reaches either of them),
  and ``out_grad_norm`` = ‖∂L/∂y‖ of its output in the step's first forward (None for an
  output that a later in-place op overwrote, e.g. ``ReLU(inplace=True)``). Tensor hooks on the
  sampled step's outputs take the norm of each ``∂L/∂y`` as it passes; one callback queued on
  the autograd engine then reads the parameters' ``.grad`` (no hook on the parameters, so
  ``AccumulateGrad`` keeps its fast path) and stacks all the norms;
- ``weight_norm`` = ‖θ_s‖ at the start of step ``s``;
- ``loss_scale``: with ``watch(..., scaler=GradScaler)`` (mixed precision), the scale ``S`` the
  step's loss was multiplied by; ``grad_norm`` and ``out_grad_norm`` are divided by it (the
  true ‖∂L/∂·‖, not ``S`` times it). None without a scaler;
- ``update_ratio`` = ‖θ_{s+1} − θ_s‖ / ‖θ_s‖, the relative size of the optimizer update made
  with the gradient of step ``s`` (CS231n lecture 7: aim for about 1e-3). The optimizer step is
  detected from the parameters' in-place version counters (any in-place update under
  ``torch.no_grad()``, as ``torch.optim``'s foreach and for-loop optimizers make) or from a
  step of a ``torch.optim`` optimizer holding them (a global step hook: fused optimizers move
  no counter) at the next step's first
  forward or at :meth:`Watch.records`, whenever it comes (also after several accumulation
  steps). Updates through ``.data`` (``p.data -= lr * p.grad``, ``p.data.add_(...)``,
  ``p.data = ...``) move no version counter: when none has moved, the watched subset (below)
  is compared with its copy from step ``s`` at each later training forward (and at
  :meth:`Watch.records`) until a change is found, which is the update (gradients
  accumulated over several steps, then a manual ``.data`` update, included); no change gives
  None. Every sampled step of an accumulated gradient gets the ratio of the update that used
  it; a step whose gradients ``zero_grad()`` set to None before any update, or whose forward
  raised (a skipped batch), gets None.
  **An estimate for large parameters:** ‖Δθ_p‖ of a parameter with ``n > UPDATE_SAMPLE``
  (32768) entries per model is ``sqrt(n/m)·‖Δθ_p‖`` over a
  fixed subset of ``m <= n/2`` of its entries: every ``s``-th run of ``UPDATE_CHUNK`` (16)
  consecutive entries, one 64-byte cache line of float32, so that copying the subset reads a
  fraction ``1/s`` of the parameter's memory (single entries every ``s``, which it was before,
  read all of it); ``s`` is a prime that divides no trailing dimension counted in chunks, so the
  runs visit every column group and input channel. Smaller parameters (biases, small layers)
  are exact, and so are the weights of ``nn.Embedding`` and ``nn.EmbeddingBag`` whatever their
  size (an update that moves only the rows of the batch's tokens could miss a fixed subset
  altogether: a ratio of 0). Measured on an MLP 64-1024-1024-10, 4 steps of Adam and of SGD
  with momentum, the estimate is within 0.2% (Adam) and 1.4% (SGD) of the exact ratio (the test
  asserts 2%). It costs one preallocated copy of the subsets (an embedding's whole weight), not
  of the parameters.

``θ`` is the concatenation of all of the layer's own parameters (weight and bias). Norms and
ratios are None where a layer has no parameters (or no gradient, or no optimizer step yet); a
frozen layer keeps its ``weight_norm`` and, as the formula gives for weights the step left
alone, an ``update_ratio`` of 0.0 (the verdicts leave such layers out).
A module called several times in one forward is measured at its first call with a
floating-point output (``calls`` says how many calls there were); an empty output (a batch of no
samples) is not measured. Activations applied as functions
(``F.relu`` inside a custom ``forward``) are invisible to hooks; use modules to see them.

Populations (:class:`trainlab.population.Population`): the statistics are per model. In the
stacked mode the hooks sit on ``pop.net``'s leaves, whose outputs are ``(K, B, ...)``; in the
vmap and loop modes the sampled step's batch is run again, model by model and without
gradients, through the plain template (so ``out_grad_norm`` is None there).
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import os
import warnings
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.autograd.graph import get_gradient_edge
from torch.nn.utils import parametrize
from torch.nn.utils.rnn import PackedSequence
from torch.optim.optimizer import register_optimizer_step_post_hook

from ..devices import flushes_denormals
from ..errors import UserError, did_you_mean, whole_number
from . import stats

__all__ = ["Watch", "watch", "write_jsonl", "RECORD_FIELDS"]

nan = float("nan")
_ENGINE = torch.autograd.Variable._execution_engine  # queue_callback: run at a backward's end
#: whether the running backward executes an autograd node (torch >= 2.1)
_WILL_EXECUTE = getattr(torch._C, "_will_engine_execute_node", None)

#: the fields of every record, in the order they are written
RECORD_FIELDS = (
    "model", "layer", "step", "kind", "order", "calls", "act_mean", "act_std", "dead_fraction",
    "saturated_fraction", "nonfinite", "grad_norm", "out_grad_norm", "weight_norm",
    "update_ratio", "loss_scale", "hist", "hist_under", "hist_over", "hist_edges",
)  # fmt: skip


#: per parameter and model, the update ratio reads at most this many entries (see Watch)
UPDATE_SAMPLE = 32768
_HIST_COPIES = 8  # histogram counts are scattered into this many copies, then summed
#: with the layer hooks permanent (``every <= 8``), sampled steps whose layer outputs hold at
#: most this many bytes in all are copied and reduced ``DEFER_STEPS`` at a time (see Watch)
DEFER_BYTES = 1 << 20
DEFER_STEPS = 16
_CACHE_ENTRIES = 64  # device constants kept (Watch._remember), at least; 8 per watched layer
DEFER_SHAPES = 2  # buffers kept per layer: one per output shape (full and last batch)


@dataclass
class _Layer:
    """Summaries of one layer at one sampled step, on the device (every statistic is ``(K,)``).

    The activation summaries are columns of the step's stacked tensors (:class:`_Sample`);
    ``act`` and ``hist`` are views of them.
    """

    kind: str
    sample: _Sample | None = None
    order: int | None = None
    calls: int = 0
    n: int = 0  # values per model in the output
    col: int | None = None  # column in sample.moments / sample.hist (None: not measured)
    #: (key, column in sample.fractions, the fraction's denominator: units or values per model)
    frac: tuple[str, int, int] | None = None

    @property
    def act(self) -> dict[str, torch.Tensor]:
        """``shift``, ``s1``, ``norm`` (:func:`stats.moment_sums`) and the fraction: ``(K,)``."""
        s = self.sample
        if s is None or self.col is None or s.moments is None:
            return {}
        m = s.moments[:, self.col]  # (K, 3)
        out = {"shift": m[:, 0], "s1": m[:, 1], "norm": m[:, 2]}
        if self.frac is not None and s.fractions is not None:
            out[self.frac[0]] = s.fractions[:, self.frac[1]]
        return out

    @property
    def hist(self) -> torch.Tensor | None:
        """``(K, E + 1)`` counts: under, bins..., over."""
        s = self.sample
        if s is None or self.col is None or s.hist is None:
            return None
        return s.hist[:, self.col]


#: what a layer that sets the unit layout leaves for the activations after it (_unit_entry):
#: layout, output shape, unit count, unbatched, and (a weak reference to the output's storage
#: root, its unit axis's size and stride) to tell a view of it (_viewed_units)
_UnitEntry = tuple[
    str | None,
    tuple[int, ...],
    int | None,
    bool | None,
    "tuple[weakref.ref[torch.Tensor], int, int] | None",
]


@dataclass
class _Sample:
    """One sampled step: its layers, stacked summaries, and the snapshot awaiting the update."""

    step: int
    layers: dict[str, _Layer]
    next_order: int = 0
    # hook-time pieces until the forward ends: (layer, (K, 3) moments, fraction or None,
    # dead-unit peaks (K, U) or None, histogram positions/indices (K, m))
    pending: list[tuple[_Layer, torch.Tensor, torch.Tensor | None, torch.Tensor | None,
                        torch.Tensor]] = field(default_factory=list)  # fmt: skip
    # deferred steps (Watch._defer): (name, kind, module, contiguous copy (K, B, ...), units)
    raw: list[tuple[str, str, nn.Module, torch.Tensor, str]] = field(default_factory=list)
    # the strides of each copied output as the layer gave it (Watch._stop_deferring)
    live_strides: dict[str, tuple[int, ...]] = field(default_factory=dict)
    outputs: list[tuple[_Layer, torch.Tensor, int]] = field(default_factory=list)
    moments: torch.Tensor | None = None  # (K, L, 3): shift, Σ(y − shift), ‖y − shift‖
    fractions: torch.Tensor | None = None  # (K, F): dead / saturated fractions
    hist: torch.Tensor | None = None  # (K, L, E + 1) float32 counts
    weight: torch.Tensor | None = None  # (K, P): ‖θ_p‖ per parameter
    grad: torch.Tensor | None = None  # (K, P') ‖∂L/∂θ_p‖ for the parameters in grad_ids
    grad_ids: list[int] = field(default_factory=list)
    out_grad: torch.Tensor | None = None  # (K, L') ‖∂L/∂y‖ for the layers in out_grad_layers
    out_grad_layers: list[_Layer] = field(default_factory=list)
    update: torch.Tensor | None = None  # (K, P): estimated ‖θ_{s+1} − θ_s‖ per parameter
    loss_scale: torch.Tensor | None = None  # 0-d: the GradScaler's scale in the step's backward
    # 0-d: the found_inf a GradScaler gave a fused optimizer for this step's update (> 0: the
    # optimizer skipped it, no update)
    skipped: torch.Tensor | None = None
    # ‖∂L/∂y‖ taken by the output tensor hooks during a backward, stacked at its end
    out_grads: dict[int, torch.Tensor] = field(default_factory=dict)  # index in out_layers
    out_layers: list[_Layer] = field(default_factory=list)
    queued: bool = False
    grads_read: bool = False  # the step's first backward was read (a later one reads the rest)
    # each watched parameter's .grad version as the first backward starts (None: no .grad), and
    # the versions of those the first backward read but did not reach (a zeroed .grad of a head
    # only a later backward reaches: zero_grad(set_to_none=False)), by position in _params
    # (the .grad tensor too, weakly: a backward with create_graph=True replaces it by a new
    # tensor, whose version starts again at 0)
    grad_versions: list[tuple[Any, int] | None] = field(default_factory=list)
    unreached: dict[int, tuple[Any, int]] = field(default_factory=dict)
    # the parameters' version counters when the watch copied their subsets (Watch._snapshot)
    snapshot: list[int] | None = None
    # ``update`` came from comparing values (no version counter moved: an update through
    # ``.data``); all zeros then means no update was seen, read as None
    update_by_value: bool = False
    # whether each watched parameter had a .grad when the step's last backward ended, and the
    # earlier sampled steps whose gradients accumulate into the same update (no update since
    # them, and no .grad set to None): they take the update this step's snapshot measures
    grads_after: list[bool] = field(default_factory=list)
    waiting: list[_Sample] = field(default_factory=list)
    raised: bool = False  # its forward raised (a skipped batch): no update is its
    # the layers seen in this forward that set a unit layout ("channel" / "last"; None: one
    # with parameters whose layout is unknown), in forward order: :func:`_unit_entry`
    units: list[_UnitEntry] = field(default_factory=list)
    # deferred steps: the slot of this step's copies in the layers' buffers, and their bytes
    slot: int | None = None
    raw_bytes: int = 0
    # vmap populations: the template's Python state when the step's forward began (its
    # counters: the dropout layers' calls, so that the re-run draws the masks that forward drew)
    python_state: list[Any] = field(default_factory=list)
    # vmap/loop populations: a copy of the step's batch, run again model by model
    input: torch.Tensor | None = None
    shape: Any = None  # the shapes of the step's tensor inputs (Watch._too_big)


def _refuse_scripted(model: nn.Module, layers: Iterable[str]) -> None:
    """A TorchScript module runs no module hooks (``torch.jit.script`` refuses them, a traced
    module ignores them): the model or a watched layer that is one is a UserError naming it,
    not torch's error or records without data (an unwatched scripted part is fine)."""
    for name in ("", *layers):
        try:
            m = model.get_submodule(name) if name else model
        except AttributeError:  # (a stacked population's own wrapper, e.g. "1.inner")
            continue
        if isinstance(m, torch.jit.ScriptModule):
            where = f"layer {name!r} is" if name else "the model is"
            raise UserError(
                f"{where} a TorchScript module (torch.jit.script/trace), which runs no module "
                "hooks: watch the module before scripting or tracing it, or leave it out "
                "(layers=...)"
            )


def _run(fn: Any, *args: Any) -> Any:
    return fn(*args)


#: ``_run`` as ``torch.compiler.disable`` makes it (a graph break: it runs eagerly), made on
#: first use, as that loads torch._dynamo (seconds to import); a dict, not functools.cache,
#: which dynamo warns it traces through
_EAGER: dict[str, Any] = {}


def _eager() -> Any:
    """:func:`_run`, run outside any graph ``torch.compile`` traces."""
    run = _EAGER.get("run")
    if run is None:
        run = _EAGER["run"] = torch.compiler.disable(_run)
    return run


class _ModuleHook:
    """A watch's module hook. ``copy.deepcopy`` of a watched module (``best =
    copy.deepcopy(model)`` inside the block) gives the copy an inert hook instead of a copy of
    the watch, and the watch removes those from the copies when it detaches; pickling gives an
    inert hook."""

    __slots__ = ("fn", "watch", "where")

    def __init__(self, watch: Watch, fn: Any) -> None:
        self.fn, self.watch, self.where = fn, watch, None

    @classmethod
    def register(
        cls, watch: Watch, module: nn.Module, fn: Any, *, pre: bool = False,
        prepend: bool = False, with_kwargs: bool = True, always_call: bool = False,
    ) -> Any:  # fmt: skip
        hook = cls(watch, fn)
        if pre:
            handle = module.register_forward_pre_hook(hook, with_kwargs=with_kwargs)
        else:
            handle = module.register_forward_hook(
                hook, prepend=prepend, with_kwargs=with_kwargs, always_call=always_call
            )
        hook.where = (handle.hooks_dict_ref, handle.id)
        if not isinstance(module.__dict__.get("__getstate__"), _StateWithoutWatch):
            module.__dict__["__getstate__"] = _StateWithoutWatch(module)
        watch._guarded.append(weakref.ref(module))
        return handle

    def __call__(self, *args: Any) -> Any:
        if torch.compiler.is_compiling():  # traced, the watch's changing state would make
            return _eager()(self.fn, *args)  # dynamo recompile every step, then stop compiling
        return self.fn(*args)

    def __deepcopy__(self, memo: dict[int, Any]) -> _InertHook:
        if self.where is not None:
            ref, key = self.where
            hooks = ref()
            copied = memo.get(id(hooks)) if hooks is not None else None
            if copied is not None:  # the copy's hook dict, being filled now
                w = self.watch
                w._copied_hooks.append((weakref.ref(copied), key))
                if len(w._copied_hooks) > w._prune_copied_at:  # copies that died need none
                    w._copied_hooks = [(r, k) for r, k in w._copied_hooks if r() is not None]
                    w._prune_copied_at = 2 * len(w._copied_hooks) + 64  # (amortized O(1))
        return _InertHook()

    def __reduce__(self) -> tuple:
        return (_InertHook, ())


#: a module's hook dicts, and those keyed by the ids of its forward (pre-)hooks
_HOOK_DICTS = ("_forward_hooks", "_forward_pre_hooks")
_HOOK_ID_DICTS = (
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
    "_forward_pre_hooks_with_kwargs",
)


class _StateWithoutWatch:
    """A watched module's own ``__getstate__`` (an instance attribute, which ``pickle``,
    ``torch.save`` and ``copy.deepcopy`` call before the class's): its state without the
    watch's hooks, so that a model saved inside the block (``torch.save(model, "best.pt")``)
    is the plain model: no hook to run, no trainlab needed to load it, scriptable. Removed
    when the watch detaches."""

    def __init__(self, module: nn.Module) -> None:
        self.module = weakref.ref(module)

    def __call__(self) -> dict[str, Any]:
        m = self.module()
        if m is None:  # pragma: no cover - a dead module's attribute cannot be called
            return {}
        state = dict(type(m).__getstate__(m))
        state.pop("__getstate__", None)
        ours = set()
        for name in _HOOK_DICTS:
            hooks = state.get(name)
            if isinstance(hooks, dict) and any(isinstance(h, _ModuleHook) for h in hooks.values()):
                ours |= {k for k, h in hooks.items() if isinstance(h, _ModuleHook)}
                state[name] = OrderedDict((k, h) for k, h in hooks.items() if k not in ours)
        for name in _HOOK_ID_DICTS:
            ids = state.get(name)
            if isinstance(ids, dict) and ours & ids.keys():
                state[name] = OrderedDict((k, v) for k, v in ids.items() if k not in ours)
        return state


class _InertHook:
    """What a copy of a watched module gets in place of the watch's hook: does nothing."""

    def __call__(self, *args: Any) -> None:
        return None


def _own_params(m: nn.Module) -> list[nn.Parameter]:
    """The parameters a layer holds itself: its direct ones, and for a module reparametrized
    with ``torch.nn.utils.parametrize`` (``weight_norm``, ``spectral_norm``, ...) those of its
    parametrizations (``parametrizations.weight.original0/1``), which make its weight."""
    own = list(m.parameters(recurse=False))
    if parametrize.is_parametrized(m):
        seen = {id(p) for p in own}
        for plist in m.parametrizations.values():  # type: ignore[union-attr]
            for p in plist.parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    own.append(p)
    return own


def _has_own_params(m: nn.Module) -> bool:
    return bool(_own_params(m))


def _kind(m: nn.Module) -> str:
    """``linear``, ``conv2d``, ``relu``, ...: the class name, lower case; a population's stacked
    twin of a layer (``plain_kind``) and a folded parameter-free module are described as the
    plain layer is, so that a population's records equal each model's alone."""
    if getattr(m, "folded", False):
        m = m.inner
    kind = stats.activation_kind(m)
    if kind is not None:
        return kind
    plain = getattr(m, "plain_kind", None)
    if isinstance(plain, str):
        return plain
    cls = type(m)
    if parametrize.is_parametrized(m):  # weight_norm, spectral_norm, orthogonal: the class
        cls = cls.__bases__[0]  # ParametrizedLinear's base, Linear
    name = cls.__name__.lstrip("_")
    return name.removeprefix("Stacked").lower()  # Conv2d -> conv2d


#: layers whose units are channels (axis 1 of ``(B, C, *spatial)``): convolutions, batch and
#: instance norm (``_NormBase``), group norm
_CHANNEL_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.conv._ConvNd, nn.modules.batchnorm._NormBase, nn.GroupNorm,
)  # fmt: skip
#: layers whose units are on the last axis of ``(B, ..., D)``: Linear-style layers
_LAST_TYPES: tuple[type[nn.Module], ...] = (
    nn.Linear, nn.Bilinear, nn.LayerNorm, nn.Embedding, nn.EmbeddingBag, nn.RNNBase,
    nn.MultiheadAttention, *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()),
)  # fmt: skip
#: the same by kind (:func:`_kind`: the class name, lower case, ``Stacked`` dropped), for
#: classes of other libraries and a population's stacked twins (``_StackedLinear``: "linear")
_CHANNEL_KINDS = ("conv", "batchnorm", "instancenorm", "groupnorm")  # prefixes
_LAST_KINDS = frozenset(("linear", "bilinear", "layernorm", "rmsnorm", "embedding"))


def _unit_layout(m: nn.Module) -> str | None:
    """Where the units of ``m``'s output are, for :func:`stats.unit_peaks`.

    ``"channel"`` (axis 1 of ``(B, C, *spatial)``): convolutions and the layers that act per
    channel (batch/instance/group norm, a PReLU with one slope per channel); ``"last"`` (the last
    axis of ``(B, ..., D)``): Linear-style layers (Linear, Bilinear, LayerNorm, RMSNorm,
    embeddings, recurrent layers, attention); None: anything else (elementwise or unknown).
    """
    if isinstance(m, nn.PReLU):
        return "channel" if m.num_parameters > 1 else None
    if isinstance(m, _CHANNEL_TYPES):
        return "channel"
    if isinstance(m, _LAST_TYPES):
        return "last"
    kind = _kind(m)
    if kind.startswith(_CHANNEL_KINDS):
        return "channel"
    return "last" if kind in _LAST_KINDS else None


def _unit_entry(
    layout: str | None, y: torch.Tensor, stacked: bool, unbatched: bool | None
) -> _UnitEntry:
    """What a layer that sets the unit layout leaves for the activations after it: ``(layout,
    its output's shape, its unit count, whether its input had no batch axis (None: its rank
    does not tell), its unit axis in memory)``; the count is the size of the output's channel
    axis (after the model axis of a ``stacked`` population and the batch axis) or of its last
    axis. The unit axis in memory is a weak reference to the output's root tensor (``y`` or,
    for an output that is itself a view, e.g. a Linear's 3-D output made without autograd, its
    ``_base``, which every view of ``y`` keeps alive) with the axis's size and stride."""
    lead = int(stacked) + (not unbatched)
    count = memory = None
    if layout is not None and y.dim() > lead:
        axis = lead if layout == "channel" else y.dim() - 1
        count = y.shape[axis]
        root = y._base if y._base is not None else y
        with suppress(TypeError):  # (a tensor subclass that takes no weak reference)
            memory = (weakref.ref(root), count, y.stride(axis))
    return layout, tuple(y.shape), count, unbatched, memory


def _viewed_units(
    entries: list[_UnitEntry], x: torch.Tensor | None, stacked: bool
) -> tuple[str | int, bool] | None:
    """Where the units are in an activation's input ``x`` when ``x`` is a view (a permute,
    transpose, flatten, slice, unsqueeze) of the output of the latest layer before it that left
    an entry: its unit axis is the one with the same stride over the same storage, with at
    most as many entries (a chunk of the channels; a multiple of the stride for ``[:, ::m]``):
    ``"channel"`` (axis 1 of ``(B, C, ...)``), ``"last"`` (a convolution's channels moved last
    by ``permute(0, 2, 3, 1)`` or to tokens by ``flatten(2).transpose(1, 2)``), else the axis
    counted from the end (a negative int: ``(B, 1, C, L)``); ``"one"`` for a layer with one
    unit (its axis moved or squeezed away: the whole sample is that unit); None where ``x`` is
    no such view, or the units were split (an unflatten: another axis steps inside their span;
    the shape rules decide)."""
    base = getattr(x, "_base", None)
    if x is None or base is None:
        return None
    for layout, _, _, unbatched, memory in reversed(entries):
        if layout is None or memory is None or memory[0]() is not base:
            continue
        _, size, stride = memory
        lead = int(stacked) + (not unbatched)
        if x.dim() <= lead:
            return None
        if size == 1:  # one unit, wherever the view put it (or squeezed it away)
            return "one", bool(unbatched)
        if stride <= 0:
            return None
        hits = [  # (a slice or chunk of the units, ``[:, ::m]`` too, keeps a multiple of their
            i  # stride and at most their count)
            for i in range(lead, x.dim())
            if x.shape[i] > 1 and x.stride(i) % stride == 0
            and x.shape[i] <= -(-size // max(1, x.stride(i) // stride))
        ]  # fmt: skip
        split = any(  # another axis steps inside the units' span: an unflatten of them
            j not in hits and x.shape[j] > 1 and stride < x.stride(j) < stride * size
            for j in range(lead, x.dim())
        )
        if split or len(hits) != 1:
            return None
        if hits[0] == lead:
            return "channel", bool(unbatched)
        return ("last" if hits[0] == x.dim() - 1 else hits[0] - x.dim()), bool(unbatched)
    return None


def _units_before(
    entries: list[_UnitEntry],
    y: torch.Tensor,
    stacked: bool,
    x: torch.Tensor | None = None,
) -> tuple[str | int | None, bool]:
    """The unit layout of an activation's output ``y`` (from its input ``x``) and whether it
    is unbatched, from the layers before it in the forward (:func:`_unit_entry`), in this
    order: where ``x`` is a view of such a layer's output, the axis its units went to
    (:func:`_viewed_units`: a permute or a flatten and transpose to tokens); the latest whose
    output has ``y``'s shape (the layer that fed it, through elementwise steps; one of unknown
    layout: None); the latest whose unit count is ``y``'s size on its unit axis (a pooling,
    flatten or broadcast between them: a convolution's channels through ``flatten(2)``, not a
    squeeze-excitation gate's ``(B, C)`` Linear before the ``(B, C, H, W)`` it scales; a
    ``(B, D)`` Linear's vector broadcast into ``y`` gives its features over tokens ``(B, T, D)``
    and its channels in ``(B, D, H, W)``); the latest whose output has as many values per
    sample as ``y`` (reshaped into it: a convolution's channels stay on axis 1, a sub-pixel
    shuffle; a Linear's ``(B, D)`` features unflattened to ``(B, C, H, W)`` are its channels,
    else its last axis, tokens split into heads); else no layout (the static guess),
    unbatched only if every layer before it was."""
    if x is not None and x.shape == y.shape:  # (y an elementwise map of x)
        viewed = _viewed_units(entries, x, stacked)
        if viewed is not None:
            return viewed
    shape = tuple(y.shape)
    for layout, out, _, unbatched, _ in reversed(entries):
        if out == shape:
            return layout, bool(unbatched)
    for layout, out, count, unbatched, _ in reversed(entries):
        lead = int(stacked) + (not unbatched)
        if layout is None or y.dim() <= lead:
            continue
        if layout == "last" and len(out) != y.dim():  # a (B, D) vector broadcast into y:
            spatial = y.dim() - lead >= 3  # into (B, C, H, W) its D can only be channels
            if count == y.shape[-1] and not spatial:  # ((B, T, D): the features)
                return "last", bool(unbatched)
            if count == y.shape[lead]:
                return "channel", bool(unbatched)
        elif count == (y.shape[lead] if layout == "channel" else y.shape[-1]):
            return layout, bool(unbatched)
    for layout, out, _, unbatched, _ in reversed(entries):  # y reshaped from its output
        lead = int(stacked) + (not unbatched)
        if layout is None or y.dim() <= lead:
            continue
        if math.prod(out[lead:]) == math.prod(y.shape[lead:]):
            if layout == "channel":  # (a pixel shuffle; moved by a view: _viewed_units)
                return "channel", bool(unbatched)
            flat = len(out) - lead == 1  # a (B, D) unflattened to (B, C, H, W): channels;
            image = flat and y.dim() - lead >= 3  # a (B, T, D) split into heads: features
            return ("channel" if image else "last"), bool(unbatched)
    known = [e[3] for e in entries if e[3] is not None]
    return None, bool(known) and all(known)  # (one sample: every layer that tells says so)


def _unbatched_rank(kind: str) -> int | None:
    """The rank of one sample's input of a layer of ``kind`` given without its batch axis, as
    torch takes it: 1 for a Linear (``(D,)``), ``n + 1`` for a ConvNd or ConvTransposeNd
    (``(C, *spatial)``); None where it cannot be told."""
    if kind == "linear":
        return 1
    for prefix in ("convtranspose", "conv"):
        digit = kind.removeprefix(prefix)[:1]
        if kind.startswith(prefix) and digit.isdigit():
            return int(digit) + 1
    return None


def _unit_guesses(tree: nn.Module, layers: dict[str, nn.Module]) -> dict[str, str]:
    """For each watched activation, the layout of the nearest module before it (in
    ``named_modules()`` order) with a known layout, else ``"channel"``: used when no layer with
    a known layout ran before it in the forward (e.g. ``layers=`` picked the activation only)."""
    out: dict[str, str] = {}
    known: str | None = None
    for name, m in tree.named_modules():
        layout = _unit_layout(m)
        if name in layers and stats.activation_kind(m) is not None:
            out[name] = layout or known or "channel"
        known = layout or known
    return out


def _population_parts(model: nn.Module) -> tuple[int, nn.Module, nn.Module | None] | None:
    """``(k, net, vmap_template)`` for a trainlab Population, None for a plain module."""
    from ..population import Population

    if not isinstance(model, Population):
        return None
    template = model._template if model.mode in ("vmap", "loop") else None
    return model.k, model.net, template


#: the update-ratio subset is made of runs of this many consecutive entries (a 64-byte cache line
#: of float32), so that copying it reads a fraction of the parameter's memory, not all of it
UPDATE_CHUNK = 16


def _update_subset(shape: Sequence[int], n: int, sample: int) -> tuple[int, int]:
    """``(chunk, stride)`` of the update-ratio subset of a parameter with ``n`` entries per model.

    ``(1, 1)`` (every entry) when ``n <= sample``. Else the parameter is cut into chunks of
    ``UPDATE_CHUNK`` consecutive entries (single entries when ``n`` is not a multiple of it) and
    every ``stride``-th chunk is kept, ``stride`` the smallest prime ``>= ceil(n / sample)`` that
    divides no trailing product of ``shape`` (the per-model shape) counted in chunks, so that the
    chunks cycle through every column group (and every input channel) instead of hitting one.
    """
    if n <= sample:
        return 1, 1
    chunk = UPDATE_CHUNK if n % UPDATE_CHUNK == 0 else 1
    suffix, prod = [], 1
    for d in reversed(list(shape)):
        prod *= int(d)
        if prod % chunk == 0:
            suffix.append(prod // chunk)
    return chunk, stats.coprime_stride(suffix, -(-n // sample))


@contextmanager
def _denormals_kept() -> Iterator[None]:
    """Denormal floats computed, not flushed to zero, inside the block where the thread
    flushes them (the trainer does on the CPU: train._flush_denormals): a norm squares its
    elements, and the squares of a vanishing gradient's (below ~1.1e-19, normal float32
    numbers themselves) are denormal: flushed, its norm read 0. The caller's setting, as it
    is on entry, is restored."""
    if not flushes_denormals():
        yield
        return
    torch.set_flush_denormal(False)
    try:
        yield
    finally:
        torch.set_flush_denormal(True)


def _norms(tensors: list[torch.Tensor], k: int) -> torch.Tensor:
    """``(K, P)`` float32 Euclidean norms per model of ``P`` tensors ``(K, ...)`` (few kernels)."""
    if k == 1:
        return torch.stack(stats.foreach_norms(tensors)).reshape(1, len(tensors)).float()
    return torch.stack(stats.norms(tensors, k), dim=1)


class Watch:
    """Hooks that record per-layer statistics every ``every`` training steps; see the module doc.

    Use :func:`watch` (a context manager); ``attach()`` / ``detach()`` do the same by hand.

    Args:
        model: any ``nn.Module``, or a :class:`trainlab.population.Population` (then the
            statistics are per model and records carry ``model=i``).
        every: sample one training step in ``every`` (``1`` = each step).
        bins: number of histogram bins over ``hist_range``, or the bin edges themselves.
        hist_range: ``(low, high)`` of the histogram bins when ``bins`` is a count.
        hist_values: count at most this many values per model and layer in the histogram (an
            evenly strided sample whose stride is coprime with the trailing dimensions, so that
            it covers every unit and channel: :func:`stats.sample_stride`; None: all).
            Moments and fractions always use every value.
        layers: names (from ``named_modules()``) to watch, or one name; default: every module
            with parameters of its own (leaf or not) and every activation module.
        start_step: the number of the first training step (a resumed run passes its step).
        update_ratio: measure ‖Δθ‖/‖θ‖ (keeps one preallocated copy of a fixed subset of at
            most about ``UPDATE_SAMPLE`` entries per parameter and model).
        scaler: the ``torch.amp.GradScaler`` of a mixed-precision loop
            (``scaler.scale(loss).backward()``): its gradients are ``S·∂L/∂θ`` until
            ``scaler.step`` unscales them, so the gradient norms are divided by the scale ``S``
            of each step's backward (read from the scaler's scale tensor, no host sync) and the
            records carry it as ``loss_scale``. A step whose scaled gradients overflowed (the
            scaler skips its update) then reads as such in the verdict, not as a NaN/Inf
            origin, unless the overflow persists to the latest sampled step.
    """

    #: with ``every`` at most this, the layer hooks stay registered for the whole block
    PERMANENT_HOOKS_EVERY = 8

    def __init__(
        self,
        model: nn.Module,
        *,
        every: int = 1,
        bins: int | Sequence[float] = 60,
        hist_range: tuple[float, float] = (-3.0, 3.0),
        hist_values: int | None = 4096,
        layers: str | Iterable[str] | None = None,
        start_step: int = 0,
        update_ratio: bool = True,
        scaler: Any = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise UserError(f"watch() needs an nn.Module, got {type(model).__name__}")
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise UserError(f"every must be a positive int (sample one step in N), got {every!r}")
        every = int(every)  # (np.int64(5) is a count too)
        if scaler is not None and not callable(getattr(scaler, "get_scale", None)):
            raise UserError(f"scaler must be a torch.amp.GradScaler, got {type(scaler).__name__}")
        self.scaler = scaler
        self.model = model
        self.every = every
        start = whole_number(start_step)
        if start is None or start < 0:
            raise UserError(
                f"start_step must be a whole number >= 0 (the step a resumed loop is at), got "
                f"{start_step!r}"
            )
        self.start_step = start
        if not isinstance(update_ratio, (bool, np.bool_)):  # (np.True_ from an array of flags)
            raise UserError(
                f"update_ratio must be True or False (measure each sampled step's update), "
                f"got {update_ratio!r}"
            )
        self.measure_updates = bool(update_ratio)
        if isinstance(bins, numbers.Integral) and not isinstance(bins, bool):
            bins = int(bins)  # (np.int64(30) is a count)
        self.edges = _edges(bins, hist_range)  # (E,) on the CPU; moved to the data's device
        # evenly spaced bins take the fast path (stats.uniform_histogram's binning)
        self._uniform = (
            (float(hist_range[0]), float(hist_range[1]), bins) if isinstance(bins, int) else None
        )
        if hist_values is not None and (
            isinstance(hist_values, bool)
            or not isinstance(hist_values, numbers.Integral)
            or hist_values < 1
        ):
            raise UserError(f"hist_values must be a positive int or None, got {hist_values!r}")
        hist_values = None if hist_values is None else int(hist_values)
        self.hist_values = hist_values
        from ..init import refuse_lazy, refuse_meta

        refuse_lazy(model, "watch it")  # (its parameters' sizes, which the watch plans for)
        refuse_meta(model, "watch it")
        pop = _population_parts(model)
        self.k, self.tree, self._vmap_template = (1, model, None) if pop is None else pop
        self.is_population = pop is not None
        self.layers = _select_layers(self.tree, layers)  # name -> module (tree's)
        _refuse_scripted(model if pop is None else model._template, self.layers)
        self._kinds = {n: _kind(m) for n, m in self.layers.items()}
        # dead_fraction's unit axis: each layer's own layout, and the fallback of activations
        self._layouts = {n: _unit_layout(m) for n, m in self.layers.items()}
        self._unit_guess = _unit_guesses(self.tree, self.layers)
        self._unbatched_rank = {n: _unbatched_rank(self._kinds[n]) for n in self.layers}
        # (a leaf only: a module with children, whose hook runs after theirs, keeps their layout)
        self._forgets_units = {
            n
            for n, m in self.layers.items()
            if self._layouts[n] is None
            and _has_own_params(m)
            and stats.activation_kind(m) is None
            and not any(True for _ in m.children())
        }
        # the watched parameters in a fixed order, with their layer and update-subset stride
        self._params: list[tuple[str, nn.Parameter]] = [
            (name, p) for name, m in self.layers.items() for p in _own_params(m)
        ]
        self._layer_params: dict[str, list[int]] = {n: [] for n in self.layers}
        for i, (name, _) in enumerate(self._params):
            self._layer_params[name].append(i)
        self._plan_subsets()
        self._snapshot: list[torch.Tensor] | None = None  # the subsets at the pending step
        self._root_handles: list[Any] = []
        self._attached_once = False  # (records() of a watch never attached says so)
        self._layer_handles: list[Any] = []  # this step's forward hooks (or permanent ones)
        self._grad_handles: list[Any] = []  # the sampled step's gradient hooks
        self._leaf_handles: list[Any] = []  # the step's hooks on outputs that are leaf tensors
        # whether the backward with this graph task id reaches a watched parameter (_closed),
        # and the AccumulateGrad node of the first trainable one, with its (data_ptr, shape)
        self._writes_task, self._writes = -1, True
        self._to_inputs = False  # that backward is torch.autograd.grad(loss, params): no .grad
        self._acc_node: Any = None
        self._acc_param: nn.Parameter | None = None
        self._acc_key: tuple = (0, ())
        self._opt_stepped = False  # an optimizer of watched parameters stepped (see _finish_update)
        self._found_infs: list[torch.Tensor] = []  # ... each with a GradScaler's found_inf
        self._depth = 0  # nested calls of the root module (a recursive model)
        self._post_ran = False  # _post_forward ran for the call that _post_always ends
        self._samples: list[_Sample] = []
        self._current: _Sample | None = None  # the sampled step whose forward is running
        self._grad_sample: _Sample | None = None  # the sampled step whose backward may run
        self._views: tuple[tuple[int, ...], list[torch.Tensor]] | None = None
        self._pending: _Sample | None = None  # waits for the optimizer step (update ratio)
        self._step = self.start_step - 1
        self._untrained_forwards = 0  # forwards in eval mode or without autograd (not steps)
        # a training forward of the current step has outputs that no backward has reached yet:
        # the next training forward belongs to the same step (set in _post_forward, cleared by
        # the autograd hook _closed)
        self._open = False
        # the autograd graph task (one backward) that ended the last step: a forward run inside
        # it is activation checkpointing recomputing that step, not a new step
        self._closed_task: int | None = None
        self._closed_hook = self._closed  # one bound method, not one per forward
        # per optimizer seen stepping (weakly): (its number of param groups, whether it holds
        # a watched parameter); and the last one's entry with a weak reference to it, which
        # a training loop's every step asks again
        self._mine: weakref.WeakKeyDictionary[Any, tuple[int, bool]] = weakref.WeakKeyDictionary()
        self._last_optimizer: tuple[Any, int, bool] | None = None
        self._permanent = self.every <= self.PERMANENT_HOOKS_EVERY and self._vmap_template is None
        self._cache: dict[Any, torch.Tensor] = {}  # device constants (edges, offsets, ...)
        # permanent hooks on small outputs: copy each sampled step's outputs and reduce them
        # DEFER_STEPS steps at a time (_flush_deferred); None until the first sampled step's
        # size decides
        # deferred from the first sampled step on (a step too big stops it in its forward), so
        # that which steps are reduced together does not depend on where the watch started: a
        # resumed run's diagnostics equal an uninterrupted run's
        self._defer = self._permanent
        self._too_big: set[Any] = set()  # input shapes whose steps stopped deferring
        self._deferred: list[_Sample] = []  # forwards done, reductions pending
        # (weakref to a copied module's hook dict, key): see _ModuleHook
        self._copied_hooks: list[tuple[Any, int]] = []
        self._guarded: list[Any] = []  # weakrefs to the modules given a _StateWithoutWatch
        self._prune_copied_at = 64
        self._next_slot = 0  # the buffer slot of the next deferred step
        # per (layer, shape, dtype, device): (DEFER_STEPS, K, B, ...), oldest first
        self._defer_bufs: dict[tuple, torch.Tensor] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self) -> Watch:
        """Register the root hooks; :meth:`detach` removes every hook this watch added."""
        if self._root_handles:
            raise UserError("this watch is already attached; use one `with watch(...)` block")
        add = self._root_handles.append  # one by one: a failure removes those made before it
        try:
            add(_ModuleHook.register(self, self.model, self._pre_forward, pre=True))
            add(_ModuleHook.register(self, self.model, self._post_forward))
            add(_ModuleHook.register(self, self.model, self._post_always, always_call=True))
            # a fused optimizer moves no version counter: its step is seen here
            add(register_optimizer_step_post_hook(self._optimizer_stepped))
            if self._permanent:
                self._register_layer_hooks()
        except BaseException:  # (no __exit__ runs for a failed __enter__: remove them here)
            self._remove_hooks()
            raise
        self._attached_once = True
        return self

    def _post_always(self, module: nn.Module, args: tuple, kwargs: Any, output: Any) -> None:
        """Runs after every root forward, also one that raised (``always_call``): there,
        :meth:`_post_forward` did not run, and the call depth is put back here."""
        if self._post_ran:
            self._post_ran = False
        else:
            self._depth = max(0, self._depth - 1)

    def _optimizer_stepped(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        """Global optimizer step hook: note a step of an optimizer holding a watched parameter
        (fused optimizers update in place without moving the version counters)."""
        groups = len(optimizer.param_groups)  # (add_param_group: asked again)
        last = self._last_optimizer
        if last is not None and last[0]() is optimizer and last[1] == groups:
            holds = last[2]
        else:
            known = self._mine.get(optimizer)
            if known is None or known[0] != groups:
                ids = {id(p) for _, p in self._params}
                held = any(id(p) in ids for g in optimizer.param_groups for p in g["params"])
                self._mine[optimizer] = known = (groups, held)
            holds = known[1]
            self._last_optimizer = (weakref.ref(optimizer), groups, holds)
        if holds:
            self._opt_stepped = True
            # a GradScaler hands a fused optimizer its found_inf (an attribute set for the
            # step; older torch: a keyword): the step may skip itself
            found = getattr(optimizer, "found_inf", None)
            if found is None and isinstance(kwargs, dict):
                found = kwargs.get("found_inf")
            # kept only for a sampled step whose update is still to measure (a copy: no sync);
            # the unsampled steps between samples keep nothing
            pending = self._pending is not None
            if self.measure_updates and pending and isinstance(found, torch.Tensor):
                self._found_infs.append(found.detach().reshape(()).clone())

    def detach(self) -> None:
        """Remove every hook (root, layer, gradient); safe to call twice. The last sampled
        step's update is measured now: training after the block is not that step's (the hooks
        go even if measuring it fails)."""
        try:
            self._finish_update()
        finally:
            self._remove_hooks()
        if self._untrained_forwards and self._step < self.start_step:  # said once: cleared
            n, self._untrained_forwards = self._untrained_forwards, 0
            warnings.warn(
                f"watch recorded nothing: the model ran {n} forward(s), all in evaluation mode "
                "or without autograd, and no training step (watch measures training steps: "
                "call model.train() and backward inside the block)",
                UserWarning,
                stacklevel=3,
            )
        elif self._opt_stepped and self._step < self.start_step and not self._untrained_forwards:
            self._opt_stepped = False  # (said once)
            warnings.warn(
                f"watch recorded nothing: an optimizer stepped the parameters of the watched "
                f"{type(self.model).__name__}, whose hooks never saw a forward (the loop called "
                "its parts, or model.forward(x) instead of model(x)); call model(x), or watch "
                "the module the loop calls",
                UserWarning,
                stacklevel=3,
            )

    def _remove_hooks(self) -> None:
        if self._pending is not None:
            self._pending.snapshot = None
            self._pending = None
        for handles in (
            self._root_handles,
            self._layer_handles,
            self._grad_handles,
            self._leaf_handles,
        ):
            for h in handles:
                h.remove()
            handles.clear()
        for ref, key in self._copied_hooks:  # inert hooks of copies made inside the block
            hooks = ref()
            if hooks is not None:
                hooks.pop(key, None)
        self._copied_hooks.clear()
        for ref in self._guarded:  # the modules' own __getstate__ (see _StateWithoutWatch),
            m = ref()  # unless another watch's hooks are still on them
            if (
                m is not None
                and isinstance(m.__dict__.get("__getstate__"), _StateWithoutWatch)
                and not any(
                    isinstance(h, _ModuleHook) for d in _HOOK_DICTS for h in vars(m)[d].values()
                )
            ):
                del m.__dict__["__getstate__"]
        self._guarded.clear()
        self._mine.clear()
        self._last_optimizer = None
        self._acc_node = None
        if self._current is not None:  # a forward that raised: its copy of the batch
            self._current.input = None
        # the update ratio's parameter copy and views (they would keep the parameters' old
        # storage alive after model.to(...)): made again if the watch is attached again
        self._snapshot, self._views = None, None
        self._cache.clear()
        self._current = self._grad_sample = None
        self._open = False
        self._defer_bufs.clear()  # deferred steps keep their slots alive until records()

    def __enter__(self) -> Watch:
        return self.attach()

    def __exit__(self, *exc: object) -> None:
        self.detach()

    @property
    def step(self) -> int:
        """The number of the last training step seen (``start_step - 1`` before the first)."""
        return self._step

    def replayable_step(self) -> bool:
        """Whether the next training step is one this watch neither samples nor has work left
        for (an update ratio to finish, gradient or layer hooks to remove): its hooks would
        only count it, so a CUDA-graph replay, which runs no hooks, may take it and call
        :meth:`count_replayed_step` (:mod:`trainlab.cuda_graphs`)."""
        return (
            (self._step + 1) % self.every != 0
            and not self._permanent
            and self._pending is None
            and self._current is None
            and not self._open
            and self._depth == 0
            and not (self._layer_handles or self._grad_handles or self._leaf_handles)
        )

    def count_replayed_step(self) -> None:
        """Count a training step taken without running this watch's hooks (a replay of a step
        :meth:`replayable_step` allowed)."""
        self._step += 1

    # -- hooks ----------------------------------------------------------------------------------
    def _register_layer_hooks(self) -> None:
        for name, m in self.layers.items():
            hook = self._forward_hook(None, name, self.is_population, record_grad=True)
            # the watched model may itself be a watched layer (watch(nn.Linear(4, 3))): its
            # hook must run before the root's _post_forward, which ends the sample
            self._layer_handles.append(
                _ModuleHook.register(self, m, hook, prepend=m is self.model, with_kwargs=False)
            )

    def _pre_forward(self, module: nn.Module, args: tuple, kwargs: dict[str, Any]) -> None:
        self._depth += 1
        if self._depth > 1:
            return  # the root called inside its own forward (a recursive model): the same step
        if self._acc_node:  # a node kept past `p.data = bigger` keeps its old shape
            p = self._acc_node.variable
            if p.data_ptr() != self._acc_key[0] or p.shape != self._acc_key[1]:
                self._acc_node = None  # (fetched again by _writes_grads)
        left, self._current = self._current, None
        if left is not None:  # the last forward raised: drop its outputs and copies
            left.outputs, left.raw, left.pending, left.input = [], [], [], None
            left.raised = True
        if not module.training or not torch.is_grad_enabled():
            self._untrained_forwards += 1
            return  # evaluation, or no autograd (a logging forward under no_grad): not a step
        if self._recomputing():
            return
        if self._layer_handles and not self._permanent:
            self._remove(self._layer_handles)  # left over if the last forward raised
        if self._open:
            return  # an earlier forward of this step awaits its backward: the same step
        if self._grad_handles:
            self._remove(self._grad_handles)  # the previous sampled step's backward is over
        if self._leaf_handles:
            self._remove(self._leaf_handles)  # the previous step's, on outputs that are leaves
        self._grad_sample = None
        if self._pending is not None:
            self._finish_update()
            self._drop_discarded_pending()
        self._step += 1
        if self._step % self.every:  # absolute: a resumed run samples the same steps
            return
        sample = _Sample(self._step, {n: _Layer(kind) for n, kind in self._kinds.items()})
        # deferred unless a step of this input's shape was too big before (its outputs have
        # that step's sizes): decided per step, as a watch started later (a resumed run)
        # decides it, so that both measure the step the same way
        sample.shape = _input_shape(args, kwargs)
        self._defer = self._permanent and sample.shape not in self._too_big
        if self._vmap_template is not None:
            from ..population import _python_state

            sample.python_state = _python_state(self._vmap_template)
            # the batch as the forward gets it, for the re-run (a forward may edit it in place)
            x = args[0] if args else next(iter(kwargs.values()), None)
            sample.input = x.detach().clone() if isinstance(x, torch.Tensor) else None
        params = [p for _, p in self._params]
        if params:
            with torch.no_grad():
                with _denormals_kept():
                    sample.weight = _norms(params, self.k)  # (K, P)
                if self.measure_updates:
                    views = self._subset_views()
                    if self._snapshot is None or not _fits(self._snapshot, views):
                        # first use, or the model moved (model.to(...)) since the last copy
                        self._snapshot = [
                            torch.empty_like(v, memory_format=torch.contiguous_format)
                            for v in views
                        ]
                    torch._foreach_copy_(self._snapshot, views)  # one call, no allocation
                    sample.snapshot = [p._version for p in params]
                    old = self._pending  # (no update since it: else _finish_update ended it)
                    if old is not None:
                        if self._accumulating(old):  # its gradient is part of this one's
                            sample.waiting = [old, *old.waiting]  # update: both await it
                        old.snapshot, old.waiting = None, []
                    self._pending = sample
                    self._opt_stepped, self._found_infs = False, []
        self._grad_sample = sample
        self._samples.append(sample)
        self._current = sample
        if self._vmap_template is None and not self._permanent:
            self._register_layer_hooks()

    def _drop_discarded_pending(self) -> None:
        """At a training forward, the pending step not updated since: kept while its gradients
        accumulate; else dropped (no ratio: ``zero_grad()`` discarded them, or its forward
        raised and it never had any), the earlier steps it waited with, still accumulating,
        then awaiting the update in its place (the same snapshot)."""
        old = self._pending
        if old is None or self._accumulating(old):
            return
        head = old.waiting[0] if old.waiting and not old.grads_after else None
        if head is not None and self._accumulating(head):
            head.snapshot, head.waiting = old.snapshot, old.waiting[1:]
            self._pending = head
        else:
            self._pending = None
        old.snapshot, old.waiting = None, []

    def _accumulating(self, sample: _Sample) -> bool:
        """Whether the gradients of the pending ``sample`` (not updated since) are still
        accumulating: every watched parameter that had a ``.grad`` after its backward has one
        now (``zero_grad()`` sets them to None: discarded). A ``.grad`` zeroed in place
        (``zero_grad(set_to_none=False)``) or replaced (``p.grad = p.grad * c``) cannot be
        told from one accumulated into."""
        had = sample.grads_after
        return any(had) and all(
            p.grad is not None for h, (_, p) in zip(had, self._params, strict=False) if h
        )

    def _plan_subsets(self) -> None:
        """Each watched parameter's update-ratio subset (:func:`_update_subset`) and its scale
        ``sqrt(n_p / m_p)``; planned again when a parameter's size changes (``p.data = ...``
        growing an embedding)."""
        self._chunks: list[int] = []  # entries per chunk of the update-ratio subset
        self._strides: list[int] = []  # its stride, in chunks
        self._numels = [p.numel() for _, p in self._params]
        scale = []
        for name, p in self._params:
            n = p.numel() // self.k
            shape = p.shape[1:] if self.is_population else p.shape
            # an embedding's update touches only its batch's rows, which a fixed subset misses
            exact = isinstance(self.layers[name], nn.Embedding | nn.EmbeddingBag)
            chunk, stride = _update_subset(shape, n, n if exact else UPDATE_SAMPLE)
            self._chunks.append(chunk)
            self._strides.append(stride)
            m = chunk * len(range(0, n // chunk, stride))
            scale.append(n / max(m, 1))  # ‖Δθ‖² ≈ (n / m)·‖Δθ_subset‖²
        self._update_scale = torch.tensor(scale, dtype=torch.float32).sqrt()  # (P,)
        self._cache = {k: v for k, v in getattr(self, "_cache", {}).items() if k[0] != ("scale",)}
        self._views = None

    def _subset_views(self) -> list[torch.Tensor]:
        """The fixed subset of every watched parameter: every ``stride``-th chunk of ``chunk``
        consecutive entries, ``(K, c_p, chunk)`` each.

        Views of the parameters (cached while their storage stays the same); a non-contiguous
        parameter, which has no such view, is gathered afresh at each call.
        """
        if [p.numel() for _, p in self._params] != self._numels:  # p.data = a bigger tensor
            self._plan_subsets()
        key = tuple(p.data_ptr() for _, p in self._params)  # p.data = ... makes new views
        if self._views is None or self._views[0] != key:
            k = self.k
            views = [
                p.detach().view(k, -1, c)[:, ::s] if p.is_contiguous() else None
                for (_, p), c, s in zip(self._params, self._chunks, self._strides, strict=True)
            ]
            self._views = (key, views)  # type: ignore[assignment]
        views = self._views[1]
        if all(v is not None for v in views):
            return views
        parts = zip(views, self._params, self._chunks, self._strides, strict=True)
        return [
            v if v is not None else p.detach().reshape(self.k, -1, c)[:, ::s]  # a fresh copy
            for v, (_, p), c, s in parts
        ]

    def _post_forward(
        self, module: nn.Module, args: tuple, kwargs: dict[str, Any], output: Any
    ) -> None:
        self._depth -= 1
        self._post_ran = True
        if self._depth > 0:
            return  # a nested call of the root (see _pre_forward)
        sample, self._current = self._current, None
        if sample is not None:
            self._end_sample(sample)
        if not module.training or not torch.is_grad_enabled() or self._recomputing():
            return
        # the step stays open until a backward reaches one of this forward's outputs: one
        # autograd hook per training forward, on the output's grad_fn (cheaper than a tensor
        # hook), or on the tensor itself for a leaf
        if isinstance(output, torch.Tensor):  # the common case, without _hook_outputs' walk
            if output.requires_grad:
                node = output.grad_fn
                if node is not None:
                    node.register_prehook(self._closed_hook)
                else:  # a leaf outlives the step: its hook goes at the next step
                    self._leaf_handles.append(output.register_hook(self._closed_hook))
                self._open = True
        elif self._hook_outputs(output):
            self._open = True

    def _hook_outputs(self, output: Any) -> bool:
        """:meth:`_closed` on every distinct autograd node of the tensors (nested in tuples,
        lists and dicts) of a module's output that require a gradient; False if there is none."""
        nodes: dict[int, Any] = {}
        leaves: list[torch.Tensor] = []
        for t in _grad_tensors(output):
            if t.grad_fn is None:
                leaves.append(t)
            else:
                nodes.setdefault(id(t.grad_fn), t.grad_fn)
        for node in nodes.values():  # (a graph node goes with its graph)
            node.register_prehook(self._closed_hook)
        for t in leaves:  # a leaf outlives the step (a parameter returned as an output)
            self._leaf_handles.append(t.register_hook(self._closed_hook))
        return bool(nodes or leaves)

    def _recomputing(self) -> bool:
        """True for a forward run inside the backward that ended the last step: non-reentrant
        ``torch.utils.checkpoint`` of the watched model recomputing its forward (not a step)."""
        task = self._closed_task
        return task is not None and torch._C._current_graph_task_id() == task

    def _closed(self, _grads: Any) -> None:
        """Autograd hook on a training forward's outputs: a backward has reached them, so the
        step is over (the next training forward starts the next one); in a sampled step, queue
        :meth:`_grads_done` for the end of this backward."""
        if not self._writes_grads():
            return  # torch.autograd.grad(u, x, create_graph=True) in the loss: not the step's
        self._open = False
        self._closed_task = torch._C._current_graph_task_id()
        sample = self._grad_sample
        if sample is not None and not sample.queued:
            self._queue(sample)

    def _writes_grads(self) -> bool:
        """Whether the running backward reaches a trainable watched parameter: ``.backward()``
        or ``torch.autograd.grad(loss, params)`` (a step's gradient), not a derivative taken
        inside the loss (``torch.autograd.grad(u, x, create_graph=True)`` of a physics-informed
        net, a gradient penalty), which reaches the outputs but no parameter."""
        if _WILL_EXECUTE is None:
            return True
        task = torch._C._current_graph_task_id()
        if task == self._writes_task:  # once per backward
            return self._writes
        try:
            # the first trainable parameter's node, fetched again when requires_grad_ changed
            # which parameter that is (a GAN's discriminator frozen for the generator's step)
            # or _pre_forward dropped it
            first = next((p for _, p in self._params if p.requires_grad), None)
            if self._acc_node is None or first is not self._acc_param:
                self._acc_param = first
                self._acc_node = get_gradient_edge(first).node if first is not None else False
                if first is not None:
                    self._acc_key = (first.data_ptr(), first.shape)
            writes = (
                self._acc_node is False  # no trainable parameter: any backward ends the step
                or _WILL_EXECUTE(self._acc_node)  # (a backward(): at once)
                or any(
                    _WILL_EXECUTE(get_gradient_edge(p).node)
                    for _, p in self._params[1:]
                    if p.requires_grad
                )
            )
            to_inputs = False
        except RuntimeError:  # autograd.grad with parameters as inputs: a step's gradient,
            writes, to_inputs = True, True  # which it returns instead of writing .grad
        self._writes_task, self._writes, self._to_inputs = task, writes, to_inputs
        return writes

    def _end_sample(self, sample: _Sample) -> None:
        """The end of a sampled step's forward: reduce the layers' summaries and hook the layer
        outputs for ‖∂L/∂y‖."""
        if not self._permanent:
            self._remove(self._layer_handles)
        if sample.step != self._step:
            return
        if self._vmap_template is not None:
            self._rerun_vmap(sample)
        elif sample.raw:
            self._deferred.append(sample)  # reduced when the slots are full, or at records()
            if self._next_slot >= DEFER_STEPS:
                self._flush_deferred()
        else:
            self._finalize(sample)
        # an output modified in place later in the forward (ReLU(inplace=True)) is skipped
        outs = [(layer, y) for layer, y, v in sample.outputs if y._version == v]
        sample.outputs = []
        if outs and torch.is_grad_enabled():  # a hook keeps ∂L/∂y of every layer output
            sample.out_layers = [layer for layer, _ in outs]
            self._grad_handles += [
                y.register_hook(partial(self._store_out_grad, sample, j))
                for j, (_, y) in enumerate(outs)
            ]

    def _forward_hook(self, fixed: _Sample | None, name: str, stacked: bool, record_grad: bool):
        """The layer's forward hook: a handful of kernels, results kept until the forward ends.

        ``fixed``: the sample to fill (the vmap re-run); None: the watch's current sample.
        """
        module = self.layers[name]
        kind = self._kinds[name]
        # dead_fraction's unit axis: a layer with a known layout (or with parameters and an
        # unknown one) leaves an entry for the activations after it (_unit_entry), from which
        # an activation takes its units (_units_before), else the static guess
        layout = self._layouts[name]
        forgets = name in self._forgets_units
        guess = self._unit_guess.get(name, "channel")
        rank = self._unbatched_rank[name]
        if rank is not None and stacked:
            rank += 1  # (K, *one sample)

        def hook(mod: nn.Module, args: tuple, output: Any) -> None:
            sample = self._current if fixed is None else fixed
            if sample is None:
                return
            y = _first_float_tensor(output)
            x = args[0] if args and isinstance(args[0], torch.Tensor) else None
            units, unbatched = None, False
            if layout is not None or forgets:
                # (a layer whose input rank tells nothing, a LayerNorm's or layer scale's: as
                # the layer that fed it, the latest whose output has its input's shape; None
                # if none did)
                xs = tuple(x.shape) if x is not None else None
                unbatched = (
                    next((e[3] for e in reversed(sample.units) if e[1] == xs), None)
                    if rank is None else x is not None and x.dim() == rank
                )  # fmt: skip
                if y is not None:
                    sample.units.append(_unit_entry(layout, y, stacked, unbatched))
            layer = sample.layers[name]
            layer.calls += 1
            if layer.order is not None:  # measured at an earlier call of this forward
                return
            if y is None or not y.numel():
                return  # (an empty batch has no statistics)
            layer.order = sample.next_order
            sample.next_order += 1
            yk = y.detach() if stacked else y.detach().unsqueeze(0)  # (K, B, ...)
            if layout is None and not forgets:  # (an activation: the layer that fed it)
                units, unbatched = _units_before(sample.units, y, stacked, x)
            units = layout or units or guess
            if yk.dim() == 1 or unbatched:  # (K,): one unit; an unbatched input's
                yk = yk.unsqueeze(1)  # outputs (K, D), (K, C, H, W): one sample each
            if units == "one":  # (a one-unit layer's output squeezed: (K, B, H, W, 1))
                yk, units = yk.unsqueeze(-1), "last"
            elif isinstance(units, int):  # (units on a middle axis, from the end: moved last)
                yk, units = yk.movedim(units, -1), "last"
            layer.n = yk.numel() // yk.shape[0]
            copy = self._defer_copy(sample, name, yk) if self._defer and fixed is None else None
            if copy is not None:  # one copy now, the reductions batched later
                sample.raw.append((name, kind, module, copy, units))
                sample.live_strides[name] = yk.stride()
            else:
                sample.pending.append((layer, *self._measure(kind, module, yk, units)))
            if record_grad and y.requires_grad and torch.is_grad_enabled():
                sample.outputs.append((layer, y, y._version))  # until this forward ends

        return hook

    def _store_out_grad(self, sample: _Sample, j: int, grad: torch.Tensor | None) -> None:
        if grad is None:  # (a torch.compile'd graph can pass none): out_grad_norm stays None
            return
        if sample is self._grad_sample and self._writes_grads():  # (not a derivative in the loss)
            with _denormals_kept():
                sample.out_grads[j] = self._unscaled(self._grad_norm(grad))
            self._queue(sample)

    def _grad_norm(self, grad: torch.Tensor) -> torch.Tensor:
        """‖grad‖ per model: ``(K,)``, or a 0-d tensor for a plain module (one kernel)."""
        with torch.no_grad():
            if self.k == 1:
                low = grad.dtype in (torch.float16, torch.bfloat16)
                return torch.linalg.vector_norm(grad, dtype=torch.float32 if low else None)
            return stats.norms([grad], self.k)[0]

    def _loss_scale(self) -> torch.Tensor | float | None:
        """The scale ``S`` of the scaler given (None: no scaler, or a disabled one)."""
        if self.scaler is None or not self.scaler.is_enabled():
            return None
        scale = getattr(self.scaler, "_scale", None)  # a device tensor: read without a sync
        return scale.reshape(()) if isinstance(scale, torch.Tensor) else self.scaler.get_scale()

    def _unscaled(self, norms: torch.Tensor) -> torch.Tensor:
        """Norms of loss-scaled gradients divided by the scaler's scale: ``‖∂L/∂·‖``."""
        scale = self._loss_scale()
        if scale is None:
            return norms
        if isinstance(scale, torch.Tensor):
            scale = scale.to(norms.device, norms.dtype)
        return norms / scale

    def _queue(self, sample: _Sample) -> None:
        """Stack the gradient norms once, when this backward ends (no host sync)."""
        if not sample.queued:
            sample.queued = True
            if not sample.grads_read:  # the .grad versions as the step's first backward starts
                # (a zero_grad may run after the forward): one it leaves alone it did not reach
                sample.grad_versions = [_stamp(p.grad) for _, p in self._params]
            unwritten = self._to_inputs and self._writes_task == torch._C._current_graph_task_id()
            _ENGINE.queue_callback(partial(self._grads_done, sample, unwritten))

    def _grads_done(self, sample: _Sample, unwritten: bool = False) -> None:
        """End of a backward: ‖θ_p.grad‖ of every parameter that has a gradient (read once the
        engine has accumulated them, no tensor hook on the parameters) and the ‖∂L/∂y‖ the
        output hooks took, as ``(K, P')`` and ``(K, L')``. ``unwritten``: the backward was
        ``torch.autograd.grad(loss, params)``, which writes no ``.grad``: the ``.grad`` there
        is an earlier step's, so ``grad_norm`` stays None."""
        sample.queued = False
        og, sample.out_grads = sample.out_grads, {}
        # a later backward of the same forward (two losses backpropagated one after the
        # other): a layer keeps the numbers of the first backward that reached it, so a
        # record's ‖∂L/∂y‖ and ‖∂L/∂θ‖ describe one loss, and a head only the later loss
        # reaches is read too (its gradient is then the one the optimizer uses)
        later, sample.grads_read = sample.grads_read, True
        with torch.no_grad(), _denormals_kept():
            seen = set(sample.grad_ids)
            grads = [  # (a frozen parameter's .grad is an earlier step's: not this one's)
                (j, p.grad)
                for j, (_, p) in enumerate(self._params)
                if p.grad is not None and p.requires_grad and j not in seen and not unwritten
            ]
            if grads:
                norms = self._unscaled(_norms([g for _, g in grads], self.k))  # (K, P')
                sample.grad = norms if sample.grad is None else torch.cat((sample.grad, norms), 1)
                sample.grad_ids = sample.grad_ids + [j for j, _ in grads]
            if not later:  # a .grad this backward left as it found it: not reached (yet)
                before, sample.grad_versions = sample.grad_versions, []
                sample.unreached = {
                    j: before[j] for j, g in grads if j < len(before) and _unchanged(before[j], g)
                }
            else:  # ... that a later backward reached: read again, in its column
                moved = [
                    (j, p.grad)
                    for j, stamp in sample.unreached.items()
                    if (p := self._params[j][1]).grad is not None and not _unchanged(stamp, p.grad)
                ]
                if moved:
                    norms = self._unscaled(_norms([g for _, g in moved], self.k))  # (K, M)
                    cols = [sample.grad_ids.index(j) for j, _ in moved]
                    sample.grad[:, cols] = norms.to(sample.grad.dtype)
                    for j, _ in moved:
                        del sample.unreached[j]
            sample.grads_after = [p.grad is not None for _, p in self._params]
            scale = self._loss_scale()
            if scale is not None and not later:  # (a copy: scaler.update() changes it in place)
                sample.loss_scale = torch.as_tensor(scale, dtype=torch.float64).clone()
            done = {id(la) for la in sample.out_grad_layers}
            og = {j: g for j, g in og.items() if id(sample.out_layers[j]) not in done}
            if og:
                new = torch.stack(list(og.values()), dim=-1).reshape(self.k, -1)
                sample.out_grad = (
                    new if sample.out_grad is None else torch.cat((sample.out_grad, new), 1)
                )
                sample.out_grad_layers = sample.out_grad_layers + [sample.out_layers[j] for j in og]

    def _measure(
        self, kind: str, module: nn.Module, y: torch.Tensor, units: str = "channel"
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None, torch.Tensor]:
        """Hook-time pieces of one output ``y`` ``(K, B, ...)``, all fresh tensors (an in-place
        op later in the forward cannot change them), reduced further in :meth:`_finalize`:

        ``(K, 3)`` moment sums (:func:`stats.moment_sums`), the saturated fraction ``(K,)``
        (squashing layers), the per-unit peaks ``(K, U)`` (ReLU family: a unit is dead when its
        peak is ``<= 0``; ``units`` is the unit axis, see :func:`stats.unit_peaks`) and the
        histogram bin positions of an evenly strided sample ``(K, m)``.
        About six kernels, no host sync, no autograd graph (inputs are detached).
        """
        if y.dtype not in (torch.float32, torch.float64):
            y = y.float()
        # reductions over the trailing axes, never y.reshape(K, -1): a population's outputs are
        # non-contiguous (K, B, D) views, and flattening them would copy every activation
        k, n = y.shape[0], y.numel() // y.shape[0]
        contiguous = y.is_contiguous()
        # stats.moment_sums inlined; the cat copies the shift out of y
        if contiguous:
            y2 = y.view(k, n)  # (K, N)
            shift = y2[:, :1]  # (K, 1)
            d = y2 - shift
            s1 = d.sum(dim=1, keepdim=True)
            nrm = d.mul_(d).sum(dim=1, keepdim=True).sqrt_()  # (stats.moment_sums: why not a norm)
        else:
            dims = tuple(range(1, y.dim()))
            shift = y[(slice(None),) + (0,) * (y.dim() - 1)].reshape(k, 1)  # (K, 1)
            d = y - shift.view((k,) + (1,) * (y.dim() - 1))
            s1 = d.sum(dim=dims).reshape(k, 1)
            nrm = d.mul_(d).sum(dim=dims).sqrt_().reshape(k, 1)
        moments = torch.cat((shift, s1, nrm), dim=1)  # (K, 3)
        frac = peak = None
        if kind == "relu":
            # ReLU6 (a Hardtanh; no getattr, whose miss raises inside nn.Module): a unit with no
            # value inside (0, cap) passes no gradient either (at 0 or at its cap on every
            # sample, or some of each): dead (the peak of min(y, cap − y) is <= 0)
            cap = module.max_val if isinstance(module, nn.Hardtanh) else None
            z = (cap - y).clamp_max_(y) if cap is not None else y
            peak = stats.unit_peaks(z, units) if z.dim() != 3 else z.amax(dim=1)  # (K, U)
        elif kind in ("tanh", "sigmoid", "hardtanh", "hardsigmoid"):
            frac = (stats.saturated_fraction(y, kind, module), y[0].numel())  # (of n values)
        hv = self.hist_values
        # a stride coprime with the trailing dims: ceil(n / hv) may sample one unit only
        step = stats.sample_stride(tuple(y.shape[1:]), hv) if hv is not None and n > hv else 1
        # (K, m); a non-contiguous output is gathered (no copy of the whole output)
        y2 = y2[:, ::step] if contiguous else self._gather_strided(y, step)
        if self._uniform is not None:  # the rest of stats.uniform_bin_positions in _finalize
            # in float64: float32 rounds (y − low)/width of a value just below an edge onto it
            # (tanh's 0.99999994 counted at 1.0); the sampled m values only
            pos = y2.to(torch.float64) * (self._uniform[2] / (self._uniform[1] - self._uniform[0]))
        else:
            edges = self._const("edges", y2.device, y2.dtype)  # (bucketize copies a strided
            pos = torch.bucketize(y2.contiguous(), edges, right=True)  # input anyway, and warns)
        return moments, frac, peak, pos

    def _gather_strided(self, y: torch.Tensor, step: int) -> torch.Tensor:
        """``y.reshape(K, -1)[:, ::step]`` of a non-contiguous ``y`` without copying all of it.

        When each model's values fill a dense block of memory (a permuted layout, as a
        population's transposed outputs), one ``index_select`` of their memory offsets;
        otherwise advanced indexing.
        """
        k, n = y.shape[0], y.numel() // y.shape[0]
        shape, strides = tuple(y.shape[1:]), tuple(y.stride()[1:])
        idx = self._unravel(shape, step, y.device)
        span = 1 + sum((d - 1) * st for d, st in zip(shape, strides, strict=True))
        if all(st >= 1 for st in strides) and span == n:
            key = ("offsets_mem", shape, strides, step, y.device)
            off = self._cache.get(key)
            if off is None:
                off = self._remember(key, sum(i * st for i, st in zip(idx, strides, strict=True)))
            return y.as_strided((k, n), (y.stride(0), 1)).index_select(1, off)  # (K, m)
        return y[(slice(None), *idx)]  # (K, m)

    def _unravel(
        self, shape: tuple[int, ...], step: int, device: torch.device
    ) -> tuple[torch.Tensor, ...]:
        """Per-axis indices of the flat positions ``0, step, 2·step, ...`` of ``shape``."""
        key = ("unravel", shape, step, device)
        got = self._cache.get(key)
        if got is None:
            flat_idx = torch.arange(0, math.prod(shape), step)
            idx = []
            for size in reversed(shape):
                idx.append(flat_idx % size)
                flat_idx = flat_idx // size
            got = self._remember(key, tuple(i.to(device) for i in reversed(idx)))
        return got  # type: ignore[return-value]

    def _const(self, key: Any, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        t = self._cache.get((key, device, dtype))
        if t is None:
            if key == "edges":
                t = self.edges.to(device, dtype)
            else:  # ("offsets", sizes, width), ("dead"/"units", unit counts) or ("scale",)
                if key[0] == "scale":
                    t = self._update_scale
                elif key[0] == "units":  # (L_relu,): each layer's unit count
                    t = torch.tensor(key[1], dtype=torch.float64)
                elif key[0] == "offsets":
                    # value m of layer l goes to column (m mod R)·L·nb + l·nb + bin: R copies of
                    # the counts, so that runs of equal bins (ReLU zeros) do not serialize
                    sizes, width = key[1], key[2]
                    t = torch.repeat_interleave(
                        torch.arange(len(sizes)) * width, torch.tensor(sizes)
                    )  # (M,)
                    t += (torch.arange(t.numel()) % _HIST_COPIES) * (len(sizes) * width)
                else:  # (U_total, L_relu): column l counts layer l's units (exact integers;
                    units = key[1]  # a sum of rounded 1/U read 25% dead as 25.000003%)
                    t = torch.zeros(sum(units), len(units))
                    pos = 0
                    for j, u in enumerate(units):
                        t[pos : pos + u, j] = 1.0
                        pos += u
                t = t.to(device, dtype)
            self._remember((key, device, dtype), t)
        return t

    def _remember(self, key: Any, value: Any) -> Any:
        """Cache a device constant. At most ``max(_CACHE_ENTRIES, 8 per watched layer)`` are
        kept, the oldest let go first (batch sizes that change every step would otherwise add
        constants without end): a step's own constants (about two per output shape) stay, so
        a net of many layer widths does not make them again from host data every step."""
        if len(self._cache) >= max(_CACHE_ENTRIES, 8 * len(self.layers)):
            del self._cache[next(iter(self._cache))]
        self._cache[key] = value
        return value

    def _finalize(self, sample: _Sample) -> None:
        """Reduce the hook-time pieces of every measured layer with a few stacked kernels."""
        pending, sample.pending = sample.pending, []
        if not pending:
            return
        with torch.no_grad():
            sample.moments = torch.stack([m for _, m, _, _, _ in pending], dim=1)  # (K, L, 3)
            dev = sample.moments.device
            fracs: list[torch.Tensor] = []
            fkeys: list[tuple[_Layer, str]] = []
            sats = [(layer, f) for layer, _, f, _, _ in pending if f is not None]
            peaks = [(layer, p) for layer, _, _, p, _ in pending if p is not None]
            if peaks:
                units = tuple(p.shape[1] for _, p in peaks)
                alive = torch.cat([p for _, p in peaks], dim=1).le_(0)  # (K, ΣU) 1.0 = dead
                count = self._const(("dead", units), dev, alive.dtype)  # (ΣU, L_relu)
                n = self._const(("units", units), dev, torch.float32)  # (L_relu,)
                fracs.append((alive.float() @ count.float()) / n)  # (K, L_relu): dead / U
                fkeys += [(layer, "dead_fraction", p.shape[1]) for layer, p in peaks]
            if sats:
                fracs.append(torch.stack([f.float() for _, (f, _) in sats], dim=1))  # (K, L_sat)
                fkeys += [(layer, "saturated_fraction", n) for layer, (_, n) in sats]
            if fracs:
                sample.fractions = torch.cat(fracs, dim=1) if len(fracs) > 1 else fracs[0]
                for j, (layer, key, den) in enumerate(fkeys):
                    layer.frac = (key, j, den)
            poss = [pos for _, _, _, _, pos in pending]
            sizes = tuple(p.shape[1] for p in poss)
            nb = self.edges.numel() + 1  # under, bins..., over
            if self._uniform is not None:
                lo, hi, bins = self._uniform
                allpos = torch.cat(poss, dim=1) if len(poss) > 1 else poss[0]  # (K, M)
                allpos.sub_(lo * bins / (hi - lo) - 1.0)  # (y − low)/width + 1
                # clamp then truncate == floor for these non-negative values; NaN -> overflow
                idx = allpos.clamp_(0, bins + 1).nan_to_num_(nan=bins + 1).long()
            else:
                idx = torch.cat(poss, dim=1) if len(poss) > 1 else poss[0]  # (K, M) in 0..E
            idx += self._const(("offsets", sizes, nb), dev, torch.int64)  # layer l: l * nb + bin
            k, width = idx.shape[0], len(pending) * nb
            counts = torch.zeros(k, _HIST_COPIES * width, dtype=torch.float32, device=dev)
            ones = torch.ones((), dtype=torch.float32, device=dev).expand(idx.shape)
            counts.scatter_add_(1, idx, ones)  # (K, R·L·nb); exact integers below 2^24
            # summed in float64: a bin of more than 2^24 values (hist_values=None) stays exact
            sample.hist = (
                counts.view(k, _HIST_COPIES, width)
                .sum(dim=1, dtype=torch.float64)
                .view(k, len(pending), nb)
            )
        for j, (layer, *_rest) in enumerate(pending):
            layer.col = j
            layer.sample = sample

    def _defer_copy(self, sample: _Sample, name: str, y: torch.Tensor) -> torch.Tensor | None:
        """Copy a deferred step's output ``(K, B, ...)`` into the step's slot of the layer's
        buffer for that shape, so that a run of steps is one view there; None once the step's
        copies would exceed ``DEFER_BYTES`` (deferring stops, see :meth:`_stop_deferring`).

        A step takes the next free slot at its first copy; the deferred steps are reduced first
        when the slots are full or when one of this step's outputs differs in shape or dtype
        from the same layer's in the last deferred step (each buffer holds one shape). A
        buffer is kept per shape (an epoch's smaller last batch has its own), the newest
        ``DEFER_SHAPES`` per layer.
        """
        if sample.raw_bytes + y.nbytes > DEFER_BYTES:
            self._stop_deferring(sample)
            return None
        if sample.slot is None:  # the step's first copy
            last = self._deferred[-1].raw[0] if self._deferred and self._deferred[-1].raw else None
            if self._next_slot >= DEFER_STEPS or (
                last is not None and (last[0], last[3].shape, last[3].dtype, last[3].device)
                != (name, y.shape, y.dtype, y.device)
            ):  # fmt: skip
                self._flush_deferred()
            sample.slot = self._next_slot
            self._next_slot += 1
        elif self._deferred:  # a later layer whose shape changed since the last deferred step
            prev = next((r[3] for r in self._deferred[-1].raw if r[0] == name), None)
            if prev is not None and (prev.shape, prev.dtype, prev.device) != (
                y.shape, y.dtype, y.device,
            ):  # fmt: skip
                self._flush_deferred()  # (this step keeps its slot: the buffers stay bounded)
        key = (name, y.shape, y.dtype, y.device)
        buf = self._defer_bufs.pop(key, None)  # (put back last: the least recently used is first)
        if buf is None:
            if len(self._defer_bufs) >= DEFER_SHAPES * len(self.layers):
                # forget the least recently used; the steps deferred before this one may hold
                # views of it: reduce them first, so that it is freed now (this step keeps its
                # slot in the buffers it uses, all more recent)
                if self._deferred:
                    self._flush_deferred()
                del self._defer_bufs[next(iter(self._defer_bufs))]
            buf = y.new_empty((DEFER_STEPS, *y.shape))
        self._defer_bufs[key] = buf
        out = buf[sample.slot]
        out.copy_(y)
        sample.raw_bytes += y.nbytes
        return out

    def _stop_deferring(self, sample: _Sample) -> None:
        """A step's outputs exceed ``DEFER_BYTES`` (a larger batch): reduce every step at once
        from now on. The step's copies so far are reduced now, in their order, the steps
        deferred before it too, and the buffers are let go."""
        self._defer = False
        self._too_big.add(sample.shape)
        raw, sample.raw = sample.raw, []
        with torch.no_grad():
            for name, kind, module, y, units in raw:
                # measured in the layout the layer gave (a stacked population's outputs are
                # transposed views): the summation order, and so the bits, of a step measured
                # at once, as when a watch that started earlier (a resumed run) measures it
                strides = sample.live_strides.get(name, y.stride())
                if strides != y.stride() and 0 not in strides:  # (an expanded output: as is)
                    live = torch.empty_strided(y.shape, strides, dtype=y.dtype, device=y.device)
                    y = live.copy_(y)
                sample.pending.append((sample.layers[name], *self._measure(kind, module, y, units)))
        sample.live_strides.clear()
        self._flush_deferred()
        self._defer_bufs.clear()

    def _flush_deferred(self) -> None:
        """Reduce the deferred steps' output copies: runs of steps with the same layers, shapes
        and dtypes are stacked along the model axis, ``(S·K, B, ...)``, and reduced by one
        :meth:`_measure` per layer and one :meth:`_finalize` for all of them (the kernels of
        one step's reductions, launched once for ``S`` steps); each step's summaries are then
        views of the stacked results."""
        todo, self._deferred = self._deferred, []
        current = self._current
        if current is None or current.slot is None:  # (a step copying now keeps its slot)
            self._next_slot = 0
        start = 0
        while start < len(todo):
            sig = _raw_signature(todo[start])
            end = start + 1
            while end < len(todo) and _raw_signature(todo[end]) == sig:
                end += 1
            self._reduce_group(todo[start:end])
            start = end
        for smp in todo:
            smp.raw = []

    @torch.no_grad()
    def _reduce_group(self, group: list[_Sample]) -> None:
        """:meth:`_flush_deferred` for steps whose outputs have equal shapes and dtypes."""
        n, k = len(group), self.k
        joint = _Sample(group[0].step, {})
        for j, (_, kind, module, _, units) in enumerate(group[0].raw):
            ys = _consecutive([smp.raw[j][3] for smp in group])  # (n, K, B, ...)
            joint.pending.append(
                (_Layer(kind), *self._measure(kind, module, ys.flatten(0, 1), units))
            )
        placeholders = [layer for layer, *_ in joint.pending]
        self._finalize(joint)
        per_step = {
            key: None if (t := getattr(joint, key)) is None else t.view(n, k, *t.shape[1:])
            for key in ("moments", "fractions", "hist")
        }
        for i, smp in enumerate(group):
            for key, t in per_step.items():
                setattr(smp, key, None if t is None else t[i])
            for (name, *_), ph in zip(smp.raw, placeholders, strict=True):
                layer = smp.layers[name]
                layer.col, layer.frac, layer.sample = ph.col, ph.frac, smp

    @torch.no_grad()
    def _rerun_vmap(self, sample: _Sample) -> None:
        """vmap population: run the batch model by model through the plain template."""
        from ..population import _call_keeping_buffers, _python_state, _restore_python_state

        tpl = self._vmap_template
        assert tpl is not None
        x, sample.input = sample.input, None  # (K, B, ...), as the forward got it
        if x is None:
            return
        params = dict(self.tree.named_parameters())
        buffers = {n: b.clone() for n, b in self.tree.named_buffers()}  # no double BN update
        tpl_modules = dict(tpl.named_modules())
        was_training = tpl.training
        ones: list[_Sample] = []
        after = _python_state(tpl)  # the forward's counters, put back after the re-run
        try:
            for i in range(self.k):
                _restore_python_state(sample.python_state)  # as the step's forward began
                tpl.train(True)  # (its state may hold an earlier evaluation's flags)
                one = _Sample(sample.step, {n: _Layer(self._kinds[n]) for n in self.layers})
                handles = [
                    tpl_modules[n].register_forward_hook(self._forward_hook(one, n, False, False))
                    for n in self.layers
                    if n in tpl_modules
                ]
                try:  # (as the population calls it: also through a pass-through DataParallel)
                    _call_keeping_buffers(
                        tpl,
                        {n: p[i] for n, p in params.items()},
                        {n: b[i] for n, b in buffers.items()},
                        x[i],
                    )
                finally:
                    for h in handles:
                        h.remove()
                self._finalize(one)
                ones.append(one)
        finally:
            _restore_python_state(after)  # (training goes on as without the watch)
            tpl.train(was_training)
        first = ones[0]
        if first.moments is None or any(
            o.moments is None or o.moments.shape != first.moments.shape for o in ones
        ):
            return
        sample.moments = torch.cat([o.moments for o in ones])  # (K, L, 3)
        sample.hist = torch.cat([o.hist for o in ones])  # type: ignore[misc]
        if first.fractions is not None:
            sample.fractions = torch.cat([o.fractions for o in ones])  # type: ignore[misc]
        for n, layer in first.layers.items():
            mine = sample.layers[n]
            mine.order, mine.calls, mine.n = layer.order, layer.calls, layer.n
            mine.col, mine.frac, mine.sample = layer.col, layer.frac, sample

    def _finish_update(self) -> None:
        """Measure ‖Δθ‖ per parameter of the pending sampled step, if it was updated.

        ‖Δθ_p‖ is estimated from the fixed subset: ``sqrt(n_p / m_p)·‖Δθ_p,subset‖`` (exact for
        parameters with at most ``UPDATE_SAMPLE`` entries per model).

        Once a parameter's version counter has moved (an in-place update, as every
        ``torch.optim`` optimizer makes), the subset copy becomes ``θ_s − θ_{s+1}`` in place and
        the step is done. Updates through ``.data`` (``p.data -= lr * p.grad``,
        ``p.data.add_(...)``, ``p.data = ...``) move no counter: then the subset is compared
        with the snapshot instead, without changing it, at each training forward (and at
        :meth:`records`) while the step is pending: one that finds a difference ends the step
        (a model it finds unchanged reads 0); an all-zero one (no update yet: gradients
        accumulated over several steps) keeps it pending, so that the update, by a counter or
        by value, is still measured when it comes; all-zero at the end is read as no update.
        The earlier sampled steps of an accumulated update (``waiting``) get the same
        measurement.
        """
        sample = self._pending
        if sample is None or not sample.snapshot or self._snapshot is None:
            return
        versions = sample.snapshot
        params = [p for _, p in self._params]
        counted = any(p._version != v for p, v in zip(params, versions, strict=True))
        # a fused optimizer's step moves no counter: the step hook sees it; one a GradScaler
        # called with found_inf skipped itself where found_inf > 0 (inf gradients): when every
        # such optimizer of the step skipped, the step reads as no update (None), as skipped
        # foreach steps do (read at records()); else the skipped ones' layers read 0, as there
        moved = self._opt_stepped or counted
        if self._opt_stepped and not counted and self._found_infs:
            sample.skipped = torch.stack(self._found_infs).amin()
        with torch.no_grad():
            views = self._subset_views()
            if any(b.shape != v.shape for b, v in zip(self._snapshot, views, strict=True)):
                # a parameter changed size since step s (p.data = ...): no ratio for that step
                sample.snapshot, self._pending, self._snapshot = None, None, None
                return
            if not _fits(self._snapshot, views):  # the model moved to another device or dtype
                views = [
                    v.to(b.device, b.dtype) for b, v in zip(self._snapshot, views, strict=True)
                ]
            if moved:  # θ_s − θ_{s+1} in place; the next sampled step re-copies the subsets
                diffs = self._snapshot
                torch._foreach_sub_(diffs, views)
            else:
                diffs = torch._foreach_sub(self._snapshot, views)
            with _denormals_kept():
                norms = _norms(diffs, self.k)  # (K, P)
            scale = self._const(("scale",), norms.device, norms.dtype)  # (P,) sqrt(n_p / m_p)
            update = norms.mul_(scale)
            for s in (sample, *sample.waiting):  # (the earlier steps of an accumulated update)
                if s.raised or s is self._current:  # (its forward raised, or never ended)
                    continue
                s.update, s.update_by_value = update, not moved
                if moved:
                    s.skipped = sample.skipped
        # a comparison of values that found an update (a `.data` step: no counter moves)
        # ends the step too; read on the host, which only a loop updating through `.data` or
        # accumulating gradients reaches (an optimizer's step moves the counters)
        if moved or bool(update.ne(0).any()):
            sample.snapshot = None
            self._pending = None
            sample.waiting = []

    @staticmethod
    def _remove(handles: list[Any]) -> None:
        for h in handles:
            h.remove()
        handles.clear()

    # -- reading --------------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """One dict per (model, layer, sampled step), layers in forward order (one host read).

        Call it after ``optimizer.step()`` so that the last sampled step has its update ratio.
        """
        if not self._attached_once:  # (``w = watch(model)`` alone adds no hook)
            warnings.warn(
                "watch recorded nothing: it was never attached; train inside "
                "`with watch(model) as w:` (or between w.attach() and w.detach())",
                UserWarning,
                stacklevel=2,
            )
        self._finish_update()
        self._flush_deferred()
        return _to_records(
            self._samples, self.k, self.edges, self._layer_params, self._uniform is None
        )

    def pop_records(self) -> list[dict[str, Any]]:
        """:meth:`records`, then forget them (the trainer appends them once per epoch)."""
        out = self.records()
        self._samples = []
        return out

    def write_jsonl(self, path: str | os.PathLike, *, append: bool = False) -> Path:
        """Write :meth:`records` to ``path`` as JSON lines (``append=True`` adds to the file)."""
        return write_jsonl(self.records(), path, append=append)


def counting_watches(module: nn.Module) -> list[Watch] | None:
    """The watches of ``module`` whose hooks are the only ones ``module(x)`` would run at its
    root and would only count the coming training step (:meth:`Watch.replayable_step`), or
    None if there are none, or any other hook (a user's, a global module hook, a watch's on a
    step it samples) or a compiled call (``module.compile()``) is there.

    A training loop that knows where its steps are (the trainer) may then call
    ``module.forward(x)`` itself, skipping those hooks, and call
    :meth:`Watch.count_replayed_step` of each: the watches' state is what their hooks would
    have left, and an unsampled step costs no hook calls (~45 µs of a 1 ms step on the CPU,
    ``benchmarks/diagnostics.py --trainer``). Hooks on the modules inside it still run."""
    from torch.nn.modules import module as mm

    if (
        module._backward_hooks
        or module._backward_pre_hooks
        or mm._global_backward_pre_hooks
        or mm._global_backward_hooks
        or mm._global_forward_hooks
        or mm._global_forward_pre_hooks
        or getattr(module, "_compiled_call_impl", None) is not None
        or torch._C._get_tracing_state()  # (torch.jit.trace calls _slow_forward)
    ):
        return None
    owners = watch_owners([*module._forward_pre_hooks.values(), *module._forward_hooks.values()],
                          module)  # fmt: skip
    if owners is None or not all(w.replayable_step() for w in owners):
        return None
    return owners or None


def watch_owners(hooks: Iterable[Any], module: nn.Module) -> list[Watch] | None:
    """The distinct watches of ``module`` that registered ``hooks`` (module hooks), or None if
    any of them is not such a watch's (a user's, a global one, another model's watch's)."""
    owners: list[Watch] = []
    for h in hooks:
        w = h.watch if isinstance(h, _ModuleHook) else None
        if w is None or w.model is not module:
            return None
        if all(w is not o for o in owners):
            owners.append(w)
    return owners


def watch(
    model: nn.Module,
    *,
    every: int = 1,
    bins: int | Sequence[float] = 60,
    hist_range: tuple[float, float] = (-3.0, 3.0),
    hist_values: int | None = 4096,
    layers: str | Iterable[str] | None = None,
    start_step: int = 0,
    update_ratio: bool = True,
    scaler: Any = None,
) -> Watch:
    """Record per-layer statistics of ``model`` every ``every`` training steps.

    ``with watch(model, every=50) as w: <train>`` then ``w.records()``; the hooks are removed
    when the block ends, also after an exception. See :class:`Watch` for the arguments and the
    module docstring for what is recorded.
    """
    return Watch(
        model,
        every=every,
        bins=bins,
        hist_range=hist_range,
        hist_values=hist_values,
        layers=layers,
        start_step=start_step,
        update_ratio=update_ratio,
        scaler=scaler,
    )


def write_jsonl(
    records: Iterable[dict[str, Any]], path: str | os.PathLike, *, append: bool = False
) -> Path:
    """Write records as standard JSON lines: a NaN/Inf value is ``null`` and named in the
    line's ``"nonfinite_values"`` (:mod:`trainlab.report.jsonl`, whose ``decode_record``
    restores it; :func:`trainlab.diagnostics.verdict` reads such a file as it is)."""
    from ..atomic import atomic_write_text
    from ..report.jsonl import encode_record
    from ..runs import to_jsonable

    lines = []  # every line encoded before the file is touched: a bad record loses nothing
    for r in records:
        if not isinstance(r, Mapping):
            raise UserError(f"a record is a dict (as watch records it), got {type(r).__name__}")
        lines.append(json.dumps(to_jsonable(encode_record(r)), allow_nan=False) + "\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if append:
        with path.open("a") as f:
            f.write("".join(lines))
    else:  # (replaced whole: a crash midway leaves the old file)
        atomic_write_text(path, "".join(lines))
    return path


# -- helpers ------------------------------------------------------------------------------------
def _edges(bins: int | Sequence[float], hist_range: tuple[float, float]) -> torch.Tensor:
    if isinstance(bins, int) and not isinstance(bins, bool):
        try:  # (a tuple, list, numpy array or tensor of two numbers)
            lo, hi = (float(v) for v in hist_range)
        except (TypeError, ValueError, RuntimeError):
            raise UserError(
                f"hist_range must be two numbers (low, high), got {hist_range!r}"
            ) from None
        finite = math.isfinite(lo) and math.isfinite(hi) and abs(lo) < 3e38 and abs(hi) < 3e38
        if bins < 1 or not lo < hi or not finite:
            raise UserError(
                f"need bins >= 1 and a finite (float32) hist_range low < high, got bins={bins}, "
                f"range={hist_range}"
            )
        return torch.linspace(lo, hi, bins + 1, dtype=torch.float64).float()
    if not isinstance(bins, Iterable) or isinstance(bins, str):
        raise UserError(f"bins must be an int count or a list of bin edges, got {bins!r}")
    # float64: an output of the dtype on an edge (a float64 0.1) falls where the edge says (a
    # float32 copy, 0.10000000149, put it in the bin below); cast to each output's dtype
    edges = torch.as_tensor(list(bins), dtype=torch.float64)
    if edges.dim() != 1 or edges.numel() < 2 or not bool((edges[1:] > edges[:-1]).all()):
        raise UserError("bins must be a count or at least two increasing bin edges")
    return edges


def _stamp(grad: torch.Tensor | None) -> tuple[Any, int] | None:
    """A ``.grad`` as it is now: the tensor (weakly) and its version; None for no ``.grad``."""
    return None if grad is None else (weakref.ref(grad), grad._version)


def _unchanged(stamp: tuple[Any, int] | None, grad: torch.Tensor) -> bool:
    """Whether ``grad`` is the ``.grad`` of ``stamp``, unwritten since (same tensor, version)."""
    return stamp is not None and stamp[0]() is grad and stamp[1] == grad._version


def _fits(buffers: list[torch.Tensor], views: list[torch.Tensor]) -> bool:
    """Every buffer has its view's shape, dtype and device."""
    return all(
        (b.shape, b.dtype, b.device) == (v.shape, v.dtype, v.device)
        for b, v in zip(buffers, views, strict=True)
    )


def _rounded_edges(edges: list[float], given: bool = False) -> list[float]:
    """Histogram edges for the records: edges ``given`` as a list as they were given; those of
    a count and range rounded to 6 decimals relative to the widest edge (``-2.9000000000000004``
    is ``-2.9``; edges of ``hist_range=(-1e-6, 1e-6)`` keep their digits: 6 absolute decimals
    made them all ``-1e-06`` or ``0.0``; log-spaced given edges, 1e-8 next to 100, would be 0)."""
    if given:
        return list(edges)
    top = max((abs(e) for e in edges if math.isfinite(e)), default=0.0)
    digits = 6 if top == 0 else max(6, 6 - math.floor(math.log10(top)))
    return [round(e, digits) for e in edges]


def _first_float_tensor(output: Any, depth: int = 4) -> torch.Tensor | None:
    """The tensor a layer's statistics describe: its output, or the first floating-point tensor
    found depth-first in a tuple, list, dict or dataclass output nested at most ``depth`` deep
    (an RNN's ``out`` of ``(out, (h, c))``, ``y`` of ``(None, y)`` or ``{"out": y}``); a
    ``PackedSequence``'s values. None if there is none."""
    if isinstance(output, PackedSequence):  # an RNN fed packed sequences: (N, D) values
        output = output.data
    if isinstance(output, torch.Tensor):
        return output if output.is_floating_point() else None
    if depth == 0:
        return None
    if isinstance(output, Mapping):
        items: Any = output.values()
    elif dataclasses.is_dataclass(output) and not isinstance(output, type):
        items = [getattr(output, f.name) for f in dataclasses.fields(output)]
    elif isinstance(output, tuple | list):
        items = output
    else:
        return None
    for item in items:
        y = _first_float_tensor(item, depth - 1)
        if y is not None:
            return y
    return None


def _grad_tensors(output: Any, depth: int = 4) -> Iterator[torch.Tensor]:
    """The tensors in a module's output (a tensor, or tuples/lists/dicts/dataclasses of them,
    nested at most ``depth`` deep, e.g. an LSTM's ``(out, (h, c))``) that require a gradient.
    Other containers are not looked into (iterating a generator would consume it)."""
    if isinstance(output, torch.Tensor):
        if output.requires_grad:
            yield output
        return
    if depth == 0:
        return
    if isinstance(output, Mapping):
        output = output.values()
    elif dataclasses.is_dataclass(output) and not isinstance(output, type):
        output = [getattr(output, f.name) for f in dataclasses.fields(output)]
    elif not isinstance(output, tuple | list):
        return
    for item in output:
        yield from _grad_tensors(item, depth - 1)


def _select_layers(tree: nn.Module, names: str | Iterable[str] | None) -> dict[str, nn.Module]:
    modules = dict(tree.named_modules())
    if isinstance(names, str | int):  # one name, not its letters; an index of a Sequential
        names = [names]
    if names is not None:
        names = [str(n) if isinstance(n, int) and not isinstance(n, bool) else n for n in names]
        chosen = {}
        for n in names:
            if n not in modules:
                raise UserError(
                    f"watch(): no layer named '{n}'{did_you_mean(n, modules)}; "
                    "names come from model.named_modules()"
                )
            outer = n.rpartition(".")[0]
            if n.endswith(".inner") and getattr(modules.get(outer), "folded", False):
                raise UserError(  # a stacked population's wrapper of a batch-first layer
                    f"watch(): '{n}' is the population's own wrapper of layer '{outer}'; watch "
                    f"'{outer}'"
                )
            chosen[n] = modules[n]
        if not chosen:  # (a filter over named_modules() that matched nothing)
            raise UserError(
                "watch(): layers= selects no layer; pass names from model.named_modules(), or "
                "layers=None for every module with parameters and every activation"
            )
        return chosen
    # a reparametrized module's parametrizations make its weight inside its forward: they are
    # part of that layer (its parameters), not layers whose "output" is a weight matrix
    inner = [
        f"{n}.parametrizations" if n else "parametrizations"
        for n, m in modules.items()
        if parametrize.is_parametrized(m)
    ]
    out = {}
    for name, m in modules.items():
        if any(name == p or name.startswith(p + ".") for p in inner):
            continue
        # not only leaves: nn.MultiheadAttention holds in_proj_weight itself beside out_proj
        if _has_own_params(m) or stats.activation_kind(m) is not None:
            out[name] = m
    if not out:
        raise UserError("watch(): the model has no module with parameters and no activation module")
    return out


_SUMMARIES = (
    "moments", "fractions", "hist", "weight", "grad", "out_grad", "update", "loss_scale",
    "skipped",
)  # fmt: skip


def _input_shape(args: tuple, kwargs: dict[str, Any]) -> tuple:
    """The shapes and dtypes of a forward's tensor arguments, which decide its outputs' sizes."""
    return tuple(
        (tuple(a.shape), a.dtype) for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)
    )


def _consecutive(ys: list[torch.Tensor]) -> torch.Tensor:
    """``torch.stack(ys)``: a view where they are consecutive slots of one buffer, else a copy."""
    buf, first = ys[0]._base, ys[0]
    if buf is not None and all(
        y._base is buf and y.data_ptr() == first.data_ptr() + i * first.nbytes
        for i, y in enumerate(ys)
    ):
        start = (first.data_ptr() - buf.data_ptr()) // first.nbytes
        return buf[start : start + len(ys)]
    return torch.stack(ys)


def _raw_signature(s: _Sample) -> tuple:
    """Deferred steps with equal signatures are reduced together (:meth:`Watch._flush_deferred`)."""
    return tuple((name, y.shape, y.dtype, units) for name, _, _, y, units in s.raw)


def _layout(s: _Sample) -> tuple:
    """What a sample's summaries look like: samples with equal layouts are read together."""
    return (
        tuple(None if (t := getattr(s, key)) is None else tuple(t.shape) for key in _SUMMARIES),
        tuple((n, la.col, la.n, la.frac, la.order, la.calls) for n, la in s.layers.items()),
        tuple(s.grad_ids),
        tuple(la.order for la in s.out_grad_layers),
    )


def _is_meta(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and t.is_meta


def _to_records(
    samples: list[_Sample],
    k: int,
    edges: torch.Tensor,
    layer_params: dict[str, list[int]],
    given_edges: bool = False,
) -> list[dict[str, Any]]:
    """Read every summary to the host in one transfer and lay them out as records.

    Samples with equal layouts (usually all of them) are stacked, so the arithmetic (moments
    to mean/std, per-layer norms from per-parameter ones) runs once on ``(S, K, ...)`` numpy
    arrays; only the records themselves are built one by one in Python.
    """
    # a step of a model moved to the meta device has summaries with no numbers: left out
    samples = [s for s in samples if not any(_is_meta(getattr(s, key)) for key in _SUMMARIES)]
    groups: list[list[_Sample]] = []
    last = None
    for smp in samples:
        lay = _layout(smp)
        if groups and lay == last:
            groups[-1].append(smp)
        else:
            groups.append([smp])
            last = lay
    tensors: list[torch.Tensor] = []
    slots: list[dict[str, tuple[int, tuple[int, ...]] | None]] = []
    device = None
    for group in groups:
        ids: dict[str, tuple[int, tuple[int, ...]] | None] = {}
        for key in _SUMMARIES:
            parts = [getattr(smp, key) for smp in group]
            if parts[0] is None:
                ids[key] = None
                continue
            device = device or parts[0].device
            t = torch.stack([q.detach().to(device, torch.float64) for q in parts])  # (S, ...)
            tensors.append(t.reshape(-1))
            ids[key] = (len(tensors) - 1, tuple(t.shape))
        slots.append(ids)
    if not tensors:
        return []
    values = torch.cat(tensors).cpu().numpy()  # the one host read
    bounds = np.cumsum([0] + [t.numel() for t in tensors])
    edge_list = _rounded_edges(edges.tolist(), given_edges)
    big = 1 << 30
    n_params = sum(len(v) for v in layer_params.values())
    none_k = [None] * k
    out: list[dict[str, Any]] = []
    for group, ids in zip(groups, slots, strict=True):
        arr: dict[str, np.ndarray | None] = {}
        for key, slot in ids.items():
            if slot is None:
                arr[key] = None
            else:
                j, shape = slot
                arr[key] = values[bounds[j] : bounds[j + 1]].reshape(shape)
        first = group[0]
        cols = _record_columns(first, arr, k, n_params)
        # an update found by comparing values (no version counter moved) that is zero
        # everywhere is no update seen at all: None, as when no comparison was made
        upd, skips = arr["update"], arr["skipped"]
        unseen = [
            (upd is not None and smp.update_by_value and not upd[si].any())
            or (skips is not None and bool(skips[si] > 0))  # a fused step the scaler skipped
            for si, smp in enumerate(group)
        ]
        # forward order inside each step; layers that never ran go last in registration order
        chosen = [
            (name, layer)
            for name, layer in first.layers.items()
            if layer.col is not None or layer_params[name]
        ]
        chosen.sort(key=lambda t: t[1].order if t[1].order is not None else big)
        n_s = len(group)
        per_layer = []
        for name, layer in chosen:
            mean = std = nonfinite = counts = fvals = [none_k] * n_s
            if layer.col is not None and cols["mean"] is not None and layer.n:
                j = layer.col
                mean, std, nonfinite = cols["mean"][j], cols["std"][j], cols["bad"][j]
                if cols["hist"] is not None:
                    counts = [[h[j] for h in hs] for hs in cols["hist"]]
            fkey = None
            if layer.frac is not None and cols["frac"] is not None:
                fkey, j, den = layer.frac
                fvals = [[_exact_fraction(v, den) for v in row] for row in cols["frac"][j]]
            pids = layer_params[name]
            w = u = g = ratio = [none_k] * n_s
            if pids:
                a, b = pids[0], pids[-1] + 1  # a layer's parameters are consecutive
                w = _layer_norms(cols["weight"], a, b, none_k, n_s)
                u = _layer_norms(cols["update"], a, b, none_k, n_s)
                if cols["grad"] is not None and cols["grad_have"][a:b].any():
                    g = _layer_norms(cols["grad"], a, b, none_k, n_s)
                if cols["update"] is not None and cols["weight"] is not None:
                    ratio = [
                        none_k
                        if no_update
                        else [
                            x / y if y > 0 else (0.0 if x == 0 else None)
                            for x, y in zip(us, ws, strict=True)
                        ]
                        for us, ws, no_update in zip(u, w, unseen, strict=True)
                    ]
            og = cols["out_grad"].get(layer.order, [none_k] * n_s)
            pnt = (fkey, mean, std, nonfinite, counts, fvals, w, g, og, ratio)
            per_layer.append((name, layer, *pnt))
        scales = arr["loss_scale"]
        for si, smp in enumerate(group):
            step = smp.step
            scale = None if scales is None else float(scales[si])
            for name, layer, fkey, mean, std, bad, counts, fvals, w, g, og, ratio in per_layer:
                kind, order, calls = layer.kind, layer.order, layer.calls
                mean_s, std_s, bad_s, counts_s = mean[si], std[si], bad[si], counts[si]
                f_s, w_s, g_s, og_s, r_s = fvals[si], w[si], g[si], og[si], ratio[si]
                for i in range(k):
                    c = counts_s[i]
                    out.append(
                        {
                            "model": i,
                            "layer": name,
                            "step": step,
                            "kind": kind,
                            "order": order,
                            "calls": calls,
                            "act_mean": mean_s[i],
                            "act_std": std_s[i],
                            "dead_fraction": f_s[i] if fkey == "dead_fraction" else None,
                            "saturated_fraction": f_s[i] if fkey == "saturated_fraction" else None,
                            "nonfinite": bad_s[i],
                            "grad_norm": g_s[i],
                            "out_grad_norm": og_s[i],
                            "weight_norm": w_s[i],
                            "update_ratio": r_s[i],
                            "loss_scale": scale,
                            "hist": None if c is None else c[1:-1],
                            "hist_under": None if c is None else c[0],
                            "hist_over": None if c is None else c[-1],
                            "hist_edges": edge_list,
                        }
                    )
    return out


def _record_columns(
    s: _Sample, arr: dict[str, np.ndarray | None], k: int, n_params: int
) -> dict[str, Any]:
    """The statistics of ``S`` sampled steps of one layout, from ``(S, K, ...)`` arrays.

    ``mean``/``std``/``bad``/``frac``: nested lists ``[column][sample][model]``; ``hist``:
    ``[sample][model][layer][bin]``; ``weight``/``update``/``grad``: ``(S, K, P)`` squared
    per-parameter norms (a parameter without a gradient counts 0; ``grad_have`` says which had
    one); ``out_grad``: layer order -> ``[sample][model]``.
    """
    cols: dict[str, Any] = dict.fromkeys(("mean", "std", "bad", "hist", "frac"))
    # float64 on the host: squaring a float32 norm above ~1.8e19 would overflow here
    arr = {key: None if a is None else a.astype(np.float64) for key, a in arr.items()}
    mom = arr["moments"]
    if mom is not None:
        n = np.ones(mom.shape[2])
        for layer in s.layers.values():
            if layer.col is not None and layer.n:
                n[layer.col] = layer.n
        shift, s1, nrm = mom[..., 0], mom[..., 1], mom[..., 2]  # (S, K, L)
        m = s1 / n
        # a NaN/Inf output makes Σ(y − c) non-finite; the norm alone may overflow (float32 sum
        # of squares, deviations above ~1.8e19) while every value is finite: std inf, not bad
        bad = ~(np.isfinite(s1) & np.isfinite(shift))
        with np.errstate(invalid="ignore", over="ignore"):
            std = np.where(bad, nan, np.sqrt(np.maximum(nrm * nrm / n - m * m, 0.0)))
            cols["mean"] = (shift + m).transpose(2, 0, 1).tolist()
        cols["std"], cols["bad"] = std.transpose(2, 0, 1).tolist(), bad.transpose(2, 0, 1).tolist()
    if arr["hist"] is not None:
        cols["hist"] = arr["hist"].astype(np.int64).tolist()
    if arr["fractions"] is not None:
        cols["frac"] = arr["fractions"].transpose(2, 0, 1).tolist()
    cols["weight"] = None if arr["weight"] is None else arr["weight"] ** 2
    cols["update"] = None if arr["update"] is None else arr["update"] ** 2
    cols["grad"] = cols["grad_have"] = None
    if arr["grad"] is not None and s.grad_ids:
        g, have = np.zeros(arr["grad"].shape[:2] + (n_params,)), np.zeros(n_params, dtype=bool)
        g[..., s.grad_ids], have[s.grad_ids] = arr["grad"] ** 2, True
        cols["grad"], cols["grad_have"] = g, have
    cols["out_grad"] = {}
    if arr["out_grad"] is not None:
        og = np.abs(arr["out_grad"]).transpose(2, 0, 1).tolist()  # [layer][sample][model]
        cols["out_grad"] = {layer.order: og[j] for j, layer in enumerate(s.out_grad_layers)}
    return cols


def _exact_fraction(value: float, n: int) -> float:
    """The fraction ``c/n`` that a float32 ``value`` of a count ``c`` of ``n`` rounds: exact,
    so that 1 of 5 units reads 0.2, not 0.20000000298 — which a verdict's "more than 20%" took
    for more (a float32 quotient is within 2⁻²⁴·c/n of c/n: the nearest c is c for c < 2²³)."""
    return round(value * n) / n if math.isfinite(value) else value


def _layer_norms(sq: np.ndarray | None, a: int, b: int, none_k: list[None], n_samples: int) -> list:
    """``sqrt`` of the summed squared norms of parameters ``a..b-1``: ``[sample][model]``."""
    if sq is None:
        return [none_k] * n_samples
    return np.sqrt(sq[..., a:b].sum(axis=-1)).tolist()
