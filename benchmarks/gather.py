"""How the trainer gathers a population's batches: ``x[idx]`` against ``x.index_select``.

Each step reads the K models' batches from the training set on the device, ``idx`` ``(K, b)``
row indices. Advanced indexing ``x[idx]`` gathers element by element; ``index_select`` over the
flattened indices copies whole rows (the same values; the trainer uses it on the CPU). Prints
µs per gather for each and writes JSON.

    python benchmarks/gather.py                   # CPU: 1437×64 (80% of digits) and 60000×784
    python benchmarks/gather.py --device cuda     # CUDA: 60000×784, K = 100 and 1000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

CASES = {
    "cpu": [(1437, 64, 16), (1437, 64, 64), (60000, 784, 16)],
    "cuda": [(60000, 784, 100), (60000, 784, 1000)],
}
BATCH = 100


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "gather.json"))
    args = ap.parse_args()
    from _args import require_counts, require_device
    from _machine import machine
    from optim import time_variants  # (best of interleaved rounds, synced on CUDA)

    require_counts(ap, reps=args.reps)
    require_device(ap, args.device)
    device = torch.device(args.device)
    rows = []
    print(f"{'N':>6} {'d':>4} {'K':>5} {'x[idx] µs':>10} {'index_select µs':>16} {'ratio':>6}")
    for n, d, k in CASES[device.type]:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(n, d, generator=g).to(device)
        idx = torch.randint(0, n, (k, BATCH), generator=g).to(device)

        def advanced(x=x, idx=idx):
            return x[idx]

        def select(x=x, idx=idx, k=k, d=d):
            return x.index_select(0, idx.reshape(-1)).view(k, BATCH, d)

        if not torch.equal(advanced(), select()):
            raise SystemExit("the two gathers differ")
        best = time_variants({"x[idx]": advanced, "select": select}, device, 3, args.reps)
        a, s = best["x[idx]"] * 1e6, best["select"] * 1e6
        rows.append({"n": n, "d": d, "k": k, "batch": BATCH, "advanced_us": a, "select_us": s})
        print(f"{n:>6} {d:>4} {k:>5} {a:>10.1f} {s:>16.1f} {a / s:>5.2f}×")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {**machine(device), "rounds": 3, "reps": args.reps}  # best of 3 rounds of reps
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
