"""``diagnose(config)``: a short training with diagnostics, a verdict, figures and a report.

What ``trainlab diagnose CONFIG`` runs. The training is the ordinary trainer
(:func:`trainlab.train.train`) with ``train.diagnose_every`` set, so it writes a normal run
directory whose ``diagnostics.jsonl`` holds the records of :func:`trainlab.diagnostics.watch`;
this adds the verdict (a report table; the trainer writes ``verdict.json`` at the end of any
run with diagnostics, a resumed one too) and two figures (per-layer activation histograms,
per-layer profile) to the run's ``report.html``.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError, reporting
from .verdict import Finding, verdict

__all__ = [
    "DiagnoseResult",
    "diagnose",
    "read_records",
    "run_findings",
    "nan_stops",
    "with_trainer_stops",
]


@dataclass
class DiagnoseResult:
    """Where the run went, what was recorded and what the checks found."""

    run_dir: Path
    findings: list[Finding]
    records: list[dict[str, Any]]
    report: Path | None


def read_records(run_dir: str | Path) -> list[dict[str, Any]]:
    """The records of ``run_dir/diagnostics.jsonl``, or of ``run_dir`` itself where it is that
    file (a torn last line from a kill is skipped)."""
    from ..report.rundata import read_jsonl

    path = Path(run_dir)
    path = path if path.is_file() or path.suffix == ".jsonl" else path / "diagnostics.jsonl"
    if not path.exists():
        raise UserError(
            f"{path} does not exist; train with `trainlab train CONFIG --diagnose` "
            "or `trainlab diagnose CONFIG`"
        )
    from ..report.jsonl import decode_record

    return [decode_record(r) for r in read_jsonl(path, required=("layer", "step"))]


def records_of(source: Any) -> list[dict[str, Any]]:
    """Watch records, with their NaN/Inf back, from what a user has at hand: the records
    (``w.records()``, or the lines of diagnostics.jsonl as
    :func:`trainlab.report.jsonl.encode_record` wrote them), the
    :class:`~trainlab.diagnostics.Watch` itself, or a path to diagnostics.jsonl or its run
    directory (:func:`read_records`). Anything else is a UserError saying what a record is."""
    from ..report.jsonl import decode_record

    if callable(getattr(source, "records", None)):  # f(w) for f(w.records())
        source = source.records()
    if isinstance(source, str | os.PathLike):
        return read_records(source)
    if isinstance(source, Mapping) or not isinstance(source, Iterable):
        raise UserError(
            "expected watch records (the list w.records() gives), the watch itself or a path to "
            f"diagnostics.jsonl, got {type(source).__name__}"
        )
    out = []
    for r in source:
        if not isinstance(r, Mapping):
            raise UserError(
                f"a record is a dict (as watch records it: w.records()), got {type(r).__name__}"
            )
        out.append(decode_record(r))
    return out


#: the epochs of `trainlab diagnose`'s short training, unless told
DEFAULT_EPOCHS = 3


def diagnose(
    config: Any,
    *,
    out: str | Path | None = None,
    every: int | None = 10,
    epochs: int | None = DEFAULT_EPOCHS,
    sets: list[str | tuple[str, Any]] | None = None,
    device: str = "auto",
    progress: bool = True,
    report: bool = True,
) -> DiagnoseResult:
    """Train ``config`` briefly with diagnostics every ``every`` steps and judge its health.

    Args:
        config: a YAML path or a :class:`trainlab.config.Config`.
        out: run directory (default ``runs/<name>-diagnose``, numbered if taken).
        every: sample one training step in ``every`` (None: the config's
            ``train.diagnose_every``, else 10).
        epochs: train this many epochs (None: the config's own); fewer than the config's
            train the first epochs of its schedule (``train.schedule_epochs``).
        sets: ``key=value`` overrides, as ``--set`` on the command line, or ``(key, value)``
            pairs of parsed values (:func:`trainlab.config.apply_sets`).
        report: write ``report.html`` with the verdict and figures.
    """
    from ..config import MAX_EPOCHS, as_config
    from ..train import RUN_COMMAND, default_run_dir, train

    if every is not None and (
        isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1
    ):
        raise UserError(f"--every must be a positive int (sample one step in N), got {every!r}")
    every = None if every is None else int(every)
    bad = isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral | None)
    if bad or (epochs is not None and not 1 <= epochs <= MAX_EPOCHS):
        raise UserError(f"epochs must be a whole number in 1..{MAX_EPOCHS:,}, got {epochs!r}")
    epochs = None if epochs is None else int(epochs)
    cfg = as_config(config, sets).model_copy(deep=True)  # (edited below: never the caller's)
    cfg.train.diagnose_every = every if every is not None else cfg.train.diagnose_every or 10
    if epochs is not None and epochs < cfg.train.epochs and cfg.train.schedule_epochs is None:
        # the first epochs of the config's own schedule, not the schedule squeezed into them
        # (a warmup longer than the short training was refused; a cosine decayed to 0 in it)
        cfg.train.schedule_epochs = cfg.train.epochs
    if epochs is not None:
        cfg.train.epochs = epochs
    out = Path(out) if out is not None else default_run_dir(f"{cfg.name}-diagnose")
    token = RUN_COMMAND.set("diagnose")  # (population.json: resume rebuilds this report)
    try:
        result = train(cfg, out=out, device=device, progress=progress)
    finally:
        RUN_COMMAND.reset(token)
    return finish_diagnose(Path(result.run_dir), result.summary, report=report)


def is_diagnose_run(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` was made by :func:`diagnose` (``population.json``'s ``command``)."""
    from ..runs import population_or_none

    pop = population_or_none(run_dir)
    return isinstance(pop, dict) and pop.get("command") == "diagnose"


def finish_diagnose(
    run_dir: Path, summary: dict[str, Any], *, report: bool = True
) -> DiagnoseResult:
    """The verdict and report of a finished diagnose run (also one resumed after a kill)."""
    with reporting(run_dir):  # (the run is complete: `trainlab report DIR` rebuilds the rest)
        records = read_records(run_dir)
        # (the trainer wrote verdict.json from the same records and summary)
        findings = run_findings(records, summary, run_split_sizes(run_dir), run_metrics(run_dir))
        path = _write_report(run_dir, records, findings) if report else None
    return DiagnoseResult(run_dir, findings, records, path)


def run_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """A run folder's ``metrics.jsonl`` rows (``[]`` where it has none)."""
    from ..report.rundata import read_jsonl

    return read_jsonl(Path(run_dir) / "metrics.jsonl")


def run_split_sizes(run_dir: Path) -> list[int] | None:
    """A run folder's ``[train, val, test]`` sample counts (``population.json``), or None where
    it does not record them."""
    from ..report.rundata import read_population, split_sizes

    path = Path(run_dir) / "population.json"
    return split_sizes(read_population(path)) if path.is_file() else None


def run_findings(
    records: list[dict[str, Any]],
    summary: dict[str, Any],
    sizes: list[int] | None = None,
    metrics: list[dict[str, Any]] | None = None,
) -> list[Finding]:
    """The verdict of a training run: :func:`~trainlab.diagnostics.verdict` of its
    diagnostics ``records``, with the NaN/Inf stops of its ``summary`` (``summary.json``)
    folded in (:func:`with_trainer_stops`); ``sizes``: its ``[train, val, test]`` sample
    counts (a run with neither a val nor a test split judges its last update on the training
    split); ``metrics``: its ``metrics.jsonl`` rows, whose per-epoch learning rates tell a
    ratio made small by a decaying schedule (:func:`_decayed_schedule`)."""
    sampled: dict[int, set[int]] = {}
    for r in records:
        sampled.setdefault(int(r.get("model", 0)), set()).add(int(r["step"]))
    evaluated = {
        int(m["index"]) for m in summary.get("models", []) if m.get("stopped_by") == "evaluation"
    }
    held_out = sizes is None or sizes[1] + sizes[2] > 0
    bounds = {int(m["index"]) for m in summary.get("models", []) if m.get("stopped_step_bound")}
    findings = with_trainer_stops(
        verdict(records), nan_stops(summary), sampled, evaluated, held_out=held_out,
        bounds=bounds,
    )  # fmt: skip
    findings = _never_moved(findings, records, summary)
    return _decayed_schedule(findings, metrics) if metrics else findings


#: a learning rate at most this fraction of the run's peak has been decayed by its schedule
DECAYED = 0.1


def _decayed_schedule(
    findings: list[Finding], metrics: list[dict[str, Any]], low: float | None = None
) -> list[Finding]:
    """``findings`` where an update/weight ratio judged too small at a step whose learning rate
    a schedule had cut to at most :data:`DECAYED` of the model's peak (cosine near its end:
    ~1e-3 of it) is judged at the peak instead: an update scales with the learning rate, so
    the ratio there is about ``ratio · peak / lr``; within bounds, the finding is ok and says
    so (one that also names an earlier too-large update stays a warning). The learning rate
    at a step is interpolated between the epochs' last steps (``metrics.jsonl``'s ``lr`` and
    ``step``). ``low``: the bound (``Thresholds``' default)."""
    import numpy as np

    from .verdict import Thresholds

    low = Thresholds().update_low if low is None else low
    by_model: dict[int, list[tuple[float, float]]] = {}
    for r in metrics:
        lr, step = r.get("lr"), r.get("step")
        if _positive(lr) and isinstance(step, int | float) and math.isfinite(step):
            by_model.setdefault(int(r.get("model", 0)), []).append((float(step) - 1, float(lr)))
    out = list(findings)
    for i, f in enumerate(out):
        if not (
            f.check == "update_ratio" and f.status == "warn" and f.model in by_model
            and "too small" in f.message and "too large" not in f.message  # (an earlier
            and _positive(f.value) and f.step is not None  # too-large update stays a warning)
        ):  # fmt: skip
            continue
        steps, lrs = zip(*sorted(by_model[f.model]), strict=True)
        lr = float(np.interp(f.step, steps, lrs))
        peak = max(lrs)
        at_peak = f.value * peak / lr
        if lr > DECAYED * peak or at_peak < low:
            continue
        where = f" in '{f.layer}'" if f.layer else ""
        out[i] = Finding(
            "update_ratio", "ok", f.model,
            f"‖Δθ‖/‖θ‖ {f.value:.1e}{where} at step {f.step}, where the schedule had cut the "
            f"learning rate to {lr:.2g} (1/{peak / lr:.0f} of its largest, {peak:.2g}): about "
            f"{at_peak:.1e} at that rate, within bounds",
            f.step, f.layer, f.value,
        )  # fmt: skip
    return out


def _never_moved(
    findings: list[Finding], records: list[dict[str, Any]], summary: dict[str, Any]
) -> list[Finding]:
    """``findings`` where a model the trainer did not stop for NaN/Inf (``status`` ok, or
    early_stopped: its records end before the stop), with a layer whose
    gradient flows and whose update was measured 0, and whose weights no sampled step moved,
    has its "no update" (which the records alone read as a stopped or frozen model) replaced by
    "too small": its updates round away in float32 (SGD lr 1e-12 on weights of norm ~10). A
    gradient in one layer and a 0 update in another (a zeros init: no gradient reaches the
    hidden layers, and the output layer's ratio is undefined at ‖θ‖ = 0) is not that."""
    # (an early-stopped model's records end before its stop: it trained at its own lr)
    running = {
        int(m["index"])
        for m in summary.get("models", [])
        if m.get("status") in ("ok", "early_stopped")
    }
    # per model, in one pass over the records: one layer's update measured 0 with a gradient
    # > 0 in that layer, and no update > 0
    moved: set[int] = set()
    flowing: set[int] = set()
    for r in records:
        model = int(r.get("model", 0))
        if _positive(r.get("update_ratio")):
            moved.add(model)
        elif r.get("update_ratio") == 0 and _positive(r.get("grad_norm")):
            flowing.add(model)
    stuck = (running & flowing) - moved
    out = list(findings)
    for i, f in enumerate(out):
        if f.check == "update_ratio" and f.status == "ok" and f.model in stuck:
            out[i] = Finding(
                "update_ratio", "warn", f.model,
                "update/weight ratio too small: no sampled step moved a weight although "
                "gradients flow (the updates round away in float32: raise the learning rate)",
                f.step, None, 0.0,
            )  # fmt: skip
    return out


def _positive(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def nan_stops(summary: dict[str, Any]) -> dict[int, int]:
    """``{model: step}`` of the models the trainer stopped for a NaN/Inf loss or gradient,
    from a run's ``summary.json`` contents."""
    return {
        int(m["index"]): int(m["stopped_step"])
        for m in summary.get("models", [])
        if m.get("status") == "nan" and m.get("stopped_step") is not None
    }


def with_trainer_stops(
    findings: list[Finding],
    stops: dict[int, int],
    sampled: dict[int, set[int]] | None = None,
    evaluated: set[int] | frozenset[int] = frozenset(),
    *,
    held_out: bool = True,
    bounds: set[int] | frozenset[int] = frozenset(),
) -> list[Finding]:
    """``findings`` with the trainer's NaN/Inf stops folded into the ``nonfinite`` check.

    The verdict sees only sampled steps. A model the trainer stopped at step ``S`` (its loss or
    gradient norm NaN/Inf, :class:`trainlab.train.Trainer`) may have had only finite sampled
    outputs (``S`` between two samples, or a NaN that only the backward pass produced): its
    ``nonfinite`` finding is then ``fail`` at step ``S`` with no layer, not "all outputs
    finite". Where the records show a non-finite output first at a step after ``S``, the
    message adds that ``S`` came first. Inputs are not modified. ``stops``: ``{model: S}``;
    ``sampled``: ``{model: sampled steps}``, so that ``--every 1`` is suggested only where
    step ``S`` was not sampled; ``evaluated``: the models stopped by an epoch's evaluation
    (their val/test loss non-finite after step ``S − 1``'s update; step ``S`` never ran), on
    the training split where the run held out neither (``held_out`` False); ``bounds``: the
    models whose ``S`` is only the last step of the epoch in which they stopped (a killed run,
    read from ``metrics.jsonl`` before ``summary.json`` named the step): stopped *by* step ``S``.
    """
    out = list(findings)
    for model, stop in sorted(stops.items()):
        idx = next(
            (i for i, f in enumerate(out) if f.model == model and f.check == "nonfinite"), None
        )
        seen = out[idx] if idx is not None else None
        by_eval = model in evaluated
        bound = model in bounds and not by_eval
        was_sampled = not bound and sampled is not None and stop in sampled.get(model, set())
        if by_eval:  # step S − 1's loss and gradient were finite (checked at every step)
            seen_before = sampled is not None and stop - 1 in sampled.get(model, set())
            hint = (
                f"step {stop - 1} was sampled, and no output or gradient of a watched layer was "
                "non-finite: "
                if seen_before
                else f"step {stop - 1}'s loss and gradient were finite: "
            ) + "its update overflowed the weights (a learning rate or schedule far too large?)"
        elif was_sampled:
            hint = (
                "it was sampled, and no output or gradient of a watched layer was non-finite: "
                "the loss itself (or an unwatched op) made it"
            )
        else:
            hint = (
                "not sampled: sampling every step finds the layer (trainlab diagnose --every 1, "
                "or --set train.diagnose_every=1)"
            )
        cause = (
            f"{'val/test' if held_out else 'training-split'} loss NaN/Inf after step "
            f"{stop - 1}'s update"
            if by_eval
            else "loss/gradient NaN/Inf"
        )
        at = f"by step {stop} (its epoch's last)" if bound else f"at step {stop}"
        if seen is not None and seen.status == "fail":
            if seen.step is not None and seen.step > stop:
                note = f"; but the trainer stopped it {at} ({cause}), {hint}"
                out[idx] = dataclasses.replace(seen, message=seen.message + note)
            continue
        stopped = Finding(
            "nonfinite",
            "fail",
            model,
            f"stopped by the trainer {at} ({cause}); {hint}",
            step=stop,
        )
        if idx is not None:
            out[idx] = stopped
        else:  # first among the model's findings, where verdict() puts nonfinite
            at = next((i for i, f in enumerate(out) if f.model >= model), len(out))
            out.insert(at, stopped)
    return out


def _write_report(run_dir: Path, records: list[dict[str, Any]], findings: list[Finding]) -> Path:
    from ..report import Report
    from .figures import histogram_grid, layer_profile

    rep = Report(run_dir, title=f"diagnostics: {run_dir.name}")
    rep.add_text(
        "Per-layer statistics recorded with `trainlab.diagnostics.watch` during a short training; "
        "the checks and their thresholds are in `trainlab.diagnostics.verdict`."
    )
    rep.add_table(
        "Health verdict",
        rows=[
            {
                "model": f.model,
                "check": f.check,
                "status": f.status,
                "layer": f.layer or "",
                "detail": f.message,
            }
            for f in findings
        ],
    )
    if any(r.get("hist") is not None for r in records):
        rep.add_figure(
            "diag_histograms",
            histogram_grid(records),
            caption="activation histograms per layer at the first and last sampled step (model 0)",
        )
    rep.add_figure(
        "diag_profile",
        layer_profile(records),
        caption="activation std, gradient norm and update/weight ratio per layer (model 0; "
        "dashed: the 1e-3 rule of thumb)",
    )
    return rep.write()
