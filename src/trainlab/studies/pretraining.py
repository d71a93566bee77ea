"""Study ``pretraining``: does unsupervised pre-training help, and when?

Random init vs DBN (RBMs, CD-1, layer by layer; Hinton et al. 2006) vs stacked denoising
autoencoders (Vincent et al. 2008) as the starting point of supervised fine-tuning, for sigmoid
and ReLU MLPs of depth 3-5 (hidden layers), with 1%, 10% and 100% of the training labels of
``digits`` and ``mnist1d`` (full mode; quick mode runs ``digits`` only). The label subsets are
stratified, at least one per class, and drawn per seed (so the spread over seeds includes which
examples got labels); a seed's three methods fine-tune on the same subset. Pre-training always
sees every training input, without labels.

Inputs must lie in [0, 1] for the Bernoulli RBMs of the DBN and the SDAE's cross-entropy
reconstruction. ``digits`` already does (trainlab scales it to [0, 1]) and is used as loaded;
``mnist1d`` signals are real-valued, so they are min-max scaled per feature with the training
split's min and max, ``x' = (x - min_train) / (max_train - min_train)`` (a constant feature
maps to 0), and val/test are clipped to [0, 1] afterwards (:func:`scale_unit`). The same scaled
data feeds pre-training and fine-tuning.

Literature (Erhan, Bengio, Courville, Manzagol, Vincent & Bengio 2010, "Why does unsupervised
pre-training help deep learning?"): pre-training acts as a regularizer; it helps most for deep
sigmoid networks and when labels are few, and the advantage grows with depth. With ReLU units
and a variance-preserving init (He et al. 2015) the gap narrows (Glorot, Bordes & Bengio 2011).

Protocol: per cell (activation, depth, label fraction) and seed, one population of the three
methods' models is fine-tuned by trainlab's trainer (Adam, lr 3e-3, batch 32, at least a fixed
number of steps whatever the label fraction, rounded up to whole epochs, so that small-label
cells are not under-trained: 150-164 steps in quick mode; the table states each cell's count;
small label sets are tiled to at least 320 rows per epoch, which keeps the per-epoch evaluation
cost bounded); each model's init and data order come from its own method and seed only;
random init is Xavier-uniform for sigmoid and He-normal for ReLU; pre-trained nets copy the
stack's weights into ``fc{i}`` and draw the output layer Xavier-uniform; a model stopped for
NaN/Inf counts as test accuracy 0 (as in the other studies). The "gap" of the last claim is the
size of the gain, ``|gain|``, whatever its sign. Each seed pre-trains
its own DBN and SDAE. Reported: test accuracy, mean ± sample std (ddof=1) over seeds, per cell.

Pre-training: DBN with CD-1, lr 0.1, momentum 0.5, batch 10, 30 passes per layer (20 quick);
SDAE with 25% masking noise, Adam 1e-3, batch 32, 15 passes per layer (5 quick).

Quick mode (CI, <= 90 s on 2 cores; 12.5 s measured): depth 3 only, width 64, 3 seeds, at
least 150 fine-tuning steps.

Measured, ``mnist1d`` alone in full mode (5 seeds, width 128, 605 steps with 1% of the labels
(36: shared out by class size) and 678 with all of them, CPU, 2 cores shared with other work,
433 s wall, 2026-12-01; ``SETTINGS["full"]["datasets"] = ["mnist1d"]`` then
``run(out, device="cpu")``), test accuracy mean over seeds, random / DBN / SDAE:

- sigmoid, depth 3: 1% labels 0.181 / 0.181 / 0.195; 100% 0.299 / 0.280 / 0.302
- sigmoid, depth 5: 1% labels 0.183 / 0.139 / 0.208; 100% 0.294 / 0.130 / 0.302
- relu, depth 3: 1% labels 0.154 / 0.100 / 0.147; 100% 0.409 / 0.089 / 0.366
- relu, depth 5: 1% labels 0.152 / 0.100 / 0.146; 100% 0.424 / 0.089 / 0.322

So on ``mnist1d`` pre-training did not help in any cell at depth 5 (mean DBN/SDAE gain at 1%
labels: sigmoid -0.9 ± 1.8, ReLU -2.9 ± 0.5 points; every claim inconclusive), and
DBN-initialised ReLU nets stayed at chance (0.089-0.100, std 0 at 100% labels: every seed
predicts one class) while the training
status was "ok". What the RBM weights do in a ReLU net, measured on ``digits`` (a DBN
64-64-64, CD-1, lr 0.1, momentum 0.5, 20 passes, unrolled with ``activation="relu"``, on the
training inputs):
the RBMs' hidden biases are negative (means -1.1, -1.3, -1.5), so 48% of the first layer's
units are zero on every sample, and the activations' std grows 0.49 -> 1.49 -> 6.6 from layer
to layer (the weights were fitted to sigmoid outputs in [0, 1], not to unbounded ReLU outputs);
as sigmoid nets the same weights give stds 0.17, 0.14, 0.10 and no dead units. Whether that is
what keeps the deeper ``mnist1d`` nets at chance was not traced further. Every net is
weak here (best 0.42, 10 classes); whether 600 steps is too short a budget for ``mnist1d`` was
not checked, so read these as a short-budget measurement, not a verdict.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import UserError
from ..report.stats import sample_std
from . import evidence
from .cells import SHOW_PROGRESS, final_values

__all__ = ["DESCRIPTION", "run", "label_subset", "scale_unit", "setup_text", "EXPECTATION"]

DESCRIPTION = (
    "random init vs DBN vs stacked-DAE pre-training, sigmoid/ReLU MLPs of depth 3-5, "
    "1%/10%/100% of the digits (and, in full mode, mnist1d) labels (Erhan et al. 2010)"
)

EXPECTATION = (
    "Erhan et al. (2010): unsupervised pre-training helps most for deep sigmoid networks and "
    "when labelled data is scarce, and the benefit grows with depth; with ReLU units (Glorot, "
    "Bordes & Bengio 2011: rectifier nets train well without pre-training) and He init (He et "
    "al. 2015) the gap to random initialization narrows."
)

METHODS = ("random", "dbn", "sdae")

#: sizes of the two modes (tests shrink "quick" further)
SETTINGS: dict[str, dict[str, Any]] = {
    "quick": {
        "datasets": ["digits"],
        "depths": [3],
        "width": 64,
        "steps": 150,
        "seeds": 3,
        "dbn_iter": 20,
        "sdae_iter": 5,
    },
    "full": {
        "datasets": ["digits", "mnist1d"],
        "depths": [3, 4, 5],
        "width": 128,
        "steps": 600,
        "seeds": 5,
        "dbn_iter": 30,
        "sdae_iter": 15,
    },
}
RANDOM_INIT = {"sigmoid": "xavier_uniform", "relu": "he_normal"}


FINE_TUNE: dict[str, Any] = {"optimizer": "adam", "lr": 3e-3, "batch": 32}
# lr 0.1, momentum 0.5, 30 passes: on digits (1294 inputs) 10 passes at lr 0.05 left the upper
# RBMs' weights below 0.05 and their units nearly constant (measured), which a deep sigmoid
# net cannot fine-tune; with these settings every layer's units vary (std ~0.1)
DBN_PARAMS: dict[str, Any] = {"learning_rate": 0.1, "momentum": 0.5, "batch_size": 10}
SDAE_PARAMS: dict[str, Any] = {"corruption": 0.25, "learning_rate": 1e-3, "batch_size": 32}


def setup_text(quick: bool, seed_list: list[int], fractions: list[float]) -> str:
    """What ran, written from :data:`SETTINGS`; in quick mode also what the full study runs
    that this one did not."""
    cfg = SETTINGS["quick" if quick else "full"]
    n = len(seed_list)
    text = (
        f"## Set-up (what ran)\nMode: **{'quick' if quick else 'full'}**. Data: "
        f"{', '.join(cfg['datasets'])} (inputs in [0, 1]); MLPs of depth "
        f"{', '.join(str(d) for d in cfg['depths'])} (hidden layers) × width {cfg['width']}, "
        f"sigmoid and ReLU; {', '.join(f'{f * 100:g}%' for f in fractions)} of the training "
        f"labels (stratified; pre-training sees every training input); {n} "
        f"seed{'s' if n != 1 else ''} per cell, each pre-training its own stacks. Random init: "
        f"{RANDOM_INIT['sigmoid']} (sigmoid), {RANDOM_INIT['relu']} (ReLU). DBN: CD-1, lr "
        f"{DBN_PARAMS['learning_rate']:g}, momentum {DBN_PARAMS['momentum']:g}, batch "
        f"{DBN_PARAMS['batch_size']}, {cfg['dbn_iter']} passes per layer; SDAE: "
        f"{SDAE_PARAMS['corruption']:.0%} masking noise, Adam {SDAE_PARAMS['learning_rate']:g}, "
        f"batch {SDAE_PARAMS['batch_size']}, {cfg['sdae_iter']} passes per layer. Fine-tuning: "
        f"{FINE_TUNE['optimizer'].capitalize()} lr {FINE_TUNE['lr']:g}, batch "
        f"{FINE_TUNE['batch']}, at least {cfg['steps']} steps whatever the label fraction "
        "(whole epochs; each cell's count is in the table); label subsets drawn per seed, the "
        "same for a seed's three methods."
    )
    if not quick:
        return text
    full = SETTINGS["full"]
    left = [f"{d} (not run)" for d in full["datasets"] if d not in cfg["datasets"]]
    left += [f"depth {d}" for d in full["depths"] if d not in cfg["depths"]]
    for key, what in (
        ("width", "width"),
        ("steps", "fine-tuning steps"),
        ("dbn_iter", "DBN passes per layer"),
        ("sdae_iter", "SDAE passes per layer"),
    ):
        if cfg[key] != full[key]:
            left.append(f"{what} {full[key]} (ran {cfg[key]})")  # fmt: skip
    if n < full["seeds"]:
        left.append(f"{full['seeds']} seeds (ran {n})")
    if left:
        text += " **Quick mode leaves out** " + "; ".join(left) + "."
    return text


def label_subset(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a stratified ``fraction`` of ``y``, seeded: ``round(fraction · N)`` labels
    shared out by class size (largest remainder, as scikit-learn's stratified split), at least
    one per class. (Rounding per class instead gave 10 labels, 0.77%, for "1%" of digits'
    1294: ~130 per class, round(1.3) = 1 each.)"""
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    share = round(fraction * len(y)) * counts / len(y)  # (C,) sums to round(fraction · N)
    n = np.floor(share).astype(np.int64)
    left = int(round(share.sum())) - int(n.sum())
    n[np.argsort(-(share - n), kind="stable")[:left]] += 1  # the largest remainders
    n = np.clip(n, 1, counts)
    idx = [rng.permutation(np.flatnonzero(y == c))[:k] for c, k in zip(classes, n, strict=True)]
    return np.sort(np.concatenate(idx))


def scale_unit(ds: Any) -> Any:
    """``ds`` with inputs in [0, 1]: per-feature min-max scaling fitted on the training split.

    ``x' = (x - min_train) / (max_train - min_train)`` per feature (a feature constant on the
    training split maps to 0); val and test are clipped to [0, 1] afterwards. A dataset whose
    inputs already lie in [0, 1] on every split is returned unchanged.
    """
    import dataclasses

    splits = (ds.x_train, ds.x_val, ds.x_test)
    if all(x.numel() == 0 or (x.min() >= 0 and x.max() <= 1) for x in splits):
        return ds
    lo = ds.x_train.amin(dim=0, keepdim=True)  # (1, *input_shape)
    span = ds.x_train.amax(dim=0, keepdim=True) - lo  # (1, *input_shape)
    span = torch.where(span > 0, span, torch.ones_like(span))

    def scale(x: torch.Tensor) -> torch.Tensor:
        return ((x - lo) / span).clamp(0.0, 1.0)

    meta = {**ds.meta, "pretraining_scaling": "min-max per feature, fitted on train"}
    return dataclasses.replace(
        ds, x_train=scale(ds.x_train), x_val=scale(ds.x_val), x_test=scale(ds.x_test), meta=meta
    )


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

    dbn = DBN(
        [width] * depth, n_iter=cfg["dbn_iter"], method="cd", random_state=seed, **DBN_PARAMS
    ).fit(x)
    sdae = StackedDenoisingAutoencoder(
        [width] * depth, n_iter=cfg["sdae_iter"], random_state=seed, **SDAE_PARAMS
    ).fit(x)
    return {
        "dbn": dbn.layer_weights(),
        "sdae": [(w, c) for w, c, _ in sdae.layers_],
    }


def _modules(
    stacks: dict[int, dict[str, list]],
    seed: int,
    act: str,
    depth: int,
    width: int,
    n_in: int,
    n_classes: int,
) -> tuple[list[torch.nn.Module], list[str], list[int]]:
    """Seed ``seed``'s three starting points (one per method), their method names, and each
    one's key ``seed_key("pretraining-study", method, seed)``: the seed of its random init (the
    output layer's, for a pre-trained net) and of its data order, so that a model depends on
    its own method and seed only, never on how many seeds run."""
    from .. import init as init_mod
    from .. import models
    from ..pretrain import unroll
    from ..rng import seed_key
    from ..train import float32_default

    mods, keys = [], []
    for method in METHODS:
        key = seed_key("pretraining-study", method, seed)
        gen = torch.Generator().manual_seed(key)
        if method == "random":
            # its default init is overwritten below; float32 whatever the caller's default
            # dtype, as unroll builds the pre-trained nets
            with torch.random.fork_rng(devices=[]), float32_default():
                m = models.create(
                    "mlp",
                    input_shape=(n_in,),
                    num_classes=n_classes,
                    hidden=[width] * depth,
                    activation=act,
                )
            init_mod.apply(m, RANDOM_INIT[act], generator=gen)
        else:
            m = unroll(stacks[seed][method], n_in, n_classes, act, generator=gen)
        mods.append(m)
        keys.append(key)
    return mods, list(METHODS), keys


def _figure(
    rows: list[dict[str, Any]], fractions: list[float], depths: list[int], datasets: list[str]
):
    from ..report.plots import dash_overlapping, subplots

    panels = [(data, act) for data in datasets for act in RANDOM_INIT]  # one row of axes each
    lines: dict[Any, list[Any]] = {}  # each panel's mean lines
    fig, axes = subplots(
        len(panels), len(depths), figsize=(3.6 * len(depths), 3.0 * len(panels)), squeeze=False
    )
    for i, (data, act) in enumerate(panels):
        for j, depth in enumerate(depths):
            ax = axes[i, j]
            for method in METHODS:
                sel = [
                    r
                    for r in rows
                    if r["data"] == data
                    and r["activation"] == act
                    and r["depth"] == depth
                    and r["method"] == method
                ]
                sel.sort(key=lambda r: r["labels"])
                if not sel:
                    continue
                x = [r["labels"] * 100 for r in sel]
                mean = np.array([r["test_acc_mean"] for r in sel])
                std = np.array([r["test_acc_std"] for r in sel])
                bars = ax.errorbar(x, mean, yerr=std, marker="o", capsize=3, label=method)
                lines.setdefault(ax, []).append(bars[0])
            ax.set_xscale("log")
            ax.set_xticks([f * 100 for f in fractions])
            ax.set_xticklabels([f"{f * 100:g}%" for f in fractions])
            ax.set_title(f"{data}, {act}, depth {depth}", fontsize=9)
            ax.set_xlabel("labels used")
            ax.set_ylabel("test accuracy")
    axes[0, 0].legend(fontsize=8)
    for ax, drawn in lines.items():  # (after the legend, which keeps solid copies)
        dash_overlapping(ax, drawn, note=True)
    fig.tight_layout()
    return fig


def _run_dataset(
    data: str,
    cfg: dict[str, Any],
    seed_list: list[int],
    fractions: list[float],
    batch: int,
    device: str,
    rows: list[dict[str, Any]],
    per_model: list[dict[str, Any]],
) -> None:
    """Pre-train and fine-tune every (depth, activation, label fraction) cell of ``data``.

    Appends one row per (cell, method) to ``rows`` and one per model to ``per_model``.
    """
    from ..data import load
    from ..pretrain import fine_tune

    depths, width, steps = cfg["depths"], cfg["width"], cfg["steps"]
    ds = scale_unit(load(data, seed=0))  # inputs in [0, 1] for the RBMs and the SDAE
    n_in = int(np.prod(ds.input_shape))
    x_all = ds.x_train.reshape(len(ds.x_train), -1).numpy().astype(np.float64)  # (N, D)
    y_all = ds.y_train.numpy()
    for depth in depths:
        t0 = time.perf_counter()
        stacks = {s: _pretrained(x_all, depth, width, s, cfg) for s in seed_list}
        t_pre = time.perf_counter() - t0
        for act in RANDOM_INIT:
            for frac in fractions:
                accs: dict[str, list[float]] = {m: [] for m in METHODS}
                n_steps = set()
                for s in seed_list:  # each seed labels its own subset; its 3 methods share it
                    idx = label_subset(y_all, frac, seed=s)
                    sub = _subset(ds, idx, min_rows=10 * batch)
                    epochs = max(1, math.ceil(steps / math.ceil(len(sub.x_train) / batch)))
                    n_steps.add(epochs * math.ceil(len(sub.x_train) / batch))
                    mods, labels, orders = _modules(
                        stacks, s, act, depth, width, n_in, ds.num_classes
                    )
                    summary = fine_tune(
                        mods,
                        sub,
                        seeds=orders,
                        epochs=epochs,
                        lr=FINE_TUNE["lr"],
                        optimizer=FINE_TUNE["optimizer"],
                        batch_size=batch,
                        device=device,
                        name=f"pretraining-{data}-{act}-d{depth}-{frac}-s{s}",
                        progress=SHOW_PROGRESS.get(),
                    )
                    for m, label in zip(summary["models"], labels, strict=True):
                        # a model stopped for NaN/Inf counts as accuracy 0 (cells.final_values)
                        acc = final_values([m], "test_acc")[0]
                        accs[label].append(acc)
                        per_model.append(
                            {
                                "data": data,
                                "activation": act,
                                "depth": depth,
                                "labels": frac,
                                "n_labels": int(len(idx)),
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
                            "data": data,
                            "activation": act,
                            "depth": depth,
                            "labels": frac,
                            "n_labels": int(len(idx)),  # the same for every seed (stratified)
                            "fine_tune_steps": max(n_steps),  # also the same for every seed
                            "method": method,
                            "test_acc_mean": float(a.mean()),
                            "test_acc_std": sample_std(a.tolist()),  # (exactly 0 if equal)
                            "n": int(len(a)),
                            "pretrain_s_per_depth": t_pre,
                        }
                    )


def _gain(rows: list[dict[str, Any]], data: str, act: str, depth: int, frac: float):
    """Mean gain of pre-training over random init in one cell, ``(DBN + SDAE)/2 − random``,
    and its noise: ``(gain, cells)`` with ``cells`` the ``(weighted std, n)`` of each mean for
    :func:`evidence.welch` (accuracy units)."""
    cell = {
        r["method"]: r
        for r in rows
        if (r["data"], r["activation"], r["depth"], r["labels"]) == (data, act, depth, frac)
    }
    gain = (cell["dbn"]["test_acc_mean"] + cell["sdae"]["test_acc_mean"]) / 2
    gain -= cell["random"]["test_acc_mean"]
    weights = {"dbn": 0.5, "sdae": 0.5, "random": 1.0}
    return float(gain), [(w * cell[m]["test_acc_std"], cell[m]["n"]) for m, w in weights.items()]


def _given_it_helps(verdict: str, helps: str) -> str:
    """A claim about the size of pre-training's benefit (``verdict``) is confirmed only if
    there is one (``helps``, the verdict of "pre-training helps"): a loss that shrinks (-6
    points with all labels, -3.5 with few) is no benefit that grows."""
    if verdict != evidence.CONFIRMED or helps == evidence.CONFIRMED:
        return verdict
    if helps == evidence.CONTRADICTED:
        return f"{evidence.CONTRADICTED}: pre-training hurts here (the claim above)"
    if helps == evidence.INCONCLUSIVE:
        return "inconclusive (the gain itself is within seed noise: the claim above)"
    return helps  # not judged


def _findings(
    rows: list[dict[str, Any]], datasets: list[str], depths: list[int], fractions: list[float]
) -> tuple[list[str], list[str]]:
    """Measured statements per dataset, and one verdict per claim of :data:`EXPECTATION`
    (each difference judged against seed noise by :func:`evidence.judge`), a sentence each."""
    findings, verdicts, _ = _claims(rows, datasets, depths, fractions)
    return findings, verdicts


def _claims(
    rows: list[dict[str, Any]], datasets: list[str], depths: list[int], fractions: list[float]
) -> tuple[list[str], list[str], list[dict[str, str]]]:
    """:func:`_findings`, and the same claims as the report's table rows (``data``, ``claim``,
    ``detail``, ``verdict``: the verdict's leading word(s), what
    :func:`trainlab.studies.claims_summary` counts)."""
    d_max, d_min, few = max(depths), min(depths), fractions[0]

    def pts(gain: float, cells: list[tuple[float, int]]) -> str:
        if not math.isfinite(gain):
            return "no finite gain (diverged models)"
        if min(n for _, n in cells) < 2:  # one seed: no spread was measured
            return f"{gain * 100:+.1f} points"
        se, _ = evidence.welch(cells)
        return f"{gain * 100:+.1f} ± {se * 100:.1f} points"

    spread = "" if min(r["n"] for r in rows) < 2 else " (± standard error over seeds)"

    def noise(*cells: list[tuple[float, int]]) -> tuple[float, float]:
        """Welch's ``(se, dof)`` of a difference of these cells' mean gains."""
        return evidence.welch([c for cs in cells for c in cs])

    def judge(diff: float, *cells: list[tuple[float, int]]) -> str:
        return evidence.judge(diff, *noise(*cells))

    def bound(*cells: list[tuple[float, int]]) -> str:
        """``; 95% bound ±x points (Welch dof d)``: what the judged difference must exceed
        (:func:`evidence.bound_text`); nothing where a cell diverged."""
        se, dof = noise(*cells)
        if math.isnan(se) or math.isnan(dof):
            return ""
        return "; " + evidence.bound_text(se, dof, lambda x: f"{x * 100:.1f} points")

    findings: list[str] = []
    verdicts: list[str] = []
    table: list[dict[str, str]] = []
    for data in datasets:
        for act in RANDOM_INIT:
            for frac in (few, 1.0):
                by_depth = ", ".join(
                    f"depth {d}: {pts(*_gain(rows, data, act, d, frac))}" for d in depths
                )
                findings.append(
                    f"{data}, {act}, {frac * 100:g}% of the labels: mean gain of pre-training "
                    f"(DBN, SDAE) over random init{spread}, by depth: "
                    f"{by_depth}"
                )
        sig, sig_c = _gain(rows, data, "sigmoid", d_max, few)
        sig_all, sig_all_c = _gain(rows, data, "sigmoid", d_max, 1.0)
        relu, relu_c = _gain(rows, data, "relu", d_max, few)
        helps = judge(sig, sig_c)
        claims = [  # (claim with what was measured, verdict)
            (
                f"pre-training helps deep sigmoid nets ({pts(sig, sig_c)} at depth {d_max}, "
                f"{few * 100:g}% labels{bound(sig_c)})",
                helps,
            ),
            (
                f"it helps most when labels are scarce ({pts(sig, sig_c)} at {few * 100:g}% vs "
                f"{pts(sig_all, sig_all_c)} with all labels, sigmoid, depth {d_max}"
                f"{bound(sig_c, sig_all_c)})",
                _given_it_helps(judge(sig - sig_all, sig_c, sig_all_c), helps),
            ),
        ]
        if len(depths) > 1:
            shallow, shallow_c = _gain(rows, data, "sigmoid", d_min, few)
            claims.append((
                f"its benefit grows with depth ({pts(shallow, shallow_c)} at depth {d_min} vs "
                f"{pts(sig, sig_c)} at depth {d_max}{bound(sig_c, shallow_c)})",
                _given_it_helps(judge(sig - shallow, sig_c, shallow_c), helps),
            ))  # fmt: skip
        else:
            claims.append(("its benefit grows with depth", f"not tested (one depth, {d_max})"))
        # the gap is the gain's size, whichever its sign (mnist1d measured negative gains)
        narrows = judge(abs(sig) - abs(relu), sig_c, relu_c)
        side = math.copysign(1.0, sig)  # both gains significant, on either side of zero
        reverses = (
            judge(side * sig, sig_c) == evidence.CONFIRMED
            and judge(-side * relu, relu_c) == evidence.CONFIRMED
        )
        if reverses:
            # a gap that shrinks through zero is mixed; one that grows, reversed; one whose
            # size is within seed noise, said as such, with the reversal beside it
            flip = f"pre-training {'hurts' if sig > 0 else 'helps'} the ReLU nets"
            sizes = f"{abs(sig) * 100:.1f} -> {abs(relu) * 100:.1f} points"
            if narrows == evidence.CONFIRMED:
                narrows = f"mixed: the gap narrows ({sizes}) but reverses ({flip})"
            elif narrows == evidence.CONTRADICTED:
                narrows = f"contradicted: it reverses ({flip}) and grows ({sizes})"
            else:
                narrows = f"{narrows} on the gap's size ({sizes}); it reverses ({flip})"
        claims.append((
            f"with ReLU and He init the gap narrows ({pts(relu, relu_c)} ReLU vs "
            f"{pts(sig, sig_c)} sigmoid, depth {d_max}, {few * 100:g}% labels"
            f"{bound(sig_c, relu_c)})",
            narrows,
        ))  # fmt: skip
        verdicts += [f"on {data}, {claim}: {verdict}" for claim, verdict in claims]
        table += [
            {"data": data, "claim": claim, **_verdict_parts(verdict)} for claim, verdict in claims
        ]
    return findings, verdicts, table


#: the leading words of a claim's verdict, the report's verdict column
VERDICT_WORDS = ("confirmed", "contradicted", "inconclusive", "mixed", "not tested", "not judged")


def _verdict_parts(verdict: str) -> dict[str, str]:
    """``{"detail": ..., "verdict": ...}``: ``"mixed: the gap narrows (…)"`` -> verdict
    ``mixed``, detail ``the gap narrows (…)``; ``"inconclusive (within seed noise)"`` ->
    ``inconclusive``, ``within seed noise``."""
    word = next((w for w in VERDICT_WORDS if verdict.startswith(w)), None)
    if word is None:
        return {"detail": "", "verdict": verdict}
    detail = verdict[len(word) :].lstrip(":").strip()
    if detail.startswith("(") and detail.endswith(")") and detail.count("(") == 1:
        detail = detail[1:-1]  # "(one depth, 3)" -> "one depth, 3"
    return {"detail": detail, "verdict": word}


def run(
    out: Path,
    *,
    quick: bool = False,
    seeds: int | list[int] | None = None,
    device: str = "auto",
    renumber: bool = False,
) -> Path:
    """Run the study and write ``out`` (summary.json, report.html with table and figure)."""
    from ..report import Report
    from . import claim_study_dir

    cfg = SETTINGS["quick" if quick else "full"]
    if isinstance(seeds, int):
        seed_list = list(range(seeds))
    elif seeds is None:
        seed_list = list(range(cfg["seeds"]))
    else:
        seed_list = [int(s) for s in seeds]
    if not seed_list:
        raise UserError("the pretraining study needs at least one seed")
    datasets, depths = list(cfg["datasets"]), cfg["depths"]
    width, steps = cfg["width"], cfg["steps"]
    fractions = [0.01, 0.1, 1.0]
    batch = FINE_TUNE["batch"]
    run_dir = claim_study_dir(out, renumber=renumber)  # nothing is checkpointed here
    t_start = time.perf_counter()

    rows: list[dict[str, Any]] = []
    per_model: list[dict[str, Any]] = []
    for data in datasets:
        _run_dataset(data, cfg, seed_list, fractions, batch, device, rows, per_model)

    findings, verdicts, claims_table = _claims(rows, datasets, depths, fractions)
    verdict = "Measured, claim by claim: " + "; ".join(verdicts)
    run_dir.write_json(
        "summary.json",
        {
            "study": "pretraining",
            "quick": quick,
            "datasets": datasets,
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
    rep.add_text(setup_text(quick, seed_list, fractions))
    rep.add_text(f"## Expected\n{EXPECTATION}")
    rep.add_text("## Measured\n" + "\n".join(f"- {f}" for f in findings))
    rep.add_table("Claims: expected (Erhan et al. 2010) vs measured", claims_table)
    over = "mean ± sample std (ddof=1) over seeds" if len(seed_list) > 1 else "one seed"
    rep.add_table(
        f"Test accuracy ({over})",
        [
            {
                "data": r["data"],
                "activation": r["activation"],
                "depth": r["depth"],
                "labels": f"{r['labels'] * 100:g}% ({r['n_labels']})",
                "method": r["method"],
                "test acc": f"{r['test_acc_mean']:.4f}"
                + (f" ± {r['test_acc_std']:.4f}" if r["n"] > 1 else ""),
                "steps": r["fine_tune_steps"],
                "n": r["n"],
            }
            for r in rows
        ],
    )
    rep.add_figure(
        "accuracy_vs_labels",
        _figure(rows, fractions, depths, datasets),
        f"test accuracy ({over}) against the fraction of labels used; random: "
        f"{RANDOM_INIT['sigmoid']} for sigmoid, {RANDOM_INIT['relu']} for ReLU",
    )
    rep.write(include_standard=False)  # (last: summary.json is written before it)
    return run_dir.path
