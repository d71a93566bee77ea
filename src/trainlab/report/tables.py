"""Tables of a run: a summary per override group and one row per model, plus NaN flags."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

from .rundata import RunData, format_overrides, model_label, num
from .stats import aggregate

__all__ = [
    "GROUP_METRICS",
    "MODEL_METRICS",
    "fmt",
    "fmt_fixed",
    "fmt_mean_std",
    "fmt_over_seeds",
    "fmt_share",
    "group_table",
    "model_table",
    "nan_flags",
    "diagnostics_table",
]

#: final metrics summarized per group (mean ± std and 95% CI over seeds).
GROUP_METRICS = ("test_acc", "test_loss", "val_acc")
#: final metrics listed per model.
MODEL_METRICS = ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")


#: the dtype names (numpy's, torch's) of integers, printed whole by :func:`fmt`
_INTEGER_DTYPES = ("int", "uint", "torch.int", "torch.uint")


def fmt(x: Any, digits: int = 4) -> str:
    """A table cell: a float to ``digits`` significant digits, in scientific form
    (``1.235e+05``) below 1e-3 and from ``min(1e5, 10**digits)`` on (1e4 at 4 digits, where
    ``digits`` significant digits no longer show the integer part); an integer (Python, numpy,
    torch) whole; a bool as ``True``/``False``; None as ``—``; NaN as ``nan``; infinities as
    ``inf``/``-inf``; text and complex numbers as they print."""
    if x is None:
        return "—"
    if isinstance(x, bool | str | complex):  # (numpy's str_ has an .item() too)
        return str(x)
    dtype = str(getattr(x, "dtype", ""))
    if dtype in ("bool", "torch.bool") or "complex" in dtype:
        try:  # a one-element numpy or torch bool or complex: as the Python scalar prints
            return str(x.item())
        except (ValueError, RuntimeError):  # (several elements)
            return str(x)
    if isinstance(x, float | int) or hasattr(x, "item"):
        try:
            f = float(x)
        except (TypeError, ValueError, RuntimeError):
            return str(x)
        # an integer (bools and complex numbers were handled above): numpy's integer scalars
        # register as Integral, an integer array or tensor of one element tells by its dtype
        if isinstance(x, numbers.Integral) or dtype.startswith(_INTEGER_DTYPES):
            return str(int(x))
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        text = f"{f:.{digits}g}"  # (exponent form from 10**digits on, also 9999.5 rounding up)
        if f != 0 and (abs(f) >= 1e5 or abs(f) < 1e-3 or "e" in text):
            return f"{f:.{digits - 1}e}"
        return text
    return str(x)


def fmt_fixed(x: Any, decimals: int = 4) -> str:
    """A metric cell with a fixed number of decimals (``0.9120``), so that columns line up;
    scientific notation outside [1e-3, 1e5); None/NaN as ``—``/``nan``."""
    f = num(x)
    if f is None:
        return fmt(x)
    if f != 0 and not 1e-3 <= abs(f) < 1e5:
        return f"{f:.{decimals - 1}e}"
    return f"{f:.{decimals}f}"


def fmt_mean_std(a: dict[str, Any], decimals: int = 4) -> str:
    """``"0.9123 ± 0.0101"`` from an :func:`aggregate` dict (``—`` when n = 0; the mean alone
    for n = 1 or a dict without ``std``)."""
    if not a or a.get("n", 0) == 0 or a.get("mean") is None:
        return "—"
    if a["n"] == 1 or a.get("std") is None:
        return fmt_fixed(a["mean"], decimals)
    return f"{fmt_fixed(a['mean'], decimals)} ± {fmt_fixed(a['std'], decimals)}"


def fmt_over_seeds(vals: Iterable[Any], number: Callable[[float], str] = fmt_fixed) -> str:
    """``"mean ± std (n=…, CI ± …)"`` over the finite values, each number written by
    ``number``; the mean alone for one value (no spread was measured), ``—`` for none."""
    a = aggregate(vals)
    if not a["n"]:
        return "—"
    if a["n"] == 1:
        return f"{number(a['mean'])} (n=1: no spread)"
    ci = f", CI ± {number(a['ci95'])}" if a.get("ci95") is not None else ""
    return f"{number(a['mean'])} ± {number(a['std'])} (n={a['n']}{ci})"


def fmt_share(x: float) -> str:
    """A fraction as a whole percent that never rounds to the ends: ``"100%"`` only for all,
    ``"0%"`` only for none (``">99%"``, ``"<1%"`` next to them)."""
    text = f"{x:.0%}"
    if text == "100%" and x < 1:
        return ">99%"
    if text in ("0%", "-0%") and x > 0:
        return "<1%"
    return text


def has_test_split(run: RunData) -> bool:
    """Whether the run's data has a test split (a run with ``data.test_fraction: 0`` has none;
    its tables show validation numbers instead, as the CLI's summary does): from the split
    sizes ``population.json`` records; for a run that recorded none, whether some model not
    stopped for NaN/Inf has a test number, or with no numbers yet, the config's
    ``data.test_fraction``."""
    return _has_split(run, "test")


def has_val_split(run: RunData) -> bool:
    """Whether the run's data has a validation split (:func:`has_test_split`'s rules with
    ``data.val_fraction``); a run with neither split shows its training numbers."""
    return _has_split(run, "val")


def _has_split(run: RunData, split: str) -> bool:
    sizes = run.split_sizes
    if sizes is not None:
        return sizes[{"val": 1, "test": 2}[split]] > 0
    results = [
        r
        for r in run.model_results()
        if r.get("status") != "nan" and any(num(v) is not None for v in r["final"].values())
    ]
    if not results:  # no model has numbers yet: the config says
        data = (run.config or {}).get("data")
        frac = data.get(f"{split}_fraction") if isinstance(data, dict) else None
        return not isinstance(frac, int | float) or frac > 0
    return any(
        num(r["final"].get(f"{split}_acc")) is not None
        or num(r["final"].get(f"{split}_loss")) is not None
        for r in results
    )


def shown_split(run: RunData) -> str:
    """The split whose final numbers the summary tables show: ``test``, else ``val``, else
    ``train`` (a run with neither held-out split)."""
    if has_test_split(run):
        return "test"
    return "val" if has_val_split(run) else "train"


def group_table(run: RunData) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows: per group, n (finished models counted in the statistics), and for each
    of :data:`GROUP_METRICS` the mean ± std (ddof=1) and the 95% CI half-width
    (t₀.₉₇₅,ₙ₋₁·std/√n) of the final value over the group's seeds. Models stopped for NaN/Inf
    are left out of the statistics (their "final" metrics are from before the blow-up; the
    ``stopped`` column counts them), as in the trainer's ``summary.json`` aggregates."""
    results = run.model_results()
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(r["group"], []).append(r)
    columns = ["group", "models", "stopped (NaN/Inf)"]
    split = shown_split(run)
    metrics = GROUP_METRICS if split == "test" else (f"{split}_acc", f"{split}_loss")
    for m in metrics:
        columns += [f"{m} mean ± std", f"{m} 95% CI ±", f"{m} n"]
    rows = []
    for g, rs in groups.items():
        row: list[Any] = [g, len(rs), sum(r["status"] == "nan" for r in rs)]
        for m in metrics:
            a = aggregate(num(r["final"].get(m)) for r in rs if r["status"] != "nan")
            row += [fmt_mean_std(a), fmt_fixed(a["ci95"]), a["n"]]
        rows.append(row)
    return columns, rows


def model_table(run: RunData) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows: one row per model with seed, overrides, status and final metrics."""
    results = run.model_results()
    metrics = MODEL_METRICS + (("train_acc",) if shown_split(run) == "train" else ())
    columns = ["model", "seed", "overrides", "status", *metrics]
    rows = []
    for r in results:
        status = str(r["status"])
        if r.get("stopped_step") is not None:  # a killed run's NaN: its epoch's last step
            by = "by " if run.summary is None and r["status"] == "nan" else ""
            status += f" ({by}step {r['stopped_step']})"
        if r["status"] == "incomplete" and "epochs_done" in r:
            status += f" ({r['epochs_done']} epoch{'' if r['epochs_done'] == 1 else 's'})"
        rows.append(
            [
                r["index"],
                r["seed"],
                format_overrides(r["overrides"]) or "—",
                status,
                *(fmt_fixed(r["final"].get(m)) for m in metrics),
            ]
        )
    return columns, rows


def nan_flags(run: RunData) -> list[str]:
    """One line per model stopped because its loss or gradient became NaN/Inf, e.g.
    ``"model 3 (seed 3, optim.lr=10): loss or gradient became NaN/Inf at step 412"`` (the
    summary's status ``"nan"`` covers both: a finite loss whose gradient norm overflowed
    float32 stops a model too)."""
    out = []
    for r in run.model_results():
        if r["status"] != "nan":
            continue
        step = r.get("stopped_step")
        where = f"at step {step}" if step is not None else "(step unknown)"
        if r.get("stopped_step_bound") and step is not None:
            where = f"by step {step}"  # only the epoch's last step is known before the summary
        out.append(f"{model_label(r)}: loss or gradient became NaN/Inf {where}")
    return out


#: per-layer statistics listed in the diagnostics table (columns with no values are dropped).
DIAGNOSTIC_COLUMNS = (
    "act_mean",
    "act_std",
    "dead_fraction",
    "saturated_fraction",
    "grad_norm",
    "update_ratio",
)


def diagnostics_table(run: RunData) -> tuple[list[str], list[list[Any]]]:
    """Columns and rows: per group and layer, each statistic at the last step diagnostics
    recorded, averaged over the group's seeds (finite values only; ``—`` where undefined, e.g.
    ``dead_fraction`` of a tanh layer). An early-stopped seed is held at its last own record,
    its update ratio left out (:meth:`RunData.diagnostics_held`). A row shows the models
    measured at its step; a seed stopped for NaN/Inf before it (its records end with the epoch
    it failed in) is counted in ``models`` as stopped, never averaged in with its last
    finite, pre-failure record; any other seed without a record at that step (a killed run's
    half-written last line) is counted as not recorded there."""
    groups = {r["index"]: r for r in run.model_results()}
    last: dict[tuple[int, str], dict[str, Any]] = {}
    layer_order: dict[str, int] = {}
    for rec in run.diagnostics_held():
        key = (int(rec.get("model", 0) or 0), str(rec["layer"]))
        layer_order.setdefault(key[1], len(layer_order))
        old = last.get(key)
        if old is None or (num(rec["step"]) or 0) >= (num(old["step"]) or 0):
            last[key] = rec
    cells: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for (m, layer), rec in last.items():
        g = groups[m]["group"] if m in groups else f"model {m}"
        cells.setdefault((g, layer), []).append(rec)

    def value(v: Any) -> float | None:  # a number, NaN/Inf included (None: not recorded)
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None

    stats = [
        c for c in DIAGNOSTIC_COLUMNS if any(value(r.get(c)) is not None for r in last.values())
    ]
    columns = ["group", "layer", "step", "models", *stats]
    group_order = {g: i for i, g in enumerate(dict.fromkeys(g for g, _ in cells))}
    rows = []
    for (g, layer), recs in sorted(
        cells.items(), key=lambda kv: (group_order[kv[0][0]], layer_order[kv[0][1]])
    ):
        top = max(recs, key=lambda r: num(r["step"]) or 0)["step"]
        behind = [r for r in recs if r["step"] != top]  # (NaN-stopped earlier: see above; or
        recs = [r for r in recs if r["step"] == top]  # a killed run's lost last line)
        status = [groups.get(int(r.get("model", 0) or 0), {}).get("status") for r in behind]
        nan = status.count("nan")
        said = [f"+{nan} stopped: NaN/Inf"] * bool(nan)
        said += [f"+{len(behind) - nan} not recorded at this step"] * (len(behind) > nan)
        n: Any = f"{len(recs)} ({'; '.join(said)})" if said else len(recs)
        row: list[Any] = [g, layer, top, n]
        for c in stats:
            vals = [v for v in (value(r.get(c)) for r in recs) if v is not None]
            bad = [v for v in vals if not math.isfinite(v)]
            if bad:  # a NaN/Inf seed is said, never averaged away
                word = "nan" if any(math.isnan(v) for v in bad) else "inf"
                row.append(
                    word if len(bad) == len(vals) else f"{word} in {len(bad)} of {len(vals)}"
                )
                continue
            row.append(fmt(aggregate(vals)["mean"]))
        rows.append(row)
    return columns, rows
