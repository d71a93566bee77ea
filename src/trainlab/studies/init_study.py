"""Study ``init``: does the network train at all? Initialization schemes at depth 4 and 30.

Training, as populations with several seeds per cell, of MLPs initialized with zeros, a
constant, N(0, 0.01²), N(0, 1), Xavier, He, orthogonal and LSUV, on ``mnist1d`` and ``digits``
(standardized), at depths 4 and 30 (hidden layers), with ReLU and tanh, all with the same
optimizer: SGD with momentum 0.9 (He et al. 2015 trained with it), batch 32.

It tests three claims from the literature and states each next to its measurement:

(a) **zeros/constant never break symmetry**: every hidden unit of a layer computes the same
    function and receives the same gradient, so the units stay identical however long one
    trains. Measured as the largest spread (max − min over the units of a layer, per input
    weight, bias included; and per test sample for the units' outputs), against the same number
    for random inits. It holds when every finite zeros/constant model's spread is at most 1e-6
    (the matmul's rounding) and every finite random-init model's weight spread is above 1e-3
    (the measure tells units apart). A model that overflowed counts against the claim if its
    finite entries differ by more than 1e-6.
(b) **depth 30, ReLU, SGD+momentum: Xavier stalls, He trains** (He et al. 2015, Fig. 3): with
    Var(W) = 1/n a ReLU layer halves the signal's second moment (Xavier), so 30 layers shrink
    it by 2⁻³⁰ and the gradients vanish; Var(W) = 2/n (He) keeps it. "Stalls": every seed's
    final training loss stays within 2% of ln 10 (chance); "trains": every seed's final training
    loss is below 0.8·ln 10 and its test accuracy above 2× chance. A seed that diverged (NaN)
    neither trains nor stalls.
(c) **LSUV trains at depth 30** (Mishkin & Matas 2016), same criterion as "trains".

Quick mode (CI): ``digits`` and ReLU only; depth 4 with every scheme (claim a, 10 epochs) and
depth 30 with Xavier, He and LSUV (claims b, c), 3 seeds, width 64. It does not test mnist1d,
tanh (nor the literature's tanh expectations), or depth 30 for the other five schemes; the
report says so.

Measured (full mode, width 128, 5 seeds, 20 epochs, CPU with 1 thread, 30 min on a 2-core machine
busy with other work): (a) all 80 zeros/constant models end with hidden units identical to the bit
(spread 0; random inits ≥ 0.071; counted before the claim left out models stopped for NaN/Inf at
step 0, as constant 0.1 at depth 30 is on digits at width 128); (b) mnist1d depth 30 ReLU: Xavier
train loss 2.303, test acc 0.089 (chance); He 0.912 / 0.443 ± 0.032; digits: Xavier 2.303 / 0.102,
He 0.174 / 0.902 ± 0.045; (c) LSUV (a random calibration batch per model) mnist1d 0.825 / 0.474 ±
0.028, digits 0.056 / 0.944 ± 0.014.
Quick mode (``trainlab study init --quick``, CPU, 2 cores, 30 s): digits depth 30 ReLU test
accuracy He 0.845 ± 0.027, LSUV 0.909 ± 0.018, Xavier 0.101 ± 0.002 (LSUV calibrates each
model on a random batch of 256 training inputs of its own). A seed's result depends on the
CPU's kernels and on its slot in the population, so on ``--seeds`` too (torch's fused SGD
rounds a tensor's vectorized body and its tail differently; at depth 30 a difference in the
last bit grows over the epochs: LSUV seed 0 0.891 with 3 seeds, 0.875 alone): on an AMD EPYC
machine the same command measured He 0.807 ± 0.065, LSUV 0.773 ± 0.128, Xavier 0.101 ± 0.002,
within the seed noise of the numbers above.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..devices import autocast_off
from ..errors import UserError
from ..threads import torch_threads
from . import claim_study_dir, seeds_text
from .cells import SHOW_PROGRESS

__all__ = ["DESCRIPTION", "run", "unit_symmetry", "quick_note", "SCHEMES"]

DESCRIPTION = (
    "init schemes (zeros, constant, N(0,.01²), N(0,1), Xavier, He, orthogonal, LSUV) at depth 4 "
    "and 30: symmetry, Xavier stalls vs He trains (He et al. 2015), LSUV"
)

#: label -> the ``init.*`` overrides of that population variant
SCHEMES: dict[str, dict[str, Any]] = {
    "zeros": {"init.scheme": "zeros"},
    "constant 0.1": {"init.scheme": "constant", "init.value": 0.1},
    "N(0, 0.01²)": {"init.scheme": "normal", "init.std": 0.01},
    "N(0, 1)": {"init.scheme": "normal", "init.std": 1.0},
    "Xavier": {"init.scheme": "xavier_normal"},
    "He": {"init.scheme": "he_normal"},
    "orthogonal": {"init.scheme": "orthogonal"},
    "LSUV": {"init.scheme": "lsuv"},
}
SYMMETRIC = ("zeros", "constant 0.1")
CHANCE_LOSS = math.log(10)
#: the claims' per-seed rules: a seed "stalls" when its final train loss is within STALL_BAND
#: (relative) of chance; it "trains" when its train loss is below TRAIN_LOSS·chance and its
#: test accuracy above TRAIN_ACC (2x chance)
STALL_BAND, TRAIN_LOSS, TRAIN_ACC = 0.02, 0.8, 0.2

#: what the literature expects of each scheme (shown beside the measured table)
LITERATURE: dict[str, str] = {
    "zeros": "symmetric; with ReLU and zero bias the hidden gradients are 0 too: stays at chance",
    "constant 0.1": "symmetric: every layer acts like one unit; deep ReLU stacks overflow",
    "N(0, 0.01²)": "activations shrink layer by layer (CS231n): deep nets stall",
    "N(0, 1)": "activations explode with depth (ReLU) or saturate (tanh) (CS231n)",
    "Xavier": "Var = 2/(fan_in+fan_out): right for tanh (Glorot & Bengio 2010); halves ReLU "
    "variance per layer, so 30-layer ReLU nets stall (He et al. 2015)",
    "He": "Var = 2/fan_in keeps ReLU variance: 30-layer ReLU nets train (He et al. 2015)",
    "orthogonal": "gain 1: norm-preserving for linear nets (Saxe et al. 2014); halves ReLU "
    "variance",
    "LSUV": "unit output variance per layer by construction: deep nets train "
    "(Mishkin & Matas 2016)",
}

# SGD+momentum 0.9, batch 32: lr chosen on digits, depth 30, width 64, 20 epochs, 3 seeds
# (plain torch loop): lr 0.01 -> He 35-44% test acc; 0.003 -> 75-88%; 0.001 -> 76-88%;
# Xavier 10% at every lr. 0.003 reaches it in the fewest epochs.
LR = 0.003
MOMENTUM = 0.9
BATCH = 32
WIDTH, QUICK_WIDTH = 128, 64
SEEDS, QUICK_SEEDS = 5, 3


def _cells(quick: bool) -> list[dict[str, Any]]:
    """The populations to train: one per (dataset, depth, activation)."""
    if quick:
        return [
            {"data": "digits", "depth": 4, "act": "relu", "schemes": list(SCHEMES), "epochs": 10},
            {
                "data": "digits",
                "depth": 30,
                "act": "relu",
                "schemes": ["Xavier", "He", "LSUV"],
                "epochs": 20,
            },
        ]
    return [
        {"data": d, "depth": depth, "act": act, "schemes": list(SCHEMES), "epochs": 20}
        for d in ("mnist1d", "digits")
        for depth in (4, 30)
        for act in ("relu", "tanh")
    ]


def _cell_name(cell: dict[str, Any]) -> str:
    return f"{cell['data']}-depth{cell['depth']}-{cell['act']}"


def _config(cell: dict[str, Any], width: int, seeds: list[int]):
    from ..config import Config

    return Config.model_validate(
        {
            "name": f"init-{_cell_name(cell)}",
            "data": {"name": cell["data"], "preprocess": "standardize"},
            "model": {
                "name": "mlp",
                "depth": cell["depth"],
                "width": width,
                "activation": cell["act"],
            },
            "init": {"scheme": "default", "bias": 0.0},
            "optim": {"name": "sgd", "lr": LR, "momentum": MOMENTUM},
            "train": {"epochs": cell["epochs"], "batch_size": BATCH},
            "population": {
                "seeds": seeds,
                "variants": [SCHEMES[s] for s in cell["schemes"]],
            },
        }
    )


@autocast_off()  # (in a caller's torch.autocast: float32, as outside it)
def unit_symmetry(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """How different the hidden units of each layer are, for a trainlab ``MLP``.

    For every hidden layer ``fc{i}`` (weights ``(n, d)``, bias ``(n,)``) and its activation
    output ``act{i}`` on inputs ``x``: ``weight_diff`` = max over layers and input columns of
    the spread over the units, ``max_j W[j, c] − min_j W[j, c]`` (bias included),
    ``output_diff`` = max over samples of ``max_j h[:, j] − min_j h[:, j]``, and
    ``weight_scale`` = max |W| over the hidden layers (to read the diffs against). Symmetric
    units give a weight diff of 0 and an output diff of 0 up to the matmul kernel's rounding
    (measured on one CPU: 6e-8 at width 5, 2.9e-6 at width 5 with 784 inputs, 0 at the
    study's widths 64 and 128; claim (a) allows 1e-6). Non-finite entries (a model that
    overflowed) are left out of the spreads and ``finite`` is False; a diff with no two finite
    units to compare is NaN.
    """
    outputs: list[torch.Tensor] = []
    names = [n for n, m in model.named_children() if n.startswith("act")]
    hooks = [model.get_submodule(n).register_forward_hook(
        lambda _m, _i, o: outputs.append(o.detach())) for n in names]  # fmt: skip
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()
            model(x)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    w_diff, scale, o_diff, finite = math.nan, 0.0, math.nan, True

    def spread(d: torch.Tensor, units: int) -> float:
        """Max over the other axis of (max − min over axis ``units``) of the finite entries."""
        nonlocal finite
        ok = torch.isfinite(d)
        if not bool(ok.all()):
            finite = False  # an overflowed model: measure what is finite, and say so
        hi = torch.where(ok, d, -math.inf).amax(units)
        lo = torch.where(ok, d, math.inf).amin(units)
        valid = ok.sum(units) >= 2  # at least two finite units to compare
        return float((hi - lo)[valid].max()) if bool(valid.any()) else math.nan

    for name, m in model.named_children():
        if name.startswith("fc") and isinstance(m, nn.Linear):
            w = m.weight.detach()  # (n, d)
            if m.bias is not None:
                w = torch.cat([w, m.bias.detach()[:, None]], dim=1)
            w_diff = _nanmax((w_diff, spread(w, 0)))
            ok = torch.isfinite(w)
            scale = max(scale, float(w.abs()[ok].max()) if bool(ok.any()) else 0.0)
    for h in outputs:  # (B, n)
        o_diff = _nanmax((o_diff, spread(h, 1)))
    return {"weight_diff": w_diff, "output_diff": o_diff, "weight_scale": scale, "finite": finite}


def _nanmax(values: Iterable[float]) -> float:
    """The largest value that is not NaN (NaN: a difference with nothing to compare)."""
    return max((v for v in values if not math.isnan(v)), default=math.nan)


def _stat(values: list[float]) -> dict[str, Any]:
    from ..report import aggregate

    return aggregate(values)


def _fmt(a: dict[str, Any], digits: int = 3) -> str:
    """``mean ± std`` over the seeds; the mean alone for one seed (no spread was measured)."""
    if not a.get("n"):
        return "—"
    if a["n"] == 1 or a.get("std") is None:
        return f"{a['mean']:.{digits}f}"
    return f"{a['mean']:.{digits}f} ± {a['std']:.{digits}f}"


def _symmetry_inputs(cells: list[dict[str, Any]]) -> str:
    """How many test inputs the output spread was measured on (the first 512, or the whole
    test split where it is smaller: digits has 359), per dataset where they differ."""
    counts = {c["data"]: c["symmetry_inputs"] for c in cells}
    if len(set(counts.values())) == 1:
        return str(next(iter(counts.values())))
    return ", ".join(f"{n} ({data})" for data, n in counts.items())


def run(
    out: str | Path,
    *,
    quick: bool = False,
    seeds: int | None = None,
    device: str = "auto",
    renumber: bool = False,
) -> Path:
    """Run the study into the new folder ``out``; returns its path (``report.html`` inside)."""
    from ..data import load as load_data
    from ..devices import resolve_device
    from ..report import Report, build_report
    from ..report.plots import curve_figure
    from ..report.rundata import read_run
    from ..train import train

    dev = resolve_device(device)
    n_seeds = seeds if seeds is not None else (QUICK_SEEDS if quick else SEEDS)
    if n_seeds < 1:
        raise UserError(f"--seeds must be at least 1, got {n_seeds}")
    seed_list = list(range(n_seeds))
    width = QUICK_WIDTH if quick else WIDTH
    root = claim_study_dir(out, renumber=renumber)  # the populations live in cells/<name>/
    # Tiny layers: one intra-op thread is faster on a shared CPU (measured: depth 30, width 64,
    # K=9, batch 32: 18 ms/step with 1 thread vs 300 ms with 2 under load).
    threads = 1 if (quick and dev.type == "cpu") else None

    cells: list[dict[str, Any]] = []
    with torch_threads(threads):
        for cell in _cells(quick):
            name = _cell_name(cell)
            cfg = _config(cell, width, seed_list)
            res = train(
                cfg, out=root.path / "cells" / name, device=dev, progress=SHOW_PROGRESS.get()
            )
            build_report(res.run_dir)
            ds = load_data(cell["data"], preprocess="standardize")
            x = ds.x_test[:512]
            models = []
            for m in res.summary["models"]:
                label = next(k for k in cell["schemes"] if SCHEMES[k] == m["overrides"])
                sym = unit_symmetry(res.model(m["index"]).cpu(), x)
                models.append({**m, "scheme": label, "symmetry": sym})
            cells.append(
                {**cell, "name": name, "run_dir": str(res.run_dir), "models": models,
                 "symmetry_inputs": len(x)}
            )  # fmt: skip

    claims = _claims(cells)
    _print_symmetry(cells)
    root.write_json(
        "results.json",
        {
            "quick": quick,
            "seeds": seed_list,
            "width": width,
            "optimizer": {"name": "sgd", "lr": LR, "momentum": MOMENTUM, "batch_size": BATCH},
            "device": str(dev),
            "cells": cells,
            "claims": claims,
        },
    )

    rep = Report(root.path, title="Study: initialization decides whether a deep net trains")
    rep.add_text(
        f"## Set-up\nMLPs of width {width} (depth = number of hidden layers), inputs "
        f"standardized on the training split, SGD lr {LR} momentum {MOMENTUM}, batch {BATCH}, "
        f"bias 0, {seeds_text(n_seeds)} per scheme (seeds {seed_list[0]}..{seed_list[-1]}), "
        f"device {dev}. Each cell (dataset × depth × activation) is one population; its own "
        "run directory with curves per model is under `cells/`."
        + (f"\n\n{quick_note(width, n_seeds)}" if quick else "")
    )
    rep.add_table(
        "Claims: literature vs measured",
        [
            {
                "claim": c["claim"],
                "expected (literature)": c["expected"],
                "measured": c["measured"],
                "holds": ("yes" if c["holds"] else "NO")
                + (" (one seed)" if c.get("one_seed") else ""),
            }
            for c in claims
        ],
    )
    rep.add_table(
        "What the literature expects of each scheme",
        [{"scheme": k, "expected": v} for k, v in LITERATURE.items()],
    )
    over = "mean ± std over seeds" if n_seeds > 1 else "one seed"
    rep.add_table(
        f"Final accuracy and loss ({over})",
        _final_rows(cells),
        caption=(
            "Models whose loss or gradient became NaN/Inf are counted in 'nan' and left out of "
            "the means."
        ),
    )
    rep.add_table(
        "Symmetry: largest spread over the hidden units of a layer (max over seeds)",
        _symmetry_rows(cells),
        caption="weight Δ: max over hidden layers and input weights of max_j W[j, c] − min_j "
        "W[j, c] (bias included); output Δ: the same for the units' outputs on "
        f"{_symmetry_inputs(cells)} test inputs; |W| max: the weights' scale.",
    )
    rep.add_figure("final_test_acc", _bar_figure(cells), caption="Final test accuracy per scheme "
                   f"and cell: {over}; dots are seeds.")  # fmt: skip
    for cell in cells:
        rd = read_run(cell["run_dir"])
        names, colors = _scheme_styles(rd)
        for metric in ("loss", "acc"):
            fig = curve_figure(rd, metric, names=names, colors=colors)
            if fig is not None:
                fig.suptitle(cell["name"])  # (a slide names its cell: depth 4 or 30, ...)
                rep.add_figure(
                    f"curves_{cell['name']}_{metric}",
                    fig,
                    caption=f"{cell['name']}: {metric} per epoch, "
                    + ("mean ± std band over seeds" if n_seeds > 1 else "one seed")
                    + " per scheme (x: NaN/Inf stop).",
                )
    rep.write(include_standard=False)  # (last: results.json is written before it)
    return root.path


def quick_note(width: int, n_seeds: int) -> str:
    """What the quick mode (its cells, ``width`` and ``n_seeds``) leaves out of the full study,
    derived from :func:`_cells` so that it stays true when the cells change."""
    quick, full = _cells(True), _cells(False)
    parts = []
    for key, what in (("data", "dataset"), ("act", "activation")):
        ran = sorted({c[key] for c in quick})
        missing = sorted({c[key] for c in full} - set(ran))
        if missing:
            parts.append(f"{what} {', '.join(missing)} not tested (only {', '.join(ran)} ran)")
    if any(c["act"] == "tanh" for c in full) and not any(c["act"] == "tanh" for c in quick):
        parts[-1] += ", so the literature's tanh expectations below are not tested here"
    ran_cells = {(c["data"], c["depth"], c["act"]): c for c in quick}
    for c in full:
        q = ran_cells.get((c["data"], c["depth"], c["act"]))
        if q is None:
            continue
        skipped = [s for s in c["schemes"] if s not in q["schemes"]]
        if skipped:
            parts.append(
                f"at depth {c['depth']} only {', '.join(q['schemes'])} ran ("
                f"{', '.join(skipped)} not tested at depth {c['depth']})"
            )
        if q["epochs"] < c["epochs"]:
            parts.append(f"depth {c['depth']} trained {q['epochs']} epochs, not {c['epochs']}")
    if width < WIDTH:
        parts.append(f"width {width}, not {WIDTH}")
    if n_seeds < SEEDS:
        parts.append(f"{seeds_text(n_seeds)}, not {SEEDS}")
    return "**Quick mode** (compared with the full study): " + "; ".join(parts) + "."


def _group(cell: dict[str, Any], scheme: str) -> list[dict[str, Any]]:
    return [m for m in cell["models"] if m["scheme"] == scheme]


def _claims(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    claims = []
    # (a) symmetry, over every cell that has the symmetric schemes
    sym = [m for c in cells for m in c["models"] if m["scheme"] in SYMMETRIC]
    rnd = [m for c in cells for m in c["models"] if m["scheme"] not in SYMMETRIC]
    if sym:
        # a model stopped for NaN/Inf at step 0 kept its init (no update was applied): no
        # evidence that training keeps the units identical; one stopped later trained until then
        stopped = [m for m in sym if m["status"] == "nan"]
        untrained = [m for m in stopped if not m.get("stopped_step")]
        sym = [m for m in sym if not (m["status"] == "nan" and not m.get("stopped_step"))]
        # a model that stayed finite is evidence either way; an overflowed one is evidence only
        # against the claim (its finite entries differ), as its NaN entries compare nothing
        fin = [m["symmetry"] for m in sym if m["symmetry"]["finite"]]
        worst = _nanmax(_nanmax((d["weight_diff"], d["output_diff"])) for d in fin)
        over = [m["symmetry"] for m in sym if not m["symmetry"]["finite"]]
        worst_over = _nanmax(_nanmax((d["weight_diff"], d["output_diff"])) for d in over)
        broken_over = sum(
            _nanmax((d["weight_diff"], d["output_diff"])) > 1e-6 for d in over
        )  # NaN > x is False
        rnd_fin = [m["symmetry"]["weight_diff"] for m in rnd if m["symmetry"]["finite"]]
        least = min(rnd_fin, default=math.nan)
        holds = bool(fin) and worst <= 1e-6 and not broken_over and (not rnd_fin or least > 1e-3)
        overflow = len(over)
        note = ""
        if overflow:
            note = f" ({overflow} overflowed: {broken_over} of them with units that differ"
            note += f" by up to {worst_over:.3g} in their finite entries)" if broken_over else ")"
        if stopped:
            note += f"; {len(stopped)} stopped for NaN/Inf" + (
                f" ({len(untrained)} at step 0, before any update: not counted)"
                if untrained
                else ""
            )
        claims.append(
            {
                "claim": "(a) zeros/constant never break symmetry",
                "expected": "hidden units stay identical: spread 0 over the units (≤ 1e-6, "
                "the matmul's rounding; random inits: > 1e-3)",
                "measured": f"largest spread over the units after training {worst:.3g} over "
                f"{len(fin)} finite zeros/constant models; smallest for a random-init model "
                f"{least:.3g} (the symmetry table gives each scheme's largest over seeds)" + note,
                "holds": bool(holds),
                "max_symmetric_diff": worst,
                "min_random_diff": least,
            }
        )
    deep = [c for c in cells if c["depth"] == 30 and c["act"] == "relu"]
    for cell in deep:
        stats = {}
        for scheme in ("Xavier", "He", "LSUV"):
            ms = [m for m in _group(cell, scheme) if m["status"] != "nan"]
            stats[scheme] = {
                "train_losses": [m["final"]["train_loss"] for m in ms],
                "test_accs": [m["final"]["test_acc"] for m in ms],
                "train_loss": _stat([m["final"]["train_loss"] for m in ms]),
                "test_acc": _stat([m["final"]["test_acc"] for m in ms]),
                "nan": len(_group(cell, scheme)) - len(ms),
            }

        # either verdict needs every seed: a seed that diverged (NaN) neither trains nor stalls,
        # and one that stalled is a counterexample to "trains" (a mean over seeds would let two
        # stalled seeds of three pass on the third's low loss)
        def trains(s: dict[str, Any]) -> bool:
            pairs = list(zip(s["train_losses"], s["test_accs"], strict=True))
            return (
                bool(pairs)
                and not s["nan"]
                and all(tl < TRAIN_LOSS * CHANCE_LOSS and ta > TRAIN_ACC for tl, ta in pairs)
            )

        def stalls(s: dict[str, Any]) -> bool:  # every seed: one that trained is a counterexample
            losses = s["train_losses"]
            return (
                bool(losses)
                and not s["nan"]
                and all(abs(v - CHANCE_LOSS) < STALL_BAND * CHANCE_LOSS for v in losses)
            )

        # the verdicts are per-seed thresholds, but one seed per scheme is an anecdote: say so
        # (the seeds that ran, of the schemes a claim is about; a diverged seed is shown as NaN)
        def one_seed(*schemes: str, cell: dict[str, Any] = cell) -> bool:
            return min(len(_group(cell, s)) for s in schemes) < 2

        def anecdote(one: bool) -> str:
            return "; one seed per scheme: not an average over seeds" if one else ""

        one_b, one_c = one_seed("Xavier", "He"), one_seed("LSUV")

        def show(s: str, stats: dict[str, Any] = stats) -> str:
            x = stats[s]
            return f"{s}: train loss {_fmt(x['train_loss'])}, test acc {_fmt(x['test_acc'])}" + (
                f", {x['nan']} NaN" if x["nan"] else ""
            )

        rule_trains = (  # (the rules of trains() and stalls(), stated beside the verdicts)
            f"trains: every seed's train loss < {TRAIN_LOSS:g}·ln 10 = "
            f"{TRAIN_LOSS * CHANCE_LOSS:.2f} and test acc > {TRAIN_ACC:g} (2× chance)"
        )
        rule_stalls = (
            f"stalls: every seed's final train loss within {STALL_BAND:.0%} of ln 10 "
            f"({(1 - STALL_BAND) * CHANCE_LOSS:.3f}–{(1 + STALL_BAND) * CHANCE_LOSS:.3f})"
        )
        claims.append(
            {
                "claim": f"(b) {cell['name']}: Xavier stalls, He trains",
                "expected": "Xavier: loss stays at ln 10 = 2.303 (chance); He: trains "
                f"(He et al. 2015, Fig. 3); {rule_stalls}; {rule_trains}",
                "measured": f"{show('Xavier')}; {show('He')}{anecdote(one_b)}",
                "holds": stalls(stats["Xavier"]) and trains(stats["He"]),
                "one_seed": one_b,
            }
        )
        claims.append(
            {
                "claim": f"(c) {cell['name']}: LSUV trains",
                "expected": f"trains (Mishkin & Matas 2016); {rule_trains}",
                "measured": show("LSUV") + anecdote(one_c),
                "holds": trains(stats["LSUV"]),
                "one_seed": one_c,
            }
        )
    return claims


def _final_rows(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for cell in cells:
        for scheme in cell["schemes"]:
            group = _group(cell, scheme)
            ok = [m for m in group if m["status"] != "nan"]
            rows.append(
                {
                    "cell": cell["name"],
                    "scheme": scheme,
                    "test acc": _fmt(_stat([m["final"]["test_acc"] for m in ok])),
                    "train loss": _fmt(_stat([m["final"]["train_loss"] for m in ok])),
                    "n": len(group),
                    "nan": len(group) - len(ok),
                }
            )
    return rows


def _symmetry_rows(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for cell in cells:
        for scheme in cell["schemes"]:
            group = _group(cell, scheme)
            rows.append(
                {
                    "cell": cell["name"],
                    "scheme": scheme,
                    "weight Δ": _nanmax(m["symmetry"]["weight_diff"] for m in group),
                    "output Δ": _nanmax(m["symmetry"]["output_diff"] for m in group),
                    "|W| max": max(m["symmetry"]["weight_scale"] for m in group),
                }
            )
    return rows


def _print_symmetry(cells: list[dict[str, Any]]) -> None:
    for row in _symmetry_rows(cells):
        print(
            f"symmetry {row['cell']:<22} {row['scheme']:<12} largest spread over units: "
            f"weights {row['weight Δ']:.3g}, outputs {row['output Δ']:.3g} "
            f"(weight scale {row['|W| max']:.3g})"
        )


def _scheme_color(scheme: str) -> str:
    """A scheme's color, the same in every panel and figure of the study."""
    return f"C{list(SCHEMES).index(scheme) % 10}"


def _scheme_styles(rd: Any) -> tuple[dict[str, str], dict[str, str]]:
    """A cell run's group labels (``init.scheme=normal, init.std=0.01``) -> the schemes' names
    (``N(0, 0.01²)``, as in the tables) and colors."""
    names, colors = {}, {}
    for m in rd.model_results():
        over = m.get("overrides") or {}
        scheme = next((n for n, keys in SCHEMES.items() if keys == over), None)
        if scheme is not None:
            names[m["group"]], colors[m["group"]] = scheme, _scheme_color(scheme)
    return names, colors


def _bar_figure(cells: list[dict[str, Any]]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(6.0, 3.2 * len(cells)), 3.8), layout="constrained")
    axes = fig.subplots(1, len(cells), squeeze=False)[0]
    for ax, cell in zip(axes, cells, strict=True):
        for i, scheme in enumerate(cell["schemes"]):
            accs = [m["final"]["test_acc"] for m in _group(cell, scheme) if m["status"] != "nan"]
            accs = [a for a in accs if a == a]
            if accs:
                a = _stat(accs)
                color = _scheme_color(scheme)
                ax.bar(i, a["mean"], yerr=a["std"] or 0.0, color=color, alpha=0.7)
                ax.plot([i] * len(accs), accs, "k.", ms=3)
        ax.axhline(0.1, color="grey", lw=0.8, ls="--")  # (10 classes: digits, MNIST-1D)
        ax.text(len(cell["schemes"]) - 0.5, 0.1, "chance", color="grey", fontsize=7,
                ha="right", va="bottom")  # fmt: skip
        ax.set_xticks(range(len(cell["schemes"])))
        ax.set_xticklabels(cell["schemes"], rotation=60, ha="right", fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_title(cell["name"], fontsize=9)
    axes[0].set_ylabel("final test accuracy")
    return fig
