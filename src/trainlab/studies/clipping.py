"""Study ``clipping``: exploding gradients in a deep net with a large init, with and without
gradient clipping (Pascanu, Mikolov & Bengio 2013).

A deep MLP (8 hidden layers of 64) initialized with N(0, 0.3²) — 2.7× He's σ = √(2/64) — sends
activations up layer by layer with ReLU (each layer multiplies their second moment by
n·σ²/2 = 2.9) and saturates tanh. The gradients at the start are huge, and SGD with momentum
at an ordinary LR takes a step that sends the loss to Inf/NaN. Clipping each model's global
gradient norm to ``max_norm`` (``trainlab.optim.clip_grad_norm_``, per model) bounds the first
steps, so the same LRs train; clipping by value (each element to ±c) does the same more
crudely. Each (activation, clipping) cell is one population of LR grid × seeds; the trainer
stops a model whose loss turns NaN and the others go on.

What the literature expects: without clipping, large LRs diverge (Pascanu et al. 2013: the
"cliffs" of the loss surface launch the parameters far away); with norm clipping, the runs that
diverged train instead. At a small LR, clipping slows training (every step is cut to max_norm
while the gradients are huge). With tanh, the large init saturates units (CS231n): gradients
vanish rather than explode, so clipping matters less.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .cells import (
    by_override,
    cpu_threads,
    curves,
    expected_vs_measured,
    final_values,
    pm,
    train_cell,
)

__all__ = ["DESCRIPTION", "run", "CLIPPING"]

DESCRIPTION = (
    "exploding gradients in a deep ReLU/tanh MLP with a large init: divergence without "
    "clipping, training with per-model norm or value clipping"
)

CLIPPING: dict[str, dict[str, Any]] = {
    "no clipping": {},
    "clip norm 1": {"clip_norm": 1.0},
    "clip value 0.1": {"clip_value": 0.1},
}
LRS = [1e-3, 1e-2, 1e-1]
QUICK_EPOCHS = 5


def run(
    out: str | Path, *, quick: bool = False, seeds: int | None = None, device: str = "auto"
) -> Path:
    """Run the study into the new folder ``out``; returns it (``report.html`` inside)."""
    from matplotlib.figure import Figure

    from ..report import Report
    from ..runs import RunDir

    root = RunDir(out).create().path
    n_seeds = seeds or (2 if quick else 5)
    epochs = QUICK_EPOCHS if quick else 20
    acts = ["relu"] if quick else ["relu", "tanh"]
    clips = {k: CLIPPING[k] for k in ("no clipping", "clip norm 1")} if quick else CLIPPING
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    with cpu_threads(device):
        for act in acts:
            for cname, ccfg in clips.items():
                raw = {
                    "name": f"clip-{act}-{cname}",
                    "data": {"name": "digits"},
                    "model": {"name": "mlp", "depth": 8, "width": 64, "activation": act},
                    "init": {"scheme": "normal", "std": 0.3},
                    "optim": {"name": "sgd", "momentum": 0.9},
                    "train": {"epochs": epochs, "batch_size": 32, **ccfg},
                    "population": {"seeds": list(range(n_seeds)), "grid": {"optim.lr": LRS}},
                }
                slug = f"{act}-{cname.replace(' ', '_')}"
                cells[(act, cname)] = train_cell(raw, root / "cells" / slug, device)

    rep = Report(root, title="Gradient clipping and exploding gradients")
    rep.add_text(__doc__.split("\n\n", 1)[1].split("What the literature expects")[0].strip())
    rows = []
    for act in acts:
        fig = Figure(figsize=(11, 4.2))
        axes = fig.subplots(1, len(LRS), sharey=True, squeeze=False)[0]
        for ax, lr in zip(axes, LRS, strict=True):
            for cname in clips:
                cell = cells[(act, cname)]
                mods = by_override(cell, "optim.lr")[lr]
                n_nan = sum(m.get("status") == "nan" for m in mods)
                ok = [m for m in mods if m.get("status") != "nan"]
                steps = [m.get("stopped_step") for m in mods if m.get("status") == "nan"]
                ep, mu, _ = curves(cell, [m["index"] for m in mods if m.get("status") != "nan"])
                ax.plot(ep, mu, label=f"{cname} ({n_nan}/{len(mods)} NaN)")
                gn = curves(cell, [m["index"] for m in mods], "grad_norm")[1]
                rows.append(
                    {
                        "activation": act,
                        "lr": lr,
                        "clipping": cname,
                        "NaN models": f"{n_nan}/{len(mods)}",
                        "NaN at step": ", ".join(str(s) for s in steps if s is not None) or "—",
                        "grad norm, epoch 1": f"{gn[0]:.3g}" if gn else "—",
                        "test acc (finite models)": pm(final_values(ok, "test_acc")),
                    }
                )
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_title(f"{act}, lr {lr:g}")
            ax.legend(fontsize=7)
        axes[0].set_ylabel("training loss (mean over finite seeds)")
        rep.add_figure(f"clipping_{act}", fig,
                       caption=f"{act}: training loss with and without clipping")  # fmt: skip
    rep.add_table("Divergence and accuracy per LR and clipping", rows)
    rep.add_text(
        "Note: the grad-norm column is the mean over the first epoch of each model's global "
        "gradient norm *before* clipping (what the trainer records)."
    )
    rep.add_table("Expected (literature) vs measured", _claims(rows, acts, clips))
    rep.write(include_standard=False)
    (root / "results.json").write_text(json.dumps(rows, indent=1))
    return root


def _claims(rows: list[dict[str, Any]], acts: list[str], clips: dict) -> list[dict[str, str]]:
    def nan(act: str, lr: float, c: str) -> int:
        for r in rows:
            if (r["activation"], r["lr"], r["clipping"]) == (act, lr, c):
                return int(r["NaN models"].split("/")[0])
        return -1

    def acc(act: str, lr: float, c: str) -> float:
        for r in rows:
            if (r["activation"], r["lr"], r["clipping"]) == (act, lr, c):
                text = r["test acc (finite models)"]
                return float(text.split(" ")[0]) if text != "—" else math.nan
        return math.nan

    out = []
    big = [lr for lr in LRS if lr >= 1e-2]
    n_no = sum(nan("relu", lr, "no clipping") for lr in big)
    n_cl = sum(nan("relu", lr, "clip norm 1") for lr in big)
    out.append(("ReLU, large init, LR ≥ 0.01: unclipped runs diverge",
                "NaN/Inf without clipping (Pascanu et al. 2013)",
                f"{n_no} NaN models without clipping"))  # fmt: skip
    out.append(("…and norm clipping prevents it", "no NaN with clipping",
                f"{n_cl} NaN models with norm clipping"))  # fmt: skip
    a0, a1 = acc("relu", LRS[0], "no clipping"), acc("relu", LRS[0], "clip norm 1")
    out.append((f"small LR ({LRS[0]:g}): clipping slows training",
                "lower accuracy after the same epochs (steps cut to max_norm)",
                f"test acc {a0:.3f} unclipped vs {a1:.3f} clipped: "
                + ("yes" if a1 < a0 else "no")))  # fmt: skip
    if "tanh" in acts:
        t_nan = sum(nan("tanh", lr, "no clipping") for lr in LRS)
        out.append(("tanh, large init: saturation, not explosion",
                    "few or no NaN without clipping (CS231n)",
                    f"{t_nan} NaN models without clipping"))  # fmt: skip
    return expected_vs_measured(out)
