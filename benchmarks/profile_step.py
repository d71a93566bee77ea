"""Where a population step's time goes: torch.profiler over ``Trainer.step_on``.

Builds the population benchmark's trainer (``population.py``'s presets: the CPU digits MLP or
the GPU's 784-256-256-10 on 60,000 samples), takes a few warm-up steps, profiles ``--steps``
steps and prints the operators (CPU) or kernels (CUDA) that took the most time per step, with
their calls per step and share of the total; writes JSON. On CUDA the steps are eager by
default (``train.cuda_graph: false``: a graph's kernels are what this lists; ``--graphs`` keeps
them, where the profiler's view of a replay depends on the torch version).

    python benchmarks/profile_step.py --k 16                    # CPU, digits MLP
    python benchmarks/profile_step.py --preset gpu --k 1000     # CUDA: 784-256-256-10
    python benchmarks/profile_step.py --preset gpu --k 1000 --foreach  # ... Adam's _foreach
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).parent))
from population import PRESETS, _config  # noqa: E402


def profile_steps(
    preset_name: str, k: int, steps: int, *, graphs: bool, tf32: bool, foreach: bool = False
) -> dict:
    """Profile ``steps`` training steps of a K-model population; the rows, heaviest first."""
    from trainlab import rng
    from trainlab.train import Trainer

    preset = PRESETS[preset_name]
    train: dict[str, object] = {"cuda_graph": graphs, "tf32": tf32}
    optim = {"fused": False} if foreach else None  # Adam's _foreach path (no fused kernels)
    trainer = Trainer(_config(preset, k, optim, **train), device=preset["device"])
    cuda = trainer.device.type == "cuda"
    perm = rng.permutations(trainer.pop.seeds, 0, trainer.data.x_train.shape[0])
    b = trainer.batch_size

    def step(s: int) -> None:
        s %= trainer.steps_per_epoch - 1  # (full batches only: one shape)
        trainer.step_on(perm[:, s * b : (s + 1) * b])

    for s in range(3):
        step(s)
    if cuda:
        torch.cuda.synchronize()
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for s in range(3, 3 + steps):
            step(s)
        if cuda:
            torch.cuda.synchronize()
    rows = []
    for e in prof.key_averages():
        if cuda:  # the kernels alone: a CPU op also carries the time of the kernels it launched
            if e.device_type != DeviceType.CUDA or getattr(e, "is_user_annotation", False):
                continue
            us = getattr(e, "self_device_time_total", None)
            if us is None:  # (torch < 2.4)
                us = e.self_cuda_time_total
        else:
            us = e.self_cpu_time_total
        if us > 0:
            rows.append(
                {"name": e.key, "calls_per_step": e.count / steps, "ms_per_step": us / steps / 1e3}
            )
    rows.sort(key=lambda r: -r["ms_per_step"])
    total = sum(r["ms_per_step"] for r in rows)
    for r in rows:
        r["share"] = r["ms_per_step"] / total if total else 0.0
    return {"total_ms_per_step": total, "unit": "device time" if cuda else "CPU time", "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    ap.add_argument("--k", type=int, default=16, help="population size")
    ap.add_argument("--steps", type=int, default=10, help="profiled steps")
    ap.add_argument("--top", type=int, default=20, help="rows printed")
    ap.add_argument("--graphs", action="store_true", help="keep CUDA graphs (default: eager)")
    ap.add_argument("--tf32", action="store_true", help="float32 matmuls in TF32 (CUDA)")
    ap.add_argument(
        "--foreach", action="store_true", help="Adam's _foreach path (optim.fused: false)"
    )
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "profile_step.json"))
    args = ap.parse_args()
    from _args import require_counts

    require_counts(ap, k=args.k, steps=args.steps, top=args.top)
    if PRESETS[args.preset]["device"] == "cuda" and not torch.cuda.is_available():
        ap.error("the gpu preset needs a CUDA device")
    got = profile_steps(
        args.preset, args.k, args.steps, graphs=args.graphs, tf32=args.tf32, foreach=args.foreach
    )
    print(
        f"preset {args.preset}, K={args.k}, {args.steps} steps, graphs {args.graphs}, "
        f"tf32 {args.tf32}, foreach {args.foreach}: {got['total_ms_per_step']:.3f} ms of "
        f"{got['unit']} per step"
    )
    print(f"{'ms/step':>9} {'share':>6} {'calls':>6}  name")
    for r in got["rows"][: args.top]:
        name = r["name"][:90]
        print(f"{r['ms_per_step']:9.3f} {r['share']:6.1%} {r['calls_per_step']:6.1f}  {name}")
    from _machine import machine

    meta = {"preset": args.preset, "k": args.k, "steps": args.steps, "graphs": args.graphs,
            "tf32": args.tf32, "foreach": args.foreach,
            **machine(PRESETS[args.preset]["device"])}  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"meta": meta, **got}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
