"""Study ``optimizers-2d``: every optimizer on four 2-D test functions, with trajectories.

The notes (CS231n lecture 7) explain SGD's problems with pictures in two dimensions: on a loss
that is steep in one direction and shallow in the other (the "taco shell") SGD zig-zags across
the steep direction and crawls along the shallow one; near a saddle point the gradient is tiny
and SGD slows down; momentum builds up speed along consistent directions; AdaGrad/RMSProp/Adam
scale each coordinate by its gradient history; Newton's method jumps to the minimum of a
quadratic in one step, but is attracted to saddle points (its step goes to *any* stationary
point: Dauphin et al. 2014).

Each optimizer runs as one population whose K models are K learning rates (per-model ``lr``,
trainlab's population optimizers) from the same start; the table reports the fewest steps to
reach ``f − f* ≤ tol`` over the LR grid (one gradient evaluation per step; L-BFGS runs one
iteration per step without line search, Newton one exact step per step) and the figures show
each optimizer's trajectory at its best LR on a contour plot.

Functions: Rosenbrock (1960) ``(1−x)² + 100(y−x²)²`` from (−1.2, 1); Beale (1958) from (1, 1.5);
the ill-conditioned quadratic ``½(x²/10 + 10y²)`` (condition number 100) from (−8, 1); and a
saddle ``x² + y⁴/4 − y²/2`` (saddle at 0, minima at (0, ±1)) from (0.7, 10⁻⁶), just off the
saddle's attracting direction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..optim import create_optimizer

__all__ = ["DESCRIPTION", "run", "FUNCTIONS", "OPTIMIZERS", "trajectories", "steps_to_tolerance"]

DESCRIPTION = (
    "SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, L-BFGS, Newton on Rosenbrock, Beale, an "
    "ill-conditioned quadratic and a saddle: steps to tolerance, contour plots of trajectories"
)


@dataclass(frozen=True)
class TestFunction:
    """A 2-D test function ``f(xy) -> (K,)`` on rows ``(K, 2)``, its minimum and a start."""

    name: str
    f: Callable[[Tensor], Tensor]
    f_min: float
    argmin: tuple[tuple[float, float], ...]
    start: tuple[float, float]
    box: tuple[float, float, float, float]  # x0, x1, y0, y1 of the contour plot


def _rosenbrock(p: Tensor) -> Tensor:
    x, y = p[:, 0], p[:, 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(p: Tensor) -> Tensor:
    x, y = p[:, 0], p[:, 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _quadratic(p: Tensor) -> Tensor:
    x, y = p[:, 0], p[:, 1]
    return 0.5 * (x**2 / 10 + 10 * y**2)


def _saddle(p: Tensor) -> Tensor:
    x, y = p[:, 0], p[:, 1]
    return x**2 + y**4 / 4 - y**2 / 2


FUNCTIONS: dict[str, TestFunction] = {
    "rosenbrock": TestFunction(
        "rosenbrock", _rosenbrock, 0.0, ((1.0, 1.0),), (-1.2, 1.0), (-2, 2, -1, 3)
    ),
    "beale": TestFunction("beale", _beale, 0.0, ((3.0, 0.5),), (1.0, 1.5), (-0.5, 4, -1.5, 2)),
    "quadratic": TestFunction(
        "quadratic", _quadratic, 0.0, ((0.0, 0.0),), (-8.0, 1.0), (-9, 9, -2, 2)
    ),
    "saddle": TestFunction(
        "saddle", _saddle, -0.25, ((0.0, 1.0), (0.0, -1.0)), (0.7, 1e-6), (-1.5, 1.5, -1.5, 1.5)
    ),
}

QUICK_STEPS, FULL_STEPS = 600, 3000

_SGD_LRS = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 0.9]
#: label -> (registered optimizer, fixed hyperparameters, LR grid)
OPTIMIZERS: dict[str, tuple[str, dict[str, Any], list[float]]] = {
    "SGD": ("sgd", {}, _SGD_LRS),
    "momentum 0.9": ("sgd", {"momentum": 0.9}, _SGD_LRS),
    "Nesterov 0.9": ("sgd", {"momentum": 0.9, "nesterov": True}, _SGD_LRS),
    "AdaGrad": ("adagrad", {}, [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]),
    "RMSProp": ("rmsprop", {}, [1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3]),
    "Adam": ("adam", {}, [1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0]),
    "L-BFGS": ("lbfgs", {"max_iter": 1, "history_size": 10}, [1.0, 0.5, 0.25]),
    "Newton": ("newton", {}, [1.0, 0.5]),
}


def trajectories(
    fn: TestFunction, optimizer: str, hparams: dict[str, Any], lrs: list[float], steps: int
) -> Tensor:
    """Positions ``(steps+1, K, 2)`` of K = len(lrs) models started at ``fn.start``, float64."""
    k = len(lrs)
    xy = torch.tensor([fn.start] * k, dtype=torch.float64, requires_grad=True)  # (K, 2)
    lr = torch.tensor(lrs, dtype=torch.float64)
    opt = create_optimizer(optimizer, [xy], lr=lr, **hparams)
    path = [xy.detach().clone()]
    if optimizer == "newton":

        def closure() -> Tensor:
            return fn.f(xy)

    else:

        def closure() -> Tensor:
            opt.zero_grad()
            loss = fn.f(xy)  # (K,)
            loss.sum().backward()
            return loss.detach()

    for s in range(steps):
        if optimizer in ("lbfgs", "newton"):
            opt.step(closure)
        else:
            closure()
            opt.step()
        with torch.no_grad():
            xy.nan_to_num_(nan=1e6, posinf=1e6, neginf=-1e6).clamp_(-1e6, 1e6)  # diverged
        path.append(xy.detach().clone())
        if s % 100 == 99 and _all_settled(fn, torch.stack(path[-100:])):
            path.extend([path[-1]] * (steps - s - 1))
            break
    return torch.stack(path)  # (steps+1, K, 2)


def _all_settled(fn: TestFunction, recent: Tensor) -> bool:
    """Every model has stopped moving (converged, stuck or diverged): the rest is constant."""
    return bool((recent - recent[-1]).abs().amax() == 0)


def steps_to_tolerance(
    fn: TestFunction, path: Tensor, tol: float, *, lasting: bool = False
) -> list[int | None]:
    """Per model: the first step at which ``f − f* ≤ tol`` (``lasting``: from which it stays
    there to the end); None if never."""
    t, k, _ = path.shape
    with torch.no_grad():
        gap = fn.f(path.reshape(-1, 2)).reshape(t, k) - fn.f_min  # (T, K)
    ok = gap <= tol
    out: list[int | None] = []
    for j in range(k):
        col = ok[:, j]
        if lasting:
            if not bool(col[-1]):
                out.append(None)
                continue
            bad = (~col).nonzero()
            out.append(int(bad[-1]) + 1 if len(bad) else 0)
        else:
            hit = col.nonzero()
            out.append(int(hit[0]) if len(hit) else None)
    return out


def _plot(fn: TestFunction, best: dict[str, tuple[Tensor, float | None]], title: str = ""):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    x0, x1, y0, y1 = fn.box
    gx, gy = torch.meshgrid(
        torch.linspace(x0, x1, 200, dtype=torch.float64),
        torch.linspace(y0, y1, 200, dtype=torch.float64),
        indexing="xy",
    )
    z = fn.f(torch.stack([gx.flatten(), gy.flatten()], 1)).reshape(gx.shape) - fn.f_min
    fig = Figure(figsize=(7.5, 5.5))
    ax = fig.subplots()
    levels = torch.logspace(-3, math.log10(max(float(z.max()), 1e-2)), 20).numpy()
    ax.contour(gx.numpy(), gy.numpy(), (z + 1e-3).numpy(), levels=levels, cmap="Greys",
               linewidths=0.6)  # fmt: skip
    for label, (path, lr) in best.items():
        pts = path.numpy()
        ax.plot(pts[:, 0], pts[:, 1], "-", lw=1.2, label=f"{label} (lr {lr:g})", alpha=0.85)
    ax.plot(*fn.start, "ko", ms=5)
    for m in fn.argmin:
        ax.plot(*m, "r*", ms=12)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(title or f"{fn.name}: trajectories at each optimizer's best LR")
    ax.legend(fontsize=7, loc="best")
    return fig


def _zigzag():
    """SGD near its stability limit vs momentum, Adam and Newton on the quadratic, 80 steps."""
    fn = FUNCTIONS["quadratic"]
    runs = {
        "SGD": ("sgd", {}, 0.18),
        "momentum 0.9": ("sgd", {"momentum": 0.9}, 0.02),
        "Adam": ("adam", {}, 0.3),
        "Newton": ("newton", {}, 1.0),
    }
    best = {label: (trajectories(fn, n, hp, [lr], 80)[:, 0], lr) for label, (n, hp, lr) in
            runs.items()}  # fmt: skip
    return _plot(fn, best, "quadratic (κ = 100), first 80 steps: SGD zig-zags")


def run(
    out: str | Path, *, quick: bool = False, seeds: int | None = None, device: str = "auto"
) -> Path:
    """Run the study into ``out``; returns the directory (report.html inside).

    ``seeds`` and ``device`` are accepted for the common study interface; the 2-D problems are
    deterministic and run on the CPU in float64.
    """
    from ..report import Report
    from ..runs import RunDir

    out = Path(out)
    RunDir(out).create()  # a new folder; an existing non-empty one is never overwritten
    steps = QUICK_STEPS if quick else FULL_STEPS
    tol = 1e-4
    rows, results = [], {}
    for fname, fn in FUNCTIONS.items():
        best: dict[str, tuple[Tensor, float | None]] = {}
        for label, (name, hp, lrs) in OPTIMIZERS.items():
            path = trajectories(fn, name, hp, lrs, steps)  # (T, K, 2)
            reach = steps_to_tolerance(fn, path, tol)
            cand = [(s, i) for i, s in enumerate(reach) if s is not None]
            if cand:
                s_best, i_best = min(cand)
            else:  # none reached: show the LR with the lowest final loss
                with torch.no_grad():
                    final = fn.f(path[-1])
                i_best, s_best = int(torch.nan_to_num(final, nan=math.inf).argmin()), None
            final_xy = path[-1, i_best].tolist()
            with torch.no_grad():
                final_gap = float(fn.f(path[-1, i_best : i_best + 1])[0]) - fn.f_min
            stays = steps_to_tolerance(fn, path, tol, lasting=True)[i_best] is not None
            results[(fname, label)] = {
                "steps": s_best,
                "stays": stays or s_best is None,
                "lr": lrs[i_best],
                "final_gap": final_gap,
                "final_xy": final_xy,
            }
            end = (s_best + 1) if s_best is not None else path.shape[0]
            best[label] = (path[: max(end, 2), i_best], lrs[i_best])
        results[(fname, "_plot")] = best
    for label in OPTIMIZERS:
        row: dict[str, Any] = {"optimizer": label}
        for fname in FUNCTIONS:
            r = results[(fname, label)]
            row[fname] = (
                f"{r['steps']} (lr {r['lr']:g}){'' if r['stays'] else ', leaves again'}"
                if r["steps"] is not None
                else f"> {steps} (gap {r['final_gap']:.2g})"
            )  # fmt: skip
        rows.append(row)

    rep = Report(out, title="Optimizers on 2-D test functions")
    rep.add_text(_intro(steps, tol))
    rep.add_table(
        f"Steps to reach f − f* ≤ {tol:g} (best LR of the grid; '> {steps}': not reached, final "
        "gap; 'leaves again': a constant LR keeps it hovering around the minimum)",
        rows,
    )
    rep.add_text(_findings(results, steps))
    for fname, fn in FUNCTIONS.items():
        fig = _plot(fn, results[(fname, "_plot")])
        rep.add_figure(f"trajectories_{fname}", fig, caption=f"{fname}: start ●, minimum ★")
    rep.add_figure(
        "zigzag_quadratic",
        _zigzag(),
        caption="the taco shell at a large LR: SGD (lr 0.18, just under 2/λ_max = 0.2) zig-zags "
        "across the steep axis and crawls along the shallow one; momentum (lr 0.02) and Adam "
        "(lr 0.3) do not zig-zag the same way; Newton takes one step",
    )
    grid = [{"optimizer": k, "name": v[0], "hyperparameters": v[1], "lr grid": v[2]}
            for k, v in OPTIMIZERS.items()]  # fmt: skip
    rep.add_table("Optimizers and LR grids", grid)
    rep.write(include_standard=False)
    import json

    (out / "results.json").write_text(
        json.dumps(
            [
                {"function": f, "optimizer": o, **{k: v for k, v in r.items()}}
                for (f, o), r in results.items()
                if o != "_plot"
            ],
            indent=1,
        )
        + "\n"
    )
    return out


def _intro(steps: int, tol: float) -> str:
    return (
        "## What the literature expects\n"
        "- **Ill-conditioned quadratic** (CS231n's taco shell): SGD must use an LR below "
        "2/λ_max = 0.2 and then crawls along the shallow axis (λ_min = 0.1): ~ln(gap)/(lr·λ_min) "
        "steps; momentum needs about √(condition number) fewer; AdaGrad/RMSProp/Adam rescale "
        "each coordinate and go nearly straight; Newton lands on the minimum in **one** step.\n"
        "- **Saddle point**: the gradient vanishes near the saddle, so SGD is slow to escape; "
        "momentum and adaptive methods escape faster; Newton's method is *attracted* to the "
        "saddle (it seeks any stationary point; Dauphin et al. 2014) and never reaches the "
        "minimum.\n"
        "- **Rosenbrock / Beale**: curved valleys — plain SGD is slow, momentum and Adam faster, "
        "quasi-Newton (L-BFGS) and Newton fastest in steps.\n"
        f"\nEach optimizer is one population of K models (its LR grid, per-model `lr`), "
        f"{steps} steps at most, tolerance f − f* ≤ {tol:g}."
    )


def _findings(results: dict, steps: int) -> str:
    def s(f: str, o: str) -> str:
        r = results[(f, o)]
        return str(r["steps"]) if r["steps"] is not None else f"> {steps}"

    newton_q = results[("quadratic", "Newton")]
    newton_s = results[("saddle", "Newton")]
    lines = ["## What we measured"]
    lines.append(
        f"- Quadratic: SGD {s('quadratic', 'SGD')} steps, momentum "
        f"{s('quadratic', 'momentum 0.9')}, Nesterov {s('quadratic', 'Nesterov 0.9')}, Adam "
        f"{s('quadratic', 'Adam')}, Newton {s('quadratic', 'Newton')} "
        f"({'one step, as expected' if newton_q['steps'] == 1 else 'NOT one step'})."
    )
    xy = newton_s["final_xy"]
    at_saddle = abs(xy[0]) < 1e-3 and abs(xy[1]) < 1e-3
    lines.append(
        f"- Saddle: SGD {s('saddle', 'SGD')} steps, momentum {s('saddle', 'momentum 0.9')}, "
        f"Adam {s('saddle', 'Adam')}; Newton ends at ({xy[0]:.2g}, {xy[1]:.2g}) with "
        f"f − f* = {newton_s['final_gap']:.3g}"
        + (" — stuck on the saddle, as expected." if at_saddle else ".")
    )
    lines.append(
        f"- Rosenbrock: SGD {s('rosenbrock', 'SGD')}, momentum "
        f"{s('rosenbrock', 'momentum 0.9')}, Adam {s('rosenbrock', 'Adam')}, L-BFGS "
        f"{s('rosenbrock', 'L-BFGS')}, Newton {s('rosenbrock', 'Newton')} steps."
    )
    return "\n".join(lines)
