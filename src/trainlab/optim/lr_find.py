"""The learning-rate range test (Smith 2017, "Cyclical learning rates", §3.3), and its
population variant.

:func:`lr_find` trains the config's models through the trainer (``Trainer.step_on``, the one
training loop) while the learning rate grows exponentially from ``start_lr`` to ``end_lr`` over
``num_steps`` steps, one mini-batch per step. It records the raw loss L_i, a debiased exponential
moving average ``s_i = a_i / (1 − β^{i+1})`` with ``a_i = β a_{i−1} + (1−β) L_i``, ``a_{−1} = 0``
(fastai's smoothing), and stops a
model at the first step i where ``s_i > diverge · min_{j≤i} s_j`` (the best smoothed loss *so
far*, as fastai and Smith 2017 do) or where ``s_i`` is NaN/Inf. Suggestions:

- ``steep``: the LR where the smoothed loss falls fastest, ``argmin d s / d log10(lr)`` (central
  differences), over the curve up to its minimum (at least its first three points; the steepest
  *smoothed* descent); None when the smoothed loss never falls;
- ``min/10``: one tenth of the LR at the smoothed minimum (a common, more conservative rule);
  None when the minimum is the first point (the range starts too high).

It returns the whole curve, not one number (``LRFindResult``), and plots it. Nothing of the
caller's is changed: the test builds its own trainer from the config (a ``model`` passed in is
copied into the population), and trainlab draws no randomness from global state.

:func:`lr_sweep` is the population variant: K models at K fixed LRs, trained together for a few
epochs in one pass; the final loss against the LR shows the usable range directly.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError, real_number
from .base import hyper_dtype

__all__ = [
    "lr_find",
    "LRFindResult",
    "lr_sweep",
    "LRSweepResult",
    "smooth",
    "suggest",
    "first_stop",
]


def smooth(losses: list[float], beta: float = 0.9) -> list[float]:
    """Debiased exponential moving average of ``losses`` (NaN stays NaN from where it starts)."""
    out, avg = [], 0.0
    for i, x in enumerate(losses):
        avg = beta * avg + (1 - beta) * x
        out.append(avg / (1 - beta ** (i + 1)))
    return out


def first_stop(smoothed: list[float], lrs: list[float], diverge: float) -> tuple[int, str] | None:
    """The first step where the test stops, and why: ``(i, reason)``, or None to go on.

    Step i stops when ``s_i`` is NaN/Inf or ``s_i > diverge · min_{j≤i} s_j`` — the best smoothed
    loss up to step i, not over the whole curve (a later, lower loss must not make an early
    point look diverged).
    """
    best = math.inf
    for i, v in enumerate(smoothed):
        if not math.isfinite(v):
            return i, f"loss NaN/Inf at lr {lrs[i]:.3g}"
        best = min(best, v)
        if v > diverge * best:
            return i, f"smoothed loss > {diverge:g}× best at lr {lrs[i]:.3g}"
    return None


def suggest(lrs: list[float], smoothed: list[float]) -> dict[str, float | None]:
    """Suggested LRs from a smoothed range-test curve ``s_i`` at ``lrs[i]``.

    - ``steep``: ``lrs[i*]`` with ``i* = argmin_i (s_{i+1} − s_{i−1}) / (log10 lr_{i+1} −
      log10 lr_{i−1})`` over ``1 ≤ i < max(i_min, 2)`` (central differences up to the smoothed
      minimum ``i_min``), provided that slope is negative: the steepest *descent*. None when
      the smoothed loss never falls there (no negative slope).
    - ``min/10``: ``lrs[i_min] / 10``. None when ``i_min = 0``: a loss lowest at the first LR
      never decreased over the range, and a tenth of ``start_lr`` lies outside it (start lower).

    NaN/Inf points count as +∞ (never the minimum); fewer than three points give no suggestion.
    """
    vals = [v if math.isfinite(v) else math.inf for v in smoothed]
    if len(vals) < 3 or not any(math.isfinite(v) for v in vals):
        return {"steep": None, "min/10": None}
    i_min = min(range(len(vals)), key=lambda i: vals[i])
    out: dict[str, float | None] = {"min/10": lrs[i_min] / 10 if i_min > 0 else None}
    end = max(i_min, 2)
    logs = [math.log10(x) for x in lrs[: end + 1]]
    ys = vals[: end + 1]
    slopes = []
    for i in range(1, len(ys) - 1):  # central differences in log10(lr)
        if logs[i + 1] > logs[i - 1]:  # equal LRs (a user's list) have no slope between them
            slopes.append(((ys[i + 1] - ys[i - 1]) / (logs[i + 1] - logs[i - 1]), i))
    falling = [(s, i) for s, i in slopes if math.isfinite(s) and s < 0]
    out["steep"] = lrs[min(falling)[1]] if falling else None
    return out


@dataclass
class LRFindResult:
    """The LR range test of every model: per-step LRs, raw and smoothed losses, suggestions."""

    lrs: list[float]
    losses: list[list[float]]  # [model][step] (up to where the model stopped)
    smoothed: list[list[float]]
    suggestions: list[dict[str, float | None]]
    stop_reasons: list[str]
    groups: list[str] = field(default_factory=list)

    @property
    def suggestion(self) -> float | None:
        """Model 0's steepest-descent suggestion (a single run's answer)."""
        return self.suggestions[0]["steep"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lrs": self.lrs,
            "losses": self.losses,
            "smoothed": self.smoothed,
            "suggestions": self.suggestions,
            "stop_reasons": self.stop_reasons,
            "groups": self.groups,
        }

    def plot(self):
        """A matplotlib Figure: smoothed (and raw, faint) loss against LR, suggestion marked."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 4.5))
        ax = fig.subplots()
        for i, (raw, sm) in enumerate(zip(self.losses, self.smoothed, strict=True)):
            n = len(raw)
            label = self.groups[i] if i < len(self.groups) else f"model {i}"
            (line,) = ax.plot(self.lrs[:n], sm, lw=1.5, label=label)
            ax.plot(self.lrs[:n], raw, lw=0.6, alpha=0.3, color=line.get_color())
            if n and not math.isfinite(sm[-1]):  # stopped on NaN/Inf: × at the top edge
                ax.plot([self.lrs[n - 1]], [1.0], "x", color=line.get_color(), ms=9, mew=2,
                        transform=ax.get_xaxis_transform(), clip_on=False)  # fmt: skip
                line.set_label(f"{label} (NaN/Inf at lr {self.lrs[n - 1]:.2g}: ×)")
            s = self.suggestions[i]["steep"]
            if s is not None:
                j = min(range(n), key=lambda t: abs(math.log(self.lrs[t] / s)))
                ax.plot([s], [sm[j]], "o", color=line.get_color(), ms=7)
        ax.set_xscale("log")
        finite = [v for sm in self.smoothed for v in sm if math.isfinite(v)]
        starts = [sm[0] for sm in self.smoothed if sm and math.isfinite(sm[0])]
        if finite:  # from the lowest point to 1.5× the highest finite start (a diverged tail
            lo = min(finite)  # would squash the curve); a model NaN/Inf from its first step
            hi = max(starts) * 1.5 if starts else max(finite)  # has no start to show
            ax.set_ylim(lo - 0.05 * abs(lo), max(hi, lo + 1e-12) + 1e-12)
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("training loss (smoothed; raw faint)")
        steep = self.suggestion if len(self.losses) == 1 else None  # else: a dot per model
        ax.set_title(
            "LR range test (Smith 2017)"
            + (f": steepest descent at {steep:.2g}" if steep else "")
            + ("; dots: steepest descent" if len(self.losses) > 1 else "")
        )
        if len(self.losses) <= 10:
            ax.legend(fontsize=7)
        return fig


def _without_per_model_lr(config: Any) -> Any:
    """``config`` without per-model learning rates and schedules (a grid or variants over
    ``optim.lr`` or a ``schedule.*`` key), with a warning naming them: the range test sets
    every model's LR itself, replacing the schedule, so models that differ only in them would
    give the same curve K times."""
    from ..config import Config

    def swept(key: str) -> bool:
        return key == "optim.lr" or key.startswith("schedule.")

    raw = config.model_dump()
    pop, keys, places = raw["population"], set(), []
    if any(swept(key) for key in pop["grid"]):
        keys |= {key for key in pop["grid"] if swept(key)}
        pop["grid"] = {key: v for key, v in pop["grid"].items() if not swept(key)}
        places.append("population.grid")
    if any(swept(key) for v in pop["variants"] for key in v):
        keys |= {key for v in pop["variants"] for key in v if swept(key)}
        kept: list[dict[str, Any]] = []
        for v in pop["variants"]:
            rest = {key: x for key, x in v.items() if not swept(key)}
            if rest not in kept:  # variants that differed only in their lr become one
                kept.append(rest)
        pop["variants"] = kept
        places.append("population.variants")
    if not places:
        return config
    raw["schedule"] = {"name": "none"}  # (replaced by the sweep; its own checks not needed)
    warnings.warn(
        f"lr_find sweeps every model's learning rate itself: the per-model "
        f"{', '.join(sorted(keys))} of {' and '.join(places)} is dropped (models differing "
        "only in it would repeat one curve)",
        stacklevel=3,
    )
    return Config.model_validate(raw)


def lr_find(
    config: Any,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    beta: float = 0.9,
    diverge: float = 4.0,
    check_every: int = 10,
    device: str = "auto",
    model: Any = None,
    dataset: Any = None,
) -> LRFindResult:
    """Run the LR range test on ``config`` (a Config, a dict or a YAML path); see the module
    docstring.

    Every model of the config's population takes the same LR sweep (so one call answers for
    each variant). Losses stay on the device and are read every ``check_every`` steps for the
    stopping test. ``diverge``: stop a model when its smoothed loss exceeds this × its best so
    far (:func:`first_stop`).

    ``beta`` defaults to 0.9, not fastai's 0.98: an average over ~1/(1−β) = 50 steps lags the
    raw loss by about half a decade of LR in a 100-step test (seen on digits, SGD: raw loss
    falling from 1e-2, smoothed only from 2e-1), which pushes the steep point to the right.
    """
    from .. import rng
    from ..config import as_config
    from ..train import Trainer

    config = _without_per_model_lr(as_config(config))
    whole = isinstance(num_steps, int | np.integer) and not isinstance(num_steps, bool)
    if not whole or num_steps < 5:
        raise ConfigError(f"lr_find needs a whole num_steps (--steps) ≥ 5, got {num_steps!r}")
    num_steps = int(num_steps)
    whole = isinstance(check_every, int | np.integer) and not isinstance(check_every, bool)
    if not whole or check_every < 1:
        raise ConfigError(f"lr_find needs check_every ≥ 1, got {check_every!r}")
    check_every = int(check_every)
    given = {"start_lr": start_lr, "end_lr": end_lr, "beta": beta, "diverge": diverge}
    for name, v in given.items():
        if real_number(v) is None:
            raise ConfigError(f"lr_find needs {name} to be a number, got {v!r}")
    start_lr, end_lr, beta, diverge = (real_number(v) for v in given.values())
    lrs = log_spaced(start_lr, end_lr, num_steps)
    if not (0 <= beta < 1) or not (diverge > 1):  # (NaN fails both)
        raise ConfigError("lr_find needs 0 ≤ beta < 1 and diverge > 1 (e.g. 4)")
    trainer = Trainer(config, device=device, model=model, dataset=dataset)
    k, dev = trainer.k, trainer.device
    n = trainer.data.x_train.shape[0]
    b, spe = trainer.batch_size, trainer.steps_per_epoch
    losses = torch.full((num_steps, k), math.nan, device=dev, dtype=hyper_dtype(dev))  # (S, K)
    stopped = [""] * k
    host: list[list[float]] = [[] for _ in range(k)]
    done = 0
    perm = None
    trainer.lr_override = torch.empty((k,), device=dev, dtype=hyper_dtype(dev))
    for i, lr in enumerate(lrs):
        epoch, s = divmod(i, spe)
        if s == 0:
            perm = rng.permutations(trainer.pop.seeds, epoch, n)  # (K, N)
        trainer.lr_override.fill_(lr)  # in place: a CUDA-graphed step reads this tensor
        losses[i] = trainer.step_on(perm[:, s * b : (s + 1) * b]).detach()
        if (i + 1) % check_every == 0 or i == num_steps - 1:
            # one read per check_every steps: the losses, and the step at which the trainer
            # stopped each model (a NaN/Inf loss or gradient: it is frozen from then on)
            *block, nan_steps = torch.cat(
                (losses[done : i + 1], trainer.nan_step[None].to(losses.dtype))
            ).tolist()
            done = i + 1
            for row in block:
                for m in range(k):
                    if not stopped[m]:
                        host[m].append(row[m])
            for m in range(k):
                if stopped[m]:
                    continue
                stop = first_stop(smooth(host[m], beta), lrs, diverge)
                j_nan = int(nan_steps[m])
                if j_nan >= 0 and (stop is None or stop[0] > j_nan):  # a finite loss, but
                    stop = j_nan, f"gradient NaN/Inf at lr {lrs[j_nan]:.3g}"  # NaN/Inf gradient
                if stop is not None:
                    j, stopped[m] = stop
                    host[m] = host[m][: j + 1]
            if all(stopped):
                break
    smoothed = [smooth(h, beta) for h in host]
    return LRFindResult(
        lrs=lrs,
        losses=host,
        smoothed=smoothed,
        suggestions=[suggest(lrs[: len(sm)], sm) for sm in smoothed],
        stop_reasons=[r or "reached end_lr" for r in stopped],
        groups=_labels(trainer.members),
    )


def _labels(members: list[Any]) -> list[str]:
    """One distinct label per model: its override group, with its seed where the group has
    several models (``seed 3`` for the default group). Per-model learning rates and schedule
    values (``optim.lr``, ``schedule.<key>``) are left out: the range test replaces them."""
    groups = [
        ", ".join(
            f"{k}={v}"
            for k, v in m.overrides.items()
            if not k.startswith("schedule.") and k != "optim.lr"
        )
        or "default"
        for m in members
    ]
    count: dict[str, int] = {}
    for g in groups:
        count[g] = count.get(g, 0) + 1
    labels = [
        f"seed {m.seed}" if g == "default"
        else f"{g} (seed {m.seed})" if count[g] > 1
        else g
        for g, m in zip(groups, members, strict=True)
    ]  # fmt: skip
    # models that differ only in what the test replaces (an lr grid) share a label: number them
    return [f"{x} (model {m.index})" if labels.count(x) > 1 else x
            for x, m in zip(labels, members, strict=True)]  # fmt: skip


@dataclass
class LRSweepResult:
    """K models at K fixed LRs: the final training and validation loss per LR.

    ``train_loss`` is the mean training loss of the last epoch and ``val_loss`` the validation
    loss after it; a model stopped for NaN/Inf has ``inf`` in both, and ``val_loss`` is NaN
    when the data has no validation split.
    """

    lrs: list[float]
    train_loss: list[float]
    val_loss: list[float]
    run_dir: Path | None

    @property
    def best_metric(self) -> str | None:
        """``"val_loss"`` when some model has a finite one, else ``"train_loss"`` when some
        model has a finite one (no validation split), else None (every model diverged)."""
        for name in ("val_loss", "train_loss"):
            if any(math.isfinite(v) for v in getattr(self, name)):
                return name
        return None

    @property
    def best_lr(self) -> float | None:
        """The LR with the lowest finite :attr:`best_metric`; None when every model diverged."""
        metric = self.best_metric
        if metric is None:
            return None
        vals = [v if math.isfinite(v) else math.inf for v in getattr(self, metric)]
        return self.lrs[min(range(len(vals)), key=lambda i: vals[i])]

    @property
    def diverged(self) -> list[float]:
        """The LRs whose model was stopped for NaN/Inf (infinite training loss)."""
        return [lr for lr, v in zip(self.lrs, self.train_loss, strict=True) if math.isinf(v)]

    def plot(self):
        """A matplotlib Figure: final losses against LR (log-log); diverged LRs marked × at
        the top edge."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 4.5), layout="constrained")
        ax = fig.subplots()
        order = sorted(range(len(self.lrs)), key=self.lrs.__getitem__)  # a line in LR order
        for vals, style, label in (
            (self.train_loss, "o-", "training loss (last-epoch mean)"),
            (self.val_loss, "s-", "validation loss (after the last epoch)"),
        ):
            ys = [vals[i] if math.isfinite(vals[i]) and vals[i] > 0 else math.nan for i in order]
            if any(math.isfinite(v) for v in ys):
                ax.plot([self.lrs[i] for i in order], ys, style, label=label)
        ax.set_xscale("log")
        if any(math.isfinite(v) and v > 0 for v in self.train_loss + self.val_loss):
            ax.set_yscale("log")
            ax.set_ylabel("loss (log scale)")
        else:
            ax.set_ylabel("loss")
            ax.set_yticks([])
        if self.diverged:  # at the top edge: their loss is infinite
            ax.plot(self.diverged, [1.0] * len(self.diverged), "x", color="red", ms=9, mew=2,
                    transform=ax.get_xaxis_transform(), clip_on=False,
                    label="diverged (NaN/Inf)")  # fmt: skip
        ax.set_xlim(min(self.lrs) / 1.5, max(self.lrs) * 1.5)
        ax.set_xlabel("learning rate (log scale)")
        best, metric = self.best_lr, self.best_metric
        what = "validation" if metric == "val_loss" else "training"
        ax.set_title(
            f"population LR sweep: best {what} loss at lr {best:.2g}"
            if best is not None
            else "population LR sweep: every model diverged"
        )
        ax.legend(fontsize=8)
        return fig


def log_spaced(start_lr: float, end_lr: float, n: int) -> list[float]:
    """``n ≥ 2`` learning rates from ``start_lr`` to ``end_lr``, evenly spaced in log scale
    (``start_lr · r^i``, ``r = (end_lr / start_lr)^(1/(n−1))``, computed as
    ``exp(log start_lr + i · log r)``: ``end_lr / start_lr`` itself may overflow);
    ``0 < start_lr < end_lr``. The last point is ``end_lr`` exactly."""
    if not (0 < start_lr < end_lr < math.inf):
        raise ConfigError(
            f"the LR range needs 0 < start_lr < end_lr (--start-lr, --end-lr), got {start_lr} "
            f"and {end_lr}"
        )
    if n < 2:
        raise ConfigError(f"the LR range needs at least 2 points, got {n}")
    lo, step = math.log(start_lr), (math.log(end_lr) - math.log(start_lr)) / (n - 1)
    lrs = [start_lr, *(math.exp(lo + i * step) for i in range(1, n - 1)), end_lr]
    if any(b <= a for a, b in zip(lrs, lrs[1:], strict=False)):  # rounding: too many points
        raise ConfigError(
            f"the LR range {start_lr:g} to {end_lr:g} is too narrow for {n} distinct points "
            "(they repeat in floating point); widen the range or take fewer points"
        )
    return lrs


def lr_sweep(
    config: Any,
    lrs: list[float],
    *,
    epochs: int = 1,
    out: str | Path | None = None,
    device: str = "auto",
    model: Any = None,
    dataset: Any = None,
) -> LRSweepResult:
    """Train one model per LR (seed: the config's first) as one population for ``epochs``;
    ``model`` / ``dataset``: a user's ``nn.Module`` and data, as :func:`trainlab.train.train`
    takes them.

    Uses :func:`trainlab.train.train` with ``population.grid = {"optim.lr": lrs}``; a model
    whose loss turns NaN is stopped by the trainer and reported with an infinite loss. A config
    whose population sets values per model (``variants``, a grid over anything but
    ``optim.lr``), or whose optimizer section does, is refused: the sweep would drop them.
    """
    from ..config import MAX_EPOCHS, Config, as_config
    from ..train import train

    config = as_config(config)
    try:  # a list, a numpy or torch array (np.logspace(-4, 0, 9))
        lrs = [float(x) for x in lrs]
    except (TypeError, ValueError):
        msg = f"lr_sweep needs a list of positive learning rates, got {lrs!r}"
        raise ConfigError(msg) from None
    if not lrs or any(not (lr > 0) for lr in lrs):
        raise ConfigError("lr_sweep needs a list of positive learning rates")
    twice = next((lr for i, lr in enumerate(lrs) if lr in lrs[:i]), None)
    if twice is not None:  # (a range too narrow for its count gives equal points, too)
        raise ConfigError(f"lr_sweep needs distinct learning rates; {twice:g} is listed twice")
    whole = isinstance(epochs, numbers.Integral) and not isinstance(epochs, bool | np.bool_)
    if not whole or epochs < 1:
        raise ConfigError(f"lr_sweep needs epochs (--epochs) ≥ 1, got {epochs!r}")
    if epochs > MAX_EPOCHS:
        raise ConfigError(f"lr_sweep needs epochs (--epochs) ≤ {MAX_EPOCHS:,}, got {epochs!r}")
    epochs = int(epochs)  # (np.int64 from a notebook)
    raw = config.model_dump()
    for key, v in raw["optim"].items():  # (betas is a pair; per model, a list of pairs)
        per_model = isinstance(v, list) and bool(v) and (key != "betas" or isinstance(v[0], list))
        if key not in ("name", "lr") and per_model:
            raise ConfigError(
                f"lr_sweep trains one model per learning rate, so optim.{key} given per model "
                f"({v}) would pair its values with the learning rates; give one value "
                f"(--set optim.{key}=...)"
            )
    pop = config.population  # per-model values it would replace: refused, not dropped
    keys = sorted({k for v in pop.variants for k in v} | (set(pop.grid) - {"optim.lr"}))
    if keys:
        in_variants = any(k in v for v in pop.variants for k in keys)
        places = ["population.variants"] * in_variants + ["population.grid"] * any(
            k in pop.grid for k in keys
        )
        empty = "population.variants=[{}]" if in_variants else "population.grid={}"
        raise ConfigError(
            f"lr_sweep trains one model per learning rate with the config's shared values; its "
            f"{' and '.join(places)} set {', '.join(keys)} per model: remove them there (e.g. "
            f"--set {empty}), set one value (--set KEY=...), and sweep each setting on its own"
        )
    unused = [f"schedule '{config.schedule.name}'"] * (config.schedule.name != "none")
    if "optim.lr" in pop.grid:  # (replaced by the sweep's learning rates)
        unused.append(f"population.grid's optim.lr {list(pop.grid['optim.lr'])}")
    seeds = config.population.seeds
    unused += [f"seeds {', '.join(map(str, seeds[1:]))}"] * (len(seeds) > 1)
    if unused:
        warnings.warn(
            f"lr_sweep trains at fixed learning rates, one model each, with the config's first "
            f"seed ({seeds[0]}); not used: {', '.join(unused)}",
            stacklevel=2,
        )
    raw["population"] = {"seeds": [seeds[0]], "variants": [{}],
                         "grid": {"optim.lr": lrs}}  # fmt: skip
    raw["train"]["epochs"] = int(epochs)
    raw["train"]["schedule_epochs"] = None  # (the span of the schedule dropped: none left)
    raw["schedule"] = {"name": "none"}
    cfg = Config.model_validate(raw)
    res = train(
        cfg, out=out, device=device, progress=False, write=out is not None, model=model,
        dataset=dataset,
    )  # fmt: skip
    tl, vl = [], []
    for m in res.summary["models"]:
        final = m.get("final") or {}
        if m.get("status") == "nan":  # diverged; an early-stopped model's metrics are valid
            tl.append(math.inf)
            vl.append(math.inf)
            continue
        tl.append(_number(final.get("train_loss")))
        vl.append(_number(final.get("val_loss")))
    return LRSweepResult(lrs, tl, vl, res.run_dir)


def _number(v: Any) -> float:
    """A summary value as a float: None (a NaN written as JSON null, or no split) is NaN."""
    return math.nan if v is None else float(v)
