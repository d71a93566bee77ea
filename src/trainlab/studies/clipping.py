"""Study ``clipping``: exploding gradients in a deep net with a large init, with and without
gradient clipping (Pascanu, Mikolov & Bengio 2013).

A deep MLP (8 hidden layers of 64, on the 64 pixels of ``digits``) initialized with N(0, 0.3²)
— 1.7× He's σ = √(2/64) = 0.177, i.e. 2.9× He's variance — sends activations up layer by layer
with ReLU (each layer multiplies their second moment by n·σ²/2 = 2.9) and saturates tanh. The
gradients at the start are huge, and SGD with momentum at an ordinary LR takes a step that
sends the loss to Inf/NaN. Clipping each model's global gradient norm to ``max_norm``
(``trainlab.optim.clip_grad_norm_``, per model) bounds the first steps, so the same LRs train;
clipping by value (each element to ±c) does the same more crudely. Each (activation, clipping)
cell is one population of LR grid × seeds; the trainer stops a model whose loss turns NaN and
the others go on.

What the literature expects: without clipping, large LRs diverge (Pascanu et al. 2013: the
"cliffs" of the loss surface launch the parameters far away); with norm clipping, the runs that
diverged train instead. At a small LR, clipping slows training (every step is cut to max_norm
while the gradients are huge). With tanh, the large init saturates units (CS231n): gradients
vanish rather than explode, so fewer runs blow up to NaN — which does not mean they train: the
tanh claim prints their test accuracy without and with norm clipping beside the NaN counts.

Every claim's verdict is computed from the run: divergence claims from the counts of NaN
models (confirmed when every model behaves as claimed, contradicted when none does, "partly"
in between; the tanh claim also needs fewer NaN models than ReLU), the accuracy claim by
Welch's t-test over every seed, a model that went NaN counting as accuracy 0
(:mod:`trainlab.studies.evidence`).
Quick mode (CI): ReLU only, no clipping vs norm clipping, 2 seeds, 5 epochs; the report lists
what it leaves out.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..errors import UserError
from ..report.stats import sample_std
from . import band_text, spread_text
from .cells import by_override, cpu_threads, curve_and_band, final_values, pm, train_cell
from .evidence import CONFIRMED, CONTRADICTED, delta_text, judge, welch

__all__ = ["DESCRIPTION", "run", "CLIPPING", "intro_text", "divergence_verdict"]

DESCRIPTION = (
    "exploding gradients in a deep ReLU/tanh MLP with a large init: divergence without "
    "clipping, training with per-model norm or value clipping"
)

DEPTH, WIDTH = 8, 64  # hidden layers, units per layer (digits has 64 inputs: fan_in 64 for all)
INIT_STD = 0.3
CLIPPING: dict[str, dict[str, Any]] = {
    "no clipping": {},
    "clip norm 1": {"clip_norm": 1.0},
    "clip value 0.1": {"clip_value": 0.1},
}
QUICK_CLIPPING = ("no clipping", "clip norm 1")
LRS = [1e-3, 1e-2, 1e-1]
BIG_LR = 1e-2  # LRs at or above this count as "large" for the divergence claims
QUICK_EPOCHS, FULL_EPOCHS = 5, 20
QUICK_SEEDS, FULL_SEEDS = 2, 5
ACTIVATIONS, QUICK_ACTIVATIONS = ("relu", "tanh"), ("relu",)


def intro_text() -> str:
    """The study's set-up paragraph, its numbers computed from the constants above."""
    he = math.sqrt(2 / WIDTH)
    gain = WIDTH * INIT_STD**2 / 2
    return (
        f"A deep MLP ({DEPTH} hidden layers of {WIDTH}, on the 64 pixels of digits) initialized "
        f"with N(0, {INIT_STD:g}²) — {INIT_STD / he:.1f}× He's σ = √(2/{WIDTH}) = {he:.3f}, i.e. "
        f"{gain:.1f}× He's variance — sends activations up layer by layer with ReLU (each layer "
        f"multiplies their second moment by n·σ²/2 = {gain:.1f}) and saturates tanh. The "
        "gradients at the start are huge, and SGD with momentum 0.9 at an ordinary LR takes a "
        "step that sends the loss to Inf/NaN. Clipping each model's global gradient norm to "
        "max_norm (`trainlab.optim.clip_grad_norm_`, per model) bounds every step it cuts (the "
        "table's 'steps clipped': how often it acted), so the same LRs train; clipping by "
        "value (each element to ±c) does the same more crudely. "
        "Each (activation, clipping) cell is one population of LR grid × seeds; the trainer "
        "stops a model whose loss turns NaN and the others go on."
    )


def _setup_text(quick: bool, acts: list[str], clips: list[str], n_seeds: int, epochs: int) -> str:
    """What ran, and in quick mode what the full study runs that this one did not."""
    text = (
        f"## Set-up (what ran)\nMode: **{'quick' if quick else 'full'}**. Activations "
        f"{', '.join(acts)}; {', '.join(clips)}; LRs {', '.join(f'{x:g}' for x in LRS)}; "
        f"{n_seeds} seed{'s' if n_seeds != 1 else ''} per LR, {epochs} epochs, batch 32, "
        "digits (inputs in [0, 1])."
    )
    left = [f"{a} (not trained)" for a in ACTIVATIONS if a not in acts]
    left += [f"{c} (not run)" for c in CLIPPING if c not in clips]
    if n_seeds < FULL_SEEDS:
        left.append(f"the full mode's {FULL_SEEDS} seeds (ran {n_seeds})")
    if epochs < FULL_EPOCHS:
        left.append(f"the full mode's {FULL_EPOCHS} epochs (ran {epochs})")
    if quick and left:
        text += " **Quick mode leaves out** " + "; ".join(left) + "; the claims about them "
        text += "are marked as not tested."
    return text


def divergence_verdict(n_nan: int, n: int, *, expect_nan: bool) -> str:
    """Verdict on "these ``n`` models diverge" (``expect_nan``) or "none of them does":
    confirmed when all ``n`` behave as claimed, contradicted when none does, else partly."""
    if n == 0:
        return "not tested (no models)"
    hits = n_nan if expect_nan else n - n_nan
    if hits == n:
        return CONFIRMED
    if hits == 0:
        return CONTRADICTED
    return f"partly ({hits} of {n} as claimed)"


def _first_epoch_grad_norm(cell: dict[str, Any], indices: list[int]) -> str:
    """Mean epoch-1 gradient norm of the models ``indices``, naming the non-finite ones (a model
    that diverged in epoch 1 has an infinite or NaN mean norm: the case this study is about)."""
    vals = [r["grad_norm"] for r in cell["metrics"] if r["epoch"] == 1 and r["model"] in indices]
    finite = [v for v in vals if v is not None and math.isfinite(v)]
    if not vals:
        return "—"
    bad = f"{len(vals) - len(finite)}/{len(vals)} non-finite"
    if not finite:
        return bad
    mean = f"{sum(finite) / len(finite):.3g}"
    return mean if len(finite) == len(vals) else f"{mean} ({bad})"


def _clipped_steps(cell: dict[str, Any], indices: list[int]) -> str:
    """How often clipping acted on the models ``indices``: the mean over their epochs of the
    fraction of steps whose gradient was clipped (``clip_frac``), and epoch 1's; — unclipped."""
    rows = [r for r in cell["metrics"] if r["model"] in indices and r.get("clip_frac") is not None]
    if not rows:
        return "—"
    from ..report.tables import fmt_share

    first = [r["clip_frac"] for r in rows if r["epoch"] == 1]
    mean = fmt_share(sum(r["clip_frac"] for r in rows) / len(rows))
    return f"{mean} (epoch 1: {fmt_share(sum(first) / len(first))})" if first else mean


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
    root = claim_study_dir(out, renumber=renumber).path  # the populations live in cells/
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    acts = list(QUICK_ACTIVATIONS if quick else ACTIVATIONS)
    clips = {k: CLIPPING[k] for k in (QUICK_CLIPPING if quick else CLIPPING)}
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    with cpu_threads(device):
        for act in acts:
            for cname, ccfg in clips.items():
                raw = {
                    "name": f"clip-{act}-{cname}",
                    "data": {"name": "digits"},
                    "model": {"name": "mlp", "depth": DEPTH, "width": WIDTH, "activation": act},
                    "init": {"scheme": "normal", "std": INIT_STD},
                    "optim": {"name": "sgd", "momentum": 0.9},
                    "train": {"epochs": epochs, "batch_size": 32, **ccfg},
                    "population": {"seeds": list(range(n_seeds)), "grid": {"optim.lr": LRS}},
                }
                slug = f"{act}-{cname.replace(' ', '_')}"
                cells[(act, cname)] = train_cell(raw, root / "cells" / slug, device)

    rep = Report(root, title="Gradient clipping and exploding gradients")
    rep.add_text(intro_text())
    rep.add_text(_setup_text(quick, acts, list(clips), n_seeds, epochs))
    rows = []
    for act in acts:
        fig = Figure(figsize=(11, 4.2))
        axes = fig.subplots(1, len(LRS), sharey=True, squeeze=False)[0]
        means: dict[Any, list[Any]] = {ax: [] for ax in axes}
        for ax, lr in zip(axes, LRS, strict=True):
            for cname in clips:
                cell = cells[(act, cname)]
                mods = by_override(cell, "optim.lr")[lr]
                n_nan = sum(m.get("status") == "nan" for m in mods)
                ok = [m for m in mods if m.get("status") != "nan"]
                steps = [m.get("stopped_step") for m in mods if m.get("status") == "nan"]
                ep, mu, lo, hi = curve_and_band(cell, [m["index"] for m in ok])
                (line,) = ax.plot(ep, mu, label=f"{cname} ({n_nan}/{len(mods)} NaN)")
                means[ax].append(line)
                ax.fill_between(ep, lo, hi,
                                color=line.get_color(), alpha=0.2)  # fmt: skip
                gn = _first_epoch_grad_norm(cell, [m["index"] for m in mods])
                accs = final_values(ok, "test_acc")
                rows.append(
                    {
                        "activation": act,
                        "lr": lr,
                        "clipping": cname,
                        "NaN models": f"{n_nan}/{len(mods)}",
                        "NaN at step": ", ".join(str(s) for s in steps if s is not None) or "—",
                        "grad norm, epoch 1": gn,
                        "steps clipped": _clipped_steps(cell, [m["index"] for m in mods]),
                        "test acc (finite models)": pm(accs),
                        "n_nan": n_nan,
                        "n_models": len(mods),
                        "test_acc": accs,
                    }
                )
            ax.set_yscale("log")
            ax.set_xlabel("epoch")
            ax.set_title(f"{act}, lr {lr:g}")
            ax.legend(fontsize=7)
        axes[0].set_ylabel(f"training loss ({spread_text(n_seeds, over='finite seeds')})")
        for ax, lines in means.items():  # (an lr at which clipping never acts: one curve)
            dash_overlapping(ax, lines, note=True)
        band = band_text(n_seeds, "the seeds that stayed finite")
        rep.add_figure(f"clipping_{act}", fig, caption=f"{act}: training loss with and without "
                       f"clipping; {band}")  # fmt: skip
    hidden = ("n_nan", "n_models", "test_acc")
    rep.add_table(
        "Divergence and accuracy per LR and clipping",
        [{k: v for k, v in r.items() if k not in hidden} for r in rows],
    )
    rep.add_text(
        "Note: the grad-norm column is the mean over the first epoch of each model's global "
        "gradient norm *before* clipping (what the trainer records)."
    )
    claims = _claims(rows, acts, list(clips), quick)
    rep.add_table(
        "Expected (literature) vs measured",
        claims,
        caption="divergence claims: confirmed when every model behaves as claimed, contradicted "
        "when none does; the accuracy claim: Welch's t-test over seeds (95%)",
    )
    atomic_write_text(
        root / "results.json",
        json.dumps(
            {
                "settings": {
                    "quick": quick,
                    "seeds": n_seeds,
                    "epochs": epochs,
                    "activations": acts,
                    "clipping": clips,
                    "lrs": LRS,
                    "depth": DEPTH,
                    "width": WIDTH,
                    "init_std": INIT_STD,
                },  # fmt: skip
                "rows": rows,
                "claims": claims,
            },
            indent=1,
            allow_nan=False,
        ),
    )
    rep.write(include_standard=False)  # (last: results.json is written before it)
    return root


def _claims(
    rows: list[dict[str, Any]], acts: list[str], clips: list[str], quick: bool
) -> list[dict[str, str]]:
    """One row per claim: claim, literature, measured, verdict (computed from ``rows``)."""
    untested = "not tested in quick mode" if quick else "not tested in this run"
    out: list[dict[str, str]] = []

    def add(claim: str, literature: str, measured: str, verdict: str) -> None:
        out.append(
            {"claim": claim, "literature": literature, "measured": measured, "verdict": verdict}
        )

    def sel(act: str, c: str, lrs: list[float]) -> list[dict[str, Any]]:
        return [r for r in rows if (r["activation"], r["clipping"]) == (act, c) and r["lr"] in lrs]

    def count(rs: list[dict[str, Any]]) -> tuple[int, int, str]:
        n_nan, n = sum(r["n_nan"] for r in rs), sum(r["n_models"] for r in rs)
        per = ", ".join(f"lr {r['lr']:g}: {r['n_nan']}/{r['n_models']}" for r in rs)
        return n_nan, n, f"{n_nan} of {n} models NaN ({per})"

    big = [lr for lr in LRS if lr >= BIG_LR]
    no_nan, no_n, no_text = count(sel("relu", "no clipping", big))
    add(f"ReLU, large init, LR ≥ {BIG_LR:g}: unclipped runs diverge",
        "NaN/Inf without clipping (Pascanu et al. 2013)", f"no clipping: {no_text}",
        divergence_verdict(no_nan, no_n, expect_nan=True))  # fmt: skip
    # judged at the LRs where unclipped runs diverged: an LR where nothing diverged without
    # clipping is no evidence that clipping prevents divergence
    diverged = [r["lr"] for r in sel("relu", "no clipping", big) if r["n_nan"]]
    for c in [c for c in CLIPPING if c != "no clipping"]:
        claim = f"…and {c} prevents it (ReLU, LR ≥ {BIG_LR:g})"
        lit = "no NaN with clipping (Pascanu et al. 2013)"
        if c not in clips:
            add(claim, lit, "not run", untested)
            continue
        if no_nan == 0:
            add(claim, lit, f"{c}: {count(sel('relu', c, big))[2]}",
                "not tested (nothing diverged without clipping)")  # fmt: skip
            continue
        n_nan, n, text = count(sel("relu", c, diverged))
        verdict = divergence_verdict(n_nan, n, expect_nan=False)
        add(claim, lit, f"{c}, at the LRs where unclipped runs diverged: {text}", verdict)

    small = min(LRS)
    claim = f"small LR ({small:g}): norm clipping slows training (ReLU)"
    lit = "lower test accuracy after the same epochs (steps cut to max_norm)"
    if small >= BIG_LR:
        add(claim, lit, f"no LR below {BIG_LR:g} in the grid", untested)
    else:
        (plain,), (clipped,) = (
            sel("relu", "no clipping", [small]),
            sel("relu", "clip norm 1", [small]),
        )
        # every seed, a NaN model at accuracy 0 (final_values' convention): a configuration
        # that mostly blew up is not judged on its survivors
        a0, a1 = (r["test_acc"] + [0.0] * r["n_nan"] for r in (plain, clipped))
        if not a0 or not a1:
            add(claim, lit, "no model in a cell", "not judged (no models)")
        else:
            diff = sum(a0) / len(a0) - sum(a1) / len(a1)
            se, dof = welch([(sample_std(a0), len(a0)), (sample_std(a1), len(a1))])
            delta = delta_text(diff, se, dof, "{:.3f}".format)
            nans = plain["n_nan"] + clipped["n_nan"]
            said = f" ({nans} NaN model{'s' * (nans != 1)} as 0)" if nans else ""
            add(claim, lit, f"test acc unclipped {pm(a0)} vs clipped {pm(a1)}{said}; "
                f"unclipped − clipped: {delta}", judge(diff, se, dof))  # fmt: skip

    claim = "tanh, large init: saturation, not explosion"
    lit = "fewer NaN than ReLU without clipping: gradients vanish rather than explode (CS231n)"
    if "tanh" not in acts:
        add(claim, lit, "not run", untested)
    else:
        t_nan, t_n, t_text = count(sel("tanh", "no clipping", LRS))
        r_nan, _, r_text = count(sel("relu", "no clipping", LRS))
        # as the other divergence claims: confirmed only if no tanh model diverged (and fewer
        # than ReLU's), partly in between
        verdict = divergence_verdict(t_nan, t_n, expect_nan=False)
        if r_nan == 0 and t_nan == 0:
            verdict = "not tested (no model diverged without clipping)"
        elif t_nan >= r_nan:  # (tanh diverging where ReLU did not included)
            verdict = CONTRADICTED

        # finite is not trained: a saturated net stays at chance where clipping rescues it
        def acc(c: str) -> str:
            return pm([a for r in sel("tanh", c, big) for a in r["test_acc"] + [0.0] * r["n_nan"]])

        accs = "; ".join(f"{c} {acc(c)}" for c in ("no clipping", "clip norm 1") if c in clips)
        add(claim, lit, f"no clipping: tanh {t_text}; ReLU {r_text}; tanh test acc at LR ≥ "
            f"{BIG_LR:g} (a NaN model as 0): {accs}", verdict)  # fmt: skip
    return out
