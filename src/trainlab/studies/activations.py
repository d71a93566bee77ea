"""Study ``activations``: the CS231n (lecture 7) activation-statistics experiment.

A stack of 7 fully connected layers of width 4096 (quick mode: 512) is fed a batch of
standard-normal inputs; no training. For tanh and ReLU and four weight initializations —
N(0, 0.01²), N(0, 0.05²), Xavier (Glorot & Bengio 2010) and He (He et al. 2015) — it records the
per-layer mean, standard deviation and histogram of the activations, over many seeds.

What the literature says (DESIGN.md, "Science to reproduce"):

- tanh, N(0, 0.01²): activations shrink toward zero layer by layer (the gradients with them).
- tanh, N(0, 0.05²): pre-activations are large and tanh saturates at ±1 (zero local gradient).
- tanh, Xavier: the activations stay spread over the whole layer stack.
- ReLU: a layer multiplies the second moment of its input by n·σ²/2 (n = fan_in): Xavier
  (σ² = 2/(n+n) = 1/n) halves the variance each layer; He (σ² = 2/n) keeps it; N(0, 0.01²)
  collapses (0.2 per layer at n = 4096) and N(0, 0.05²) explodes (5.1 per layer).

What decides the regime is σ·√n, so quick mode (n = 512) scales the two fixed standard
deviations by √(4096/n) to keep σ·√n equal to the full experiment's; Xavier and He adapt by
themselves. The verdict checks are fixed before measuring: "collapses" = layer-7 std below
0.1 × layer-1 std; "saturates" = more than half of layer 7 with |a| > 0.9; "spread" = layer-7
std above 0.1 and under 10% of layer 7 with |a| > 0.9; ReLU: the per-layer variance ratio
(geometric mean over layers 1→7) within 15% of n·σ²/2.

Measured (full mode, width 4096, 10 seeds, CPU, 100 s): all 8 checks agree. ReLU variance
ratio per layer: N(0, 0.01²) 0.204 (expected 0.205), N(0, 0.05²) 5.10 (5.12), Xavier 0.498
(0.5), He 0.997 (1); tanh: 0.01 std 0.49 → 0.029, 0.05 saturates (59% with |a| > 0.9),
Xavier 0.63 → 0.27. Quick mode (width 512, 5 seeds) gives the same numbers to 2 digits, ~8 s.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from .. import init as init_mod
from ..devices import autocast_off
from . import claim_study_dir, seeds_text, spread_text

__all__ = ["DESCRIPTION", "run", "measure", "CONFIGS"]

DESCRIPTION = (
    "CS231n: per-layer activation histograms of a 7-layer tanh/ReLU net under N(0,0.01²), "
    "N(0,0.05²), Xavier and He init (no training; many seeds)"
)

FULL_WIDTH = 4096
DEPTH = 7
SATURATION = 0.9  # |tanh| above this counts as saturated
ACTIVATIONS = ("tanh", "relu")

#: (label, scheme, scheme kwargs at width 4096, std scaled with width?)
CONFIGS: list[tuple[str, str, dict[str, float], bool]] = [
    ("N(0, 0.01²)", "normal", {"std": 0.01}, True),
    ("N(0, 0.05²)", "normal", {"std": 0.05}, True),
    ("Xavier", "xavier_normal", {}, False),
    ("He", "he_normal", {}, False),
]

_EXPECTED = {
    ("tanh", "N(0, 0.01²)"): ("collapses", "activations shrink toward 0 layer by layer (CS231n)"),
    ("tanh", "N(0, 0.05²)"): ("saturates", "tanh saturates at ±1 (CS231n)"),
    ("tanh", "Xavier"): ("spread", "activations stay spread (Glorot & Bengio 2010)"),
    ("tanh", "He"): ("spread_above", "spread, larger than Xavier (σ·√n = √2 > 1)"),
    ("relu", "N(0, 0.01²)"): ("ratio", "variance × n·σ²/2 = 0.20 per layer: collapses"),
    ("relu", "N(0, 0.05²)"): ("ratio", "variance × n·σ²/2 = 5.12 per layer: explodes"),
    ("relu", "Xavier"): ("ratio", "variance halves each layer (He et al. 2015)"),
    ("relu", "He"): ("ratio", "variance stays constant (He et al. 2015)"),
}


def _activation(name: str):
    """``torch.tanh`` or ``torch.relu``; any other name is refused (never measured as ReLU)."""
    if name not in ACTIVATIONS:
        from ..errors import unknown_name

        raise unknown_name("activation", name, ACTIVATIONS)
    return torch.tanh if name == "tanh" else torch.relu


@autocast_off()  # (in a caller's torch.autocast: float32, as outside it)
def measure(
    activation: str,
    scheme: str,
    kwargs: dict[str, float],
    *,
    width: int,
    seeds: list[int],
    depth: int = DEPTH,
    batch: int = 64,
    device: torch.device | str = "cpu",
    bins: int = 50,
    max_bytes: int = 1 << 29,
) -> dict[str, Any]:
    """Forward one batch per seed through ``depth`` layers ``a_l = act(W_l a_{l-1})`` (no bias).

    Seed ``s`` owns a generator seeded with ``s``: first its input ``x ~ N(0, 1)`` ``(B, n)``,
    then its weights layer by layer from :func:`trainlab.init.init_tensor`, so its numbers do
    not depend on the other seeds; the seeds run as one batched matmul (in chunks of at most
    ``max_bytes`` of weights). Returns per-layer ``(S,)`` lists ``mean``, ``std``,
    ``second_moment``, ``saturated`` (fraction |a| > 0.9), ``zero`` (fraction a == 0), and
    ``hist``, per layer, for the first seed (``{"edges", "counts"}``). Every layer's histogram
    spans the same range, the min..max over all layers of that seed, so that a collapse (or an
    explosion) shows as a narrowing (or widening) from layer to layer. For ReLU the histograms
    leave out the exact zeros (about half the units, counted in ``zero``): their spike at 0
    would flatten the positive part, where a collapse or explosion shows.
    """
    act = _activation(activation)
    chunk = max(1, max_bytes // (4 * width * width))
    keys = ("mean", "std", "second_moment", "saturated", "zero")
    stats: dict[str, list[torch.Tensor]] = {k: [] for k in keys}  # per chunk: (depth, S_c)
    first_seed: list[torch.Tensor] = []  # seed 0's activations per layer, for the histograms
    for c0 in range(0, len(seeds), chunk):
        gens = [torch.Generator().manual_seed(s) for s in seeds[c0 : c0 + chunk]]
        x = torch.stack([torch.randn(batch, width, generator=g) for g in gens]).to(device)
        rows: dict[str, list[torch.Tensor]] = {k: [] for k in keys}
        for _ in range(depth):
            w = torch.stack(
                [
                    init_mod.init_tensor(torch.empty(width, width), scheme, generator=g, **kwargs)
                    for g in gens
                ]  # fmt: skip
            ).to(device)  # (S, n, n), rows = outputs
            x = act(torch.bmm(x, w.transpose(1, 2)))  # (S, B, n)
            flat = x.flatten(1)  # (S, B*n)
            var, mean = torch.var_mean(flat, dim=1)
            rows["mean"].append(mean)
            rows["std"].append(var.sqrt())
            rows["second_moment"].append(flat.pow(2).mean(1))
            rows["saturated"].append((flat.abs() > SATURATION).float().mean(1))
            rows["zero"].append((flat == 0).float().mean(1))
            if c0 == 0:
                first_seed.append(flat[0].float().cpu())
        for k in keys:
            stats[k].append(torch.stack(rows[k]))
    out: dict[str, Any] = {k: torch.cat(v, dim=1).cpu().tolist() for k, v in stats.items()}
    finite = [a[torch.isfinite(a) & ((a != 0) if activation == "relu" else True)]
              for a in first_seed]  # fmt: skip
    lo = min((float(a.min()) for a in finite if a.numel()), default=0.0)
    hi = max((float(a.max()) for a in finite if a.numel()), default=0.0)
    hi = max(hi, lo + 1e-12)
    edges = torch.linspace(lo, hi, bins + 1).tolist()
    out["hist"] = [
        {"edges": edges, "counts": torch.histc(a, bins=bins, min=lo, max=hi).tolist()}
        for a in finite
    ]
    return out


def _ratio(stds: list[float]) -> float:
    """Geometric-mean per-layer variance ratio from layer 1 to the last layer."""
    if stds[0] <= 0 or stds[-1] <= 0:
        return 0.0
    return (stds[-1] / stds[0]) ** (2.0 / (len(stds) - 1))


def _verdict(
    activation: str,
    label: str,
    std: list[float],
    sat: list[float],
    sigma2n: float | None,
    above: list[float] | None = None,
) -> tuple[str, str, bool]:
    """(expected, measured, agrees) for one configuration, from the seed-averaged statistics;
    ``above``: the per-layer std a "spread, larger than …" configuration must exceed at the
    last layer (tanh He against tanh Xavier)."""
    kind, text = _EXPECTED[(activation, label)]
    q = _ratio(std)
    last = f"std {std[0]:.3g} → {std[-1]:.3g}"
    if activation == "tanh":
        last += f", |a|>0.9: {100 * sat[-1]:.0f}%"
    if kind == "collapses":
        ratio = f"layer {len(std)}/1 = {std[-1] / std[0]:.3f}"
        return text, f"{last} ({ratio})", std[-1] < 0.1 * std[0]
    if kind == "saturates":
        return text, last, sat[-1] > 0.5
    if kind == "spread":
        return text, last, std[-1] > 0.1 and sat[-1] < 0.1
    if kind == "spread_above":
        assert above is not None
        return (
            text,
            f"{last}; Xavier's layer {len(above)}: {above[-1]:.3g}",
            std[-1] > 0.1 and sat[-1] < 0.1 and std[-1] > above[-1],
        )
    assert sigma2n is not None
    expect = sigma2n / 2
    return (
        f"{text}; ratio n·σ²/2 = {expect:.3g}",
        f"variance ratio per layer {q:.3g}; {last}",
        abs(q - expect) <= 0.15 * expect,
    )


def _label(label: str, kwargs: dict[str, float], scaled: bool, width: int) -> str:
    """The init's label with the std actually used: quick mode's scaled fixed stds read
    ``N(0, 0.0283²) = 0.01·√(4096/512)``, not the full run's ``N(0, 0.01²)``."""
    if not scaled or width == FULL_WIDTH:
        return label
    nominal = label.removeprefix("N(0, ").removesuffix("²)")
    return f"N(0, {kwargs['std']:.3g}²) = {nominal}·√({FULL_WIDTH}/{width})"


def _sigma2n(scheme: str, kwargs: dict[str, float], width: int) -> float:
    w = torch.empty(width, width)
    std = init_mod.expected_std(scheme, w, **kwargs)
    assert std is not None
    return std**2 * width


def run(
    out: str | Path,
    *,
    quick: bool = False,
    seeds: int | None = None,
    device: str = "auto",
    renumber: bool = False,
) -> Path:
    """Run the study into the new folder ``out``; returns its path (``report.html`` inside)."""

    from ..devices import resolve_device
    from ..report import Report, aggregate

    dev = resolve_device(device)
    width = 512 if quick else FULL_WIDTH
    n_seeds = seeds if seeds is not None else (5 if quick else 10)
    if n_seeds < 1:
        from ..errors import UserError

        raise UserError(f"--seeds must be at least 1, got {n_seeds}")
    batch = 128 if quick else 64  # 65k activations per layer either way
    scale = math.sqrt(FULL_WIDTH / width)
    run_dir = claim_study_dir(out, renumber=renumber)  # nothing is trained here

    results: list[dict[str, Any]] = []
    for activation in ACTIVATIONS:
        for label, scheme, kw, scaled in CONFIGS:
            kwargs = {k: v * scale for k, v in kw.items()} if scaled else dict(kw)
            m = measure(
                activation,
                scheme,
                kwargs,
                width=width,
                seeds=list(range(n_seeds)),
                batch=batch,
                device=dev,
            )
            # (|a| > 0.9 is no saturation for ReLU, which has no upper limit: tanh only)
            keys = ("mean", "std", "zero") + (("saturated",) if activation == "tanh" else ())
            stats = {key: [aggregate(m[key][layer]) for layer in range(DEPTH)] for key in keys}
            std_mean = [a["mean"] for a in stats["std"]]
            sat_mean = [a["mean"] for a in stats.get("saturated", [])]
            s2n = _sigma2n(scheme, kwargs, width) if activation == "relu" else None
            above = None
            if _EXPECTED[(activation, label)][0] == "spread_above":  # Xavier ran before He
                xavier = next(r for r in results if (r["activation"], r["init_config"]) ==
                              (activation, "Xavier"))  # fmt: skip
                above = [a["mean"] for a in xavier["stats"]["std"]]
            expected, measured, agrees = _verdict(activation, label, std_mean, sat_mean, s2n, above)
            results.append(
                {
                    "activation": activation,
                    "init": _label(label, kwargs, scaled, width),  # the std actually used
                    "init_config": label,  # the configuration's name (at width 4096)
                    "scheme": scheme,
                    "kwargs": kwargs,
                    "sigma_sqrt_n": math.sqrt(_sigma2n(scheme, kwargs, width)),
                    "stats": stats,
                    "hist_seed0": m["hist"],
                    "expected": expected,
                    "measured": measured,
                    "agrees": agrees,
                }
            )

    run_dir.write_json(
        "results.json",
        {
            "width": width,
            "depth": DEPTH,
            "batch": batch,
            "seeds": list(range(n_seeds)),
            "device": str(dev),
            "quick": quick,
            "results": results,
        },
    )

    rep = Report(run_dir.path, title="Study: activation statistics at initialization (CS231n)")
    rep.add_text(
        f"## Set-up\n{DEPTH} layers of width {width}, no bias, a batch of {batch} inputs "
        f"x ~ N(0, 1), {seeds_text(n_seeds)} (seeds 0..{n_seeds - 1}), device {dev}. "
        + (
            f"Quick mode: the fixed stds 0.01 and 0.05 are scaled by √(4096/{width}) = "
            f"{scale:.3g} to {0.01 * scale:.3g} and {0.05 * scale:.3g}, so that σ·√n, which "
            "decides the regime, equals the full run's (width 4096); tables and figures name "
            "the stds used. "
            if quick
            else ""
        )
        + "Xavier is `xavier_normal` (Var = 2/(fan_in+fan_out)), He is `he_normal` "
        "(Var = 2/fan_in)."
    )
    rep.add_table(
        "Expected (literature) vs measured",
        [
            {
                "activation": r["activation"],
                "init": r["init"],
                "σ·√n": r["sigma_sqrt_n"],
                "expected": r["expected"],
                f"measured ({spread_text(n_seeds, 'mean')})": r["measured"],
                "agrees": "yes" if r["agrees"] else "NO",
            }
            for r in results
        ],
    )
    rep.add_figure(
        "activation_histograms",
        _histogram_grid(results),
        caption=f"Activation histograms per layer (columns) for each activation × init (rows), "
        f"seed 0; x: activation value, y: count (each panel scaled to its own peak); titles give "
        f"the layer's mean and std ({spread_text(n_seeds, 'mean')}), and for ReLU the fraction "
        f"of exact zeros, which the ReLU histograms leave out (their spike at 0 would hide the "
        f"rest; it is about one half under every init: with zero biases, a ReLU layer's zeros "
        f"do not depend on the weights' scale). The 7 panels of a row share one x range (the "
        f"min..max over that row's layers), "
        f"so a collapse narrows and an explosion widens from left to right. Width {width}.",
    )
    over = spread_text(n_seeds, over=f"{n_seeds} seeds")
    rep.add_figure(
        "activation_std_per_layer",
        _std_figure(results),
        caption=f"Std of the activations per layer, {over} (log scale).",
    )
    for key, title in (("std", "Per-layer activation std"), ("mean", "Per-layer activation mean")):
        rep.add_table(
            f"{title} ({over})",
            [
                {"activation": r["activation"], "init": r["init"]}
                | {
                    f"layer {i + 1}": f"{a['mean']:.3g}"
                    + (f" ± {a['std']:.2g}" if a["n"] > 1 else "")
                    for i, a in enumerate(r["stats"][key])
                }
                for r in results
            ],
        )
    rep.add_table(
        "Fraction saturated (|a| > 0.9, tanh) / zero (ReLU) at the last layer",
        [
            {
                "activation": r["activation"],
                "init": r["init"],
                "saturated": r["stats"]["saturated"][-1]["mean"]
                if r["activation"] == "tanh"
                else None,  # shown as —: |a| > 0.9 is no saturation for ReLU
                "zero": r["stats"]["zero"][-1]["mean"] if r["activation"] == "relu" else None,
            }
            for r in results
        ],
        caption=f"{spread_text(n_seeds, 'Mean').capitalize()}; — where the column does not apply "
        "to the activation.",
    )
    rep.write(include_standard=False)  # (last: results.json is written before it)
    return run_dir.path


def _histogram_grid(results: list[dict[str, Any]]) -> Any:
    from matplotlib.ticker import MaxNLocator

    from ..report.plots import subplots

    rows = len(results)
    fig, axes = subplots(rows, DEPTH, figsize=(2.0 * DEPTH, 1.55 * rows), squeeze=False)
    for i, r in enumerate(results):
        for layer in range(DEPTH):
            ax = axes[i][layer]
            h = r["hist_seed0"][layer]
            edges, counts = h["edges"], h["counts"]
            ax.stairs(counts, edges, fill=True, color="C0" if r["activation"] == "tanh" else "C1")
            m, s = r["stats"]["mean"][layer]["mean"], r["stats"]["std"][layer]["mean"]
            title = f"L{layer + 1} μ={m:.2g} σ={s:.2g}"
            if r["activation"] == "relu":
                title += f"\n{100 * r['stats']['zero'][layer]['mean']:.0f}% zeros, not drawn"
            ax.set_title(title, fontsize=7 if r["activation"] == "tanh" else 6)
            ax.tick_params(labelsize=5)
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.set_yticks([])
            if layer == 0:
                init_label = r["init"].replace(" = ", "\n= ")  # the scaled std's origin below
                ax.set_ylabel(f"{r['activation']}\n{init_label}", fontsize=6)
    fig.supxlabel("activation value", fontsize=8)
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.05, top=0.97, wspace=0.15, hspace=0.9)
    return fig


def _std_figure(results: list[dict[str, Any]]) -> Any:
    from ..report.plots import subplots

    fig, axes = subplots(1, 2, figsize=(10, 4))
    layers = list(range(1, DEPTH + 1))
    for ax, activation in zip(axes, ACTIVATIONS, strict=True):
        for j, r in enumerate(x for x in results if x["activation"] == activation):
            mean = [a["mean"] for a in r["stats"]["std"]]
            sd = [a["std"] or 0.0 for a in r["stats"]["std"]]
            lo = [max(m - s, 1e-30) for m, s in zip(mean, sd, strict=True)]
            hi = [m + s for m, s in zip(mean, sd, strict=True)]
            ax.plot(layers, [max(m, 1e-30) for m in mean], marker="o", color=f"C{j}",
                    label=r["init"])  # fmt: skip
            ax.fill_between(layers, lo, hi, color=f"C{j}", alpha=0.2)
        ax.set_yscale("log")
        ax.set_xlabel("layer")
        ax.set_ylabel("activation std")
        ax.set_title(activation)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
