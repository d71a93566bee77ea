"""Study ``preprocessing``: raw vs mean-subtracted vs standardized vs PCA-/ZCA-whitened inputs.

The notes (CS231n lecture 6/7) argue for zero-centered inputs with a picture: if every input
x_i of a neuron is positive (raw pixel intensities), the gradient of the loss with respect to
its weights, ∂L/∂w_i = (∂L/∂z)·x_i, has the *same sign* for every i. The weights can then only
all grow or all shrink in one step, so reaching a target direction takes a zig-zag path — slow
convergence. Subtracting the mean removes that constraint; scaling to unit variance (or
whitening: decorrelating, then scaling) makes the loss surface of the first layer better
conditioned, which speeds up SGD further. Adam rescales each coordinate itself, so it should
care less (Kingma & Ba 2015).

Set-up (full mode): ``digits`` (pixel intensities in [0, 1], all ≥ 0), a linear softmax
classifier and an MLP 64-100-10 (ReLU), SGD (no momentum) and Adam, inputs raw,
mean-subtracted, standardized, PCA-whitened and ZCA-whitened; each (model, inputs, optimizer)
is one population of (LR grid × 5 seeds), 10 epochs, batch 32, and is shown at its best LR
(lowest mean final training loss). A best LR at the edge of its grid is flagged: the optimum
may lie outside the grid. All preprocessing is fitted on the training split only
(``trainlab.data``). Measured: the training loss per epoch (mean ± std over seeds), the epochs
needed to reach a training loss of 0.1, the final test accuracy, and the mechanism itself
(:func:`gradient_sign_coherence`: how often a unit's weight gradient has one sign). A
difference counts as real by Student's t with Welch's degrees of freedom
(``trainlab.studies.evidence``). Quick mode (CI) runs the same cells with 3 seeds and 6 epochs.

The LR grids were widened after a 6-epoch, 2-seed run on the old grids (SGD 0.03-10, Adam
3e-4-0.1; quick mode used every other LR and the linear model only) put the best LR at the top
of the grid in 5 of 6 cells. Measured on the wider grids, CPU, 2 cores: ``trainlab study
preprocessing`` (39 s) and ``... --quick`` (17-23 s): every best LR (20 of 20 cells) lies inside
its grid. Full mode: zero-centering lowers SGD's final loss for both models (linear 0.088 →
0.015, MLP 0.039 → 0.0028: confirmed); standardizing lowers it further for the linear model
(0.0145 → 0.0106: confirmed) but not measurably for the MLP; PCA whitening beyond
standardizing, and "Adam is less sensitive than SGD" (raw/standardized loss ratio: linear
Adam ×3.2 vs SGD ×8.3; MLP Adam ×28 vs SGD ×13, the other way round), are within seed noise
(inconclusive).

The whitened cells whiten with ε = ``WHITEN_EPSILON`` (1e-5): the inputs' covariance then has
condition number 5.7 (standardized: 147; raw and mean-subtracted: 3.3e5; the uncentred second
moment of ``[x, 1]``, a linear layer's curvature, tells those two apart: 5.4e6 and 4.7e5), shown
in the report.
With ``trainlab.data``'s default ε = 1e-2, which the runs above used, it was ~4600: not whitened.
Re-measured with 1e-5 (2026-11-29, ``trainlab study preprocessing``, 26 s): PCA-whitened vs
standardized, SGD, final loss: linear 0.0115 ± 0.0010 vs 0.0106 ± 0.0005, MLP 0.0020 ± 0.0002
vs 0.0042 ± 0.0048, both within seed noise (inconclusive); the other verdicts as above.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..report.stats import sample_std
from .cells import (
    by_override,
    cpu_threads,
    curve_and_band,
    diverged_note,
    final_values,
    mean_std,
    seed_errors,
    train_cell,
)
from .evidence import CONFIRMED, CONTRADICTED, bound_text, judge, welch

__all__ = [
    "DESCRIPTION",
    "run",
    "PREPROCESSING",
    "epochs_to_reach",
    "lower_than",
    "less_sensitive",
    "grid_edge",
    "gradient_sign_coherence",
    "data_config",
    "condition_number",
    "WHITEN_EPSILON",
]

DESCRIPTION = (
    "raw vs mean-subtracted vs standardized vs PCA/ZCA-whitened digits: convergence of SGD and "
    "Adam (all-positive inputs force zig-zag updates, CS231n)"
)

RAW, MEAN, STD, PCA = "raw (all ≥ 0)", "mean-subtracted", "standardized", "PCA-whitened"
PREPROCESSING = {
    RAW: "none",
    MEAN: "mean",
    STD: "standardize",
    PCA: "pca_whiten",
    "ZCA-whitened": "zca",
}
# Half-decade grids. Measured (linear and MLP, 6 epochs): the best SGD LR lies between 1
# (MLP) and 30 (linear, mean-subtracted) and diverges at 100; the best Adam LR between 0.01
# (MLP) and 0.3 (linear), and 1 is worse everywhere.
OPTIMS = {
    "SGD": ({"name": "sgd"}, [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]),
    "Adam": ({"name": "adam"}, [1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0]),
}
MODELS = {"linear": {"name": "mlp", "hidden": []}, "MLP": {"name": "mlp", "hidden": [100]}}
MODEL_TEXT = {"linear": "linear softmax classifier 64-10", "MLP": "MLP 64-100-10 (ReLU)"}
#: the whitening regulariser of the whitened cells. ``trainlab.data``'s default (1e-2) tames the
#: noise directions but is larger than most of digits' covariance eigenvalues (pixels in [0, 1]):
#: its "whitened" inputs' covariance has condition number ~4600, worse than standardized
#: inputs' (~150), and the claim under test is about whitened (identity-covariance) inputs.
#: At 1e-5 the condition number is ~6 (measured; :func:`condition_number` in the report).
WHITEN_EPSILON = 1e-5
EPOCHS = 10  # short: at 20 epochs every input ends near 0
SEEDS = 5
# Quick mode: every model, input and LR of the full study (the whole run takes ~26 s on 2
# cores), fewer seeds and epochs.
QUICK_EPOCHS = 6
QUICK_SEEDS = 3
QUICK_MODELS: tuple[str, ...] = tuple(MODELS)
QUICK_PREPROCESSING: tuple[str, ...] = tuple(PREPROCESSING)
QUICK_OPTIMS: dict[str, list[float]] = {k: list(lrs) for k, (_, lrs) in OPTIMS.items()}
TARGET = 0.1  # training loss that counts as "converged" for the speed table
NOT_TESTED = "not tested in this mode"


def epochs_to_reach(epochs: list[int], losses: list[float], target: float) -> int | None:
    """The first epoch whose (mean) training loss is ≤ ``target``; None if never."""
    for e, v in zip(epochs, losses, strict=True):
        if v <= target:
            return e
    return None


def grid_edge(best: float, lrs: list[float]) -> str | None:
    """``"top"`` / ``"bottom"`` when ``best`` is the largest / smallest LR of the grid ``lrs``
    (the optimum may lie outside the grid), else None."""
    if len(lrs) > 1 and best == max(lrs):
        return "top"
    if len(lrs) > 1 and best == min(lrs):
        return "bottom"
    return None


def data_config(prep: str) -> dict[str, Any]:
    """The ``data`` section of the study's cells for preprocessing ``prep``: ``digits``, and
    ``epsilon = WHITEN_EPSILON`` for the whitened inputs."""
    whitened = prep in ("pca_whiten", "zca")
    options = {"epsilon": WHITEN_EPSILON} if whitened else {}
    return {"name": "digits", "preprocess": prep, "options": options}


def _load(prep: str) -> Any:
    """The training data of the study's cells for ``prep`` (:func:`data_config`)."""
    from .. import data as data_mod

    cfg = data_config(prep)
    return data_mod.load(cfg["name"], preprocess=cfg["preprocess"], **cfg["options"])


def condition_number(prep: str, *, centred: bool = True) -> float:
    """The condition number λ_max/λ_min of the training inputs' covariance under ``prep``, over
    the directions with any variance (λ > 1e-9·λ_max: pixels that are 0 in every image have
    none): 1 for perfectly whitened inputs. ``centred=False``: of the uncentred second moment
    ``E[x̃ x̃ᵀ]`` of ``x̃ = [x, 1]``, the curvature a linear layer with a bias sees (the Hessian
    of its squared loss), where an input mean that is not 0 shows."""
    import torch

    x = _load(prep).x_train.flatten(1).double()  # (N, D)
    ones = torch.ones(len(x), 1, dtype=x.dtype)
    xc = x - x.mean(0) if centred else torch.cat([x, ones], dim=1)
    ev = torch.linalg.eigvalsh(xc.T @ xc / x.shape[0])
    ev = ev[ev > ev.max() * 1e-9]
    return float(ev.max() / ev.min())


def gradient_sign_coherence(
    prep: str, *, steps: int = 200, batch: int = 32, lr: float = 0.1, seed: int = 0
) -> dict[str, float]:
    """The notes' zig-zag mechanism, measured on ``digits`` with inputs ``prep``.

    For a linear softmax layer ``z = W x + b``, one example's gradient row of unit ``j`` is
    ``∂L/∂W_j = δ_j · x`` (``δ = softmax(z) − onehot(y)``): when every input is ≥ 0 all its
    non-zero entries share the sign of ``δ_j``, so one step moves all of unit ``j``'s weights
    up together or down together. Returns the fraction of rows "of one sign" (all non-zero
    entries with the same sign):

    - ``per_example``: of single-example gradient rows, over the training split (``δ_j ≠ 0``
      always, so this is the fraction of examples whose non-zero inputs share one sign);
    - ``per_batch``: of the batch gradient's rows, over ``steps`` SGD steps of a linear
      softmax classifier (zero init, ``lr``, batches of ``batch`` drawn with ``seed``), where
      examples with ``δ_j`` of both signs can cancel the constraint.
    """
    import torch
    import torch.nn.functional as F

    ds = _load(prep)
    x, y = ds.x_train.flatten(1).double(), ds.y_train  # (N, D), (N,)

    def one_sign(rows: torch.Tensor) -> torch.Tensor:  # (R, D) -> (R,) bool
        nz = rows != 0
        return ((rows > 0) | ~nz).all(1) | ((rows < 0) | ~nz).all(1)

    per_example = one_sign(x).double().mean().item()
    w = torch.zeros(ds.num_classes, x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(ds.num_classes, dtype=torch.float64, requires_grad=True)
    gen = torch.Generator().manual_seed(seed)
    hits = torch.zeros((), dtype=torch.float64)
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (batch,), generator=gen)
        gw, gb = torch.autograd.grad(F.cross_entropy(x[idx] @ w.T + b, y[idx]), (w, b))
        hits += one_sign(gw).double().mean()
        with torch.no_grad():
            w -= lr * gw
            b -= lr * gb
    return {"per_example": per_example, "per_batch": (hits / steps).item()}


def lower_than(low: list[float], high: list[float]) -> tuple[str, str]:
    """Is the mean of ``low`` (final losses over seeds) below the mean of ``high``?

    Returns ``(verdict, detail)``: the verdict of :func:`~trainlab.studies.evidence.judge` on
    ``mean(high) − mean(low)`` with Welch's standard error and degrees of freedom; a cell with a
    non-finite loss (a diverged run) is not judged.
    """
    if not all(math.isfinite(v) for v in low + high) or not low or not high:
        return "not judged (NaN/Inf runs at the best LR)", "a run diverged"
    diff = sum(high) / len(high) - sum(low) / len(low)
    se, dof = welch([(sample_std(low), len(low)), (sample_std(high), len(high))])
    num = "{:.3g}".format  # significant digits: final losses can be ~1e-3 and their gaps ~1e-5
    return judge(diff, se, dof), f"difference {num(diff)}, {bound_text(se, dof, num)}"


def less_sensitive(
    sgd: tuple[list[float], list[float]], adam: tuple[list[float], list[float]]
) -> tuple[str, float, float, str]:
    """Is Adam's raw/standardized final-loss ratio closer to 1 than SGD's (less sensitive to
    the preprocessing, either way)?

    ``sgd`` and ``adam`` are ``(raw losses, standardized losses)`` over seeds. The ratios are
    geometric means, exp(mean log raw − mean log standardized); the test is on
    ``|log r_SGD| − |log r_Adam|`` (raw 10× better counts as much as 10× worse), from four
    cell means of log losses, with Welch's standard error and degrees of freedom over the four
    cells. Returns ``(verdict, r_SGD, r_Adam, detail)``.
    """
    cells = [*sgd, *adam]
    if not all(_measured(c) for c in cells):  # each ratio that can be measured, and why not
        where = [
            f"{name} {kind}: " + _unmeasured(c)
            for name, pair in (("SGD", sgd), ("Adam", adam))
            for kind, c in zip(("raw", "standardized"), pair, strict=True)
            if not _measured(c)
        ]
        diverged = any(not math.isfinite(v) for c in cells for v in c)
        return (
            "not judged (NaN/Inf runs at the best LR)"
            if diverged
            else "not judged (a loss of 0 or no seeds at the best LR: no log ratio)",
            _ratio(*sgd),
            _ratio(*adam),
            "; ".join(where),
        )
    logs = [[math.log(v) for v in c] for c in cells]
    mu = [sum(c) / len(c) for c in logs]
    log_sgd, log_adam = mu[0] - mu[1], mu[2] - mu[3]
    se, dof = welch([(sample_std(c), len(c)) for c in logs])
    # sensitivity is the size of the effect either way: raw 10x better counts as 10x worse
    diff = abs(log_sgd) - abs(log_adam)
    detail = f"|log ratio| difference (SGD - Adam) {diff:.3f}, {bound_text(se, dof)}"
    return judge(diff, se, dof), math.exp(log_sgd), math.exp(log_adam), detail


def _measured(losses: list[float]) -> bool:
    """A cell whose every seed has a positive finite loss (its log exists)."""
    return bool(losses) and all(v > 0 and math.isfinite(v) for v in losses)


def _unmeasured(losses: list[float]) -> str:
    """Why a cell has no log: its diverged seeds, its seeds at loss 0, or no seeds."""
    if not losses:
        return "no seeds"
    bad = sum(not math.isfinite(v) for v in losses)
    zero = sum(math.isfinite(v) and v <= 0 for v in losses)
    parts = [f"{bad} of {len(losses)} seeds diverged"] if bad else []
    parts += [f"{zero} of {len(losses)} seeds at loss 0"] if zero else []
    return ", ".join(parts)


def _ratio(raw: list[float], std: list[float]) -> float:
    """The geometric-mean ratio raw/standardized of two cells; NaN if one was not measured."""
    if not (_measured(raw) and _measured(std)):
        return math.nan
    return math.exp(sum(map(math.log, raw)) / len(raw) - sum(map(math.log, std)) / len(std))


def _times(ratio: float) -> str:
    return f"×{ratio:.2f}" if math.isfinite(ratio) else "not measured"


def _pm(vals: list[float], digits: int = 3) -> str:
    """``mean ± std (n=…)`` over the finite values; one value has no spread to show."""
    xs = [v for v in vals if math.isfinite(v)]
    bad = len(vals) - len(xs)
    tail = f", {bad} diverged" if bad else ""
    if not xs:
        return f"— (all {bad} diverged)"
    m = sum(xs) / len(xs)
    if len(xs) == 1:
        return f"{m:.{digits}f} (n=1: no spread{tail})"
    return f"{m:.{digits}f} ± {sample_std(xs):.{digits}f} (n={len(xs)}{tail})"


def _grid_text(lrs: list[float]) -> str:
    return ", ".join(f"{x:g}" for x in lrs)


def _settings(quick: bool, seeds: int | None) -> dict[str, Any]:
    from ..errors import UserError

    n_seeds = seeds if seeds is not None else (QUICK_SEEDS if quick else SEEDS)
    if n_seeds < 1:
        raise UserError(f"--seeds must be at least 1, got {n_seeds}")
    if quick:
        return {
            "seeds": n_seeds,
            "epochs": QUICK_EPOCHS,
            "models": {m: MODELS[m] for m in QUICK_MODELS},
            "preps": {p: PREPROCESSING[p] for p in QUICK_PREPROCESSING},
            "optims": {k: (OPTIMS[k][0], list(lrs)) for k, lrs in QUICK_OPTIMS.items()},
        }
    return {
        "seeds": n_seeds,
        "epochs": EPOCHS,
        "models": dict(MODELS),
        "preps": dict(PREPROCESSING),
        "optims": {k: (o, list(lrs)) for k, (o, lrs) in OPTIMS.items()},
    }


def _setup_text(s: dict[str, Any], quick: bool) -> str:
    """What ran, exactly; in quick mode also what the full study runs that this one did not."""
    grids = "; ".join(f"{k} {_grid_text(lrs)}" for k, (_, lrs) in s["optims"].items())
    text = (
        f"## Set-up (what ran)\n``digits`` (pixel intensities in [0, 1], all ≥ 0); model(s): "
        f"{', '.join(MODEL_TEXT[m] for m in s['models'])}; inputs: {', '.join(s['preps'])}; "
        f"optimizers {' and '.join(s['optims'])} (no momentum for SGD), LR grids {grids}; "
        f"{s['seeds']} seed{'s' if s['seeds'] > 1 else ''} per LR, {s['epochs']} epochs, "
        "batch 32. Each (model, inputs, optimizer) is one population of (LR grid × seeds) "
        "and is shown at its best LR (lowest mean final training loss over the seeds; chosen "
        "on the same runs that are compared, for every cell alike). Preprocessing is fitted "
        "on the training split only. A difference counts as real when it exceeds t·se, "
        "Student's t at 95% with Welch's degrees of freedom; with one seed nothing is judged."
    )
    if not quick:
        return text
    full = _settings(False, None)
    left = [MODEL_TEXT[m] for m in full["models"] if m not in s["models"]]
    left += [f"{p} inputs" for p in full["preps"] if p not in s["preps"]]
    left += [f"{k} (all LRs)" for k in full["optims"] if k not in s["optims"]]
    for k, (_, lrs) in full["optims"].items():
        if k in s["optims"] and s["optims"][k][1] != lrs:
            left.append(f"the full {k} LR grid ({k} {_grid_text(lrs)})")
    if s["seeds"] < full["seeds"]:
        left.append(f"the full mode's {full['seeds']} seeds (ran {s['seeds']})")
    if s["epochs"] < full["epochs"]:
        left.append(f"the full mode's {full['epochs']} epochs (ran {s['epochs']})")
    return text + ("\n\n**Quick mode leaves out** " + "; ".join(left) + "." if left else "")


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
    from . import band_text, claim_study_dir, spread_text

    s = _settings(quick, seeds)
    root = claim_study_dir(out, renumber=renumber).path  # the populations: cells/<name>/
    models, preps, optims, epochs = s["models"], s["preps"], s["optims"], s["epochs"]
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    with cpu_threads(device):
        for mname, mcfg in models.items():
            for pname, prep in preps.items():
                for oname, (ocfg, lrs) in optims.items():
                    raw = {
                        "name": f"{mname}-{prep}-{oname}",
                        "data": data_config(prep),
                        "model": mcfg,
                        "optim": ocfg,
                        "train": {"epochs": epochs, "batch_size": 32},
                        "population": {"seeds": list(range(s["seeds"])),
                                       "grid": {"optim.lr": lrs}},
                    }  # fmt: skip
                    cell = train_cell(raw, root / "cells" / f"{mname}-{prep}-{oname}", device)
                    cells[(mname, pname, oname)] = {"cell": cell, "lrs": lrs}

    rep = Report(root, title="Data preprocessing and convergence speed")
    rep.add_text(__doc__.split("\n\n")[1])
    rep.add_text(_setup_text(s, quick))
    rows: list[dict[str, Any]] = []
    best: dict[tuple[str, str, str], dict[str, Any]] = {}  # (model, optimizer, inputs)
    for mname in models:
        fig = Figure(figsize=(11, 4.2))
        axes = fig.subplots(1, len(optims), sharey=True, squeeze=False)[0]
        fig_lr = Figure(figsize=(11, 4.2))
        axes_lr = fig_lr.subplots(1, len(optims), squeeze=False)[0]
        means: dict[Any, list[Any]] = {ax: [] for ax in axes}
        lr_lines: dict[Any, list[Any]] = {ax: [] for ax in axes_lr}
        for ax, ax_lr, oname in zip(axes, axes_lr, optims, strict=True):
            for pname in preps:
                r = cells[(mname, pname, oname)]
                groups = by_override(r["cell"], "optim.lr")
                scores = [mean_std(final_values(groups[lr], "train_loss")) for lr in r["lrs"]]
                i_best = min(range(len(scores)), key=lambda i: scores[i][0])
                lr_best = r["lrs"][i_best]
                edge = grid_edge(lr_best, r["lrs"])
                mods = groups[lr_best]
                ep, mu, lo, hi = curve_and_band(r["cell"], [m["index"] for m in mods])
                (line,) = ax.plot(ep, mu, label=f"{pname} (lr {lr_best:g})")
                means[ax].append(line)
                ax.fill_between(ep, lo, hi,
                                color=line.get_color(), alpha=0.15)  # fmt: skip
                ok = [i for i, (m, _) in enumerate(scores) if math.isfinite(m)]
                finals = [final_values(groups[r["lrs"][i]], "train_loss") for i in ok]
                bars = ax_lr.errorbar([r["lrs"][i] for i in ok], [scores[i][0] for i in ok],
                                      yerr=seed_errors(finals), marker="o", capsize=3,
                                      label=pname)  # fmt: skip
                lr_lines[ax_lr].append(bars[0])
                reach = epochs_to_reach(ep, mu, TARGET)
                losses = final_values(mods, "train_loss")
                best[(mname, oname, pname)] = {"lr": lr_best, "edge": edge, "losses": losses}
                rows.append(
                    {
                        "model": mname,
                        "optimizer": oname,
                        "inputs": pname,
                        "best lr": lr_best,
                        "best LR bracketed": f"NO: best LR at the {edge} of the grid"
                        if edge
                        else "yes",
                        f"epochs to loss ≤ {TARGET}": reach if reach is not None else f"> {epochs}",
                        "final train loss": _pm(losses, 4),
                        "test acc": _pm(final_values(mods, "test_acc"))
                        + diverged_note(mods, "test_acc"),
                        "final train loss per seed": [
                            v if math.isfinite(v) else None for v in losses
                        ],  # None: diverged
                    }
                )
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_title(f"{mname}, {oname} (best LR each)")
            ax.legend(fontsize=7)
            ax_lr.set_xscale("log")
            ax_lr.set_yscale("log")
            ax_lr.set_xlabel("learning rate")
            ax_lr.set_title(f"{mname}, {oname}: LR grid {_grid_text(r['lrs'])}", fontsize=9)
            ax_lr.legend(fontsize=7)
            dash_overlapping(ax_lr, lr_lines[ax_lr], note=True)
        axes[0].set_ylabel(f"training loss ({spread_text(s['seeds'])})")
        for ax, lines in means.items():  # (sharey: once every panel is drawn)
            dash_overlapping(ax, lines, note=True)
        axes_lr[0].set_ylabel(f"final training loss ({spread_text(s['seeds'])})")
        rep.add_figure(
            f"convergence_{mname}",
            fig,
            caption=f"{mname}: training loss per epoch ({band_text(s['seeds'])})",
        )
        rep.add_figure(
            f"lr_grid_{mname}",
            fig_lr,
            caption=f"{mname}: final training loss against LR (an LR where a seed's loss turned "
            "NaN/Inf is left out; one whose loss grew huge but stayed finite is drawn, far above "
            "the rest); the best LR is bracketed when the curve rises again on both sides of it; "
            "bars: ±1 std over seeds, within their range.",
        )
    table = [{k: v for k, v in r.items() if k != "final train loss per seed"} for r in rows]
    rep.add_table(
        "Convergence by input preprocessing",
        table,
        caption=f"epochs to loss ≤ {TARGET}: the first epoch at which the training loss "
        "(each epoch's average), averaged over the seeds at the best LR, is at most "
        f"{TARGET} (a single seed may reach it later or not at all); final train loss and "
        "test acc: mean ± std over seeds.",
    )
    signs = [
        {
            "inputs": pname,
            "cond": condition_number(prep),
            "cond_raw": condition_number(prep, centred=False),
            **gradient_sign_coherence(prep),
        }
        for pname, prep in preps.items()
    ]
    rep.add_table(
        "Why: gradient rows of one sign (linear softmax layer, SGD lr 0.1, batch 32, 200 steps)",
        [
            {
                "inputs": r["inputs"],
                "input covariance: condition number": f"{r['cond']:.3g}",
                "second moment of [x, 1]: condition number": f"{r['cond_raw']:.3g}",
                "one example: rows of one sign": f"{r['per_example']:.1%}",
                "batch of 32: rows of one sign": f"{r['per_batch']:.1%}",
            }
            for r in signs
        ],
        caption="a row is unit j's weight gradient ∂L/∂W_j; 'of one sign': all its non-zero "
        "entries share a sign, so the step moves all of the unit's weights the same way (the "
        "zig-zag constraint). For one example the row is δ_j·x: of one sign exactly when the "
        "example's non-zero inputs are; a batch sum of rows with δ_j of both signs can escape. "
        f"The condition number λ_max/λ_min of the training inputs' covariance (directions with "
        f"any variance) is 1 for perfectly whitened inputs (whitening ε = {WHITEN_EPSILON:g}); "
        "the covariance ignores the inputs' mean, so raw and mean-subtracted inputs share it: "
        "the uncentred second moment of [x, 1] (the curvature of a linear layer with a bias) "
        "shows what the mean costs.",
    )
    edges = [r for r in rows if r["best LR bracketed"] != "yes"]
    rep.add_text(
        f"**{len(edges)} of {len(rows)} best LRs sit at the edge of their grid**: "
        + ", ".join(
            f"{r['model']} {r['optimizer']} {r['inputs']} (lr {r['best lr']:g})" for r in edges
        )  # fmt: skip
        + ". For these the optimum was not bracketed: a wider grid may give a lower loss, and "
        "comparisons involving them are not between tuned optimizers."
        if edges
        else f"Every best LR ({len(rows)} cells) lies inside its grid (bracketed)."
    )
    claims = _claims(best, list(models), s["seeds"])
    rep.add_table("Expected (literature) vs measured", claims)
    settings = {
        "quick": quick,
        "seeds": s["seeds"],
        "epochs": epochs,
        "models": list(models),
        "inputs": list(preps),
        "lr_grids": {k: lrs for k, (_, lrs) in optims.items()},
    }
    atomic_write_text(
        root / "results.json",
        json.dumps(
            {"settings": settings, "rows": rows, "claims": claims, "gradient_signs": signs},
            indent=1,
        ),
    )
    rep.write(include_standard=False)  # (last: results.json is written before it)
    return root


def _edge_cells(best: dict[tuple[str, str, str], dict[str, Any]], keys: list[tuple]) -> str:
    """``"SGD raw (lr 100), ..."``: the cells of ``keys`` whose best LR is at a grid edge."""
    return ", ".join(
        f"{o} {p} (lr {best[(m, o, p)]['lr']:g})" for m, o, p in keys if best[(m, o, p)]["edge"]
    )


def _edge_note(best: dict[tuple[str, str, str], dict[str, Any]], keys: list[tuple]) -> str:
    at = _edge_cells(best, keys)
    return f"; best LR at a grid edge for {at}: not tuned" if at else ""


def _tuned(
    verdict: str,
    best: dict[tuple[str, str, str], dict[str, Any]],
    keys: list[tuple],
    worse: list,
    better: list,
) -> str:
    """``verdict`` with the grid-edge note of ``keys``; a confirmation is inconclusive when a
    cell the claim says is worse (``worse``) had its best LR at a grid edge, and a contradiction
    when a cell it says is better (``better``) had: a better LR there could flip it (as the
    optimizers studies judge an untuned comparison)."""
    for measured, cells in ((CONFIRMED, worse), (CONTRADICTED, better)):
        untuned = _edge_cells(best, cells)
        if verdict == measured and untuned:
            edge = f"best LR at a grid edge for {untuned}"
            return f"inconclusive (not tuned: {edge}; measured: {measured})"
    return verdict + _edge_note(best, keys)


def _claims(
    best: dict[tuple[str, str, str], dict[str, Any]], models: list[str], n_seeds: int
) -> list[dict[str, str]]:
    """The claims table: literature's expectation, the measurement and its verdict. A claim
    whose cells were not run is listed as not tested."""
    out = []

    def have(m: str, *keys: tuple[str, str]) -> bool:
        return all((m, o, p) in best for o, p in keys)

    def losses(m: str, o: str, p: str) -> list[float]:
        return best[(m, o, p)]["losses"]

    def mean(vals: list[float]) -> str:
        return _pm(vals, 4)

    for m in models:
        for claim, expected, (lo, hi) in (
            ("zero-centering speeds convergence",
             "mean-subtracted reaches a lower loss than raw in the same epochs (CS231n: "
             "all-positive inputs force zig-zag updates)", (MEAN, RAW)),
            ("standardizing helps further", "standardized < mean-subtracted (better "
             "conditioned first layer)", (STD, MEAN)),
            ("whitening helps further", "PCA-whitened < standardized (decorrelated inputs: "
             "better conditioned still)", (PCA, STD)),
        ):  # fmt: skip
            row = {"claim": f"{m}, SGD: {claim}", "literature": expected}
            if not have(m, ("SGD", lo), ("SGD", hi)):
                missing = [p for p in (lo, hi) if (m, "SGD", p) not in best]
                row |= {"measured": f"not run: {', '.join(missing)}", "verdict": NOT_TESTED}
            else:
                verdict, detail = lower_than(losses(m, "SGD", lo), losses(m, "SGD", hi))
                row["measured"] = (
                    f"{hi} {mean(losses(m, 'SGD', hi))} vs {lo} "
                    f"{mean(losses(m, 'SGD', lo))}; {detail}"
                )
                cells = [(m, "SGD", lo), (m, "SGD", hi)]
                row["verdict"] = _tuned(
                    verdict, best, cells, worse=[(m, "SGD", hi)], better=[(m, "SGD", lo)]
                )
            out.append(row)
        row = {
            "claim": f"{m}: Adam is less sensitive to preprocessing than SGD",
            "literature": "raw/standardized final-loss ratio closer to 1 for Adam "
            "(per-coordinate scaling, Kingma & Ba 2015)",
        }
        keys = [(m, o, p) for o in ("SGD", "Adam") for p in (RAW, STD)]
        if not all(k in best for k in keys):
            missing = sorted({f"{o} {p}" for mm, o, p in keys if (mm, o, p) not in best})
            row |= {"measured": f"not run: {', '.join(missing)}", "verdict": NOT_TESTED}
        else:
            verdict, r_sgd, r_adam, detail = less_sensitive(
                (losses(m, "SGD", RAW), losses(m, "SGD", STD)),
                (losses(m, "Adam", RAW), losses(m, "Adam", STD)),
            )
            row["measured"] = (
                f"raw/standardized (geometric mean over {n_seeds} seed{'s' * (n_seeds > 1)}): "
                f"SGD {_times(r_sgd)}, Adam {_times(r_adam)}; {detail}"
            )
            row["verdict"] = _tuned(verdict, best, keys, worse=keys, better=keys)  # (any cell)
        out.append(row)
    return out
