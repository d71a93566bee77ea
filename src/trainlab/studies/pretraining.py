"""Study ``pretraining``: does unsupervised pre-training help, and when?

Random init vs DBN (RBMs, CD-1, layer by layer; Hinton et al. 2006) vs stacked denoising
autoencoders (Vincent et al. 2008) as the starting point of supervised fine-tuning, for sigmoid
and ReLU MLPs of depth 3-5 (hidden layers), with 1%, 10% and 100% of the training labels of
``digits`` (the label subsets are stratified, at least one per class; pre-training always sees
every training input, without labels).

Literature (Erhan, Bengio, Courville, Manzagol, Vincent & Bengio 2010, "Why does unsupervised
pre-training help deep learning?"): pre-training acts as a regularizer; it helps most for deep
sigmoid networks and when labels are few, and the advantage grows with depth. With ReLU units
and a variance-preserving init (He et al. 2015) the gap narrows (Glorot, Bordes & Bengio 2011).

Protocol: per cell (activation, depth, label fraction) one population of ``3 methods x seeds``
models is fine-tuned by trainlab's trainer (Adam, lr 3e-3, batch 32, a fixed number of steps
whatever the label fraction, so that small-label cells are not under-trained; small label sets
are tiled to at least 320 rows per epoch, which keeps the per-epoch evaluation cost bounded);
random init is Xavier-uniform for sigmoid and He-normal for ReLU; pre-trained nets copy the
stack's weights into ``fc{i}`` and draw the output layer Xavier-uniform. Each seed pre-trains
its own DBN and SDAE. Reported: test accuracy, mean ± std over seeds, per cell.

Pre-training: DBN with CD-1, lr 0.1, momentum 0.5, batch 10, 30 passes per layer (20 quick);
SDAE with 25% masking noise, Adam 1e-3, batch 32, 15 passes per layer (5 quick).

Quick mode (CI, <= 90 s on 2 cores): depth 3 only, width 64, 3 seeds, 150 fine-tuning steps.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import UserError

__all__ = ["DESCRIPTION", "run", "label_subset", "EXPECTATION"]

DESCRIPTION = (
    "random init vs DBN vs stacked-DAE pre-training, sigmoid/ReLU MLPs of depth 3-5, "
    "1%/10%/100% of the digits labels (Erhan et al. 2010)"
)

EXPECTATION = (
    "Erhan et al. (2010): unsupervised pre-training helps most for deep sigmoid networks and "
    "when labelled data is scarce, and the benefit grows with depth; with ReLU units and He "
    "init the gap to random initialization narrows."
)

METHODS = ("random", "dbn", "sdae")

#: sizes of the two modes (tests shrink "quick" further)
SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {"depths": [3], "width": 64, "steps": 150, "seeds": 3, "dbn_iter": 20, "sdae_iter": 5},
    "full": {
        "depths": [3, 4, 5],
        "width": 128,
        "steps": 600,
        "seeds": 5,
        "dbn_iter": 30,
        "sdae_iter": 15,
    },
}
RANDOM_INIT = {"sigmoid": "xavier_uniform", "relu": "he_normal"}


def label_subset(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a stratified ``fraction`` of ``y`` (at least one per class), seeded."""
    rng = np.random.default_rng(seed)
    idx = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        n = max(1, int(round(fraction * len(members))))
        idx.append(rng.permutation(members)[:n])
    return np.sort(np.concatenate(idx))


def _subset(ds: Any, idx: np.ndarray, min_rows: int) -> Any:
    """The training rows ``idx``, tiled to at least ``min_rows`` rows per epoch."""
    import dataclasses

    reps = max(1, math.ceil(min_rows / len(idx)))
    t = torch.as_tensor(np.tile(idx, reps), dtype=torch.int64)
    return dataclasses.replace(ds, x_train=ds.x_train[t], y_train=ds.y_train[t])


def _pretrained(
    x: np.ndarray, depth: int, width: int, seed: int, cfg: dict[str, Any]
) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Per method, the ``(weight, bias)`` stack of seed ``seed``'s pre-training."""
    from ..pretrain import DBN, StackedDenoisingAutoencoder

    # lr 0.1, momentum 0.5, 30 passes: on digits (1294 inputs) 10 passes at lr 0.05 left the
    # upper RBMs' weights below 0.05 and their units nearly constant (measured), which a deep
    # sigmoid net cannot fine-tune; with these settings every layer's units vary (std ~0.1)
    dbn = DBN(
        [width] * depth,
        learning_rate=0.1,
        momentum=0.5,
        n_iter=cfg["dbn_iter"],
        batch_size=10,
        method="cd",
        random_state=seed,
    ).fit(x)
    sdae = StackedDenoisingAutoencoder(
        [width] * depth,
        corruption=0.25,
        learning_rate=1e-3,
        batch_size=32,
        n_iter=cfg["sdae_iter"],
        random_state=seed,
    ).fit(x)
    return {
        "dbn": dbn.layer_weights(),
        "sdae": [(w, c) for w, c, _ in sdae.layers_],
    }


def _modules(
    stacks: dict[int, dict[str, list]],
    seeds: list[int],
    act: str,
    depth: int,
    width: int,
    n_in: int,
    n_classes: int,
) -> tuple[list[torch.nn.Module], list[str], list[int]]:
    from .. import init as init_mod
    from .. import models
    from ..pretrain import unroll
    from ..rng import seed_key

    mods, labels, member_seeds = [], [], []
    for method in METHODS:
        for s in seeds:
            gen = torch.Generator().manual_seed(seed_key("pretraining-study", method, s))
            if method == "random":
                m = models.create(
                    "mlp",
                    input_shape=(n_in,),
                    num_classes=n_classes,
                    hidden=[width] * depth,
                    activation=act,
                )
                init_mod.apply(m, RANDOM_INIT[act], generator=gen)
            else:
                m = unroll(stacks[s][method], n_in, n_classes, act, generator=gen)
            mods.append(m)
            labels.append(method)
            member_seeds.append(s)
    return mods, labels, member_seeds


def _figure(rows: list[dict[str, Any]], fractions: list[float], depths: list[int]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acts = list(RANDOM_INIT)
    fig, axes = plt.subplots(
        len(acts), len(depths), figsize=(3.6 * len(depths), 3.0 * len(acts)), squeeze=False
    )
    for i, act in enumerate(acts):
        for j, depth in enumerate(depths):
            ax = axes[i, j]
            for method in METHODS:
                sel = [
                    r
                    for r in rows
                    if r["activation"] == act and r["depth"] == depth and r["method"] == method
                ]
                sel.sort(key=lambda r: r["labels"])
                if not sel:
                    continue
                x = [r["labels"] * 100 for r in sel]
                mean = np.array([r["test_acc_mean"] for r in sel])
                std = np.array([r["test_acc_std"] for r in sel])
                ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=method)
            ax.set_xscale("log")
            ax.set_xticks([f * 100 for f in fractions])
            ax.set_xticklabels([f"{f * 100:g}%" for f in fractions])
            ax.set_title(f"{act}, depth {depth}", fontsize=9)
            ax.set_xlabel("labels used")
            ax.set_ylabel("test accuracy")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def run(
    out: Path,
    *,
    quick: bool = False,
    seeds: int | list[int] | None = None,
    device: str = "auto",
) -> Path:
    """Run the study and write ``out`` (summary.json, report.html with table and figure)."""
    from ..data import load
    from ..pretrain import fine_tune
    from ..report import Report
    from ..runs import RunDir

    cfg = SETTINGS["quick" if quick else "full"]
    if isinstance(seeds, int):
        seed_list = list(range(seeds))
    elif seeds is None:
        seed_list = list(range(cfg["seeds"]))
    else:
        seed_list = [int(s) for s in seeds]
    if not seed_list:
        raise UserError("the pretraining study needs at least one seed")
    depths, width, steps = cfg["depths"], cfg["width"], cfg["steps"]
    fractions = [0.01, 0.1, 1.0]
    batch = 32
    run_dir = RunDir(out).create()
    t_start = time.perf_counter()

    ds = load("digits", seed=0)
    n_in = int(np.prod(ds.input_shape))
    x_all = ds.x_train.reshape(len(ds.x_train), -1).numpy().astype(np.float64)
    y_all = ds.y_train.numpy()

    rows: list[dict[str, Any]] = []
    per_model: list[dict[str, Any]] = []
    for depth in depths:
        t0 = time.perf_counter()
        stacks = {s: _pretrained(x_all, depth, width, s, cfg) for s in seed_list}
        t_pre = time.perf_counter() - t0
        for act in RANDOM_INIT:
            for frac in fractions:
                idx = label_subset(y_all, frac, seed=0)
                sub = _subset(ds, idx, min_rows=10 * batch)
                epochs = max(1, math.ceil(steps / math.ceil(len(sub.x_train) / batch)))
                mods, labels, mseeds = _modules(
                    stacks, seed_list, act, depth, width, n_in, ds.num_classes
                )
                summary = fine_tune(
                    mods,
                    sub,
                    seeds=list(range(len(mods))),
                    epochs=epochs,
                    lr=3e-3,
                    optimizer="adam",
                    batch_size=batch,
                    device=device,
                    name=f"pretraining-{act}-d{depth}-{frac}",
                )
                accs: dict[str, list[float]] = {m: [] for m in METHODS}
                for m, label, s in zip(summary["models"], labels, mseeds, strict=True):
                    acc = float(m["final"]["test_acc"])
                    accs[label].append(acc)
                    per_model.append(
                        {
                            "activation": act,
                            "depth": depth,
                            "labels": frac,
                            "method": label,
                            "seed": s,
                            "test_acc": acc,
                            "status": m.get("status"),
                        }
                    )
                for method in METHODS:
                    a = np.array(accs[method])
                    rows.append(
                        {
                            "activation": act,
                            "depth": depth,
                            "labels": frac,
                            "n_labels": int(len(idx)),
                            "method": method,
                            "test_acc_mean": float(a.mean()),
                            "test_acc_std": float(a.std(ddof=1)) if len(a) > 1 else 0.0,
                            "n": int(len(a)),
                            "pretrain_s_per_depth": t_pre,
                        }
                    )

    # measured statements next to the expectation
    def gap(act: str, depth: int, frac: float, method: str) -> float:
        get = {
            r["method"]: r["test_acc_mean"]
            for r in rows
            if r["activation"] == act and r["depth"] == depth and r["labels"] == frac
        }
        return get[method] - get["random"]

    d_max = max(depths)
    findings = []
    for act in RANDOM_INIT:
        for method in ("dbn", "sdae"):
            few, all_ = gap(act, d_max, fractions[0], method), gap(act, d_max, 1.0, method)
            findings.append(
                f"{method.upper()} - random, {act}, depth {d_max}: "
                f"{few * 100:+.1f} points with {fractions[0] * 100:g}% of the labels, "
                f"{all_ * 100:+.1f} points with all labels"
            )
    for act in RANDOM_INIT:
        gains = [np.mean([gap(act, d, fractions[0], m) for m in ("dbn", "sdae")]) for d in depths]
        by_depth = ", ".join(
            f"depth {d}: {g * 100:+.1f}" for d, g in zip(depths, gains, strict=True)
        )
        findings.append(
            f"mean pre-training gain (DBN, SDAE) over random, {act}, "
            f"{fractions[0] * 100:g}% labels, by depth: {by_depth} points"
        )
    sig = np.mean([gap("sigmoid", d_max, fractions[0], m) for m in ("dbn", "sdae")])
    relu = np.mean([gap("relu", d_max, fractions[0], m) for m in ("dbn", "sdae")])
    verdict = (
        "Measured: pre-training helps the sigmoid nets more than the ReLU nets at the fewest "
        f"labels (mean gain {sig * 100:+.1f} vs {relu * 100:+.1f} points)"
        if sig > relu
        else "Measured: here pre-training does not help the sigmoid nets more than the ReLU "
        f"nets at the fewest labels (mean gain {sig * 100:+.1f} vs {relu * 100:+.1f} points)"
    )
    run_dir.write_json(
        "summary.json",
        {
            "study": "pretraining",
            "quick": quick,
            "seeds": seed_list,
            "depths": depths,
            "width": width,
            "fractions": fractions,
            "fine_tune_steps": steps,
            "expectation": EXPECTATION,
            "findings": findings,
            "verdict": verdict,
            "cells": rows,
            "models": per_model,
            "seconds": time.perf_counter() - t_start,
        },
    )
    rep = Report(run_dir.path, title="Study: unsupervised pre-training")
    rep.add_text(f"## Expected\n{EXPECTATION}")
    rep.add_text("## Measured\n" + "\n".join(f"- {f}" for f in findings) + f"\n\n{verdict}.")
    rep.add_table(
        "Test accuracy (mean ± std over seeds)",
        [
            {
                "activation": r["activation"],
                "depth": r["depth"],
                "labels": f"{r['labels'] * 100:g}% ({r['n_labels']})",
                "method": r["method"],
                "test acc": f"{r['test_acc_mean']:.4f} ± {r['test_acc_std']:.4f}",
                "n": r["n"],
            }
            for r in rows
        ],
    )
    rep.add_figure(
        "accuracy_vs_labels",
        _figure(rows, fractions, depths),
        "test accuracy (mean ± std over seeds) against the fraction of labels used",
    )
    rep.write(include_standard=False)
    return run_dir.path
