"""Overhead of ``trainlab.diagnostics.watch`` on training time.

Trains the same model side by side without diagnostics, with ``watch(every=50)`` and with
``watch(every=1)``, reading the records once per epoch as the trainer does (``pop_records``),
and reports the median time per step and the overhead against the plain loop: the median over
many short rounds of each round's ratio to its own plain run. The variants take turns within a
round (in reverse order every other round), so that the machine's drift hits them alike; each
variant's watch is made once and attached for its turn, as a training run keeps one watch
(its caches and buffers are not remade per round). On this project's shared 2-core VM the
plain step's CPU time moves by up to ±20% between consecutive half-second runs, and a small
overhead measured twice in a row can differ by ±5 points even so (every 50 steps on the small
MLP: +4.3% and +10.2% in two consecutive runs of 25 rounds). What the hooks cost when nothing
is sampled is steadier on a tiny model (a 8-8-2 MLP, 242-264 µs per step: +24 µs on
2026-11-28, the same as two no-op root hooks plus a no-op autograd hook; +3 to +23 µs in runs
on 2026-11-29).
Goals (issue 4): every 50 steps <= 5%, every step <= 25%. Anchors: composer's activation
monitor ~5%; wandb ``log="all"`` 2-2.6x slower.

Models: a plain MLP 64-256-256-10 (ReLU) on digits-sized data (1797 x 64, 10 classes, batch
100, Adam), and the same MLP as a stacked population of K models (``--k``; 0 skips it).

    python benchmarks/diagnostics.py [--steps 50] [--rounds 25] [--k 16] [--device cpu]
        [--width 256] [--baseline GIT_REV]

``--floor`` also times a lower bound for ``every=1``: :class:`FloorWatch`, hooks that launch only
the smallest set of kernels the same statistics need (per layer output: a sum, a norm, a strided
sample and, after a ReLU, per-unit peaks; per output gradient a norm; per step the weight,
gradient and update norms with one snapshot copy) and keep their results, with no histogram
binning, no reduction across layers and no records. What it costs is what any eager,
hook-based per-step monitor of these statistics costs on the machine.

``--pieces`` also times the every-50 overhead's first piece: ``watch`` with its hooks attached
but no step sampled (``every`` = 10⁹, counted from step 1), what every unsampled step costs; the
rest of the every-50 overhead is the sampled steps' statistics and records. And beside it the
floor of that piece, :class:`HookFloor`: the hooks a monitor must attach to a user's model to
tell where its steps are (``watch``'s kinds: a forward pre-hook and a forward hook on the root
module, an always-called forward hook, the global optimizer step hook, and from the forward
hook one autograd pre-hook on the output's ``grad_fn``), each doing nothing but count its
calls: what torch's hook machinery costs before any monitor code runs.

``--trainer`` also times the trainer: ``Trainer.fit`` of the digits MLP 64-256-256-10 (one
model, Adam, batch 100, ``--epochs`` epochs with their evaluations) with ``train.diagnose_every``
unset, 50, and 50 with the watch's hooks called on every step, as the trainer called them before
2026-12-02 (since then it calls the population's ``forward`` itself on the steps the watch only
counts, :func:`trainlab.diagnostics.watch.counting_watches`): the cost of ``trainlab train
--diagnose`` as a user runs it, and what skipping those hooks saves, in the same rounds.

``--baseline REV`` also times ``watch`` as it was at git revision ``REV`` (its ``watch.py`` and
``stats.py`` loaded from ``git show``), interleaved in the same rounds: a before/after table
from one run on the same machine load.

Every variant runs with the trainer's malloc settings
(:func:`trainlab.malloc.keep_freed_memory`: freed megabyte buffers are reused instead of
page-faulted in afresh; ``TRAINLAB_KEEP_FREED_MEMORY=0`` leaves malloc alone) and with
denormals flushed to zero, as ``trainlab train --diagnose`` runs (Adam's second moments
underflow into the denormal range, where x86 arithmetic is far slower).

Prints a table and writes ``benchmarks/results/diagnostics.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

from trainlab.diagnostics import watch
from trainlab.malloc import keep_freed_memory

STEPS_PER_EPOCH = 13  # digits: 1294 training samples / batch 100, rounded up
NEVER = 10**9  # ``every`` of the --pieces variant: counted from step 1, no step is sampled


def _mlp(width: int = 256) -> nn.Module:
    return nn.Sequential(
        nn.Linear(64, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 10)
    )  # fmt: skip


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def make_runner(
    k: int, device: torch.device, width: int = 256
) -> tuple[nn.Module, Callable[[int], None]]:
    """A model and ``step(s)``: one Adam step on batch ``s`` (k=0: a plain module)."""
    g = torch.Generator().manual_seed(0)
    n = 1797
    x = torch.randn(n, 64, generator=g).to(device)
    y = torch.randint(0, 10, (n,), generator=g).to(device)
    torch.manual_seed(0)
    if k == 0:
        model: nn.Module = _mlp(width).to(device)
    else:
        from trainlab.population import Population

        model = Population.from_models([_mlp(width) for _ in range(k)]).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    idx_all = torch.randint(0, n, (4096, 100), generator=g).to(device)

    def step(s: int) -> None:
        idx = idx_all[s % idx_all.shape[0]]
        xb, yb = x[idx], y[idx]  # (B, 64), (B,)
        if k:
            xb = xb.expand(k, *xb.shape)  # (K, B, 64): the same batch for every model
            out = model(xb)  # (K, B, 10)
            loss = F.cross_entropy(out.flatten(0, 1), yb.repeat(k))
        else:
            loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return model, step


class FloorWatch:
    """The lower bound of a per-step monitor (see the module doc): ``FloorWatch(model, every=1)``
    as a context manager, with ``pop_records()`` dropping what it kept."""

    def __init__(self, model: nn.Module, every: int = 1) -> None:
        assert every == 1, "the floor is measured for every step only"
        self.model = model
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.kept: list[object] = []
        self.handles: list[object] = []
        self.snapshot = [p.detach().clone() for p in self.params]

    def _layer(self, module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        y = out.detach()
        k = y.shape[0] if y.dim() == 3 else 1  # a population's (K, B, D), else one model
        flat = y.reshape(k, -1)
        kept = [flat.sum(1), torch.linalg.vector_norm(flat, dim=1), flat[:, ::7] * 10.0]
        if isinstance(module, nn.ReLU):
            kept.append(y.amax(dim=-2))  # per-unit peaks over the batch
        self.kept.append(kept)
        if out.requires_grad:
            out.register_hook(lambda g: self.kept.append(torch.linalg.vector_norm(g)))

    def _root(self, module: nn.Module, args: tuple) -> None:
        with torch.no_grad():
            self.kept.append(torch._foreach_norm(self.params))  # ‖θ‖
            torch._foreach_sub_(self.snapshot, self.params)  # θ_{s-1} − θ_s
            self.kept.append(torch._foreach_norm(self.snapshot))  # ‖Δθ‖
            torch._foreach_copy_(self.snapshot, self.params)
        self.kept.append(None)

    def _root_out(self, module: nn.Module, args: tuple, out: torch.Tensor) -> None:
        if out.requires_grad:  # ‖∇θ‖ once the backward has accumulated the gradients
            out.register_hook(lambda g: _ENGINE.queue_callback(self._grad_norms))

    def _grad_norms(self) -> None:
        grads = [p.grad for p in self.params if p.grad is not None]
        if grads:
            self.kept.append(torch._foreach_norm(grads))

    def __enter__(self) -> FloorWatch:
        leaves = [m for m in self.model.modules() if not list(m.children())]
        self.handles = [m.register_forward_hook(self._layer) for m in leaves]
        self.handles.append(self.model.register_forward_pre_hook(self._root))
        self.handles.append(self.model.register_forward_hook(self._root_out))
        return self

    def __exit__(self, *exc: object) -> None:
        for h in self.handles:
            h.remove()  # type: ignore[attr-defined]

    def pop_records(self) -> list[object]:
        kept, self.kept = self.kept, []
        return kept


_ENGINE = torch.autograd.Variable._execution_engine


class HookFloor:
    """The idle floor of a step-counting monitor (see the module doc): ``HookFloor(model,
    every)`` as a context manager, its hooks counting their calls in ``calls``."""

    def __init__(self, model: nn.Module, every: int = NEVER) -> None:
        self.model = model
        self.calls = dict.fromkeys(("pre", "post", "always", "optimizer", "backward"), 0)
        self.handles: list[Any] = []

    def _pre(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        self.calls["pre"] += 1

    def _post(self, module: nn.Module, args: tuple, kwargs: dict, out: Any) -> None:
        self.calls["post"] += 1
        if isinstance(out, torch.Tensor) and out.grad_fn is not None:
            out.grad_fn.register_prehook(self._backward)

    def _always(self, module: nn.Module, args: tuple, kwargs: dict, out: Any) -> None:
        self.calls["always"] += 1

    def _optimizer(self, optimizer: Any, args: Any, kwargs: Any) -> None:
        self.calls["optimizer"] += 1

    def _backward(self, grads: Any) -> None:
        self.calls["backward"] += 1

    def __enter__(self) -> HookFloor:
        m = self.model
        self.handles = [
            m.register_forward_pre_hook(self._pre, with_kwargs=True),
            m.register_forward_hook(self._post, with_kwargs=True),
            m.register_forward_hook(self._always, with_kwargs=True, always_call=True),
            register_optimizer_step_post_hook(self._optimizer),
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

    def pop_records(self) -> list[object]:
        return []


def load_baseline_watch(rev: str) -> Callable[..., object]:
    """``watch`` from ``src/trainlab/diagnostics/{watch,stats}.py`` at git revision ``rev``."""
    root = Path(__file__).resolve().parent.parent
    pkg = Path(tempfile.mkdtemp()) / "trainlab_diagnostics_baseline"
    pkg.mkdir()
    for name in ("watch.py", "stats.py"):
        text = subprocess.run(
            ["git", "show", f"{rev}:src/trainlab/diagnostics/{name}"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (pkg / name).write_text(text.replace("from ..", "from trainlab."))
    (pkg / "__init__.py").write_text("")
    sys.path.insert(0, str(pkg.parent))
    from trainlab_diagnostics_baseline.watch import watch as baseline_watch  # type: ignore

    return baseline_watch


def time_variant(
    step: Callable[[int], None], monitor: Any, steps: int, dev: torch.device
) -> tuple[float, float]:
    """Wall and CPU seconds per step of ``steps`` steps with ``monitor`` (a watch made once,
    entered for this run and left after it; None: no diagnostics).

    CPU time (``time.process_time``) is what this process used: on a machine shared with
    other jobs it is far less noisy than wall time (with one torch thread the two agree on an
    idle machine).
    """
    _sync(dev)
    t0, c0 = time.perf_counter(), time.process_time()
    if monitor is not None:
        monitor.__enter__()
    try:
        for s in range(steps):
            step(s)
            if monitor is not None and (s + 1) % STEPS_PER_EPOCH == 0:
                monitor.pop_records()  # the trainer's once-per-epoch read
        if monitor is not None:
            monitor.pop_records()
    finally:
        if monitor is not None:
            monitor.__exit__(None, None, None)
    _sync(dev)
    return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps


@contextmanager
def _hooks_every_step() -> Iterator[None]:
    """The trainer as it was before 2026-12-02: the watch's hooks called on every step."""
    module = importlib.import_module("trainlab.diagnostics.watch")  # (the package's `watch`
    kept = module.counting_watches  # attribute is the function)
    module.counting_watches = lambda _module: None
    try:
        yield
    finally:
        module.counting_watches = kept


TRAINER_VARIANTS = {"none": None, "every 50": 50, "every 50, hooks every step": 50}


def time_trainer(
    variant: str, epochs: int, width: int, device: torch.device
) -> tuple[float, float]:
    """Wall and CPU seconds per step of ``Trainer.fit`` (epochs with their evaluations, the
    records read once per epoch; the trainer is built before the clock starts)."""
    from trainlab.config import parse_config
    from trainlab.train import Trainer

    cfg = parse_config(
        {
            "name": "bench",
            "data": {"name": "digits"},
            "model": {"name": "mlp", "hidden": [width, width]},
            "optim": {"name": "adam", "lr": 1e-3},
            "train": {
                "epochs": epochs, "batch_size": 100, "diagnose_every": TRAINER_VARIANTS[variant]
            },
        }
    )  # fmt: skip
    trainer = Trainer(cfg, device=device)
    hooks = _hooks_every_step() if variant.endswith("hooks every step") else nullcontext()
    with hooks:
        _sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        trainer.fit(None, progress=False)
        _sync(device)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall / trainer.step, cpu / trainer.step


def _interleaved(
    names: list[str], rounds: int, timed: Callable[[str], tuple[float, float]]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU seconds per step of each variant ``timed(name)``, over ``rounds`` rounds
    in which the variants take turns (in reverse order every other round), so that the
    machine's drift hits them alike."""
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[:: -1 if r % 2 else 1]:
            w, c = timed(name)
            wall[name].append(w)
            cpu[name].append(c)
    return wall, cpu


def _row(
    setup: str, k: int, name: str, every: int | None,
    wall: dict[str, list[float]], cpu: dict[str, list[float]],
) -> dict[str, Any]:  # fmt: skip
    """One result of the JSON: the variant's median time per step and its paired overhead
    against the round's "none" variant, wall and CPU, with every round's time."""
    return {
        "setup": setup,
        "k": k,
        "variant": name,
        "every": every,
        "ms_per_step": 1e3 * statistics.median(wall[name]),
        "overhead": _paired_overhead(wall[name], wall["none"]),
        "cpu_ms_per_step": 1e3 * statistics.median(cpu[name]),
        "cpu_overhead": _paired_overhead(cpu[name], cpu["none"]),
        "ms_per_step_all_rounds": [1e3 * t for t in wall[name]],
        "cpu_ms_per_step_all_rounds": [1e3 * t for t in cpu[name]],
    }


def _paired_overhead(times: list[float], base: list[float]) -> float:
    """Median over rounds of ``time / base - 1``, each round against its own plain run.

    The variants of one round run back to back, so a ratio within a round cancels the slow
    drift of a shared machine's speed, which a ratio of the two medians does not.
    """
    return statistics.median(t / b - 1.0 for t, b in zip(times, base, strict=True))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=50, help="steps per timed run (a multiple of 50)")
    ap.add_argument("--rounds", type=int, default=25, help="interleaved repetitions")
    ap.add_argument("--k", type=int, default=16, help="population size (0: plain model only)")
    ap.add_argument("--width", type=int, default=256, help="hidden width of the MLP")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0: torch default)")
    ap.add_argument("--baseline", default=None, help="also time watch() at this git revision")
    ap.add_argument("--floor", action="store_true", help="also time the every-step lower bound")
    ap.add_argument(
        "--pieces",
        action="store_true",
        help="also time the hooks of unsampled steps alone, and their floor",
    )
    ap.add_argument(
        "--trainer", action="store_true", help="also time Trainer.fit with diagnose_every 50"
    )
    ap.add_argument("--epochs", type=int, default=20, help="epochs of each --trainer fit")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "diagnostics.json"))
    args = ap.parse_args()
    from _args import require_counts, require_device, require_threads

    require_counts(ap, rounds=args.rounds, width=args.width, epochs=args.epochs)
    if args.k < 0:
        ap.error(f"--k must be at least 0 (0: the plain model only), got {args.k}")
    require_device(ap, args.device)
    require_threads(ap, args.threads)
    if args.steps < 50 or args.steps % 50:  # each round must sample as many steps as the next
        ap.error(f"--steps must be a multiple of 50 (every-50 sampling), got {args.steps}")
    if args.threads:
        torch.set_num_threads(args.threads)
    keep_freed_memory()  # the trainer's malloc settings, for every variant (trainlab.malloc)
    torch.set_flush_denormal(True)  # as the trainer does while it trains on the CPU
    dev = torch.device(args.device)
    variants: list[tuple[str, int | None, Callable[..., object]]] = [
        ("none", None, watch),
        ("every 50", 50, watch),
        ("every 1", 1, watch),
    ]
    if args.floor:
        variants.append(("floor 1", 1, FloorWatch))
    if args.pieces:  # hooks attached, nothing sampled: every step is an unsampled one
        variants.append(("unsampled", NEVER, lambda m, every: watch(m, every=every, start_step=1)))
        variants.append(("hooks floor", NEVER, HookFloor))
    if args.baseline:
        try:
            old = load_baseline_watch(args.baseline)
        except subprocess.CalledProcessError as err:
            ap.error(f"--baseline {args.baseline}: {(err.stderr or '').strip() or err}")
        variants += [("before 50", 50, old), ("before 1", 1, old)]
    mlp = f"MLP 64-{args.width}-{args.width}-10"
    setups = [(mlp, 0)] + ([(f"{mlp} K={args.k}", args.k)] if args.k else [])
    results = []
    for label, k in setups:
        model, step = make_runner(k, dev, args.width)
        for s in range(30):  # warm-up
            step(s)
        monitors = {name: fn(model, every=every) if every else None for name, every, fn in variants}
        wall, cpu = _interleaved(
            [name for name, _, _ in variants],
            args.rounds,
            lambda name: time_variant(step, monitors[name], args.steps, dev),  # noqa: B023
        )
        results += [_row(label, k, name, every, wall, cpu) for name, every, _ in variants]
    if args.trainer:
        label = f"trainer, {mlp}"
        time_trainer("none", 1, args.width, dev)  # warm-up (data set, allocator)
        wall, cpu = _interleaved(
            list(TRAINER_VARIANTS),
            args.rounds,
            lambda name: time_trainer(name, args.epochs, args.width, dev),
        )
        results += [
            {**_row(label, 1, name, every, wall, cpu), "epochs": args.epochs}
            for name, every in TRAINER_VARIANTS.items()
        ]
    print(
        f"diagnostics overhead ({args.device}, {torch.get_num_threads()} threads, "
        f"{args.steps} steps x {args.rounds} interleaved rounds, median)"
        + (f"; 'before' = watch at git {args.baseline}" if args.baseline else "")
    )
    sw = max(24, *(len(r["setup"]) + 2 for r in results))
    vw = max(10, *(len(r["variant"]) + 2 for r in results))
    head = f"{'setup':<{sw}}{'variant':<{vw}}{'wall ms':>9}{'overhead':>10}{'cpu ms':>9}"
    print(head + f"{'overhead':>10}  goal (on CPU time)")
    goals = {"every 50": 0.05, "every 1": 0.25}
    for r in results:
        goal = goals.get(r["variant"])
        mark = ""
        if goal is not None:
            mark = ("ok" if r["cpu_overhead"] <= goal else "MISSED") + f" <={goal:.0%}"
        print(
            f"{r['setup']:<{sw}}{r['variant']:<{vw}}{r['ms_per_step']:>9.3f}"
            f"{100 * r['overhead']:>9.1f}%{r['cpu_ms_per_step']:>9.3f}"
            f"{100 * r['cpu_overhead']:>9.1f}%  {mark}"
        )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "benchmark": "diagnostics overhead",
        "device": args.device,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "steps": args.steps,
        "width": args.width,
        "rounds": args.rounds,
        "trainer_epochs": args.epochs if args.trainer else None,
        "baseline": args.baseline,
        "results": results,
    }
    out.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
