"""``watch(model, every=N)``: per-layer training statistics of any ``nn.Module`` or population.

Hooks in the style of fastai's ``Hooks`` (a context manager that always removes them, also
after an exception), with the memory and speed lessons of its users built in:

- **Summaries only.** A sampled layer output is reduced at once to per-model moments, a
  fixed-bin histogram, dead/saturated fractions and a finiteness flag; the raw activation is
  never kept, so memory stays flat however long the run (fastai's ``ActivationStats`` keeps
  growing lists). Summaries stay on the device and are read to the host lazily, in one transfer,
  by :meth:`Watch.records` — there is no ``.item()`` / ``.cpu()`` in any hook.
- **Sampled, training mode only.** A *step* is one training-mode forward of the root module.
  Steps ``0, every, 2·every, ...`` are sampled: only then are the per-layer hooks
  registered (and removed again after the forward), so an unsampled step costs two Python calls
  on the root module and nothing else. Evaluation-mode forwards are ignored. Steps are counted
  from ``start_step`` (a resumed run passes its step) and those divisible by ``every`` are
  sampled, so a resumed run samples the same steps as an uninterrupted one.

Per sampled step ``s`` and layer (leaf modules with parameters, and activation modules; names
from ``named_modules()``) it records, for every model ``i`` of a population (``model=0`` for a
plain module), reducing over every axis but the model axis:

- ``act_mean``, ``act_std``, ``hist`` (counts in the bins ``hist_edges``, plus ``hist_under``
  and ``hist_over``) of the layer's output;
- ``dead_fraction`` (ReLU family) and ``saturated_fraction`` (tanh/sigmoid family), see
  :mod:`trainlab.diagnostics.stats` for the definitions and thresholds; None for other layers;
- ``nonfinite``: the output held a NaN or ±Inf (read from its sums, so a float overflow of the
  sum counts too); ``order``: the layer's position in forward order;
- ``grad_norm`` = ‖∂L/∂θ‖ over the layer's own parameters, the gradient computed by the
  backward of step ``s`` (before clipping; with gradient accumulation, the last backward's
  contribution), and ``out_grad_norm`` = ‖∂L/∂y‖ of its output (None for an output that a
  later in-place op overwrote, e.g. ``ReLU(inplace=True)``). Both come from one
  ``torch.autograd.graph.register_multi_grad_hook`` each, registered only on sampled steps;
- ``weight_norm`` = ‖θ_s‖ at the start of step ``s``;
- ``update_ratio`` = ‖θ_{s+1} − θ_s‖ / ‖θ_s‖, the relative size of the optimizer update made
  with the gradient of step ``s`` (CS231n lecture 7: aim for about 1e-3). The optimizer step is
  detected from the parameters' in-place version counters (any in-place update under
  ``torch.no_grad()``, as every ``torch.optim`` optimizer does; not ``p.data = ...``) at the
  next forward or at :meth:`Watch.records`. It costs one copy of the parameters while a step
  waits for its update.

``θ`` is the concatenation of all of the layer's own parameters (weight and bias). Norms and
ratios are None where a layer has no parameters (or no gradient, or no optimizer step yet).
A module called several times in one forward is measured at its first call (``calls`` says how
many). Activations applied as functions (``F.relu`` inside a custom ``forward``) are invisible
to hooks; use modules to see them.

Populations (:class:`trainlab.population.Population`): the statistics are per model. In the
stacked mode the hooks sit on ``pop.net``'s leaves, whose outputs are ``(K, B, ...)``; in the
vmap mode the sampled step's batch is run again, model by model and without gradients, through
the plain template (so ``out_grad_norm`` is None there).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import UserError, did_you_mean
from . import stats

__all__ = ["Watch", "watch", "write_jsonl", "RECORD_FIELDS"]

nan = float("nan")

#: the fields of every record, in the order they are written
RECORD_FIELDS = (
    "model", "layer", "step", "kind", "order", "calls", "act_mean", "act_std", "dead_fraction",
    "saturated_fraction", "nonfinite", "grad_norm", "out_grad_norm", "weight_norm",
    "update_ratio", "hist", "hist_under", "hist_over", "hist_edges",
)  # fmt: skip


@dataclass
class _Layer:
    """Device-side summaries of one layer at one sampled step (every tensor is ``(K,)``)."""

    kind: str
    order: int | None = None
    calls: int = 0
    n: int = 0  # values per model in the output
    act: dict[str, torch.Tensor] = field(default_factory=dict)  # moment sums, fractions
    hist: torch.Tensor | None = None  # (K, bins + 2): under, bins..., over
    grad_norms: dict[str, torch.Tensor] = field(default_factory=dict)  # per parameter name
    out_grad_norm: torch.Tensor | None = None
    weight_norms: list[torch.Tensor] | None = None  # per parameter
    update_norms: list[torch.Tensor] | None = None  # per parameter


@dataclass
class _Sample:
    """One sampled step: its layers, and the parameter snapshot awaiting the optimizer step."""

    step: int
    layers: dict[str, _Layer]
    next_order: int = 0
    outputs: list[tuple[_Layer, torch.Tensor, int]] = field(default_factory=list)
    # (layer, parameter, copy at the step's start, version counter at the copy)
    snapshot: list[tuple[str, torch.Tensor, torch.Tensor, int]] | None = None


def _has_own_params(m: nn.Module) -> bool:
    return any(True for _ in m.parameters(recurse=False))


def _kind(m: nn.Module) -> str:
    kind = stats.activation_kind(m)
    if kind is not None:
        return kind
    name = type(m).__name__.lstrip("_")
    return name.removeprefix("Stacked").lower()  # _StackedLinear -> linear, Conv2d -> conv2d


def _population_parts(model: nn.Module) -> tuple[int, nn.Module, nn.Module | None] | None:
    """``(k, net, vmap_template)`` for a trainlab Population, None for a plain module."""
    from ..population import Population

    if not isinstance(model, Population):
        return None
    template = model._template if model.mode == "vmap" else None
    return model.k, model.net, template


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
            evenly strided sample; None: all). Moments and fractions always use every value.
        layers: names (from ``named_modules()``) to watch; default: every leaf module with
            parameters and every activation module.
        start_step: the number of the first training step (a resumed run passes its step).
        update_ratio: measure ‖Δθ‖/‖θ‖ (keeps one copy of the parameters per pending step).
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        every: int = 1,
        bins: int | Sequence[float] = 60,
        hist_range: tuple[float, float] = (-3.0, 3.0),
        hist_values: int | None = 4096,
        layers: Iterable[str] | None = None,
        start_step: int = 0,
        update_ratio: bool = True,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise UserError(f"watch() needs an nn.Module, got {type(model).__name__}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise UserError(f"every must be a positive int (sample one step in N), got {every!r}")
        self.model = model
        self.every = every
        self.start_step = int(start_step)
        self.measure_updates = update_ratio
        self.edges = _edges(bins, hist_range)  # (E,) on the CPU; moved to the data's device
        # evenly spaced bins take the fast path (stats.uniform_histogram)
        self._uniform = (
            (float(hist_range[0]), float(hist_range[1]), bins) if isinstance(bins, int) else None
        )
        if hist_values is not None and hist_values < 1:
            raise UserError(f"hist_values must be a positive int or None, got {hist_values}")
        self.hist_values = hist_values
        pop = _population_parts(model)
        self.k, self.tree, self._vmap_template = (1, model, None) if pop is None else pop
        self.is_population = pop is not None
        self.layers = _select_layers(self.tree, layers)  # name -> module (tree's)
        self._kinds = {n: _kind(m) for n, m in self.layers.items()}
        self._root_handles: list[Any] = []
        self._layer_handles: list[Any] = []  # this step's forward hooks
        self._grad_handles: list[Any] = []  # the sampled step's gradient hooks
        self._samples: list[_Sample] = []
        self._pending: _Sample | None = None  # waits for the optimizer step (update ratio)
        self._step = self.start_step - 1
        self._edges_dev: dict[torch.device, torch.Tensor] = {}

    # -- lifecycle ------------------------------------------------------------------------------
    def attach(self) -> Watch:
        """Register the root hooks; :meth:`detach` removes every hook this watch added."""
        if self._root_handles:
            raise UserError("this watch is already attached; use one `with watch(...)` block")
        self._root_handles = [
            self.model.register_forward_pre_hook(self._pre_forward),
            self.model.register_forward_hook(self._post_forward),
        ]
        return self

    def detach(self) -> None:
        """Remove every hook (root, layer, gradient); safe to call twice."""
        for handles in (self._root_handles, self._layer_handles, self._grad_handles):
            for h in handles:
                h.remove()
            handles.clear()

    def __enter__(self) -> Watch:
        return self.attach()

    def __exit__(self, *exc: object) -> None:
        self.detach()

    @property
    def step(self) -> int:
        """The number of the last training step seen (``start_step - 1`` before the first)."""
        return self._step

    # -- hooks ----------------------------------------------------------------------------------
    def _pre_forward(self, module: nn.Module, args: tuple) -> None:
        if not module.training:
            return
        self._remove(self._layer_handles)  # left over if the last forward raised
        self._remove(self._grad_handles)  # the previous sampled step's backward is over
        self._finish_update()
        self._step += 1
        if self._step % self.every:  # absolute: a resumed run samples the same steps
            return
        sample = _Sample(self._step, {})
        owners: list[tuple[str, _Layer, str]] = []
        flat_params: list[torch.Tensor] = []
        for name, m in self.layers.items():
            layer = sample.layers[name] = _Layer(self._kinds[name])
            for pn, p in m.named_parameters(recurse=False):
                owners.append((name, layer, pn))
                flat_params.append(p)
        with torch.no_grad():
            for (_, layer, _), norm in zip(owners, stats.norms(flat_params, self.k), strict=True):
                if layer.weight_norms is None:
                    layer.weight_norms = []
                layer.weight_norms.append(norm)
            if self.measure_updates and flat_params:
                # one foreach call copies every parameter (x * 1.0 == x exactly)
                copies = torch._foreach_mul([p.detach() for p in flat_params], 1.0)
                sample.snapshot = [
                    (name, p, c, p._version)
                    for (name, _, _), p, c in zip(owners, flat_params, copies, strict=True)
                ]
                if self._pending is not None:  # it never saw an optimizer step: no ratio
                    self._pending.snapshot = None
                self._pending = sample
        trained = [(o, p) for o, p in zip(owners, flat_params, strict=True) if p.requires_grad]
        if trained:  # one hook for all parameter gradients of this step's backward
            hook = self._params_grad_hook([o for o, _ in trained])
            handle = torch.autograd.graph.register_multi_grad_hook(
                [p for _, p in trained], hook, mode="all"
            )
            self._grad_handles.append(handle)
        self._samples.append(sample)
        if self._vmap_template is None:
            for name, m in self.layers.items():
                hook = self._forward_hook(sample, name, self.is_population, record_grad=True)
                self._layer_handles.append(m.register_forward_hook(hook))

    def _post_forward(self, module: nn.Module, args: tuple, output: Any) -> None:
        if not module.training:
            return
        self._remove(self._layer_handles)
        sample = self._samples[-1] if self._samples else None
        if sample is None or sample.step != self._step:
            return
        if self._vmap_template is not None:
            self._rerun_vmap(sample, args)
        # an output modified in place later in the forward (ReLU(inplace=True)) is skipped
        outs = [(layer, y) for layer, y, v in sample.outputs if y._version == v]
        sample.outputs = []
        if outs and torch.is_grad_enabled():  # one hook for ‖∂L/∂y‖ of every layer output
            hook = self._outputs_grad_hook([layer for layer, _ in outs])
            handle = torch.autograd.graph.register_multi_grad_hook(
                [y for _, y in outs], hook, mode="all"
            )
            self._grad_handles.append(handle)

    def _forward_hook(self, sample: _Sample, name: str, stacked: bool, record_grad: bool):
        layer = sample.layers[name]
        module = self.layers[name]

        def hook(mod: nn.Module, args: tuple, output: Any) -> None:
            y = output[0] if isinstance(output, tuple | list) and output else output
            if not isinstance(y, torch.Tensor) or not y.is_floating_point():
                return
            layer.calls += 1
            if layer.calls > 1:
                return
            layer.order = sample.next_order
            sample.next_order += 1
            yk = y if stacked else y.unsqueeze(0)  # (K, B, ...)
            if yk.dim() == 1:
                yk = yk.unsqueeze(1)
            layer.n = yk[0].numel()
            layer.act, layer.hist = self._measure(layer.kind, module, yk)
            if record_grad and y.requires_grad and torch.is_grad_enabled():
                sample.outputs.append((layer, y, y._version))  # until this forward ends

        return hook

    def _params_grad_hook(self, owners: list[tuple[str, _Layer, str]]):
        k = self.k

        def hook(grads: Sequence[torch.Tensor | None]) -> None:
            got = [(o, g) for o, g in zip(owners, grads, strict=True) if g is not None]
            with torch.no_grad():
                norms = stats.norms([g for _, g in got], k)
                for ((_, layer, pn), _), n in zip(got, norms, strict=True):
                    layer.grad_norms[pn] = n

        return hook

    def _outputs_grad_hook(self, layers: list[_Layer]):
        k = self.k

        def hook(grads: Sequence[torch.Tensor | None]) -> None:
            got = [(layer, g) for layer, g in zip(layers, grads, strict=True) if g is not None]
            with torch.no_grad():
                for (layer, _), n in zip(got, stats.norms([g for _, g in got], k), strict=True):
                    layer.out_grad_norm = n

        return hook

    def _measure(
        self, kind: str, module: nn.Module, y: torch.Tensor
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Summaries of one output ``y`` ``(K, B, ...)``: dict of ``(K,)`` and hist ``(K, E+1)``.

        Moments are kept as shifted sums (mean, std and the finiteness flag are formed on the
        host at read time): about a dozen small kernels per layer, no host sync. Every input
        is detached (``stats.flat``), so no autograd graph is built here.
        """
        shift, s1, norm = stats.moment_sums(y)
        out = {"shift": shift, "s1": s1, "norm": norm}
        if kind == "relu":
            out["dead_fraction"] = stats.dead_fraction(y)
        elif kind in ("tanh", "sigmoid", "hardtanh", "hardsigmoid"):
            out["saturated_fraction"] = stats.saturated_fraction(y, kind, module)
        if self._uniform is not None:
            lo, hi, bins = self._uniform
            return out, stats.uniform_histogram(y, lo, hi, bins, self.hist_values)
        edges = self._edges_dev.get(y.device)
        if edges is None:
            edges = self._edges_dev[y.device] = self.edges.to(y.device)
        yh = stats.flat(y)
        if self.hist_values is not None and yh.shape[1] > self.hist_values:
            yh = yh[:, :: -(-yh.shape[1] // self.hist_values)]
        return out, stats.histogram(yh, edges)

    @torch.no_grad()
    def _rerun_vmap(self, sample: _Sample, args: tuple) -> None:
        """vmap population: run the batch model by model through the plain template."""
        tpl = self._vmap_template
        assert tpl is not None
        x = args[0]  # (K, B, ...)
        params = dict(self.tree.named_parameters())
        buffers = {n: b.clone() for n, b in self.tree.named_buffers()}  # no double BN update
        parts: dict[str, list[tuple[dict[str, torch.Tensor], torch.Tensor]]] = {}
        tpl_modules = dict(tpl.named_modules())
        was_training = tpl.training
        tpl.train(True)
        try:
            for i in range(self.k):
                one = _Sample(sample.step, {n: _Layer(self._kinds[n]) for n in self.layers})
                handles = [
                    tpl_modules[n].register_forward_hook(self._forward_hook(one, n, False, False))
                    for n in self.layers
                    if n in tpl_modules
                ]
                try:
                    torch.func.functional_call(
                        tpl,
                        (
                            {n: p[i] for n, p in params.items()},
                            {n: b[i] for n, b in buffers.items()},
                        ),
                        (x[i],),
                    )
                finally:
                    for h in handles:
                        h.remove()
                for n, layer in one.layers.items():
                    if layer.hist is not None:
                        parts.setdefault(n, []).append((layer.act, layer.hist))
                        if i == 0:
                            sample.layers[n].order = layer.order
                            sample.layers[n].calls = layer.calls
                            sample.layers[n].n = layer.n
        finally:
            tpl.train(was_training)
        for n, per_model in parts.items():
            if len(per_model) != self.k:
                continue
            acts = [a for a, _ in per_model]
            sample.layers[n].act = {key: torch.cat([a[key] for a in acts]) for key in acts[0]}
            sample.layers[n].hist = torch.cat([h for _, h in per_model])

    def _finish_update(self) -> None:
        """If the optimizer has stepped since the pending snapshot, measure ‖Δθ‖ per layer."""
        sample = self._pending
        if sample is None or not sample.snapshot:
            return
        if not any(p._version != v for _, p, _, v in sample.snapshot):
            return  # no in-place update of any parameter yet
        with torch.no_grad():
            now = [p.detach() for _, p, _, _ in sample.snapshot]
            diffs = torch._foreach_sub(now, [old for _, _, old, _ in sample.snapshot])
            for (name, _, _, _), norm in zip(
                sample.snapshot, stats.norms(diffs, self.k), strict=True
            ):
                layer = sample.layers[name]
                if layer.update_norms is None:
                    layer.update_norms = []
                layer.update_norms.append(norm)
        sample.snapshot = None
        self._pending = None

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
        self._finish_update()
        return _to_records(self._samples, self.k, self.edges)

    def pop_records(self) -> list[dict[str, Any]]:
        """:meth:`records`, then forget them (the trainer appends them once per epoch)."""
        out = self.records()
        self._samples = []
        return out

    def write_jsonl(self, path: str | os.PathLike, *, append: bool = False) -> Path:
        """Write :meth:`records` to ``path`` as JSON lines (``append=True`` adds to the file)."""
        return write_jsonl(self.records(), path, append=append)


def watch(
    model: nn.Module,
    *,
    every: int = 1,
    bins: int | Sequence[float] = 60,
    hist_range: tuple[float, float] = (-3.0, 3.0),
    hist_values: int | None = 4096,
    layers: Iterable[str] | None = None,
    start_step: int = 0,
    update_ratio: bool = True,
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
    )


def write_jsonl(
    records: Iterable[dict[str, Any]], path: str | os.PathLike, *, append: bool = False
) -> Path:
    """Write records as JSON lines (non-finite floats as ``NaN``/``Infinity``, Python's JSON)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return path


# -- helpers ------------------------------------------------------------------------------------
def _sum(ts: list[torch.Tensor]) -> torch.Tensor:
    out = ts[0]
    for t in ts[1:]:
        out = out + t.to(out.device)
    return out


def _edges(bins: int | Sequence[float], hist_range: tuple[float, float]) -> torch.Tensor:
    if isinstance(bins, int) and not isinstance(bins, bool):
        lo, hi = (float(v) for v in hist_range)
        if bins < 1 or not lo < hi:
            raise UserError(
                f"need bins >= 1 and hist_range low < high, got bins={bins}, range={hist_range}"
            )
        return torch.linspace(lo, hi, bins + 1, dtype=torch.float64).float()
    edges = torch.as_tensor(list(bins), dtype=torch.float32)
    if edges.dim() != 1 or edges.numel() < 2 or not bool((edges[1:] > edges[:-1]).all()):
        raise UserError("bins must be a count or at least two increasing bin edges")
    return edges


def _select_layers(tree: nn.Module, names: Iterable[str] | None) -> dict[str, nn.Module]:
    modules = dict(tree.named_modules())
    if names is not None:
        chosen = {}
        for n in names:
            if n not in modules:
                raise UserError(
                    f"watch(): no layer named '{n}'{did_you_mean(n, modules)}; "
                    "names come from model.named_modules()"
                )
            chosen[n] = modules[n]
        return chosen
    out = {}
    for name, m in modules.items():
        leaf = not any(True for _ in m.children())
        if (leaf and _has_own_params(m)) or stats.activation_kind(m) is not None:
            out[name] = m
    if not out:
        raise UserError(
            "watch(): the model has no leaf module with parameters and no activation module"
        )
    return out


def _to_records(samples: list[_Sample], k: int, edges: torch.Tensor) -> list[dict[str, Any]]:
    """Read every summary to the host in one transfer and lay them out as records."""
    tensors: list[torch.Tensor] = []
    device = None

    def put(t: torch.Tensor) -> int:
        nonlocal device
        device = device or t.device
        t = t.detach().reshape(-1)
        tensors.append(t if t.device == device else t.to(device))
        return len(tensors) - 1

    slots: list[tuple[_Sample, str, _Layer, dict[str, Any]]] = []
    for s in samples:
        for name, layer in s.layers.items():
            idx: dict[str, Any] = {key: put(t) for key, t in layer.act.items()}
            if layer.hist is not None:
                idx["hist"] = put(layer.hist)
            if layer.grad_norms:
                idx["grad"] = [put(t) for t in layer.grad_norms.values()]
            if layer.out_grad_norm is not None:
                idx["out_grad"] = [put(layer.out_grad_norm)]
            if layer.weight_norms is not None:
                idx["weight"] = [put(t) for t in layer.weight_norms]
            if layer.update_norms is not None:
                idx["update"] = [put(t) for t in layer.update_norms]
            if idx:
                slots.append((s, name, layer, idx))
    if not tensors:
        return []
    sizes = [t.numel() for t in tensors]
    values = torch.cat(tensors).double().cpu().tolist()  # the one host read
    parts, pos = [], 0
    for n in sizes:
        parts.append(values[pos : pos + n])
        pos += n
    edge_list = [round(e, 6) for e in edges.tolist()]
    nb = len(edge_list) + 1
    # forward order inside each step; layers that never ran go last in registration order
    big = 1 << 30
    slots.sort(key=lambda t: (t[0].step, t[2].order if t[2].order is not None else big))
    out = []
    for s, name, layer, idx in slots:
        for i in range(k):

            def get(key: str, idx: dict[str, Any] = idx, i: int = i) -> float | None:
                return parts[idx[key]][i] if key in idx else None

            def norm(key: str, idx: dict[str, Any] = idx, i: int = i) -> float | None:
                if key not in idx:
                    return None
                return math.sqrt(sum(parts[j][i] ** 2 for j in idx[key]))

            mean = std = None
            nonfinite = None
            if "s1" in idx and layer.n:
                shift, s1, nrm = get("shift"), get("s1"), get("norm")
                m = s1 / layer.n
                nonfinite = not (math.isfinite(s1) and math.isfinite(nrm) and math.isfinite(shift))
                mean = shift + m
                std = math.sqrt(max(nrm * nrm / layer.n - m * m, 0.0)) if not nonfinite else nan
            hist = parts[idx["hist"]][i * nb : (i + 1) * nb] if "hist" in idx else None
            w, u = norm("weight"), norm("update")
            ratio = None
            if w is not None and u is not None:
                ratio = u / w if w > 0 else (0.0 if u == 0 else None)
            out.append(
                {
                    "model": i,
                    "layer": name,
                    "step": s.step,
                    "kind": layer.kind,
                    "order": layer.order,
                    "calls": layer.calls,
                    "act_mean": mean,
                    "act_std": std,
                    "dead_fraction": get("dead_fraction"),
                    "saturated_fraction": get("saturated_fraction"),
                    "nonfinite": nonfinite,
                    "grad_norm": norm("grad"),
                    "out_grad_norm": norm("out_grad"),
                    "weight_norm": w,
                    "update_ratio": ratio,
                    "hist": None if hist is None else [int(c) for c in hist[1:-1]],
                    "hist_under": None if hist is None else int(hist[0]),
                    "hist_over": None if hist is None else int(hist[-1]),
                    "hist_edges": edge_list,
                }
            )
    return out
