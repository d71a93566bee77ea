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
each optimizer's trajectory at its best LR on a contour plot. A best LR on the edge of its grid
is flagged (the grid did not bracket it). Every expected claim (the report lists them) gets a
verdict — confirmed, contradicted, not reached (the optimizer never got within tolerance) or
inconclusive (the slower optimizer's best LR sits on its grid's edge) — and the results that
are not as expected are listed. The zig-zag figure's caption states the measured oscillation
across the steep axis (sign changes of y).

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

import numpy as np
import torch
from torch import Tensor

from ..atomic import atomic_write_text
from ..optim import create_optimizer
from ..threads import torch_threads
from .cells import grid_edge
from .evidence import CONFIRMED, CONTRADICTED

__all__ = [
    "DESCRIPTION",
    "run",
    "FUNCTIONS",
    "OPTIMIZERS",
    "trajectories",
    "steps_to_tolerance",
    "measure",
    "expected_vs_measured",
    "zigzag_stats",
]

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
    saddle: tuple[float, float] | None = None  # a saddle point the start is near


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
        "saddle",
        _saddle,
        -0.25,
        ((0.0, 1.0), (0.0, -1.0)),
        (0.7, 1e-6),
        (-1.5, 1.5, -1.5, 1.5),
        saddle=(0.0, 0.0),
    ),
}

QUICK_STEPS, FULL_STEPS = 600, 3000
TOL = 1e-4  # "reached": f − f* ≤ TOL

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


def _view(box: tuple[float, float, float, float], paths: list[Tensor]) -> tuple[float, ...]:
    """The plotted ``(x0, x1, y0, y1)``: the function's ``box``, grown to hold the paths' finite
    points with a 5% margin, but by at most the box's own width/height on each side (a path
    that runs off towards infinity would leave nothing else to see)."""
    out = list(box)
    for axis in (0, 1):
        lo, hi = box[2 * axis], box[2 * axis + 1]
        span = hi - lo
        vals = torch.cat([p[:, axis] for p in paths]) if paths else torch.zeros(0)
        vals = vals[torch.isfinite(vals)]
        if vals.numel():
            pad = 0.05 * span
            out[2 * axis] = max(min(lo, float(vals.min()) - pad), lo - span)
            out[2 * axis + 1] = min(max(hi, float(vals.max()) + pad), hi + span)
    return tuple(out)


def _together_text(names: list[str]) -> str:
    """``"AdaGrad and RMSProp lie on one another: dashed in turn"``."""
    who = ", ".join(names[:-1]) + f" and {names[-1]}"
    return f"{who} lie on one another: dashed in turn"


#: points of a path compared (evenly thinned beyond this): a few hundred trace its shape
_MAX_PATH_POINTS = 600


def _thin(pts: np.ndarray, n: int = _MAX_PATH_POINTS) -> np.ndarray:
    """At most ``n`` of the rows of ``pts``, evenly spaced, first and last kept."""
    if len(pts) <= n:
        return pts
    return pts[np.round(np.linspace(0, len(pts) - 1, n)).astype(int)]


def _along(pts: np.ndarray, step: float, cap: int = 3000) -> np.ndarray:
    """Points along the polyline ``pts`` at most ``step`` apart (at most about ``cap``
    points: farther apart on a long path), its vertices included."""
    if len(pts) < 2:
        return pts
    seg = np.diff(pts, axis=0)
    n = np.maximum(1, np.ceil(np.linalg.norm(seg, axis=1) / step)).astype(int)
    if n.sum() > cap:
        n = np.maximum(1, np.floor(n * cap / n.sum())).astype(int)
    idx = np.repeat(np.arange(len(seg)), n)
    frac = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n, n)
    return np.concatenate([pts[idx] + frac[:, None] * seg[idx], pts[-1:]])


def _lies_on(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    """Whether every point of path ``a`` in the view (the unit square: both paths in view
    units), along its segments as well as at its steps, lies within ``tol`` of the polyline
    ``b``, and ``a`` moves at all there: a path that stays at its start lies on every other,
    and is not hidden by them for that (its start marker shows it)."""
    a = _along(a, tol / 2)
    a = a[((a >= 0) & (a <= 1)).all(1)]
    if len(a) < 2 or np.ptp(a, axis=0).max() <= tol:
        return False
    b = _thin(b)
    if len(b) == 1:
        return bool((np.linalg.norm(a - b[0], axis=1) <= tol).all())
    p0, d = b[:-1], np.diff(b, axis=0)  # segments p0 + t·d, t in [0, 1]
    dd = np.maximum((d * d).sum(1), 1e-300)
    for chunk in np.array_split(a, max(1, len(a) // 64)):  # (64 × segments at a time)
        t = np.clip(((chunk[:, None, :] - p0) * d).sum(-1) / dd, 0.0, 1.0)
        near = np.linalg.norm(chunk[:, None, :] - (p0 + t[..., None] * d), axis=-1).min(1)
        if (near > tol).any():
            return False
    return True


def _dash_coinciding(
    drawn: list[tuple[str, Any, Any]], view: tuple[float, float, float, float], tol: float = 0.01
) -> list[list[str]]:
    """Trajectories that lie on one another where they can be seen: every point of one, in
    the view ``(x0, x1, y0, y1)``, within ``tol`` of the view's width and height of the other's
    path, at whatever pace each goes (SGD crawling along the line Nesterov runs down is hidden
    under it). Those are drawn dashed in turn so that each shows (they start at one point, so
    their dashes keep in turn); a path joins the group of the first earlier path it lies on.
    Two paths that only end at the same minimum, however long they sit there, are not joined.
    Returns each group's names."""
    from ..report.plots import dash_in_turn, groups_on_first

    x0, x1, y0, y1 = view
    scale = np.array([x1 - x0, y1 - y0])

    def view_units(pts: np.ndarray) -> np.ndarray:  # (the view is the unit square)
        return (pts[np.isfinite(pts).all(1)] - [x0, y0]) / scale

    paths = [view_units(np.asarray(pts, dtype=float)) for _, pts, _ in drawn]
    linked = np.zeros((len(drawn), len(drawn)), dtype=bool)
    for i, a in enumerate(paths):
        for j in range(i + 1, len(paths)):
            linked[i, j] = _lies_on(a, paths[j], tol) or _lies_on(paths[j], a, tol)
    groups = groups_on_first(linked)
    for members in groups:
        for turn, i in enumerate(members):  # (4 line widths a dash)
            drawn[i][2].set_linestyle(dash_in_turn(turn, len(members), 4.0))
    return [[drawn[i][0] for i in members] for members in groups]


def _plot(fn: TestFunction, best: dict[str, tuple[Tensor, float | None]], title: str = ""):
    from matplotlib.figure import Figure

    x0, x1, y0, y1 = _view(fn.box, [path for path, _ in best.values()])
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
               linewidths=0.9, vmin=-0.3 * float(levels.max()))  # fmt: skip  # (no white lines)
    drawn = []
    for label, (path, lr) in best.items():
        pts = path.numpy()
        (line,) = ax.plot(pts[:, 0], pts[:, 1], "-", lw=1.5, label=f"{label} (lr {lr:g})",
                          alpha=0.85)  # fmt: skip
        drawn.append((label, pts, line))
    together = _dash_coinciding(drawn, (x0, x1, y0, y1))
    ax.plot(*fn.start, "ko", ms=7, zorder=5, label="start")
    for i, m in enumerate(fn.argmin):
        ax.plot(*m, "r*", ms=12, zorder=5, label="minimum" if i == 0 else None)
    if fn.saddle is not None:
        ax.plot(*fn.saddle, "kx", ms=9, mew=2, zorder=5, label="saddle point")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x" + "".join(f"\n({_together_text(g)})" for g in together))
    ax.set_ylabel("y")
    ax.set_title(title or f"{fn.name}: trajectories at each optimizer's best LR")
    ax.legend(fontsize=8, loc="best")
    return fig


ZIGZAG_RUNS: dict[str, tuple[str, dict[str, Any], float]] = {
    "SGD": ("sgd", {}, 0.18),
    "momentum 0.9": ("sgd", {"momentum": 0.9}, 0.02),
    "Adam": ("adam", {}, 0.3),
    "Newton": ("newton", {}, 1.0),
}
ZIGZAG_STEPS = 80


def zigzag_stats(path: Tensor) -> dict[str, float]:
    """How a path ``(T, 2)`` on the quadratic oscillates across its steep axis ``y``: the number
    of sign changes of ``y`` (a step landing exactly on ``y = 0`` neither makes nor breaks a
    crossing: ``1, 0, -1`` is one), the largest ``|y|`` after step 10 and the final ``x``."""
    y = path[:, 1]
    s = torch.sign(y)
    s = s[s != 0]
    changes = int(((s[1:] * s[:-1]) < 0).sum())
    return {
        "sign_changes": changes,
        "max_abs_y_after_10": float(y[10:].abs().max()) if len(y) > 10 else 0.0,
        "final_x": float(path[-1, 0]),
    }


def _oscillation(sign_changes: int) -> str:
    if sign_changes == 0:
        return "never crosses y = 0"
    if sign_changes >= ZIGZAG_STEPS:
        return "flips the sign of y at every step (zig-zag)"
    return f"oscillates across y ({sign_changes} sign changes of y)"


def _zigzag() -> tuple[Any, dict[str, dict[str, float]], str]:
    """SGD near its stability limit vs momentum, Adam and Newton on the quadratic: the figure,
    the measured oscillation per optimizer and a caption that states it."""
    fn = FUNCTIONS["quadratic"]
    best = {label: (trajectories(fn, n, hp, [lr], ZIGZAG_STEPS)[:, 0], lr)
            for label, (n, hp, lr) in ZIGZAG_RUNS.items()}  # fmt: skip
    stats = {label: zigzag_stats(p) for label, (p, _) in best.items()}
    fig = _plot(fn, best, f"quadratic (κ = 100), first {ZIGZAG_STEPS} steps: oscillation across y")
    parts = [
        f"{label} (lr {lr:g}) {_oscillation(s['sign_changes'])}, max |y| after step 10 "
        f"{s['max_abs_y_after_10']:.2g}, x after {ZIGZAG_STEPS} steps {s['final_x']:.2g}"
        for (label, (_, lr)), s in zip(best.items(), stats.values(), strict=True)
    ]
    caption = (
        f"the taco shell, first {ZIGZAG_STEPS} steps from (−8, 1), measured across the steep "
        "axis y (2/λ_max = 0.2 is SGD's stability limit): " + "; ".join(parts)
    )
    return fig, stats, caption


def run(
    out: str | Path,
    *,
    quick: bool = False,
    seeds: int | None = None,
    device: str = "auto",
    renumber: bool = False,
) -> Path:
    """Run the study into ``out``; returns the directory (report.html inside).

    ``seeds`` and ``device`` are accepted for the common study interface; the 2-D problems are
    deterministic and run on the CPU in float64: a ``seeds`` given (at least 1) or a device
    other than ``auto``/``cpu`` is ignored with a warning.
    """
    import json

    from ..errors import UserError
    from ..report import Report
    from . import claim_study_dir

    if seeds is not None and seeds < 1:
        raise UserError(f"--seeds must be at least 1, got {seeds}")
    import warnings

    if seeds is not None:  # (said, not refused: a script may run every study with --seeds)
        warnings.warn(
            f"optimizers-2d is deterministic (no random draws): --seeds {seeds} is ignored, "
            "each optimizer runs once",
            UserWarning,
            stacklevel=2,
        )
    if str(device) not in ("auto", "cpu"):
        warnings.warn(
            f"optimizers-2d runs on the CPU in float64 (2-parameter problems): --device "
            f"{device} is ignored",
            UserWarning,
            stacklevel=2,
        )
    out = claim_study_dir(out, renumber=renumber).path  # nothing is trained here
    steps = QUICK_STEPS if quick else FULL_STEPS
    tol = TOL
    rows, results = [], {}
    # (K, 2) tensors: one intra-op thread. Measured on 2 shared cores (beale, SGD, 600 steps):
    # 0.45 s with 1 thread, 2.3-4.5 s with 2 (the pool stalls when another process holds a
    # core); the whole quick study took 80 s with 2 threads under load 4.
    with torch_threads(1):
        for fname, fn in FUNCTIONS.items():
            best: dict[str, tuple[Tensor, float | None]] = {}
            for label, (name, hp, lrs) in OPTIMIZERS.items():
                path = trajectories(fn, name, hp, lrs, steps)  # (T, K, 2)
                results[(fname, label)], best[label] = measure(fn, label, path, tol)
            results[(fname, "_plot")] = best
        zig_fig, zig_stats, zig_caption = _zigzag()
    for label in OPTIMIZERS:
        row: dict[str, Any] = {"optimizer": label}
        for fname in FUNCTIONS:
            r = results[(fname, label)]
            edge = ", grid edge" if r["edge"] else ""
            left = (
                ""
                if r["stays"]
                else ", leaves again"
                if r["settles"] is None
                else f", back to stay at {r['settles']}"
            )
            row[fname] = (
                f"{r['steps']} (lr {r['lr']:g}{edge}{left})"
                if r["steps"] is not None
                else f"> {steps} (gap {r['final_gap']:.2g}, lr {r['lr']:g}{edge})"
            )  # fmt: skip
        rows.append(row)

    rep = Report(out, title="Optimizers on 2-D test functions" + (" (quick mode)" if quick else ""))
    rep.add_text(_intro(steps, tol, quick))
    rep.add_table(
        f"Steps to reach f − f* ≤ {tol:g} (best LR of the grid; '> {steps}': not reached, final "
        "gap at the LR with the lowest final loss; 'grid edge': the best LR is the smallest or "
        "largest of its grid, so the grid did not bracket it; 'leaves again': the run leaves "
        "the tolerance after that step and ends outside it (a constant LR keeps it hovering "
        "around the minimum); 'back to stay at N': it overshoots, then stays from step N)",
        rows,
    )
    claims = expected_vs_measured(results, steps, tol)
    rep.add_text(_findings(results, steps, claims))
    rep.add_table(
        "Expected (literature) vs measured",
        claims,
        caption="the runs are deterministic (no seed noise): a claim that one optimizer is "
        "faster is judged on the steps to the tolerance (escaping the saddle: the steps to come "
        "halfway down from the saddle's value to the minimum's, f ≤ −0.125); it is "
        "inconclusive when the slower one's best LR sits "
        "on the edge of its grid (another LR might change the order); 'not reached': the "
        f"optimizer the claim is about never got within f − f* ≤ {tol:g} in {steps} steps",
    )
    for fname, fn in FUNCTIONS.items():
        fig = _plot(fn, results[(fname, "_plot")])
        rep.add_figure(
            f"trajectories_{fname}",
            fig,
            caption=f"{fname}: start ●, minimum ★"
            + (", saddle point ×" if fn.saddle is not None else ""),
        )
    rep.add_figure("zigzag_quadratic", zig_fig, caption=zig_caption)
    from ..optim import optimizer_options

    skip = {"lr", "maximize", "fused", "weight_decay"}  # (no decay: every one's 0 here)
    grid = []
    for k, (name, given, lrs) in OPTIMIZERS.items():
        hp = {o: d for o, d in optimizer_options(name).items() if o not in skip} | given
        grid.append({"optimizer": k, "name": name, "lr grid": lrs,
                     "hyperparameters (defaults included)": ", ".join(
                         f"{o}={d}" for o, d in hp.items())})  # fmt: skip
    rep.add_table("Optimizers and LR grids", grid)
    res = [{"function": f, "optimizer": o, **r} for (f, o), r in results.items() if o != "_plot"]
    res += [{"function": "zigzag_quadratic", "optimizer": label, "lr": ZIGZAG_RUNS[label][2], **s}
            for label, s in zig_stats.items()]  # fmt: skip
    atomic_write_text(
        out / "results.json", json.dumps(_finite(res), indent=1, allow_nan=False) + "\n"
    )
    rep.write(include_standard=False)  # (last: results.json is written before it)
    return out


def _finite(x: Any) -> Any:
    """``x`` with every non-finite float replaced by None (strict JSON)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    return x


def _path_ratio(pts: Tensor) -> float:
    """Length of the path ``pts`` ``(T, 2)`` over the straight distance from its first point to
    its last (1: a straight line; inf: it ends where it began)."""
    length = float((pts[1:] - pts[:-1]).norm(dim=1).sum())
    disp = float((pts[-1] - pts[0]).norm())
    return length / disp if disp > 0 else math.inf


def _escape(fn: TestFunction, path: Tensor, lrs: list[float]) -> dict[str, Any]:
    """How fast the optimizer leaves the saddle: the fewest steps over the LR grid to come
    halfway down from the saddle's value to the minimum's, ``f ≤ f_s − ½(f_s − f*)`` (on the
    study's saddle: ``|y| ≥ 0.54`` at ``x = 0``), that LR and whether it is on the grid's edge
    (``steps`` None: no LR came halfway). A run that diverges (ends non-finite or above its
    start) does not count: it passes halfway on its way out."""
    t, k, _ = path.shape
    with torch.no_grad():
        f = fn.f(path.reshape(-1, 2)).reshape(t, k)  # (T, L)
        f_s = float(fn.f(torch.tensor([fn.saddle], dtype=path.dtype))[0])
    half = f_s - 0.5 * (f_s - fn.f_min)
    below = f <= half
    kept = torch.isfinite(f[-1]) & (f[-1] <= f[0])  # (L,): not diverged
    cand = [
        (int(below[:, i].nonzero()[0]), i)
        for i in range(k)
        if bool(kept[i]) and bool(below[:, i].any())
    ]
    if not cand:
        return {"steps": None, "lr": None, "edge": ""}
    s, i = min(cand)
    return {"steps": s, "lr": lrs[i], "edge": grid_edge(lrs, lrs[i])}


def measure(
    fn: TestFunction, label: str, path: Tensor, tol: float
) -> tuple[dict[str, Any], tuple[Tensor, float]]:
    """One optimizer's population on ``fn``: the fewest steps to tolerance over its LR grid and
    that LR (or, if none reached, the LR with the lowest final loss), whether that LR sits on the
    grid's edge, the final point, gap and gradient norm (at the run's last step, also for a
    run that reached the tolerance and left it again), the length of the path up to its first
    arrival (the drawn path) relative to the straight line, and the lowest such ratio over the
    LRs that reach the
    tolerance (``straightest_ratio`` at ``straightest_lr``). Returns that and ``(best path,
    lr)`` for the plot."""
    name, _, lrs = OPTIMIZERS[label]
    reach = steps_to_tolerance(fn, path, tol)
    cand = [(s, i) for i, s in enumerate(reach) if s is not None]
    if cand:
        s_best, i_best = min(cand)
    else:  # none reached: the LR with the lowest final loss
        with torch.no_grad():
            final = fn.f(path[-1])
        i_best, s_best = int(torch.nan_to_num(final, nan=math.inf).argmin()), None
    lr = lrs[i_best]
    # within the tolerance from the step it first got there to the end; else the step from
    # which it stays (it overshot and came back), or None: it ends outside (hovering)
    settles = steps_to_tolerance(fn, path, tol, lasting=True)[i_best]
    stays = settles == s_best
    end = (s_best + 1) if s_best is not None else path.shape[0]
    pts = path[: max(end, 2), i_best]  # (T', 2): drawn up to the step it first arrived
    xy = path[-1:, i_best].clone().requires_grad_(True)  # the final point: the run's end
    f_end = fn.f(xy)
    (grad,) = torch.autograd.grad(f_end.sum(), xy)
    # the straightest path among the LRs that reach the tolerance: the fastest LR of an
    # adaptive method overshoots, a smaller one that still arrives may go nearly straight
    arrive = [(i, s) for i, s in enumerate(reach) if s is not None]
    ratios = [(_path_ratio(path[: max(s + 1, 2), i]), lrs[i]) for i, s in arrive]
    straightest = min(ratios) if ratios else (math.inf, None)
    # a full (quasi-)Newton step, lr 1, is the method's natural top, not a limit of its grid
    natural = name in ("lbfgs", "newton") and lr == 1.0
    return {
        "escape": _escape(fn, path, lrs) if fn.saddle is not None else None,
        "steps": s_best,
        "stays": stays or s_best is None,
        "settles": settles,
        "lr": lr,
        "edge": "" if natural else grid_edge(lrs, lr),
        "final_gap": float(f_end.detach()[0]) - fn.f_min,
        "final_xy": path[-1, i_best].tolist(),
        "grad_norm": float(grad.norm()),
        "path_ratio": _path_ratio(pts),
        "straightest_ratio": straightest[0],
        "straightest_lr": straightest[1],
        "steps_by_lr": reach,
    }, (pts, lr)


def _intro(steps: int, tol: float, quick: bool) -> str:
    return (
        "## What the literature expects\n"
        "- **Ill-conditioned quadratic** (CS231n's taco shell): SGD must use an LR below "
        "2/λ_max = 0.2 and then crawls along the shallow axis (λ_min = 0.1): its gap there "
        "shrinks by (1 − lr·λ_min)² per step, ≈ ln(gap/tol)/(2·lr·λ_min) steps; momentum needs "
        "about √(condition number) = 10× fewer; AdaGrad/RMSProp/Adam rescale each coordinate "
        "and go nearly straight; Newton lands on the minimum in **one** step.\n"
        "- **Saddle point**: the gradient vanishes near the saddle, so SGD is slow to escape; "
        "momentum and adaptive methods escape faster; Newton's method is *attracted* to the "
        "saddle (it seeks any stationary point; Dauphin et al. 2014) and never reaches the "
        "minimum.\n"
        "- **Rosenbrock / Beale**: curved valleys — plain SGD is slow, momentum and Adam faster, "
        "quasi-Newton (L-BFGS) and Newton fastest in steps.\n"
        f"\nEach optimizer is one population of K models (its LR grid, per-model `lr`), "
        f"{steps} steps at most, tolerance f − f* ≤ {tol:g}"
        + (
            f" (quick mode: {QUICK_STEPS} steps instead of {FULL_STEPS}; everything else is "
            "the full study)."
            if quick
            else "."
        )
    )


def _steps_text(r: dict[str, Any], steps: int) -> str:
    edge = f", {r['edge']}" if r["edge"] else ""
    if r["steps"] is None:
        return f"> {steps} steps (not reached; gap {r['final_gap']:.2g} at lr {r['lr']:g}{edge})"
    return f"{r['steps']} step{'s' if r['steps'] != 1 else ''} (lr {r['lr']:g}{edge})"


def _faster(results: dict, f: str, a: str, b: str, steps: int) -> tuple[str, str]:
    """Verdict on "``a`` reaches the tolerance on ``f`` in fewer steps than ``b``" and the
    measured steps as text. Deterministic runs: no noise test; an order that a better LR of the
    slower optimizer could change (its best LR on its grid's edge) is inconclusive."""
    ra, rb = results[(f, a)], results[(f, b)]
    text = f"{a} {_steps_text(ra, steps)}; {b} {_steps_text(rb, steps)}"
    if ra["steps"] is None:
        neither = f"neither {a} nor {b}" if rb["steps"] is None else a
        return _untuned(f"not reached ({neither})", a, ra["edge"]), text
    return _ordered(ra, rb, a, b), text


def _escapes_faster(results: dict, f: str, a: str, b: str, steps: int) -> tuple[str, str]:
    """Verdict on "``a`` leaves the start (comes halfway down to f*) in fewer steps than ``b``",
    from :func:`_escape` (not the steps to the tolerance: an adaptive method that leaves the
    saddle at once may settle slowly), and the measured steps as text."""
    ra, rb = results[(f, a)]["escape"], results[(f, b)]["escape"]

    def text(o: str, r: dict[str, Any]) -> str:
        if r["steps"] is None:
            return f"{o} never halfway down in {steps} steps"
        edge = f", {r['edge']}" if r["edge"] else ""
        n = r["steps"]
        return f"{o} halfway down in {n} step{'s' * (n != 1)} (lr {r['lr']:g}{edge})"

    shown = f"{text(a, ra)}; {text(b, rb)}"
    if ra["steps"] is None:
        return f"not reached ({a}{'' if rb['steps'] is not None else f' nor {b}'})", shown
    return _ordered(ra, rb, a, b), shown


def _ordered(ra: dict[str, Any], rb: dict[str, Any], a: str, b: str) -> str:
    """Whether ``a`` (which got there) took fewer ``steps`` than ``b`` (None: never), by the
    two measurements' ``steps`` and ``edge``: inconclusive where equal or not tuned."""
    sa, sb = ra["steps"], rb["steps"]
    if sb is not None and sa == sb:
        return "inconclusive (equal steps)"
    if sb is None or sa < sb:
        return _untuned(CONFIRMED, b, rb["edge"])
    return _untuned(CONTRADICTED, a, ra["edge"])


def _untuned(verdict: str, slower: str, edge: str) -> str:
    """``verdict``, or inconclusive when the slower optimizer's best LR is on its grid's edge
    (another LR might change the order)."""
    if not edge:
        return verdict
    return f"inconclusive (not tuned: {slower}'s best lr is the {edge}; measured: {verdict})"


def expected_vs_measured(results: dict, steps: int, tol: float) -> list[dict[str, str]]:
    """One row per claim of the expectation (per optimizer where it names several): function,
    claim, literature, measured, verdict (confirmed / contradicted / not reached / inconclusive)."""
    rows: list[dict[str, str]] = []

    def add(f: str, claim: str, lit: str, measured: str, verdict: str) -> None:
        rows.append(
            {"function": f, "claim": claim, "literature": lit, "measured": measured,
             "verdict": verdict}
        )  # fmt: skip

    q = "quadratic"
    r = results[(q, "SGD")]
    lrs = OPTIMIZERS["SGD"][2]
    reached = [lr for lr, s in zip(lrs, r["steps_by_lr"], strict=True) if s is not None]
    if r["steps"] is None:
        add(q, "SGD: lr < 2/λ_max = 0.2, crawls along the shallow axis", "CS231n",
            _steps_text(r, steps), "not reached (SGD)")  # fmt: skip
    else:
        x0 = FUNCTIONS[q].start[0]
        gap_x = 0.5 * x0**2 / 10  # the shallow axis' share of the start's gap
        pred = math.ceil(math.log(gap_x / tol) / (-2 * math.log(1 - r["lr"] * 0.1)))
        ok = max(reached) < 0.2 and abs(r["steps"] - pred) <= 0.1 * pred
        add(
            q,
            "SGD: lr < 2/λ_max = 0.2, crawls along the shallow axis",
            "only lr < 0.2 converges; ≈ ln(gap/tol)/(2·lr·λ_min) steps (CS231n)",
            f"LRs that reached: {', '.join(f'{x:g}' for x in reached)}; best "
            f"{_steps_text(r, steps)}, predicted {pred} for lr {r['lr']:g} (within 10%: "
            f"{'yes' if abs(r['steps'] - pred) <= 0.1 * pred else 'no'})",
            CONFIRMED if ok else CONTRADICTED,
        )
    for o in ("momentum 0.9", "Nesterov 0.9"):
        v, text = _faster(results, q, o, "SGD", steps)
        sa, sb = results[(q, o)]["steps"], results[(q, "SGD")]["steps"]
        if sa and sb:
            how = (
                f"{sb / sa:.1f}× fewer"
                if sb > sa
                else f"{sa / sb:.1f}× more"
                if sa > sb
                else "the same number"
            )
            text += f"; {how} (expected ≈ √κ = 10× fewer)"
        add(q, f"{o} needs fewer steps than SGD", "about √κ = 10× fewer (CS231n)", text, v)
    sgd = results[(q, "SGD")]
    for o in ("AdaGrad", "RMSProp", "Adam"):
        r = results[(q, o)]
        claim = f"{o} goes nearly straight (path ≤ 1.1 × the straight line, at some LR that "
        claim += "reaches the tolerance)"
        lit = "rescales each coordinate, goes nearly straight (CS231n)"
        if r["steps"] is None:
            add(q, claim, lit, _steps_text(r, steps), f"not reached ({o})")
            continue
        add(q, claim, lit,
            f"path length / straight distance {r['straightest_ratio']:.2f} at lr "
            f"{r['straightest_lr']:g} (the straightest that arrives; {r['path_ratio']:.2f} at its "
            f"fastest, {_steps_text(r, steps)}); SGD {sgd['straightest_ratio']:.2f}",
            CONFIRMED if r["straightest_ratio"] <= 1.1 else CONTRADICTED)  # fmt: skip
    r = results[(q, "Newton")]
    newton = CONFIRMED if r["steps"] == 1 else CONTRADICTED
    if r["steps"] is None:
        newton = "not reached (Newton)"
    add(q, "Newton reaches the minimum in one step", "one step (exact on a quadratic)",
        _steps_text(r, steps), newton)  # fmt: skip

    s = "saddle"
    for o in ("momentum 0.9", "Nesterov 0.9", "AdaGrad", "RMSProp", "Adam"):
        v, text = _escapes_faster(results, s, o, "SGD", steps)
        add(s, f"{o} escapes faster than SGD (fewer steps to come halfway down)",
            "SGD slow near the saddle; momentum and adaptive methods escape faster (CS231n)",
            text, v)  # fmt: skip
    r = results[(s, "Newton")]
    xy = r["final_xy"]
    at_saddle = r["steps"] is None and abs(xy[0]) < 1e-3 and abs(xy[1]) < 1e-3
    add(s, "Newton is attracted to the saddle, never reaches a minimum",
        "converges to the saddle (Dauphin et al. 2014)",
        f"ends at ({xy[0]:.2g}, {xy[1]:.2g}), |∇f| {r['grad_norm']:.2g}, f − f* "
        f"{r['final_gap']:.3g}; {_steps_text(r, steps)}",
        CONFIRMED if at_saddle else CONTRADICTED)  # fmt: skip

    first_order = ("SGD", "momentum 0.9", "Nesterov 0.9", "AdaGrad", "RMSProp", "Adam")
    for f in ("rosenbrock", "beale"):
        for o in ("momentum 0.9", "Nesterov 0.9", "Adam"):
            v, text = _faster(results, f, o, "SGD", steps)
            add(f, f"{o} faster than plain SGD", "plain SGD slow, momentum and Adam faster "
                "(CS231n)", text, v)  # fmt: skip
        for x in ("L-BFGS", "Newton"):
            r = results[(f, x)]
            checks = {o: _faster(results, f, x, o, steps)[0] for o in first_order}
            reached = [o for o in first_order if results[(f, o)]["steps"] is not None]
            fastest = min(reached, key=lambda o: results[(f, o)]["steps"]) if reached else None
            text = f"{x} {_steps_text(r, steps)}"
            if r["steps"] is None:
                xy = r["final_xy"]
                text += (
                    f", ends at ({xy[0]:.3g}, {xy[1]:.3g}) with |∇f| {r['grad_norm']:.2g}"
                    + (" — a stationary point that is not the minimum"
                       if r["grad_norm"] < 1e-6 else "")
                )  # fmt: skip
            text += (
                f"; fastest first-order: {fastest} {_steps_text(results[(f, fastest)], steps)}"
                if fastest
                else "; no first-order method reached it"
            )
            if r["steps"] is None:
                verdict = f"not reached ({x})"
            elif CONTRADICTED in checks.values():
                verdict = CONTRADICTED
            elif all(v == CONFIRMED for v in checks.values()):
                verdict = CONFIRMED
            else:
                verdict = (
                    "inconclusive ("
                    + "; ".join(
                        f"vs {o}: {v.removeprefix('inconclusive (').removesuffix(')')}"
                        for o, v in checks.items()
                        if v != CONFIRMED
                    )
                    + ")"
                )
            claim = f"{x} fastest in steps (fewer than every first-order method)"
            add(
                f,
                claim,
                "quasi-Newton (L-BFGS) and Newton fastest in steps (CS231n)",
                text,
                verdict,
            )
    return rows


def _findings(results: dict, steps: int, claims: list[dict[str, str]]) -> str:
    def s(f: str, o: str) -> str:
        r = results[(f, o)]
        return str(r["steps"]) if r["steps"] is not None else f"> {steps}"

    labels = list(OPTIMIZERS)
    lines = ["## What we measured"]
    for f in FUNCTIONS:
        line = f"- {f.capitalize()}: " + ", ".join(f"{o} {s(f, o)}" for o in labels) + " steps."
        missed = [o for o in labels if results[(f, o)]["steps"] is None]
        if missed:
            line += (
                " **Never reached the tolerance** (at any LR of the grid): "
                + ", ".join(f"{o} (final gap {results[(f, o)]['final_gap']:.2g})" for o in missed)
                + "."
            )
        edges = [o for o in labels if results[(f, o)]["edge"]]
        if edges:
            line += (
                " **Best LR on the edge of its grid** (not bracketed): "
                + ", ".join(
                    f"{o} (lr {results[(f, o)]['lr']:g}, {results[(f, o)]['edge']})" for o in edges
                )
                + "."
            )
        lines.append(line)
    verdicts = [c["verdict"] for c in claims]
    counts = {
        "confirmed": sum(v == CONFIRMED for v in verdicts),
        "contradicted": sum(v == CONTRADICTED for v in verdicts),
        "not reached": sum(v.startswith("not reached") for v in verdicts),
        "inconclusive": sum(v.startswith("inconclusive") for v in verdicts),
    }
    lines.append(
        f"\nOf {len(claims)} expected results (table below): "
        + ", ".join(f"{n} {k}" for k, n in counts.items())
        + "."
    )
    against = [c for c in claims if c["verdict"] == CONTRADICTED or
               c["verdict"].startswith("not reached")]  # fmt: skip
    if against:
        lines.append("**Not as expected**:")
        lines += [f"- {c['function']}: {c['claim']} — {c['verdict']}: {c['measured']}"
                  for c in against]  # fmt: skip
    return "\n".join(lines)
