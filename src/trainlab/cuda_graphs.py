"""CUDA graphs for the trainer's step: one launch instead of many.

A population step queues many small kernels: the forward and backward, the per-model NaN/Inf
bookkeeping, the optimizer's ``_foreach`` ops, the epoch's sums. Their launches, not their
arithmetic, bound a small model's step: on an H200 (in a sandboxed driver), a K=1 MLP
784-256-256-10 took 2.8 ms a step eagerly and 0.34 ms replayed. The step is therefore captured
once into a CUDA graph (``torch.cuda.CUDAGraph``) and replayed: the host copies the batch
indices and the step counters into the graph's static tensors and launches it (NVIDIA, "CUDA
Graphs"; PyTorch's "whole-network capture").

A replay runs exactly the kernels of the captured step, reading and writing the same tensors,
and the step-dependent values (the learning-rate schedule, the dropout streams, the NaN step,
the optimizer's step-count terms: Adam's bias corrections, AdaGrad's lr decay) from the
step-counter tensors. Eager CUDA steps compute those terms on the device too
(:meth:`StepGraphs.eager_step`; on the CPU they are host numbers), so a replay computes what
an eager step computes (tested to float tolerance on an H200: the matrix libraries may pick other
kernels inside a capture), and ``train.cuda_graph`` changes speed, not results.

* A batch shape is captured after one eager step of that shape (which makes the optimizer
  state and the libraries' workspaces); an epoch's smaller last batch has its own graph.
* A graph is used only while every tensor it reads or writes is the one it captured, and every
  optimizer value it baked in is unchanged (:func:`_fingerprint`): a loaded checkpoint, new
  optimizer state or a changed hyperparameter makes the next step capture again.
* A step with hooks on the model or on the optimizer's step runs eagerly: Python hooks do not
  run in a replay. The exception is a ``trainlab.diagnostics.watch`` of the population on a
  step it does not sample (``every > 8``, or any ``every`` for a vmap population, whose watch
  keeps no layer hooks between samples): its hooks would only count the step, which the
  replay does for them (``Watch.replayable_step``), so ``train.diagnose_every: 50`` replays 48
  steps in 50 (the sampled one and the next, which finishes its update ratio, run eagerly).
* Every step of a model whose forward changes its plain-number attributes (a step counter a
  checkpoint keeps) runs eagerly: a replay would leave them still. A step that makes optimizer
  state (the first after loading a state from before any step) is taken eagerly, then captured.
* Not used on the CPU, for loop-mode populations (each model's forward is Python), or when
  ``train.cuda_graph`` is false; a step that cannot be captured (a host sync inside a user's
  module, say) runs eagerly from then on, with one warning.
"""

from __future__ import annotations

import warnings
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .population import SeededDropout, _python_state, _restore_python_state

if TYPE_CHECKING:
    from .train import Trainer

__all__ = ["StepGraphs", "graphs_for"]

#: captures after which a trainer stops capturing (its tensors change every few steps)
MAX_CAPTURES = 16


def graphs_for(trainer: Trainer) -> StepGraphs | None:
    """The trainer's step graphs on CUDA (None elsewhere). With ``train.cuda_graph`` false they
    capture nothing, and every step is eager: eager CUDA steps still go through
    :meth:`StepGraphs.eager_step`, so that the setting changes no result."""
    if trainer.device.type != "cuda":
        return None
    graphs = StepGraphs(trainer)
    if not trainer.config.train.cuda_graph:
        graphs.off = "train.cuda_graph is false"
    return graphs


@dataclass
class _Graph:
    """One captured step: the graph and its static inputs and output."""

    graph: torch.cuda.CUDAGraph
    idx: Tensor  # (K, b) int64: the batch indices, copied in before each replay
    step: Tensor  # 0-d int64: the global step
    opt_t: Tensor  # 0-d: the optimizer's step count t (float64, as its hyperparameters)
    loss: Tensor  # (K,): the step's loss, overwritten by each replay
    fingerprint: _Fingerprint
    counted: list[Tensor] = field(default_factory=list)  # params whose state["step"] moves
    grads: list[Tensor | None] = field(default_factory=list)  # the gradients it writes
    dropout_calls: list[int] = field(default_factory=list)  # each dropout layer's, per step


class StepGraphs:
    """A trainer's captured steps, one per batch shape (see the module docstring)."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.graphs: dict[tuple[int, ...], _Graph] = {}
        self.warm: set[tuple[int, ...]] = set()  # shapes stepped eagerly at least once
        self.captures = 0
        self.replays = 0
        self.eager_t: Tensor | None = None  # t for eager steps (see eager_step)
        self.off: str | None = None  # why steps run eagerly for good, once they do
        self._stream: torch.cuda.Stream | None = None  # capture stream of a "cuda:N" trainer

    def _on_device(self) -> AbstractContextManager[Any]:
        """The trainer's CUDA device made current for a capture or replay, where it names one
        ("cuda:N"): both run on the current device's streams, so a trainer on cuda:1 while
        cuda:0 is current would record an empty graph (its kernels ran eagerly on cuda:1's
        stream) and replay nothing (pytorch/pytorch#87894). A trainer on plain "cuda" is on
        the current device."""
        dev = self.trainer.device
        return torch.cuda.device(dev) if dev.index is not None else nullcontext()

    def _capture_kwargs(self) -> dict[str, Any]:
        """``torch.cuda.graph``'s ``stream`` for a "cuda:N" trainer: one made on its device
        (torch's default capture stream is made once per process, on whichever device was
        current, and entering it makes that device current again)."""
        dev = self.trainer.device
        if dev.index is None:
            return {}
        if self._stream is None:
            self._stream = torch.cuda.Stream(device=dev)
        return {"stream": self._stream}

    # -- the trainer's calls -------------------------------------------------------------------
    def step(self, idx: Tensor) -> Tensor | None:
        """Replay (capturing first if needed) the step on ``idx``; None: the caller steps
        eagerly (:meth:`eager_step`)."""
        shape = tuple(idx.shape)
        tr = self.trainer
        if self.off is not None or shape not in self.warm or tr.pop.mode == "loop":
            return None  # (a vmap population falls back to the loop at its first forward)
        watches = _replayable_watches(tr)
        if watches is None:  # hooks a replay would skip
            return None
        fingerprint = _fingerprint(tr)
        g = self.graphs.get(shape)
        if g is None or not g.fingerprint.matches(fingerprint):
            seen = [w.step for w in watches]
            try:
                g = self._capture(idx, fingerprint)
            finally:
                for w, n in zip(watches, seen, strict=True):
                    w._step = n  # the capture ran their hooks, which counted a step not taken
            if g is None:
                return None
            self.graphs[shape] = g
        loss = self._replay(g, idx)
        for w in watches:  # (their hooks would only have counted the step)
            w.count_replayed_step()
        return loss

    def eager_step(self, idx: Tensor) -> Tensor:
        """The step on ``idx`` taken eagerly, with the optimizer's step-count terms computed on
        the device from t as a replay computes them (so that eager and replayed steps compute the
        same values), where every parameter has the same count; it also warms this batch shape
        up for a capture."""
        tr, opt = self.trainer, self.trainer.optimizer
        # (a parameter that gets its first gradient now makes the optimizer's own counts
        # differ, and it then takes its host counters: PopulationOptimizer._counts)
        t = _next_t(_step_counters(opt)) if hasattr(opt, "graph_t") else None
        uses_t = t is not None
        if uses_t:
            if self.eager_t is None:
                from .optim.base import hyper_dtype

                self.eager_t = torch.zeros((), dtype=hyper_dtype(tr.device), device=tr.device)
            self.eager_t.fill_(float(t))
            opt.graph_t, opt.graph_t_host = self.eager_t, t
        try:
            loss = tr._step_kernels(idx, tr.step)
        finally:
            if uses_t:
                opt.graph_t = opt.graph_t_host = None
        self.warm.add(tuple(idx.shape))
        return loss

    # -- capture and replay --------------------------------------------------------------------
    def _capture(self, idx: Tensor, fingerprint: _Fingerprint) -> _Graph | None:
        tr, opt = self.trainer, self.trainer.optimizer
        if self.captures >= MAX_CAPTURES:
            return self._give_up(
                f"the step was captured {MAX_CAPTURES} times (tensors it uses keep changing)"
            )
        counters = _step_counters(opt)
        t = _next_t(counters)
        if t is None:
            return self._give_up("the optimizer's parameters have different step counts")
        dev = tr.device
        from .optim.base import hyper_dtype

        static_idx = idx.clone()
        step = torch.full((), tr.step, dtype=torch.int64, device=dev)
        opt_t = torch.full((), float(t), dtype=hyper_dtype(dev), device=dev)
        graph = torch.cuda.CUDAGraph()
        uses_t = hasattr(opt, "graph_t")
        if uses_t:
            opt.graph_t, opt.graph_t_host = opt_t, t
        state_keys = {p: set(opt.state[p]) for p in tr.params if p in opt.state}
        tr.pop.set_step(step)
        python = _python_state(tr.pop) + _python_state(tr.pop._template)
        dropout_calls: list[int] = []
        # capture records kernels without running them: the step runs at the first replay
        try:
            with self._on_device(), torch.cuda.graph(graph, **self._capture_kwargs()):
                loss = tr._step_kernels(static_idx, step)
        except Exception as err:  # noqa: BLE001 (any failure: the step runs eagerly)
            _undo_new_state(opt, tr.params, state_keys)  # (never filled: no step ran)
            _restore_counters(opt, counters)
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            return self._give_up(f"the step could not be captured ({first})")
        finally:
            if uses_t:
                opt.graph_t = opt.graph_t_host = None
            dropout_calls = [m.calls for m in tr.pop._dropouts()]
            moved = _moved(python, _python_state(tr.pop) + _python_state(tr.pop._template))
            _restore_python_state(python)  # (the capture ran the forward's Python, no step)
            tr.pop.set_step(tr.step)
        if _undo_new_state(opt, tr.params, state_keys):
            # the step made optimizer state (a state loaded from before any step): that first
            # step is taken eagerly, then this shape is captured
            _restore_counters(opt, counters)
            self.warm.discard(tuple(idx.shape))
            return None
        if moved:
            _restore_counters(opt, counters)
            return self._give_up(
                f"the model's forward changes its Python state ({moved}), which a replay would "
                "not (it runs no Python)"
            )
        after = _step_counters(opt)
        counted = [p for p, n in after.items() if counters.get(p) != n]
        _restore_counters(opt, counters)  # each replay counts its own step
        self.captures += 1
        grads = [p.grad for p in tr.params]
        return _Graph(
            graph, static_idx, step, opt_t, loss, fingerprint, counted, grads, dropout_calls
        )

    def _replay(self, g: _Graph, idx: Tensor) -> Tensor:
        tr, opt = self.trainer, self.trainer.optimizer
        g.idx.copy_(idx)
        g.step.fill_(tr.step)
        if g.counted:
            t = int(opt.state[g.counted[0]]["step"]) + 1
            g.opt_t.fill_(float(t))
        with self._on_device():
            g.graph.replay()
        self.replays += 1
        for p in g.counted:
            opt.state[p]["step"] += 1
        for p, grad in zip(tr.params, g.grads, strict=True):  # (an eager step set others)
            if p.grad is not grad:
                p.grad = grad
        for m, calls in zip(tr.pop._dropouts(), g.dropout_calls, strict=True):
            m.step, m.calls = tr.step, calls  # as an eager step leaves them (a checkpoint)
        return g.loss.clone()  # (a caller may keep it past the next replay)

    def _give_up(self, why: str) -> None:
        self.off = why
        self.graphs.clear()
        warnings.warn(
            f"train.cuda_graph: {why}; the steps run eagerly from now on (set "
            "train.cuda_graph: false to skip the attempt)",
            UserWarning,
            stacklevel=4,
        )
        return None


def _step_counters(opt: torch.optim.Optimizer) -> dict[Tensor, int]:
    """Each parameter's host step counter (``state["step"]``, where the optimizer keeps one)."""
    return {p: int(st["step"]) for p, st in opt.state.items() if "step" in st}


def _next_t(counters: dict[Tensor, int]) -> int | None:
    """t of the next step of the parameters that have a step counter (a never-used one has
    none), 1 before any; None if they began stepping at different times."""
    counts = set(counters.values())
    return next(iter(counts), 0) + 1 if len(counts) <= 1 else None


def _restore_counters(opt: torch.optim.Optimizer, counters: dict[Tensor, int]) -> None:
    for p, n in counters.items():
        opt.state[p]["step"] = n


@dataclass
class _Fingerprint:
    """What a captured step baked in: every object it reads or writes that the trainer or the
    optimizer could replace (held, so that a freed tensor's address and id cannot come back as
    another's), and every optimizer value given as a number."""

    objects: tuple[Any, ...]
    values: tuple[Any, ...]  # numbers, and each tensor's storage address (``p.data = ...``)

    def matches(self, other: _Fingerprint) -> bool:
        return (
            len(self.objects) == len(other.objects)
            and all(a is b for a, b in zip(self.objects, other.objects, strict=True))
            and self.values == other.values
        )


def _fingerprint(tr: Trainer) -> _Fingerprint:
    opt = tr.optimizer
    objects: list[Any] = [tr.data.x_train, tr.data.y_train, tr.alive, tr.active, tr.nan_step,
                          tr.lr_override, tr.schedule, *tr.params, *tr.pop.buffers()]  # fmt: skip
    values: list[Any] = []
    for p in tr.params:
        for key, v in opt.state.get(p, {}).items():
            if key != "step":
                _split(key, v, objects, values)
    for group in opt.param_groups:
        for key, v in group.items():
            if key not in ("params", "lr"):  # (the trainer sets the lr inside the step)
                _split(key, v, objects, values)
    values += [o.data_ptr() for o in objects if isinstance(o, Tensor)]
    return _Fingerprint(tuple(objects), tuple(values))


def _split(key: str, v: Any, objects: list[Any], values: list[Any]) -> None:
    """``v`` into the fingerprint: a tensor as an object (compared by identity), a list or
    tuple element by element (per-model ``betas`` are a pair of tensors), else as a value."""
    if isinstance(v, Tensor):
        objects.append(v)
    elif isinstance(v, list | tuple):
        values.append((key, type(v).__name__, len(v)))
        for x in v:
            _split(key, x, objects, values)
    else:
        values.append((key, v))


def _undo_new_state(
    opt: torch.optim.Optimizer, params: list[Tensor], before: dict[Tensor, set[str]]
) -> bool:
    """Remove the optimizer state a capture made (entries absent from ``before``); whether
    there was any."""
    made = False
    for p in params:
        keys = set(opt.state[p]) if p in opt.state else set()
        new = keys - before.get(p, set())
        if new:
            made = True
            for key in new:
                del opt.state[p][key]
            if not opt.state[p]:
                del opt.state[p]
    return made


def _moved(before: list[Any], after: list[Any]) -> str:
    """The first plain-number attribute (``module.name``) that differs between two
    :func:`~trainlab.population._python_state` snapshots, other than trainlab's dropout
    counters (which :meth:`Population.set_step` resets); "" if none."""
    for (name, m, _, a), (_, _, _, b) in zip(before, after, strict=True):
        if isinstance(m, SeededDropout):
            continue
        for key in (a.keys() | b.keys()) - {"training"}:  # (the mode: set by trainlab)
            x, y = a.get(key, _GONE), b.get(key, _GONE)
            if x is not y and x != y and not (x != x and y != y):  # (NaN equals NaN here)
                return f"{name or type(m).__name__}.{key}"
    return ""


_GONE = object()


def _replayable_watches(tr: Trainer) -> list[Any] | None:
    """The ``trainlab.diagnostics.watch`` blocks on the trainer's population whose hooks the
    next step may skip (a step they do not sample: they only count it), or None if a replay
    would skip a hook that does more: a user's, or a watch's on a sampled step."""
    from torch.nn.modules import module as mm
    from torch.optim import optimizer as om

    from .diagnostics.watch import Watch, watch_owners

    pop, opt = tr.pop, tr.optimizer
    if any(
        p._backward_hooks or getattr(p, "_post_accumulate_grad_hooks", None)
        for p in pop.parameters()
    ):
        return None
    hooks: list[Any] = [
        *mm._global_forward_hooks.values(),
        *mm._global_forward_pre_hooks.values(),
        *mm._global_backward_hooks.values(),
        *mm._global_backward_pre_hooks.values(),
    ]
    for m in (*pop.modules(), *pop._template.modules()):  # (the template runs under vmap)
        for d in (m._forward_hooks, m._forward_pre_hooks, m._backward_hooks):
            hooks += d.values()
        hooks += m._backward_pre_hooks.values()
    owners = watch_owners(hooks, pop)
    if owners is None:
        return None
    params = {id(p) for p in tr.params}
    for h in (
        *getattr(opt, "_optimizer_step_pre_hooks", {}).values(),
        *getattr(opt, "_optimizer_step_post_hooks", {}).values(),
        *getattr(om, "_global_optimizer_pre_hooks", {}).values(),
        *getattr(om, "_global_optimizer_post_hooks", {}).values(),
    ):
        w = getattr(h, "__self__", None)  # a watch's own: its bound method
        if not isinstance(w, Watch):
            return None
        if w.model is pop:
            if all(w is not o for o in owners):
                owners.append(w)
        elif any(id(p) in params for _, p in w._params):  # another watch on these parameters
            return None
        # (else a watch of another model: its global hook does nothing for this optimizer)
    return owners if all(w.replayable_step() for w in owners) else None
