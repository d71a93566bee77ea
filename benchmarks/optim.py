"""Speed of one population optimizer step against ``torch.optim``.

For each optimizer (SGD with momentum, Adam, AdamW, Adagrad, RMSprop) and a population of K
models (stacked parameters ``(K, ...)`` of an MLP), times one step of:

- ``torch foreach``: ``torch.optim.<X>(foreach=True)`` on the stacked tensors, shared values;
- ``torch fused``: ``torch.optim.<X>(fused=True)`` likewise, where torch has a fused kernel for
  the device (on the CPU: SGD, Adam, AdamW, Adagrad) — the floor trainlab's fused CPU path meets;
- ``trainlab shared``: trainlab's optimizer on the same tensors, shared float values (fast path);
- ``trainlab per-model``: trainlab with a ``(K,)`` lr tensor set before every step and one more
  per-model value (SGD and RMSprop momentum, Adam(W) and Adagrad weight decay) — what the
  trainer does;
- ``trainlab lr grid``: the same with only the lr per model (a grid of lrs, per-model schedules;
  on the CPU, small models take one lr-scaled fused call, see :mod:`trainlab.optim.base`);
- ``torch loop``: a Python loop over K ``torch.optim`` instances, one per model (the only way to
  give each model its own hyperparameters with ``torch.optim``).

Every variant runs in one process with the trainer's malloc settings
(:func:`trainlab.malloc.keep_freed_memory`: freed megabyte buffers are reused instead of
page-faulted in afresh each step; ``TRAINLAB_KEEP_FREED_MEMORY=0`` leaves malloc alone).

Goals (issue 5): trainlab shared ≤ 1.2× torch foreach; trainlab per-model ≥ 10× faster than
the torch loop at K = 100. Rounds are interleaved so that machine load hits every variant
alike; the table shows the best (minimum) time per step over the rounds.

    python benchmarks/optim.py [--k 100] [--model linear,small,digits] [--rounds 7] [--device cpu]

Prints a table and writes ``benchmarks/results/optim.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

from trainlab.malloc import keep_freed_memory
from trainlab.optim import create_optimizer

MODELS = {  # one model's parameter shapes (Linear weights and biases of an MLP)
    "linear": [(10, 64), (10,)],  # logistic regression on digits, 650 params
    "small": [(64, 40), (64,), (64, 64), (64,), (10, 64), (10,)],  # MNIST-1D MLP, 7.5k params
    "digits": [(256, 64), (256,), (256, 256), (256,), (10, 256), (10,)],  # 85k params
    "mnist": [(256, 784), (256,), (256, 256), (256,), (10, 256), (10,)],  # 269k params
}

OPTIMS: dict[str, tuple[type[torch.optim.Optimizer], dict, dict]] = {
    # name: (torch class, shared kwargs, per-model extras as (K,) factories)
    "sgd": (torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4}, {"momentum"}),
    "adam": (torch.optim.Adam, {"lr": 1e-3, "weight_decay": 1e-4}, {"weight_decay"}),
    "adamw": (torch.optim.AdamW, {"lr": 1e-3, "weight_decay": 1e-2}, {"weight_decay"}),
    "adagrad": (torch.optim.Adagrad, {"lr": 1e-2, "weight_decay": 1e-4}, {"weight_decay"}),
    "rmsprop": (torch.optim.RMSprop, {"lr": 1e-3, "momentum": 0.9}, {"momentum"}),
}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _stacked(k: int, shapes: list[tuple[int, ...]], device: torch.device) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    out = []
    for s in shapes:
        p = (torch.randn(k, *s, generator=g) * 0.05).to(device)
        p.grad = (torch.randn(k, *s, generator=g) * 1e-3).to(device)
        out.append(p)
    return out


def _stepping_at(opt: torch.optim.Optimizer, lr_k: torch.Tensor) -> Callable[[], None]:
    """``step()``: set the ``(K,)`` lr on every group, as the trainer does, then step."""

    def step() -> None:
        for group in opt.param_groups:
            group["lr"] = lr_k
        opt.step()

    return step


def make_variants(
    name: str, k: int, shapes: list[tuple[int, ...]], device: torch.device
) -> dict[str, Callable[[], None]]:
    """``variant -> step()`` closures, each owning its own parameters and optimizer state."""
    cls, shared, per_model = OPTIMS[name]
    out: dict[str, Callable[[], None]] = {}

    ps = _stacked(k, shapes, device)
    t_opt = cls(ps, foreach=True, **shared)
    out["torch foreach"] = t_opt.step
    try:  # (torch refuses some devices only at the first step: CUDA Adagrad)
        fused = cls(_stacked(k, shapes, device), fused=True, **shared)
        fused.step()
        out["torch fused"] = fused.step
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this optimizer/device
        pass

    ps = _stacked(k, shapes, device)
    ours = create_optimizer(name, ps, **shared)
    out["trainlab shared"] = ours.step

    spread = torch.linspace(0.5, 1.0, k, device=device)  # (K,) per-model factors
    lr_k = shared["lr"] * spread  # (K,) what the trainer sets before every step
    kw = {key: (torch.as_tensor(v, device=device) * spread if key in per_model else v)
          for key, v in shared.items()}  # fmt: skip
    out["trainlab per-model"] = _stepping_at(
        create_optimizer(name, _stacked(k, shapes, device), **kw), lr_k
    )
    out["trainlab lr grid"] = _stepping_at(
        create_optimizer(name, _stacked(k, shapes, device), **shared), lr_k
    )

    ps = _stacked(k, shapes, device)
    singles = []
    for i in range(k):
        mine = [p[i].clone() for p in ps]
        for p, q in zip(mine, ps, strict=True):
            p.grad = q.grad[i].clone()
        kw_i = {key: (float(v * spread[i]) if key in per_model else v) for key, v in shared.items()}
        singles.append(cls(mine, foreach=True, **kw_i))

    def step_loop() -> None:
        for opt in singles:
            opt.step()

    out["torch loop"] = step_loop
    return out


def time_variants(
    variants: dict[str, Callable[[], None]], device: torch.device, rounds: int, reps: int
) -> dict[str, float]:
    """Fastest seconds per step of each variant over interleaved rounds."""
    times: dict[str, list[float]] = {v: [] for v in variants}
    for fn in variants.values():  # warm up (allocates state)
        fn()
        fn()
    for _ in range(rounds):
        for v, fn in variants.items():
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            _sync(device)
            times[v].append((time.perf_counter() - t0) / reps)
    # the minimum over rounds: on a shared machine, noise only ever adds time (timeit's advice)
    return {v: min(ts) for v, ts in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument(
        "--model", default="linear,small,digits", help="comma list of " + ", ".join(MODELS)
    )
    ap.add_argument("--optims", default=",".join(OPTIMS))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    # 1 thread by default: on a loaded 2-core machine torch's intra-op pool stalls (a step that
    # takes 0.3 ms on one thread took 240 ms on two while other jobs ran; measured here)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (0: torch's default)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "optim.json"))
    args = ap.parse_args()
    from _args import require_counts, require_device, require_threads
    from _machine import machine

    require_counts(ap, k=args.k, rounds=args.rounds, reps=args.reps)
    require_device(ap, args.device)
    require_threads(ap, args.threads)
    for flag, given, known in (("--model", args.model, MODELS), ("--optims", args.optims, OPTIMS)):
        unknown = [n for n in given.split(",") if n not in known]
        if unknown:
            ap.error(f"{flag}: unknown {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    kept = keep_freed_memory()  # as the trainer does, for every variant alike
    device = torch.device(args.device)
    cols = [
        "torch foreach", "torch fused", "trainlab shared", "trainlab per-model", "trainlab lr grid",
        "torch loop",
    ]  # fmt: skip
    threads = torch.get_num_threads()
    print(
        f"K={args.k}, device {device}, torch {torch.__version__}, {threads} threads, "
        f"keep_freed_memory {kept}; "
        f"ms per step (best of {args.rounds} rounds)"
    )
    rows = []
    for model in args.model.split(","):
        shapes = MODELS[model]
        n_params = sum(int(torch.Size(s).numel()) for s in shapes)
        print(f"\nmodel '{model}': {n_params} parameters per model")
        head = f"{'optimizer':<9}" + "".join(f"{c:>20}" for c in cols)
        head += f"{'shared/foreach':>16}{'per-model/foreach':>19}{'loop/per-model':>16}"
        head += f"{'loop/lr grid':>14}"
        print(head)
        for name in args.optims.split(","):
            variants = make_variants(name, args.k, shapes, device)
            med = time_variants(variants, device, args.rounds, args.reps)
            r = {
                "model": model,
                "params_per_model": n_params,
                "optimizer": name,
                "ms": {v: 1e3 * t for v, t in med.items()},
                "shared_vs_foreach": med["trainlab shared"] / med["torch foreach"],
                "per_model_vs_foreach": med["trainlab per-model"] / med["torch foreach"],
                "loop_speedup": med["torch loop"] / med["trainlab per-model"],
                "loop_speedup_lr_grid": med["torch loop"] / med["trainlab lr grid"],
            }
            rows.append(r)
            line = f"{name:<9}" + "".join(
                f"{r['ms'][c]:>20.3f}" if c in r["ms"] else f"{'—':>20}" for c in cols
            )
            line += f"{r['shared_vs_foreach']:>16.2f}{r['per_model_vs_foreach']:>19.2f}"
            line += f"{r['loop_speedup']:>15.1f}x{r['loop_speedup_lr_grid']:>13.1f}x"
            print(line, flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "benchmark": "optim",
        "k": args.k,
        "models": args.model.split(","),
        **machine(device),
        "keep_freed_memory": kept,
        "rounds": args.rounds,
        "reps": args.reps,
        "goals": {"shared_vs_foreach_max": 1.2, "loop_speedup_min": 10.0},
        "results": rows,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
