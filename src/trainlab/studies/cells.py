"""What every study shares: train one population *cell* (a config) into a folder, group its
models by an override, and summarize seeds (final values, mean ± std with the 95% CI, per-epoch
curves with a ±1 std band); whether a best LR lies on the edge of its grid; the rows of an
"expected vs measured" table.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from ..devices import resolve_device
from ..report.stats import sample_std
from ..threads import torch_threads

__all__ = [
    "cpu_threads",
    "train_cell",
    "by_override",
    "final_values",
    "mean_std",
    "curves",
    "pm",
    "pm_final",
    "diverged_note",
    "expected_vs_measured",
    "grid_edge",
]


#: whether a study's trainings show trainlab's progress (a bar per cell in a terminal, one line
#: per epoch in a log file): :func:`trainlab.studies.run_study` sets it from its ``progress``
SHOW_PROGRESS: ContextVar[bool] = ContextVar("SHOW_PROGRESS", default=False)


@contextlib.contextmanager
def cpu_threads(device: str, n: int = 1) -> Iterator[None]:
    """On the CPU, train with ``n`` intra-op threads (restored afterwards, also on errors).

    Measured here (2 cores shared with other jobs): a population of 12 MLPs on mnist1d for 2
    epochs took 23.4 s with torch's default 2 threads and 4.2 s with 1 (the thread pool stalls
    when another process holds a core).
    """
    on_cpu = resolve_device(device).type == "cpu"  # also --device cpu beside a GPU
    with torch_threads(n if on_cpu else None):
        yield


def train_cell(raw: dict[str, Any], out: Path, device: str) -> dict[str, Any]:
    """Train one population config (a plain dict) into ``out``; returns its summary, the
    per-epoch metrics rows and the members' overrides."""
    from ..config import parse_config
    from ..train import train

    cfg = parse_config(raw, source=str(out.name))
    res = train(cfg, out=out, device=device, progress=SHOW_PROGRESS.get())
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if line]
    return {"summary": res.summary, "metrics": rows}


def by_override(cell: dict[str, Any], key: str) -> dict[Any, list[dict[str, Any]]]:
    """The cell's models grouped by the value of override ``key`` (e.g. ``optim.lr``)."""
    out: dict[Any, list[dict[str, Any]]] = {}
    for m in cell["summary"]["models"]:
        out.setdefault(m["overrides"].get(key), []).append(m)
    return out


def final_values(models: list[dict[str, Any]], metric: str) -> list[float]:
    """Final ``metric`` of each model; a model stopped for NaN counts as +inf loss / 0 acc."""
    vals = []
    for m in models:
        v = (m.get("final") or {}).get(metric)
        if m.get("status") == "nan" or v is None or not math.isfinite(v):
            v = math.inf if "loss" in metric else 0.0
        vals.append(float(v))
    return vals


def mean_std(vals: list[float]) -> tuple[float, float]:
    finite = [v for v in vals if math.isfinite(v)]
    if len(finite) < len(vals) or not finite:
        return math.inf, 0.0
    return sum(finite) / len(finite), sample_std(finite)


def seed_errors(samples: Sequence[Sequence[float]]) -> list[list[float]]:
    """``yerr`` for ``errorbar`` at each point's :func:`mean_std` of its seeds' ``samples``
    (all finite): ``[below, above]``, mean ± std with each end clipped to the seeds' own
    range, as :func:`trainlab.report.plots.seed_band` clips a band. Unclipped, a std larger
    than the mean (seeds 0.001, 0.002, 0.035) drew a bar below 0, off a log axis's bottom:
    a loss near 0 that no seed reached."""
    below, above = [], []
    for vals in samples:
        m, s = mean_std(list(vals))
        below.append(m - max(m - s, min(vals)))
        above.append(min(m + s, max(vals)) - m)
    return [below, above]


def curves(
    cell: dict[str, Any], indices: list[int], metric: str = "train_loss"
) -> tuple[list[int], list[float], list[float]]:
    """Per-epoch mean and std of ``metric`` over the models ``indices``."""
    return _moments(_per_epoch(cell, indices, metric))


def curve_band(
    cell: dict[str, Any], indices: list[int], metric: str = "train_loss"
) -> tuple[list[float], list[float]]:
    """The band drawn around :func:`curves`' mean: ``mean ± std`` per epoch, clipped to the
    models' own min..max (:func:`trainlab.report.plots.seed_band`): a std above the mean would
    take the band below 0, and on a log axis down to 1e-12."""
    return curve_and_band(cell, indices, metric)[2:]


def curve_and_band(
    cell: dict[str, Any], indices: list[int], metric: str = "train_loss"
) -> tuple[list[int], list[float], list[float], list[float]]:
    """The epochs, the mean curve (:func:`curves`) and its band (:func:`curve_band`) of one
    grouping of the models' rows: what a study's curve figure draws."""
    per = _per_epoch(cell, indices, metric)
    epochs, means, stds = _moments(per)
    lo = [max(m - s, min(per[e])) for e, m, s in zip(epochs, means, stds, strict=True)]
    hi = [min(m + s, max(per[e])) for e, m, s in zip(epochs, means, stds, strict=True)]
    return epochs, means, lo, hi


def _per_epoch(cell: dict[str, Any], indices: list[int], metric: str) -> dict[int, list[float]]:
    """Epoch -> the finite values of ``metric`` of the models ``indices`` in that epoch."""
    per: dict[int, list[float]] = {}
    for r in cell["metrics"]:
        if r["model"] in indices and r.get(metric) is not None and math.isfinite(r[metric]):
            per.setdefault(r["epoch"], []).append(r[metric])
    return per


def _moments(per: dict[int, list[float]]) -> tuple[list[int], list[float], list[float]]:
    """The epochs of ``per`` in order, and each one's mean and sample std (0 for one value)."""
    epochs = sorted(per)
    means = [sum(per[e]) / len(per[e]) for e in epochs]
    stds = [
        math.sqrt(sum((v - mu) ** 2 for v in per[e]) / max(len(per[e]) - 1, 1))
        for e, mu in zip(epochs, means, strict=True)
    ]
    return epochs, means, stds


def pm(vals: list[float], digits: int = 3) -> str:
    """``mean ± std (n)`` with the 95% CI half-width, over the finite values, with ``digits``
    decimals (:func:`trainlab.report.tables.fmt_over_seeds`)."""
    from ..report.tables import fmt_over_seeds

    return fmt_over_seeds(vals, lambda x: f"{x:.{digits}f}")


def pm_final(models: list[dict[str, Any]], metric: str, digits: int = 3) -> str:
    """:func:`pm` of the models' final ``metric`` (:func:`final_values`) and
    :func:`diverged_note`."""
    return pm(final_values(models, metric), digits) + diverged_note(models, metric)


def diverged_note(models: list[dict[str, Any]], metric: str) -> str:
    """How seeds that diverged (NaN/Inf) enter a cell of :func:`final_values`: an accuracy
    counts them as 0, a loss leaves them out; ``""`` when none did."""
    bad = sum(
        m.get("status") == "nan" or not math.isfinite(v)
        for m, v in zip(models, final_values(models, metric), strict=True)
    )
    if not bad:
        return ""
    how = "left out" if "loss" in metric else "counted as 0"
    return f"; {bad} of {len(models)} seeds diverged, {how}"


def expected_vs_measured(rows: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    """Rows ``claim | literature expects | measured here`` for a report table."""
    return [{"claim": c, "literature": e, "measured": m} for c, e, m in rows]


def grid_edge(lrs: Sequence[float], best: float) -> str:
    """``""`` when ``best`` lies strictly inside the grid ``lrs``; else where it sits (then the
    grid did not bracket the optimum and the optimizer is not tuned)."""
    if len(lrs) < 2:
        return "the only LR tried"
    if best >= max(lrs):
        return "largest LR of the grid"
    if best <= min(lrs):
        return "smallest LR of the grid"
    return ""
