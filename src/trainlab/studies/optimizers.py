"""Study ``optimizers``: optimizer × learning rate × seeds on MNIST-1D, as populations.

**Full mode**: for each model (an MLP 40-100-100-10 and the default 1-D CNN) and each optimizer
(SGD, SGD with momentum 0.9, Nesterov, AdaGrad, RMSProp, Adam, AdamW), one population trains
every LR of the optimizer's 5-point grid × 5 seeds in lockstep (per-model ``optim.lr``) for 15
epochs; on the CPU the CNN runs SGD, momentum and Adam only (its cost). **Quick mode**
(``--quick``, what CI runs): the MLP only, with SGD, momentum and Adam on 4-point LR grids, 2
seeds and 8 epochs. The report's set-up section is written from the settings that actually ran
and lists what the mode left out. The report gives

- **LR sensitivity**: final validation loss against LR per optimizer (mean ± std over seeds);
- **training curves** at each optimizer's best LR (lowest mean final validation loss), with a
  ±1 std band over seeds; a best LR at the edge of its grid is flagged (the grid did not
  bracket the optimum, so that optimizer is not tuned);
- a **table**: best LR, test accuracy and test loss (mean ± std, 95% CI) per optimizer;
- **schedules**: SGD+momentum with a constant LR, step decay (×0.1 at 50% and 75% of the
  epochs) and cosine annealing, each at its best base LR of ``b/3, b, 3b, 10b`` (``b``:
  momentum's best constant LR);
- **L-BFGS** full batch vs mini-batch on softmax regression (digits);
- **expected vs measured**: one row per claim below, judged against seed noise with Welch's
  t-test (:mod:`trainlab.studies.evidence`): confirmed / contradicted / inconclusive, or not
  tested in this mode.

What the literature expects: see ``EXPECTED``. MNIST-1D's paper baselines: MLP ≈ 68%, CNN ≈ 94%
test accuracy (Greydanus 2020).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import torch

from ..atomic import atomic_write_text
from ..errors import UserError
from . import band_text, seeds_text, spread_text
from .cells import (
    by_override,
    cpu_threads,
    curve_and_band,
    final_values,
    grid_edge,
    mean_std,
    pm,
    pm_final,
    seed_errors,
    train_cell,
)
from .evidence import (
    CONFIRMED,
    CONTRADICTED,
    INCONCLUSIVE,
    NO_SPREAD,
    NOT_FINITE,
    UNTESTABLE,
    delta_text,
    judge,
    welch,
)

__all__ = [
    "DESCRIPTION",
    "EXPECTED",
    "run",
    "OPTIMIZERS",
]

DESCRIPTION = (
    "SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW × LR grid × seeds on mnist1d (MLP "
    "and CNN): LR sensitivity, best-LR curves with seed bands, step vs cosine vs constant LR"
)

EXPECTED = (
    "Adaptive methods (Adam, RMSProp) reach a good loss over a wider range of LRs and work near "
    "their default 1e-3 (Kingma & Ba 2015); well-tuned SGD+momentum is as good or better on "
    "test accuracy (Wilson et al. 2017); plain SGD is slowest; AdaGrad's steps shrink as its "
    "accumulator grows; decaying the LR (step or cosine) ends at a lower loss than a constant "
    "LR (CS231n; Loshchilov & Hutter 2017); L-BFGS converges full batch but not on mini-batches "
    "(CS231n). MNIST-1D's paper baselines: MLP ≈ 68%, CNN ≈ 94% test accuracy after 6000 Adam "
    "steps (Greydanus 2020)."
)

#: label -> (optim config, LR grid)
OPTIMIZERS: dict[str, tuple[dict[str, Any], list[float]]] = {
    "SGD": ({"name": "sgd"}, [0.03, 0.1, 0.3, 1.0, 3.0]),  # 0.01-1 put the best at 1 (MLP)
    "momentum 0.9": ({"name": "sgd", "momentum": 0.9}, [1e-3, 3e-3, 0.01, 0.03, 0.1]),
    "Nesterov 0.9": (
        {"name": "sgd", "momentum": 0.9, "nesterov": True},
        [1e-3, 3e-3, 0.01, 0.03, 0.1],
    ),
    "AdaGrad": ({"name": "adagrad"}, [3e-3, 0.01, 0.03, 0.1, 0.3]),
    "RMSProp": ({"name": "rmsprop"}, [1e-4, 3e-4, 1e-3, 3e-3, 0.01]),
    "Adam": ({"name": "adam"}, [1e-4, 3e-4, 1e-3, 3e-3, 0.01]),
    "AdamW": ({"name": "adamw", "weight_decay": 1e-2}, [1e-4, 3e-4, 1e-3, 3e-3, 0.01]),
}
# The quick mode's subset and its 4-point grids (each ×30 wide). Measured for these grids (MLP,
# 2 seeds, 8 epochs; mean final validation loss per LR): SGD 1.66 / 1.42 / 1.19 / 2.10, momentum
# 1.67 / 1.33 / 1.15 / 1.29, Adam 1.39 / 1.19 / 1.13 / 1.32 — every best LR inside its grid.
# The former 3-point grids (SGD 0.03-0.3, momentum 3e-3-0.03, Adam 3e-4-3e-3) put every best
# LR at the top of its grid.
QUICK_OPTIMIZERS = {
    "SGD": [0.1, 0.3, 1.0, 3.0],
    "momentum 0.9": [0.01, 0.03, 0.1, 0.3],
    "Adam": [1e-3, 3e-3, 0.01, 0.03],
}
QUICK_EPOCHS, FULL_EPOCHS = 8, 15
QUICK_SEEDS, FULL_SEEDS = 2, 5
CNN_CPU_OPTIMIZERS = ("SGD", "momentum 0.9", "Adam")
QUICK_DEMO_STEPS, FULL_DEMO_STEPS = 60, 200  # L-BFGS full vs mini-batch demonstration
SCHEDULE_LR_FACTORS = (1 / 3, 1.0, 3.0, 10.0)  # schedule base LRs, × momentum's best LR
# a model "reached the optimum" of the L-BFGS demonstration's convex objective when its final
# loss is within 1% of the lowest loss any model reached (measured, 60 steps, 5 seeds: every
# full-batch model ends within 1e-6 of it, mini-batch models 37% to 4000× above it)
LBFGS_TOL = 0.01
GOOD = 1.1  # an LR is "good" when its final validation loss is within 10% of the best
MODELS = {
    "MLP": {"name": "mlp", "hidden": [100, 100]},
    "CNN": {"name": "convnet"},
}
MODEL_TEXT = {"MLP": "MLP 40-100-100-10", "CNN": "1-D CNN (the default convnet)"}
PAPER_ACC = {"MLP": 0.68, "CNN": 0.94}  # Greydanus 2020, test accuracy
#: the training of those baselines (Greydanus 2020: Adam, batch 100, 6000 steps): a run with
#: fewer steps does not test them (measured: the MLP, trained so with 5 seeds, 65.1 ± 0.7%)
PAPER_STEPS = 6000
ADAPTIVE, SGD_FAMILY = ("Adam", "RMSProp"), ("SGD", "momentum 0.9")


def lbfgs_batch_demo(
    n_seeds: int, steps: int, *, batch: int = 64, device: str = "cpu"
) -> dict[str, list[list[float]]]:
    """Softmax regression on standardized ``digits`` trained by full-batch L-BFGS, mini-batch
    L-BFGS and mini-batch SGD, ``n_seeds`` models each (stacked, per-model losses).

    Model ``s`` (seed ``s``) owns a generator seeded with ``s``: first its initial weights
    ``0.01·N(0, 1)``, then its own mini-batch indices, one batch per step, so the seeds are
    independent runs and each model's curve depends only on its seed (the same weights start
    every method). One gradient evaluation per step for each method (L-BFGS: one iteration,
    no line search). Returns the full-batch training loss per step,
    ``{method: [[loss per step] per model]}``. The trainer steps first-order optimizers only
    (L-BFGS needs a closure that re-evaluates the loss), so this demonstration computes its
    own small objective.
    """
    import torch.nn.functional as F

    from .. import data as data_mod
    from ..optim import create_optimizer

    ds = data_mod.load("digits", preprocess="standardize")
    x = ds.x_train.flatten(1).to(device, torch.float64)  # (N, D)
    y = ds.y_train.to(device)  # (N,)
    n, d = x.shape
    c = ds.num_classes

    def losses(w: torch.Tensor, b: torch.Tensor, idx: torch.Tensor | None) -> torch.Tensor:
        if idx is None:  # every model on the full training set
            logits = torch.einsum("nd,kcd->knc", x, w)  # (K, N, C)
            yb = y.expand(w.shape[0], -1)  # (K, N)
        else:  # model k on its own batch idx[k]
            logits = torch.einsum("kbd,kcd->kbc", x[idx], w)  # (K, B, C)
            yb = y[idx]  # (K, B)
        logits = logits + b[:, None, :]
        ce = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none")
        return ce.view(w.shape[0], -1).mean(1) + 1e-3 * (w**2).sum((1, 2))  # (K,)

    out: dict[str, list[list[float]]] = {}
    for method in ("L-BFGS, full batch", f"L-BFGS, batch {batch}", f"SGD, batch {batch}"):
        gens = [torch.Generator().manual_seed(s) for s in range(n_seeds)]
        w = torch.stack(
            [torch.randn(c, d, generator=g, dtype=torch.float64) * 0.01 for g in gens]
        ).to(device)  # (K, C, D)
        b = torch.zeros(n_seeds, c, dtype=torch.float64, device=device)  # (K, C)
        w.requires_grad_()
        b.requires_grad_()
        if method.startswith("SGD"):
            opt = create_optimizer("sgd", [w, b], lr=0.1)
        else:
            opt = create_optimizer("lbfgs", [w, b], max_iter=1, history_size=10)
        full = method.endswith("full batch")

        def closure(opt=opt, w=w, b=b, gens=gens, full=full) -> torch.Tensor:
            opt.zero_grad()
            idx = None
            if not full:  # (K, B): each model's own batch from its own stream
                idx = torch.stack([torch.randint(0, n, (batch,), generator=g) for g in gens])
                idx = idx.to(device)
            loss = losses(w, b, idx)
            loss.sum().backward()
            return loss.detach()

        curve = []
        for _ in range(steps):
            if method.startswith("SGD"):
                closure()
                opt.step()
            else:
                opt.step(closure)
            with torch.no_grad():
                curve.append(losses(w, b, None))
        out[method] = torch.stack(curve).T.cpu().tolist()  # (K, steps)
    return out


def run(
    out: str | Path,
    *,
    quick: bool = False,
    seeds: int | None = None,
    device: str = "auto",
    renumber: bool = False,
) -> Path:
    """Run the study into the new folder ``out``; returns it (``report.html`` inside)."""
    from matplotlib.figure import Figure

    from ..report import Report
    from ..report.plots import dash_overlapping
    from . import claim_study_dir

    n_seeds = seeds if seeds is not None else (QUICK_SEEDS if quick else FULL_SEEDS)
    if n_seeds < 1:
        raise UserError(f"--seeds must be at least 1, got {n_seeds}")
    root = claim_study_dir(out, renumber=renumber).path  # the populations: cells/<name>/
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    demo_steps = QUICK_DEMO_STEPS if quick else FULL_DEMO_STEPS
    models = {"MLP": MODELS["MLP"]} if quick else MODELS
    optims = (
        {k: (OPTIMIZERS[k][0], v) for k, v in QUICK_OPTIMIZERS.items()} if quick else OPTIMIZERS
    )
    base = {
        "data": {"name": "mnist1d"},
        "train": {"epochs": epochs, "batch_size": 100},
        "population": {"seeds": list(range(n_seeds))},
    }
    # the CNN is ~4x the MLP's cost per model-epoch on 2 CPU cores (a 25-model population took
    # ~4.5 min for 15 epochs): on the CPU it runs the three main optimizers only
    on_gpu = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    plan = {m: list(optims) if m == "MLP" or on_gpu else
            [o for o in CNN_CPU_OPTIMIZERS if o in optims] for m in models}  # fmt: skip
    milestones = [epochs // 2, (3 * epochs) // 4]
    results: dict[tuple[str, str], dict[str, Any]] = {}
    with cpu_threads(device):
        for mname, mcfg in models.items():
            for oname in plan[mname]:
                ocfg, lrs = optims[oname]
                raw = {**base, "name": f"{mname}-{oname}", "model": mcfg, "optim": ocfg}
                raw["population"] = {**base["population"], "grid": {"optim.lr": lrs}}
                cell = train_cell(raw, root / "cells" / _slug(f"{mname}-{oname}"), device)
                results[(mname, oname)] = summarize(cell, lrs)
        # schedules on the MLP around momentum's best constant LR
        best_mom = results[("MLP", "momentum 0.9")]["best"]
        sched_lrs = [float(f"{f * best_mom:.3g}") for f in SCHEDULE_LR_FACTORS]
        sched: dict[str, dict[str, Any]] = {}
        for sname, scfg in {
            "constant": {"name": "none"},
            "step ×0.1": {"name": "multistep", "milestones": milestones, "gamma": 0.1},
            "cosine": {"name": "cosine"},
        }.items():
            raw = {**base, "name": f"schedule-{sname}", "model": MODELS["MLP"],
                   "optim": OPTIMIZERS["momentum 0.9"][0], "schedule": scfg}  # fmt: skip
            # each schedule at its own best base LR: a decayed LR can afford a larger start
            raw["population"] = {**base["population"], "grid": {"optim.lr": sched_lrs}}
            cell = train_cell(raw, root / "cells" / _slug(f"sched-{sname}"), device)
            sched[sname] = _sched_models(cell, sched_lrs)

    left_out = _left_out(plan, optims, n_seeds, epochs, demo_steps)
    rep = Report(root, title="Optimizers on MNIST-1D" + (" (quick mode)" if quick else ""))
    rep.add_text(
        _setup_text(
            quick, plan, optims, n_seeds, epochs, milestones, sched_lrs, demo_steps, left_out
        )  # fmt: skip
    )
    rep.add_text("## What the literature expects\n" + EXPECTED)
    table, numbers = [], []
    for mname in models:
        fig = Figure(figsize=(7, 4.5))
        ax = fig.subplots()
        fig2 = Figure(figsize=(7, 4.5))
        ax2 = fig2.subplots()
        best_lines: list[Any] = []
        lr_lines: list[Any] = []
        for oname in plan[mname]:
            r = results[(mname, oname)]
            ms = [mean_std(r["val"][lr]) for lr in r["lrs"]]
            xs = [lr for lr, (m, _) in zip(r["lrs"], ms, strict=True) if math.isfinite(m)]
            ys = [m for m, _ in ms if math.isfinite(m)]
            es = seed_errors([r["val"][lr] for lr, (m, _) in zip(r["lrs"], ms, strict=True)
                              if math.isfinite(m)])  # fmt: skip
            lr_lines.append(ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=oname)[0])
            best, mods = r["best"], r["mods"]
            ep, mu, lo, hi = curve_and_band(r["cell"], [m["index"] for m in mods])
            (line,) = ax2.plot(ep, mu, label=f"{oname} (lr {best:g})")
            best_lines.append(line)
            ax2.fill_between(ep, lo, hi,
                             color=line.get_color(), alpha=0.2)  # fmt: skip
            row = {
                "model": mname,
                "optimizer": oname,
                "LR grid": ", ".join(f"{x:g}" for x in r["lrs"]),
                "best lr": best,
                "best lr at grid edge": r["edge"] or "no (inside the grid)",
                "test acc": pm_final(mods, "test_acc"),
                "test loss": pm_final(mods, "test_loss"),
                "final train loss": pm_final(mods, "train_loss"),
                "LRs within 10% of best val loss": _n_good(r["cell"], r["lrs"]),
            }
            table.append(row)
            numbers.append(
                {
                    **row,
                    "test_acc": _stats(final_values(mods, "test_acc")),
                    "test_loss": _stats(final_values(mods, "test_loss")),
                    "train_loss": _stats(final_values(mods, "train_loss")),
                    "val_loss_by_lr": [{"lr": lr, **_stats(r["val"][lr])} for lr in r["lrs"]],
                }
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel(f"final validation loss ({spread_text(n_seeds)})")
        ax.set_title(f"{mname}: LR sensitivity ({seeds_text(n_seeds)}, {epochs} epochs)")
        ax.legend(fontsize=7)
        dash_overlapping(ax, lr_lines, note=True)
        cap = (
            f"{mname}: final validation loss against LR; an LR at which any seed's run "
            "diverged (NaN/Inf) has no point"
            + ("; bars: ±1 std over seeds, within their range" if n_seeds > 1 else "")
        )
        rep.add_figure(f"lr_sensitivity_{mname.lower()}", fig, caption=cap)
        ax2.set_yscale("log")
        ax2.set_xlabel("epoch")
        ax2.set_ylabel(f"training loss ({spread_text(n_seeds)})")
        ax2.set_title(f"{mname}: training curves at each optimizer's best LR")
        ax2.legend(fontsize=7)
        dash_overlapping(ax2, best_lines, note=True)
        rep.add_figure(f"best_curves_{mname.lower()}", fig2, caption=band_text(n_seeds))
    rep.add_table("Best LR per optimizer (by mean final validation loss)", table)
    rep.add_text(_edge_text(results))

    srows, snumbers, fig3 = [], [], Figure(figsize=(7, 4.5))
    sched_lines: list[Any] = []
    ax3 = fig3.subplots()
    for sname, s in sched.items():
        ep, mu, lo, hi = curve_and_band(s["cell"], [m["index"] for m in s["mods"]])
        (line,) = ax3.plot(ep, mu, label=f"{sname} (lr {s['best']:g})")
        sched_lines.append(line)
        ax3.fill_between(ep, lo, hi,
                         color=line.get_color(), alpha=0.2)  # fmt: skip
        srow = {
            "schedule": sname,
            "best base lr": s["best"],
            "best base lr at grid edge": s["edge"] or "no (inside the grid)",
            "final train loss": pm_final(s["mods"], "train_loss", 4),
            "test acc": pm_final(s["mods"], "test_acc"),
        }
        srows.append(srow)
        snumbers.append(
            {
                **srow,
                "train_loss": _stats(final_values(s["mods"], "train_loss")),
                "test_acc": _stats(final_values(s["mods"], "test_acc")),
            }
        )
    ax3.set_yscale("log")
    ax3.set_xlabel("epoch")
    ax3.set_ylabel(f"training loss ({spread_text(n_seeds)})")
    ax3.set_title("MLP, SGD+momentum: LR schedules, each at its best base LR")
    ax3.legend()
    dash_overlapping(ax3, sched_lines, note=True)
    rep.add_figure("schedules", fig3, caption="constant vs step decay vs cosine annealing; "
                   + band_text(n_seeds))  # fmt: skip
    rep.add_table(f"Schedules (SGD+momentum; base LR grid {sched_lrs})", srows)
    with cpu_threads("cpu"):  # (the demo's small float64 problem runs on the CPU)
        demo = lbfgs_batch_demo(n_seeds, demo_steps)
    fig4 = Figure(figsize=(7, 4.5))
    ax4 = fig4.subplots()
    drows, dnumbers = [], []
    for method, per_model in demo.items():
        t = list(range(1, len(per_model[0]) + 1))
        mu = [sum(v) / len(v) for v in zip(*per_model, strict=True)]
        ax4.plot(t, mu, label=method)
        finals, lowest = [row[-1] for row in per_model], [min(r) for r in per_model]
        drow = {"method": method, "final full-batch loss": pm(finals, 4),
                "best along the way": pm(lowest, 4)}  # fmt: skip
        drows.append(drow)
        dnumbers.append({**drow, "final_loss": _stats(finals), "lowest_loss": _stats(lowest)})
    ax4.set_yscale("log")
    ax4.set_xlabel("step (one gradient evaluation)")
    ax4.set_ylabel("full-batch training loss (mean over seeds)")
    ax4.set_title("softmax regression on digits: L-BFGS needs the full batch")
    ax4.legend()
    rep.add_figure("lbfgs_batch", fig4, caption="L-BFGS full batch vs mini-batch, and SGD")
    rep.add_table("Second order: L-BFGS full batch vs mini-batch (softmax regression)", drows)
    claims = _claims(results, sched, demo, plan=plan, quick=quick, epochs=epochs)
    rep.add_table(
        "Expected (literature) vs measured",
        claims,
        caption="verdicts: a difference of means counts when it exceeds the two-sided 95% "
        "Student-t bound with Welch's degrees of freedom over the seeds (trainlab.studies."
        "evidence); a comparison that involves a best LR at the edge of its grid is not a tuned "
        f"comparison and is judged inconclusive; a baseline is reached by a mean at or above it "
        f"(only a shortfall needs the bound: one beyond it contradicts, one within it is "
        f"inconclusive); L-BFGS is judged model by model (a run reached "
        f"the optimum when its final loss is within {LBFGS_TOL:.0%} of the lowest loss reached)",
    )
    settings = {
        "mode": "quick" if quick else "full",
        "seeds": n_seeds,
        "epochs": epochs,
        "models": plan,
        "lr_grids": {o: list(optims[o][1]) for o in optims},
        "schedule_base_lrs": sched_lrs,
        "lbfgs_demo_steps": demo_steps,
        "left_out": left_out,
    }
    atomic_write_text(
        root / "results.json",
        json.dumps(
            {
                "settings": settings,
                "table": numbers,
                "schedules": snumbers,
                "lbfgs": dnumbers,
                "claims": claims,
            },  # fmt: skip
            indent=1,
            allow_nan=False,
        ),
    )
    rep.write(include_standard=False)  # (last: results.json is written before it)
    return root


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def summarize(cell: dict[str, Any], lrs: list[float]) -> dict[str, Any]:
    """One optimizer's population: final validation losses per LR, the best LR (lowest mean
    final validation loss), whether it sits on the grid's edge, and the models at that LR."""
    groups = by_override(cell, "optim.lr")
    val = {lr: final_values(groups[lr], "val_loss") for lr in lrs}
    scores = [mean_std(val[lr])[0] for lr in lrs]
    best = lrs[min(range(len(lrs)), key=lambda i: scores[i])]
    return {
        "cell": cell,
        "lrs": lrs,
        "val": val,
        "best": best,
        "edge": grid_edge(lrs, best),
        "mods": groups[best],
    }


def _sched_models(cell: dict[str, Any], lrs: list[float]) -> dict[str, Any]:
    """The cell, its models at the LR with the lowest mean final training loss, that LR and
    whether it sits on the grid's edge."""
    groups = by_override(cell, "optim.lr")
    scores = [mean_std(final_values(groups[lr], "train_loss"))[0] for lr in lrs]
    best = lrs[min(range(len(lrs)), key=lambda i: scores[i])]
    return {"cell": cell, "mods": groups[best], "best": best, "edge": grid_edge(lrs, best)}


def _n_good(cell: dict[str, Any], lrs: list[float]) -> str:
    """How many LRs of the grid end within 10% of the best mean validation loss."""
    groups = by_override(cell, "optim.lr")
    scores = [mean_std(final_values(groups[lr], "val_loss"))[0] for lr in lrs]
    return f"{_within(scores)}/{len(lrs)}"


def _within(losses: list[float]) -> int:
    """How many of ``losses`` are finite and within ``GOOD`` (10%) of the best finite one (a
    grid where every LR diverged has none, not all)."""
    finite = [v for v in losses if math.isfinite(v)]
    return sum(v <= GOOD * min(finite) for v in finite) if finite else 0


def _stats(vals: list[float]) -> dict[str, Any]:
    """Mean, std (ddof 1), 95% CI half-width and n over the finite values, and the values
    (non-finite ones as None) — the numbers behind a ``pm`` string, for results.json."""
    from ..report import aggregate

    return {**aggregate(vals), "values": [v if math.isfinite(v) else None for v in vals]}


def _setup_text(
    quick: bool,
    plan: dict[str, list[str]],
    optims: dict[str, tuple[dict[str, Any], list[float]]],
    n_seeds: int,
    epochs: int,
    milestones: list[int],
    sched_lrs: list[float],
    demo_steps: int,
    left_out: list[str],
) -> str:
    """What ran, written from the settings used (the list of what was left out follows)."""
    lines = [
        "## What ran",
        f"Mode: **{'quick' if quick else 'full'}**"
        + (" (`--quick`, a reduced run; what it leaves out is listed below)." if quick else "."),
        "",
    ]
    for m, onames in plan.items():
        grids = "; ".join(f"{o} (lr {', '.join(f'{x:g}' for x in optims[o][1])})" for o in onames)
        lines.append(f"- **{MODEL_TEXT[m]}**: {grids}.")
    lines.append(
        f"- mnist1d, {n_seeds} seed{'s' if n_seeds != 1 else ''} per LR, {epochs} epochs, batch "
        "100; each optimizer's best LR is the one with the lowest mean final validation loss."
    )
    lines.append(
        f"- Schedules: SGD+momentum 0.9 on the MLP with a constant LR, step ×0.1 at epochs "
        f"{milestones[0]} and {milestones[1]}, and cosine annealing; base LRs "
        f"{', '.join(f'{x:g}' for x in sched_lrs)} (momentum's best LR × 1/3, 1, 3, 10), each "
        "schedule at the one with the lowest mean final training loss."
    )
    lines.append(
        f"- L-BFGS: softmax regression on standardized digits, {demo_steps} steps, {n_seeds} "
        f"model{'s' if n_seeds != 1 else ''} per method (seed s: its own initial weights and "
        "mini-batches)."
    )
    lines += ["", f"### Left out in {'quick mode' if quick else 'this run'}"]
    lines += [f"- {x}" for x in left_out] or ["Nothing: this is the full study."]
    return "\n".join(lines)


def _left_out(
    plan: dict[str, list[str]],
    optims: dict[str, tuple[dict[str, Any], list[float]]],
    n_seeds: int,
    epochs: int,
    demo_steps: int,
) -> list[str]:
    """What this run leaves out of the full study, one line each (empty: nothing)."""
    out = []
    for m in MODELS:
        if m not in plan:
            out.append(f"the {MODEL_TEXT[m]}: not trained, so no claim about it is tested")
            continue
        missing = [o for o in OPTIMIZERS if o not in plan[m]]
        if missing:
            why = " (on the CPU the CNN runs three optimizers only)" if m == "CNN" else ""
            out.append(f"{m}: {', '.join(missing)} not run{why}")
    for o, (_, grid) in optims.items():
        full = OPTIMIZERS[o][1]
        if list(grid) != list(full):
            out.append(
                f"{o}: LR grid {', '.join(f'{x:g}' for x in grid)} instead of the full mode's "
                f"{', '.join(f'{x:g}' for x in full)}"
            )
    if n_seeds < FULL_SEEDS:
        out.append(f"{n_seeds} seed{'s' if n_seeds != 1 else ''} instead of {FULL_SEEDS}")
    if epochs < FULL_EPOCHS:
        out.append(f"{epochs} epoch{'s' if epochs != 1 else ''} instead of {FULL_EPOCHS}")
    if demo_steps < FULL_DEMO_STEPS:
        out.append(f"L-BFGS demonstration: {demo_steps} steps instead of {FULL_DEMO_STEPS}")
    if out:
        out.append("the claims this leaves untested are marked in the claims table")
    return out


def _edge_text(results: dict[tuple[str, str], dict[str, Any]]) -> str:
    edges = [
        f"- {o} ({m}): best lr {r['best']:g} is the {r['edge']} "
        f"({', '.join(f'{x:g}' for x in r['lrs'])})"
        for (m, o), r in results.items()
        if r["edge"]
    ]
    if not edges:
        return "Every best LR lies strictly inside its grid: the grids bracket the optimum."
    return (
        "**Best LR at the edge of its grid**: the grid did not bracket the optimum, so these "
        "optimizers are not tuned, and every comparison of tuned optimizers that involves "
        "them is judged inconclusive (not tuned):\n" + "\n".join(edges)
    )


def _compare(
    a: list[float], b: list[float], scale: float = 1.0, *, pct: bool = False
) -> tuple[str, str]:
    """Verdict on ``scale·mean(a) > mean(b)`` over seeds (Welch's t-test, evidence.judge) and
    the numbers as text: the difference and its 95% bound (``pct``: accuracies, in points). A
    diverged seed (a non-finite value) is not averaged away: in ``b``, the side claimed lower,
    it contradicts the claim; in ``a`` alone the claim is not judged."""
    from ..report import aggregate

    bad_a, bad_b = (sum(not math.isfinite(v) for v in x) for x in (a, b))
    if bad_b:
        return CONTRADICTED, f"{bad_b} of {len(b)} seeds diverged where the value should be lower"
    if bad_a:
        return NOT_FINITE, f"{bad_a} of {len(a)} seeds diverged: not judged"
    sa, sb = aggregate(a), aggregate(b)
    if not sa["n"] or not sb["n"]:
        return NOT_FINITE, "no finite values"
    diff = scale * sa["mean"] - sb["mean"]
    se, dof = welch([(scale * sa["std"], sa["n"]), (sb["std"], sb["n"])])
    return judge(diff, se, dof), _noise_text(diff, se, dof, pct=pct)


def _hundredths(x: float, places: int) -> str:
    """``100·x`` to ``places`` decimals, rounding the float's exact value: 0.5925000000000000266
    is 59.3, where ``f"{100 * x:.1f}"`` rounds the product 59.25 to even (59.2); non-finite
    values print as ``nan`` / ``inf``."""
    return f"{Decimal(x) * 100 if math.isfinite(x) else 100 * x:.{places}f}"


def _noise_text(diff: float, se: float, dof: float, *, pct: bool = False) -> str:
    """:func:`evidence.delta_text`; ``pct``: a difference of accuracies, in percentage points
    (the unit the accuracies are quoted in)."""

    def points(x: float) -> str:
        return f"{_hundredths(x, 2)} points"

    return delta_text(diff, se, dof, points if pct else "{:.4f}".format)


def _all_of(verdicts: list[str]) -> str:
    """A claim that needs every comparison: contradicted if one is, confirmed if all are."""
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    if verdicts and all(v == CONFIRMED for v in verdicts):
        return CONFIRMED
    # a comparison not judged (one seed, seeds that agree exactly, diverged) is said as such
    return next((v for v in verdicts if v.startswith("not judged")), INCONCLUSIVE)


def _not_tuned(names: list[str]) -> str:
    return f"inconclusive (not tuned: best LR at grid edge for {', '.join(names)})"


def _ms(vals: list[float], pct: bool = False) -> str:
    """``mean ± std`` over the seeds (the mean alone for one seed: no spread was measured);
    seeds whose value is not finite (diverged) are left out of both and counted."""

    def fmt(x: float) -> str:  # (a percentage as the table's 0.593 reads: 59.3%)
        return f"{_hundredths(x, 1)}%" if pct else f"{x:.4f}"

    finite = [v for v in vals if math.isfinite(v)]
    bad = len(vals) - len(finite)
    if not finite:
        return f"— (all {bad} seeds diverged)"
    tail = f" ({bad} of {len(vals)} seeds diverged)" if bad else ""
    m, s = mean_std(finite)
    if len(finite) == 1:
        return fmt(m) + tail
    return f"{fmt(m)} ± {fmt(s)}{tail}"


def _ms_acc(mods: list[dict[str, Any]]) -> str:
    """:func:`_ms` of the seeds' test accuracies, a diverged seed counted as 0% (as the
    comparisons count it) and said so."""
    text = _ms(final_values(mods, "test_acc"), pct=True)
    bad = sum(m.get("status") == "nan" for m in mods)
    return text + (f" ({bad} of {len(mods)} seeds diverged, counted as 0%)" if bad else "")


def _claims(
    results: dict[tuple[str, str], dict[str, Any]],
    sched: dict[str, dict[str, Any]],
    demo: dict[str, list[list[float]]],
    *,
    plan: dict[str, list[str]],
    quick: bool,
    epochs: int,
) -> list[dict[str, str]]:
    """One row per claim of ``EXPECTED`` (per model where it applies): claim, literature,
    measured, verdict."""
    rows: list[dict[str, str]] = []
    untested = "not tested in quick mode" if quick else "not tested in this run"

    def add(claim: str, literature: str, measured: str, verdict: str) -> None:
        rows.append(
            {"claim": claim, "literature": literature, "measured": measured, "verdict": verdict}
        )

    def acc(m: str, o: str) -> list[float]:
        return final_values(results[(m, o)]["mods"], "test_acc")

    def acc_text(m: str, o: str) -> str:
        return _ms_acc(results[(m, o)]["mods"])

    def edges(pairs: list[tuple[str, str]]) -> list[str]:
        return [f"{o} ({m})" for m, o in pairs if results[(m, o)]["edge"]]

    for mname, paper in PAPER_ACC.items():
        claim = f"{mname} test accuracy (best optimizer) reaches the paper's baseline"
        lit = f"≈{paper:.0%} after {PAPER_STEPS} steps (Greydanus 2020's baseline)"
        if mname not in plan:
            add(claim, lit, "not run", f"{untested} (the {mname} is not trained)")
            continue
        # chosen on validation loss, as each best LR is (the test accuracy judged below must
        # not pick its own winner; a diverged seed's inf mean is never the best)
        top = min(
            plan[mname],
            key=lambda o: mean_std(final_values(results[(mname, o)]["mods"], "val_loss"))[0],
        )
        text = f"{top} at lr {results[(mname, top)]['best']:g}: {acc_text(mname, top)}"
        if mname == "MLP":  # the schedule whose best LR trains lowest (the schedules' measure)
            best_s = min(
                sched, key=lambda n: mean_std(final_values(sched[n]["mods"], "train_loss"))[0]
            )
            text += f"; SGD+momentum with the {best_s} schedule {_ms_acc(sched[best_s]['mods'])}"
        steps = max((int(r["step"]) for r in results[(mname, top)]["cell"]["metrics"]), default=0)
        if quick:
            verdict = f"{untested} ({epochs} epochs are far from a trained baseline)"
        elif steps < PAPER_STEPS:  # (a shortfall then says nothing about the baseline)
            verdict = f"{untested} ({steps} steps, the baseline's {PAPER_STEPS})"
        elif edge := edges([(mname, top)]):
            verdict = _not_tuned(edge)
        else:
            m, s = mean_std(acc(mname, top))
            se, dof = welch([(s, len(acc(mname, top)))])
            # reaching the baseline: a mean at or above it, whatever the noise estimate (none
            # from one seed or from seeds that agree exactly); a shortfall within the seed
            # noise is inconclusive (with two seeds, t = 12.7 hides almost any), one beyond
            # refutes, and one without a noise estimate is not judged
            verdict = judge(m - paper, se, dof)
            if verdict in (INCONCLUSIVE, NO_SPREAD, UNTESTABLE) and m >= paper:
                verdict = CONFIRMED
            text += f"; minus {paper:.0%}: {_noise_text(m - paper, se, dof, pct=True)}"
        add(claim, lit, f"{text} ({epochs} epochs)", verdict)

    for mname in MODELS:
        ran = plan.get(mname, [])
        absent = f"the {mname} is not trained" if mname not in plan else ""
        # adaptive methods: a wider range of good LRs
        claim = f"Adam/RMSProp good over a wider LR range than SGD/momentum ({mname})"
        lit = "adaptive methods: wider range of good LRs (Kingma & Ba 2015)"
        ada = [o for o in ADAPTIVE if o in ran]
        sgdf = [o for o in SGD_FAMILY if o in ran]
        if not ada or not sgdf:
            add(
                claim,
                lit,
                "not run",
                f"{untested} ({absent or 'needs an adaptive and an SGD optimizer'})",
            )
        else:
            widths = {o: _per_seed_widths(results[(mname, o)]) for o in ada + sgdf}
            spans = {(len(results[(mname, o)]["lrs"]), round(_span(results[(mname, o)]), 2))
                     for o in ada + sgdf}  # fmt: skip
            pairs = [(a, s) for a in ada for s in sgdf]
            checks = [_compare(widths[a], widths[s]) for a, s in pairs]
            n_lrs = len(results[(mname, ada[0])]["lrs"])
            text = "LRs within 10% of the seed's best validation loss (mean over seeds): " + (
                ", ".join(f"{o} {sum(w) / len(w):.2f}/{n_lrs}" for o, w in widths.items())
            )
            text += "; " + "; ".join(
                f"{a} − {s}: {c[1]}" for (a, s), c in zip(pairs, checks, strict=True)
            )
            if not_run := [o for o in ADAPTIVE if o not in ran]:
                text += f" ({', '.join(not_run)} not run)"
            if len(spans) > 1:
                verdict = "inconclusive (the LR grids differ in size or span)"
            elif edge := edges([(mname, o) for o in ada + sgdf]):
                verdict = _not_tuned(edge)
            else:
                verdict = _all_of([c[0] for c in checks])
            add(claim, lit, text, verdict)

        # adaptive methods work near their default LR 1e-3
        claim = f"Adam/RMSProp work near the default lr 1e-3 ({mname})"
        lit = "default 1e-3 is a good LR (Kingma & Ba 2015)"
        ada = [o for o in ADAPTIVE if o in ran and 1e-3 in results[(mname, o)]["lrs"]]
        if not ada:
            add(
                claim,
                lit,
                "not run",
                f"{untested} ({absent or 'no adaptive optimizer with 1e-3 in its grid'})",
            )
        else:
            parts, verdicts = [], []
            for o in ada:
                r = results[(mname, o)]
                if r["best"] == 1e-3:
                    v, noise = CONFIRMED, "1e-3 is the best LR of the grid"
                else:  # good: within 10% of the best mean validation loss
                    v, noise = _compare(r["val"][r["best"]], r["val"][1e-3], GOOD)
                parts.append(
                    f"{o} after {epochs} epochs: val loss at 1e-3 {_ms(r['val'][1e-3])}, "
                    f"best {_ms(r['val'][r['best']])} at lr {r['best']:g}; "
                    f"1.1·best − loss(1e-3): {noise}"
                )
                verdicts.append(v)
            edge = edges([(mname, o) for o in ada])
            add(claim, lit, "; ".join(parts), _not_tuned(edge) if edge else _all_of(verdicts))

        # Wilson et al.: tuned SGD+momentum as good as or better than Adam
        claim = f"tuned SGD+momentum vs Adam, test accuracy ({mname})"
        lit = "SGD+momentum as good or better (Wilson et al. 2017)"
        if "momentum 0.9" not in ran or "Adam" not in ran:
            add(claim, lit, "not run", f"{untested} ({absent or 'needs momentum and Adam'})")
        else:
            v, noise = _compare(acc(mname, "momentum 0.9"), acc(mname, "Adam"), pct=True)
            text = (
                f"momentum {acc_text(mname, 'momentum 0.9')} "
                f"(lr {results[(mname, 'momentum 0.9')]['best']:g}), Adam "
                f"{acc_text(mname, 'Adam')} (lr {results[(mname, 'Adam')]['best']:g}); "
                f"momentum − Adam: {noise}"
            )
            edge = edges([(mname, "momentum 0.9"), (mname, "Adam")])
            add(claim, lit, text, _not_tuned(edge) if edge else v)

        # plain SGD is the slowest
        claim = f"plain SGD slowest: highest final training loss ({mname})"
        lit = "slowest of the family (CS231n)"
        others = [o for o in ran if o != "SGD"]
        if "SGD" not in ran or not others:
            add(
                claim, lit, "not run", f"{untested} ({absent or 'needs SGD and another optimizer'})"
            )
        else:

            def tl(o: str, m: str = mname) -> list[float]:
                return final_values(results[(m, o)]["mods"], "train_loss")

            checks = [_compare(tl("SGD"), tl(o)) for o in others]
            text = f"after {epochs} epochs at the best LR: SGD {_ms(tl('SGD'))}; " + "; ".join(
                f"{o} {_ms(tl(o))} (SGD − {o}: {c[1]})" for o, c in zip(others, checks, strict=True)
            )
            edge = edges([(mname, o) for o in ran])
            add(claim, lit, text, _not_tuned(edge) if edge else _all_of([c[0] for c in checks]))

    add(
        "AdaGrad's steps shrink as its accumulator grows",
        "effective LR lr/√(Σg²) decays (Duchi et al. 2011; CS231n)",
        "not measured: "
        + (
            "AdaGrad not run"
            if not any(o == "AdaGrad" for _, o in results)
            else "the trainer records no per-step update sizes"
        ),  # fmt: skip
        "not tested (no mode of this study measures AdaGrad's step sizes)",
    )

    def sl(name: str) -> list[float]:
        return final_values(sched[name]["mods"], "train_loss")

    for sname in ("step ×0.1", "cosine"):
        v, noise = _compare(sl("constant"), sl(sname))
        text = (
            f"final training loss: constant {_ms(sl('constant'))} (lr "
            f"{sched['constant']['best']:g}), {sname} {_ms(sl(sname))} (lr {sched[sname]['best']:g}"
            f"); constant − {sname}: {noise}"
        )
        edge = [f"{n} schedule" for n in ("constant", sname) if sched[n]["edge"]]
        add(
            f"{sname} decay vs constant LR (MLP, SGD+momentum)",
            "decay ends at a lower training loss (CS231n; Loshchilov & Hutter 2017)",
            text,
            _not_tuned(edge) if edge else v,
        )

    add(*_lbfgs_claim(demo))
    return rows


def _lbfgs_claim(demo: dict[str, list[list[float]]]) -> tuple[str, str, str, str]:
    """The claim "L-BFGS works full batch, not on mini-batches", judged model by model.

    Convergence is a property of each run, so each model is judged on its own: it *reached
    the optimum* when its final full-batch loss is within ``LBFGS_TOL`` (relative) of the
    lowest full-batch loss any model of the demonstration reached (the objective is strictly
    convex, so that is the best estimate of its minimum). Confirmed when every full-batch model
    reached it and no mini-batch model did; contradicted when no full-batch model did or every
    mini-batch model did; partly otherwise.
    """
    full = demo["L-BFGS, full batch"]
    mini_key = next(k for k in demo if k.startswith("L-BFGS, batch"))
    mini = demo[mini_key]
    best = min(v for runs in demo.values() for r in runs for v in r if math.isfinite(v))
    cut = best * (1 + LBFGS_TOL)
    f_ok = sum(math.isfinite(r[-1]) and r[-1] <= cut for r in full)
    m_ok = sum(math.isfinite(r[-1]) and r[-1] <= cut for r in mini)
    batch = mini_key.removeprefix("L-BFGS, ")
    if f_ok == len(full) and m_ok == 0:
        verdict = CONFIRMED
    elif f_ok == 0 or m_ok == len(mini):
        verdict = CONTRADICTED
    else:
        verdict = f"partly ({f_ok}/{len(full)} full-batch and {m_ok}/{len(mini)} {batch} models "
        verdict += "reached the optimum)"
    measured = (
        f"final full-batch loss after {len(mini[0])} steps: full batch {_ms([r[-1] for r in full])}"
        f", {batch} {_ms([r[-1] for r in mini])} (lowest along the way "
        f"{_ms([min(r) for r in mini])}); within {LBFGS_TOL:.0%} of the lowest loss reached "
        f"({best:.4f}): full batch {f_ok}/{len(full)} models, {batch} {m_ok}/{len(mini)}"
    )
    return (
        "L-BFGS works full batch, not on mini-batches",
        "full batch converges; mini-batch L-BFGS does not (CS231n)",
        measured,
        verdict,
    )


def _span(r: dict[str, Any]) -> float:
    """log10 of the grid's max/min LR ratio."""
    return math.log10(max(r["lrs"]) / min(r["lrs"]))


def _per_seed_widths(r: dict[str, Any]) -> list[float]:
    """Per seed: how many LRs of the grid end within 10% of that seed's best validation loss."""
    groups = by_override(r["cell"], "optim.lr")
    by_seed: dict[Any, list[float]] = {}
    for lr in r["lrs"]:
        for m in groups[lr]:
            by_seed.setdefault(m.get("seed"), []).append(final_values([m], "val_loss")[0])
    return [float(_within(vals)) for vals in by_seed.values()]
