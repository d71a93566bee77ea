"""Health verdicts from :func:`trainlab.diagnostics.watch` records, with stated thresholds.

Each check looks at one model's latest sampled step that has the statistic it needs (the
NaN/Inf check looks at every step) and gives a :class:`Finding` with status ``ok``, ``warn``
or ``fail``. The thresholds (:class:`Thresholds`, all overridable):

==================  ==========================================================================
check               fires when (default thresholds)
==================  ==========================================================================
``gradients``       vanishing: ``g_first / g_last < 1e-2``; exploding: ``> 1e2``. ``g`` is the
                    norm of the back-propagated gradient ‖∂L/∂y‖ at the output of the first
                    and the last layer with parameters (forward order; where an in-place
                    activation overwrote a layer's output, the first and last layer with the
                    norm, activations included); where it was not recorded (vmap/loop
                    populations), the parameter-gradient norm ‖∂L/∂θ‖,
                    which can only warn: with small (large) weights the parameter gradients
                    of all layers shrink (grow) together — ∂L/∂W_l = δ_l a_{l-1}, the two
                    factors moving in opposite directions through the depth — so their
                    ratio can look healthy while δ vanishes or explodes; a healthy ‖∂L/∂θ‖
                    ratio gives no finding.
``activations``     collapsing: some layer's ``act_std / act_std(first layer) < 1e-2``, or the
                    first layer's ``act_std`` is 0 (zeros init: no signal passes);
                    exploding: ``> 1e2``. Activation modules are compared with the first
                    activation module, other layers with the first other layer (CS231n
                    lecture 7: with W ~ 0.01·N(0,1) tanh activations shrink toward zero
                    layer by layer). Where no ratio is out of range: large, some layer's
                    ``act_std > 1e2`` in absolute terms (the first layer too: unscaled
                    inputs, or too large an init).
``saturation``      a tanh/sigmoid layer has ``saturated_fraction > 0.2`` (tanh ``|y| > 0.99``,
                    sigmoid ``y < 0.01 or > 0.99``): its local gradient is almost zero there.
``dead_relu``       a ReLU or ReLU6 layer has ``dead_fraction > 0.25`` (units ``<= 0`` on every
                    sample of the batch). Both: the layer's least fraction over the latest 3
                    sampled steps (``PERSIST_STEPS``: a one-sample batch leaves about half of
                    a healthy layer at 0 on "every" sample), step 0 (before any update) left
                    out when a later step was sampled; the finding names the step of that
                    least value.
``update_ratio``    a layer that receives gradients has ‖Δθ‖/‖θ‖ ``< 1e-5`` (learning too
                    slowly) or ``> 1e-1`` (too fast); CS231n's rule of thumb is about 1e-3.
                    A model with no update at all (learning rate 0: stopped by the trainer
                    after NaN or early stopping, or frozen) is not flagged, unless an earlier
                    sampled step's update was too large (``> 1e-1``) and its layer never
                    moved within bounds after it: a model that stopped moving, or moves too
                    slowly, after too large a step is told so, with that step (the usual
                    story of a too-high learning rate). In a training
                    run's verdict (``run_findings``, which knows from ``summary.json`` that
                    the trainer never stopped the model) gradients that flow while no
                    sampled step moved a weight (updates that round away in float32, SGD
                    lr 1e-12) are too slow. A layer within bounds
                    at a sampled step after the first and slow only at the latest one (a
                    decaying schedule) is not flagged (Adam's first update, lr itself, does
                    not count). A training run's verdict also reads its learning rates
                    (``metrics.jsonl``): a ratio too small where the schedule had cut the
                    rate to ≤ 1/10 of its largest is judged at that largest rate (an update
                    scales with it: ``ratio · largest / lr``), and is ok if within bounds
                    there.
``nonfinite``       (``fail``) an output or a gradient held NaN/Inf; the origin is the first
                    layer in forward order with a non-finite output at the earliest such
                    step, or, where that step's outputs were all finite (the backward pass
                    made it), the last layer in forward order whose parameter gradient, or
                    the gradient at whose input, was non-finite. Under mixed precision
                    (records with ``loss_scale``, ``watch(scaler=...)``) gradients that
                    overflowed at the loss scale are steps the GradScaler skips: ``ok``,
                    named, unless the latest sampled step still overflows. (``warn``) an
                    output gradient's norm is inf while every output and parameter gradient
                    is finite: an Inf zeroed below (a ReLU) or a float32 overflow.
==================  ==========================================================================
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Thresholds", "Finding", "verdict", "verdict_table", "CHECKS"]

#: the checks, in the order they are reported
CHECKS = ("nonfinite", "gradients", "activations", "saturation", "dead_relu", "update_ratio")
#: saturation and dead ReLU units are judged by each layer's least fraction over this many
#: latest sampled steps (a unit that is dead or saturated stays so; a tiny batch exaggerates)
PERSIST_STEPS = 3
_ACTIVATION_KINDS = ("relu", "tanh", "sigmoid", "hardtanh", "hardsigmoid", "activation")
_STATUS_RANK = {"ok": 0, "warn": 1, "fail": 2}


@dataclass(frozen=True)
class Thresholds:
    """Where each check fires (the definitions: ``help(trainlab.diagnostics.verdict)``)."""

    grad_ratio_low: float = 1e-2
    grad_ratio_high: float = 1e2
    act_ratio_low: float = 1e-2
    act_ratio_high: float = 1e2
    act_std_high: float = 1e2
    saturated: float = 0.2
    dead: float = 0.25
    update_low: float = 1e-5
    update_high: float = 1e-1

    def __post_init__(self) -> None:
        from trainlab.errors import UserError

        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if getattr(v, "ndim", None) == 0 and hasattr(v, "item"):  # (a 0-d array: one number)
                v = v.item()
            bad = isinstance(v, bool) or not isinstance(v, numbers.Real)
            if not bad:
                try:
                    v = float(v)  # (np.float32(0.5): a plain float; 10**400: too large)
                except OverflowError:
                    bad = True
            if bad or not v >= 0 or v == math.inf:
                given = getattr(self, f.name)
                raise UserError(f"Thresholds.{f.name} must be a finite number >= 0, got {given!r}")
            object.__setattr__(self, f.name, v)
        for name in ("saturated", "dead"):  # fractions of units, not percentages
            if getattr(self, name) > 1:
                raise UserError(
                    f"Thresholds.{name} is a fraction in [0, 1] (0.25: a quarter of the units), "
                    f"got {getattr(self, name)!r}"
                )
        for low, high in (
            ("grad_ratio_low", "grad_ratio_high"),
            ("act_ratio_low", "act_ratio_high"),
            ("update_low", "update_high"),
        ):
            if getattr(self, low) > getattr(self, high):
                raise UserError(
                    f"Thresholds.{low} ({getattr(self, low)!r}) is above Thresholds.{high} "
                    f"({getattr(self, high)!r}); the low bound must not exceed the high one"
                )


@dataclass
class Finding:
    """The result of one check for one model.

    ``value`` is the measured quantity (a ratio or fraction), ``layer`` the worst (or origin)
    layer, ``layers`` every layer that crossed the threshold.
    """

    check: str
    status: str  # "ok" | "warn" | "fail"
    model: int
    message: str
    step: int | None = None
    layer: str | None = None
    value: float | None = None
    layers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and math.isfinite(v)


def _by_model(records: Iterable[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for r in records:
        out.setdefault(int(r.get("model", 0)), []).append(r)
    return out


def _std(v: Any) -> bool:
    """A std to judge: finite, or +inf (an output whose float32 sum of squares overflowed,
    although its values were finite: the largest activations of all)."""
    return isinstance(v, int | float) and (math.isfinite(v) or v == math.inf)


def _latest(
    rows: list[dict[str, Any]], key: str, ok: Callable[[Any], bool] = _finite
) -> list[dict[str, Any]]:
    """The rows of the latest step at which some layer's ``key`` passes ``ok`` (finite), in
    forward order."""
    steps = [r["step"] for r in rows if ok(r.get(key))]
    if not steps:
        return []
    last = max(steps)
    sel = [r for r in rows if r["step"] == last]
    return sorted(sel, key=lambda r: (r.get("order") is None, r.get("order") or 0))


def _ran(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of layers that ran at their step (an ``order``), when the records say it
    (records made by hand without orders are kept): a layer not called at a step has no place
    in its forward order, and its ``.grad`` (zeroed, or None) says nothing of the step."""
    if all(r.get("order") is None for r in rows):
        return rows
    return [r for r in rows if r.get("order") is not None]


def _has_params(r: dict[str, Any]) -> bool:
    return r.get("weight_norm") is not None


def verdict(
    records: Iterable[dict[str, Any]] | str | os.PathLike[str],
    thresholds: Thresholds | Mapping[str, float] | None = None,
) -> list[Finding]:
    """Health findings, one per (model, check), from ``watch`` records (the Watch itself gives
    its :meth:`~trainlab.diagnostics.Watch.records`; or the lines of diagnostics.jsonl, as
    :func:`trainlab.report.jsonl.encode_record` wrote them; a path to that file or to its run
    directory reads it). ``thresholds``: a :class:`Thresholds` or a
    dict of its fields (``{"dead": 0.5}``; the others keep their defaults).

    Returns findings ordered by model, then by :data:`CHECKS`; checks without data for a model
    (e.g. no tanh layer for ``saturation``) give no finding.
    """
    # lines of diagnostics.jsonl name their NaN/Inf (absolute: this module loads on its own)
    from trainlab.diagnostics.run import records_of
    from trainlab.errors import UserError, unknown_name

    # the records, the Watch itself, or diagnostics.jsonl / its run directory
    records = records_of(records)
    if isinstance(thresholds, Mapping):
        names = [f.name for f in dataclasses.fields(Thresholds)]
        for key in thresholds:
            if key not in names:
                raise unknown_name("threshold", str(key), names)
        thresholds = Thresholds(**thresholds)
    elif thresholds is not None and not isinstance(thresholds, Thresholds):
        raise UserError(
            f"thresholds must be a Thresholds or a dict, got {type(thresholds).__name__}"
        )
    t = thresholds or Thresholds()
    findings: list[Finding] = []
    for model, rows in sorted(_by_model(records).items()):
        for check in (
            _check_nonfinite,
            _check_gradients,
            _check_activations,
            _check_saturation,
            _check_dead,
            _check_updates,
        ):
            f = check(model, rows, t)
            if f is not None:
                findings.append(f)
    return findings


def _check_nonfinite(model: int, rows: list[dict[str, Any]], t: Thresholds) -> Finding | None:
    seen = [r for r in rows if r.get("nonfinite") is not None]
    if not seen:
        return None
    bad = [r for r in seen if r["nonfinite"]]

    # a parameter gradient's norm non-finite (NaN, Inf, or float32 overflow: as the trainer
    # counts it), or an output gradient's: NaN, or inf unless the parameter gradients of the
    # layer and of the layers before it (which the backward reaches after it) are recorded
    # and all finite: then the inf is a float32 overflow of finite values, which the trainer
    # never stops a model for (a real Inf there makes those parameter gradients non-finite)
    def overflow_only(r: dict[str, Any]) -> bool:
        below = [
            q["grad_norm"]
            for q in rows
            if q["step"] == r["step"]
            and isinstance(q.get("grad_norm"), int | float)
            and _order(q) <= _order(r)
        ]
        return bool(below) and all(math.isfinite(g) for g in below)

    overflowed = [r for r in rows if _nonfinite_number(r.get("out_grad_norm")) and overflow_only(r)]
    fine = {id(r) for r in overflowed}
    back = [
        r
        for r in rows
        if _nonfinite_number(r.get("grad_norm"))
        or _is_nan(r.get("out_grad_norm"))
        or (_nonfinite_number(r.get("out_grad_norm")) and id(r) not in fine)
    ]
    # mixed precision (watch(scaler=...)): loss-scaled gradients that overflowed are steps the
    # GradScaler skips (and lowers its scale), not a NaN origin, unless still there at the end
    overflow = {r["step"] for r in back if r.get("loss_scale") is not None}
    last_clean = max((r["step"] for r in rows if r["step"] not in overflow), default=-1)
    skipped = sorted(st for st in overflow if st < last_clean)  # training went on past them
    if skipped:
        back = [r for r in back if r["step"] not in skipped]
    if not bad and not back:
        if overflowed:  # the norm alone cannot tell an Inf from a float32 overflow
            step = min(r["step"] for r in overflowed)
            at = _backward_origin(model, step, [r for r in rows if r["step"] == step])
            return Finding(
                "nonfinite",
                "warn",
                model,
                f"an infinite output-gradient norm at step {step} in the backward pass of layer "
                f"'{at.layer}' while every output and parameter gradient is finite: an Inf "
                "there (zeroed below it, e.g. by a ReLU) or a float32 overflow of finite values",
                step=step,
                layer=at.layer,
                layers=at.layers,
            )
        if skipped:
            return Finding(
                "nonfinite",
                "ok",
                model,
                f"all outputs finite; the loss-scaled gradients overflowed in {len(skipped)} "
                f"sampled step(s) (first: step {skipped[0]}), which the GradScaler skips",
            )
        return Finding("nonfinite", "ok", model, "all outputs and gradients finite")
    fwd_step = min((r["step"] for r in bad), default=math.inf)
    back_step = min((r["step"] for r in back), default=math.inf)
    if fwd_step <= back_step:  # a step's forward runs before its backward
        at = [r for r in bad if r["step"] == fwd_step]
        first = min(at, key=_order)
        origin = first["layer"]
        now = [r for r in rows if r["step"] == fwd_step]
        entry = min(now, key=_order) is first
        w = first.get("weight_norm")
        broken = [r for r in now if _nonfinite_number(r.get("weight_norm"))]
        why = ""
        if broken:  # (a parameter used outside any layer: the root module's own, recorded as '')
            name = broken[0]["layer"]
            who = repr(name) if name else "the root module"
            why = (  # an inf norm: NaN/Inf weights, or finite ones whose float32 norm overflows
                f"; {who} holds a non-finite parameter"
                if _is_nan(broken[0]["weight_norm"])
                else f"; {who} has an infinite weight norm (an Inf parameter, or weights beyond "
                "~1e19 whose float32 norm overflows)"
            )
        elif entry and (w is None or _finite(w)):  # the first watched layer, weights finite
            why = (
                "; its weights are finite, so its input held NaN/Inf (the data, or a computation "
                "before it that no watched layer covers), or its output overflowed float32"
            )
        # a block called several times per forward is measured at its first call: a later
        # call (an unrolled cell) may have made the NaN/Inf first
        reused = [
            r["layer"]
            for r in now
            if (r.get("calls") or 0) > 1 and not r.get("nonfinite") and _order(r) < _order(first)
        ]
        if reused:
            names = ", ".join(f"'{n}'" for n in reused)
            why += (
                f"; or {names} before it, which ran several times in the forward and is "
                "measured at its first call only"
            )
        return Finding(
            "nonfinite",
            "fail",
            model,
            f"NaN/Inf first appears at step {fwd_step} in layer '{origin}' "
            f"(first in forward order){why}",
            step=fwd_step,
            layer=origin,
            layers=[r["layer"] for r in at],
        )
    return _backward_origin(model, back_step, [r for r in rows if r["step"] == back_step])


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _nonfinite_number(v: Any) -> bool:
    return isinstance(v, int | float) and not math.isfinite(v)


def _order(r: dict[str, Any]) -> tuple[bool, int]:
    return r.get("order") is None, r.get("order") or 0


def _consumer(rows: list[dict[str, Any]], i: int) -> int:
    """The position of the layer that took row ``i``'s output: the next row in forward order,
    or the outermost of its enclosing modules recorded after it (a module is recorded after
    its children: in ``0, 1, 2.lin, 2`` layer ``1``'s output went into block ``2``, which used
    it beside ``2.lin``), never an enclosing module of row ``i`` itself."""
    if i + 1 >= len(rows):
        return len(rows) - 1
    j, own = i + 1, str(rows[i]["layer"]) + "."
    for later in range(i + 2, len(rows)):
        name = str(rows[later]["layer"])
        if str(rows[j]["layer"]).startswith(name + ".") and not own.startswith(name + "."):
            j = later
    return j


def _backward_origin(model: int, step: int, rows: list[dict[str, Any]]) -> Finding:
    """A NaN/Inf that the backward pass of ``step`` produced (every output of the step was
    finite). The backward runs last layer first, so the origin is the latest layer in forward
    order that shows it: its own parameter gradient non-finite, or the gradient at its input,
    i.e. at the output of the layer before it, non-finite. Layers not called at the step are
    left out (an auxiliary head is no "last layer"), unless only they show it."""
    ran = sorted(_ran(rows), key=_order)
    shows = any(
        _nonfinite_number(r.get("grad_norm")) or _nonfinite_number(r.get("out_grad_norm"))
        for r in ran
    )
    rows = ran if shows else sorted(rows, key=_order)
    at: list[int] = []  # positions in forward order that show it
    measured: dict[int, int] = {}  # a consumer's position -> the latest row whose ∂L/∂y showed it
    for i, r in enumerate(rows):
        if _nonfinite_number(r.get("grad_norm")):
            at.append(i)
        if _nonfinite_number(r.get("out_grad_norm")):  # came out of the layer after it (or,
            at.append(j := _consumer(rows, i))  # at the last layer's output, the loss's)
            measured[j] = i
    candidates = [rows[i]["layer"] for i in at]
    origin = rows[max(at)]["layer"]
    last = rows[max(at)]
    # a presumed consumer that shows nothing itself and is one layer (not a block whose own
    # code runs around its recorded children): the guess is not stated as a fact
    clean = not any(
        _nonfinite_number(last.get(key)) for key in ("grad_norm", "out_grad_norm", "weight_norm")
    ) and not any(str(r["layer"]).startswith(f"{last['layer']}.") for r in rows)
    if _nonfinite_number(rows[-1].get("out_grad_norm")):  # ∂L/∂y at the model's output
        msg = (
            f"NaN/Inf first appears at step {step} in the gradient from the loss (every output "
            f"was finite; ∂L/∂y at the output of '{origin}', the last layer, was already "
            "non-finite: the loss or its target made it, e.g. a NaN target or log(0))"
        )
    elif clean and max(at) in measured:
        origin = rows[measured[max(at)]]["layer"]
        msg = (
            f"NaN/Inf first appears at step {step} in the backward pass, in the gradient at the "
            f"output of '{origin}' (every output was finite; '{last['layer']}', the next layer "
            "in forward order, shows only finite gradients: the NaN came from its backward, "
            "from a computation of the forward code that no watched layer covers, or from a "
            f"later layer that took '{origin}''s output through a skip connection)"
        )
    else:
        msg = (
            f"NaN/Inf first appears at step {step} in the backward pass of layer '{origin}' "
            "(every output was finite; the last layer in forward order with a non-finite "
            "gradient, or one whose norm overflowed float32, beyond ~1.8e19, as the trainer "
            "counts it)"
        )
    return Finding(
        "nonfinite",
        "fail",
        model,
        msg,
        step=step,
        layer=origin,
        layers=list(dict.fromkeys(candidates)),
    )


def _check_gradients(model: int, rows: list[dict[str, Any]], t: Thresholds) -> Finding | None:
    names = {"out_grad_norm": "‖∂L/∂y‖", "grad_norm": "‖∂L/∂θ‖"}
    key, sel, inplace = "", [], False
    for key in names:
        step_rows = _ran(_latest(rows, key))
        latest = [r for r in step_rows if _finite(r.get(key))]
        sel = [r for r in latest if _has_params(r)]
        first = next((r for r in step_rows if _has_params(r)), None)
        if key == "out_grad_norm" and (len(sel) < 2 or (first and not _finite(first.get(key)))):
            # an in-place activation (ReLU(inplace=True)) overwrote a layer's output (the first
            # one's: the ratio from the second would hide the shrink through it): the
            # activations' ‖∂L/∂y‖ too, which cannot see a gradient the activation itself stopped
            sel, inplace = latest, True
        if len(sel) >= 2:
            break
    if len(sel) < 2:
        return None
    found = _gradient_ratio(model, sel, key, names[key], t)
    if inplace and key == "out_grad_norm" and found.status == "ok":  # (a dead in-place ReLU:
        sel = [r for r in _ran(_latest(rows, "grad_norm")) if _finite(r.get("grad_norm"))]  # its
        if len(sel) >= 2:  # own ∂L/∂y is fine, the layer below gets 0): ‖∂L/∂θ‖ may warn
            theta = _gradient_ratio(model, sel, "grad_norm", names["grad_norm"], t)
            if theta.status != "ok":
                return theta
    return found if found.status != "ok" or key == "out_grad_norm" else None


def _gradient_ratio(
    model: int, sel: list[dict[str, Any]], key: str, what: str, t: Thresholds
) -> Finding:
    """The first/last ``key`` ratio of ``sel`` (forward order) against the thresholds."""
    first, last = sel[0], sel[-1]
    g0, g1 = first[key], last[key]
    ratio = g0 / g1 if g1 > 0 else (math.inf if g0 > 0 else 1.0)
    step = first["step"]
    span = f"'{first['layer']}' / '{last['layer']}'"
    if ratio < t.grad_ratio_low:
        shown, bound = _beyond(ratio, t.grad_ratio_low)
        return Finding(
            "gradients",
            "warn",
            model,
            f"vanishing gradients: {what} first/last layer = {shown} < {bound}",
            step,
            first["layer"],
            ratio,
            [first["layer"]],
        )
    if ratio > t.grad_ratio_high:
        shown, bound = _beyond(ratio, t.grad_ratio_high)
        return Finding(
            "gradients",
            "warn",
            model,
            f"exploding gradients: {what} first/last layer = {shown} > {bound}",
            step,
            first["layer"],
            ratio,
            [first["layer"]],
        )
    return Finding(  # (a ‖∂L/∂θ‖ "ok" is a weak signal: the caller drops it, it never clears)
        "gradients", "ok", model, f"{what} first/last ({span}) = {ratio:.2g}", step, None, ratio
    )


def _check_activations(model: int, rows: list[dict[str, Any]], t: Thresholds) -> Finding | None:
    sel = [r for r in _latest(rows, "act_std", _std) if _std(r.get("act_std"))]
    if len(sel) < 2:
        return _large_activations(model, sel, t, rows)
    # a softmax's outputs sum to 1: their spread (~1/C) is no evidence of a shrinking signal
    sel = [r for r in sel if r.get("kind") != "softmax"]
    ratios: list[tuple[float, dict[str, Any]]] = []  # (std / base std, row), forward order
    for group in (
        [r for r in sel if r.get("kind") in _ACTIVATION_KINDS],
        [r for r in sel if r.get("kind") not in _ACTIVATION_KINDS],
    ):
        if len(group) >= 2 and group[0]["act_std"] == 0:  # no ratio: the base itself is flat
            r = group[0]
            msg = (
                f"collapsing activations: '{r['layer']}' outputs have std 0 (one value for "
                "every unit and sample): no signal passes it"
            )
            return Finding("activations", "warn", model, msg, r["step"], r["layer"], 0.0,
                           [r["layer"]])  # fmt: skip
        if len(group) < 2 or not 0 < group[0]["act_std"] < math.inf:
            continue  # (an overflowing first layer: only the absolute check below judges it)
        base = group[0]["act_std"]
        ratios += [(r["act_std"] / base, r) for r in group[1:]]
    if not ratios:
        return _large_activations(model, sel, t, rows)

    def decades(ratio: float) -> float:  # distance from 1 (no change), in decades
        return abs(math.log10(max(ratio, 1e-300)))

    def excess(ratio: float) -> float:  # decades beyond the crossed threshold (0: in range)
        if ratio < t.act_ratio_low:
            return math.log10(t.act_ratio_low / max(ratio, 1e-300))
        if ratio > t.act_ratio_high:
            return math.log10(ratio / t.act_ratio_high)
        return 0.0

    flagged = [q for q in ratios if not t.act_ratio_low <= q[0] <= t.act_ratio_high]
    if not flagged and (large := _large_activations(model, sel, t, rows)) is not None:
        return large
    if not flagged:
        ratio, r = max(ratios, key=lambda q: decades(q[0]))
        msg = f"largest std change vs the first layer: {ratio:.2g}× ('{r['layer']}')"
        return Finding("activations", "ok", model, msg, r["step"], None, ratio)
    # the layer furthest beyond its threshold: with asymmetric thresholds the largest change
    # overall (e.g. 50× with a high bound of 1e3) can be in range while another layer is not
    ratio, r = max(flagged, key=lambda q: excess(q[0]))
    layers = [q[1]["layer"] for q in flagged]
    if ratio < t.act_ratio_low:
        shown, bound = _beyond(ratio, t.act_ratio_low)
        msg = f"collapsing activations: std of '{r['layer']}' is {shown}× the first layer's"
        msg += f" (< {bound})"
    else:
        shown, bound = _beyond(ratio, t.act_ratio_high)
        msg = f"exploding activations: std of '{r['layer']}' is {shown}× the first layer's"
        msg += f" (> {bound})"
    return Finding("activations", "warn", model, msg, r["step"], r["layer"], ratio, layers)


def _large_activations(
    model: int, sel: list[dict[str, Any]], t: Thresholds, rows: list[dict[str, Any]]
) -> Finding | None:
    """A warning when some layer's activation std exceeds ``act_std_high`` in absolute terms
    (also the first layer, which the relative check takes as its base), else None. The cause
    named: the inputs or the init where the first sampled step was already large; the updates
    (the learning rate) where the layer's std was in range at the first sampled step and grew."""
    large = [r for r in sel if r["act_std"] > t.act_std_high]
    if not large:
        return None
    r = max(large, key=lambda r: r["act_std"])
    first = min((q["step"] for q in rows if _std(q.get("act_std"))), default=r["step"])
    at_first = [
        q["act_std"]
        for q in rows
        if q["step"] == first and q["layer"] == r["layer"] and _std(q.get("act_std"))
    ]
    if first < r["step"] and at_first and max(at_first) <= t.act_std_high:
        cause = (
            f"it grew during training (std {max(at_first):.3g} at step {first}): too large "
            "updates (lower the learning rate)"
        )
    else:
        cause = "unscaled inputs (standardize them) or too large an init"
    shown, bound = _beyond(r["act_std"], t.act_std_high, 3, "g")
    msg = f"large activations: std {shown} in '{r['layer']}' (> {bound}): "
    msg += cause
    return Finding(
        "activations", "warn", model, msg, r["step"], r["layer"], r["act_std"],
        [q["layer"] for q in large],
    )  # fmt: skip


def _beyond(value: float, limit: float, digits: int = 2, fmt: str = "e") -> tuple[str, str]:
    """``value`` formatted ``.{digits}{fmt}``, or with more digits (up to 5 more) until it reads
    beyond ``limit`` (9.96e-6 against 1e-5 is "9.96e-06", not "1.0e-05"), and ``limit``."""
    for d in range(digits, digits + 6):
        shown = f"{value:.{d}{fmt}}"
        if float(shown) != limit and (float(shown) < limit) == (value < limit):
            break
    return shown, f"{limit:g}"


def _percents(value: float, limit: float) -> tuple[str, str]:
    """``value`` and ``limit`` as percentages with the fewest decimals (up to 3) that tell
    them apart: 0.252 against 0.25 is "25.2%" and "25.0%", not "25%" > "25%"; and that never
    round a fraction to "100%" or "0%" it is not (255 of 256 units dead is "99.6%")."""
    for digits in range(4):
        a, b = f"{value:.{digits}%}", f"{limit:.{digits}%}"
        extreme = (a == f"{1:.{digits}%}" and value < 1) or (a == f"{0:.{digits}%}" and value > 0)
        if a != b and (not extreme or digits == 3):
            return a, b
    return a, b


def _fraction_check(
    name: str, key: str, limit: float, what: str, model: int, rows: list[dict[str, Any]]
) -> Finding | None:
    # a NaN output compares false everywhere (0% saturated, 0% dead): judge finite outputs only
    rows = [r for r in rows if not r.get("nonfinite")]
    sel = [r for r in _latest(rows, key) if _finite(r.get(key))]
    if not sel:
        return None
    # a dead or saturated unit stays so: each layer's least fraction over the latest
    # PERSIST_STEPS sampled steps (a one-sample last batch leaves half a healthy layer "dead")
    # (step 0, before any update, only when nothing later was sampled: its layers have not
    # trained yet, and a net saturated from step 1 on must not read "ok" from it)
    sampled = sorted({r["step"] for r in rows if _finite(r.get(key))})
    steps = ([s for s in sampled if s != 0] or sampled)[-PERSIST_STEPS:]
    least: dict[str, tuple[float, Any]] = {}  # layer -> (least fraction, the step it was at)
    for r in rows:
        if r["step"] in steps and _finite(r.get(key)):
            old = least.get(r["layer"])
            if old is None or r[key] < old[0]:
                least[r["layer"]] = (r[key], r["step"])
    # each layer's row as that least value was measured: the finding's step and value agree
    sel = [{**r, key: least[r["layer"]][0], "step": least[r["layer"]][1]} for r in sel]
    worst = max(sel, key=lambda r: r[key])
    # more than the limit, and not its float32 rounding: records written before the fractions
    # were exact hold float32 quotients (1 of 5 as 0.20000000298), which are the limit itself
    at_limit = float(np.float32(limit))
    flagged = [r["layer"] for r in sel if r[key] > limit and r[key] != at_limit]
    v = worst[key]
    if flagged:
        shown, bound = _percents(v, limit)
        msg = f"{what}: {shown} in '{worst['layer']}' > {bound}"
        return Finding(name, "warn", model, msg, worst["step"], worst["layer"], v, flagged)
    # a module called several times per forward (one nn.ReLU shared by every layer) is
    # measured at its first call: the later calls' units are unseen, so "ok" is not known
    shared = {
        r["layer"]: r["calls"] for r in sel if isinstance(r.get("calls"), int) and r["calls"] > 1
    }
    if shared:
        layer, calls = next(iter(shared.items()))
        msg = (
            f"{what}: at most {v:.0%} where measured, but '{layer}' runs {calls}× per forward and "
            "only its first call is measured: give each layer its own module to judge the others"
        )
        return Finding(name, "warn", model, msg, worst["step"], layer, v, list(shared))
    return Finding(name, "ok", model, f"at most {v:.0%} ({what})", worst["step"], None, v)


def _check_saturation(model: int, rows: list[dict[str, Any]], t: Thresholds) -> Finding | None:
    return _fraction_check(
        "saturation", "saturated_fraction", t.saturated, "saturated tanh/sigmoid", model, rows
    )


def _check_dead(model: int, rows: list[dict[str, Any]], t: Thresholds) -> Finding | None:
    return _fraction_check("dead_relu", "dead_fraction", t.dead, "dead ReLU units", model, rows)


def _moved_by(rows: list[dict[str, Any]], layers: set[str], step: int) -> bool:
    """Whether one of ``layers`` had an update ratio above 0 at or before ``step`` (+inf too:
    an update too large for float32's norm; NaN not)."""
    return any(
        r["layer"] in layers
        and r["step"] <= step
        and isinstance(ratio := r.get("update_ratio"), int | float)
        and ratio > 0
        for r in rows
    )


def _check_updates(model: int, rows: list[dict[str, Any]], t: Thresholds) -> Finding | None:
    # layers that receive gradients, at any step: a model stopped for NaN has null gradient
    # norms at its latest steps, and its earlier too-large update must still be said
    has_grad = {r["layer"] for r in rows if r.get("grad_norm") is not None}
    # +inf counts (an update too large for float32's norm: the largest of all)
    last = _latest(rows, "update_ratio", _std)
    # judged at the latest step: a layer that ran there, or that a gradient reached there
    # without its forward (MultiheadAttention's out_proj); an auxiliary head not called at that
    # step was not trained by it, and its ratio 0 is not "too slow"
    ran = {id(r) for r in _ran(last)}
    sel = [
        r
        for r in last
        if _std(r.get("update_ratio"))
        and r["layer"] in has_grad
        and (id(r) in ran or (_finite(r.get("grad_norm")) and r["grad_norm"] > 0))
    ]
    if not sel:
        return None
    # an earlier step whose update was too large explains a model that no longer moves (a huge
    # lr kills ReLU units or saturates them in a few steps): said next to the latest finding.
    # Not one its layer recovered from (a later step within bounds): Adam's first update is lr
    # itself, and a model that then trained well and was early-stopped is not explained by it
    latest = sel[0]["step"]
    healthy: dict[str, float] = {}  # layer -> its last step within bounds before the latest
    for r in rows:
        ratio = r.get("update_ratio")
        if r["step"] < latest and _finite(ratio) and t.update_low <= ratio <= t.update_high:
            healthy[r["layer"]] = max(healthy.get(r["layer"], -math.inf), r["step"])
    early = next(
        (
            r
            for r in sorted(rows, key=lambda r: r["step"])
            if r["step"] < latest
            and _std(r.get("update_ratio"))  # +inf: an update too large for float32's norm
            and r["update_ratio"] > t.update_high
            and r["step"] > healthy.get(r["layer"], -math.inf)
        ),
        None,
    )
    # ... said only of layers that moved by then (a zeros-init layer never did: its 0 is not
    # the aftermath of another layer's later large step)
    slow = {r["layer"] for r in sel if r["update_ratio"] < t.update_low}
    if early is not None and not _moved_by(rows, slow, early["step"]):
        early = None
    before = (
        f"; at step {early['step']} it was too large: "
        f"{_beyond(early['update_ratio'], t.update_high, 1)[0]} in "
        f"'{early['layer']}' (bound {t.update_high:g}), which can kill or saturate units"
        if early is not None
        else ""
    )
    if all(r["update_ratio"] == 0 for r in sel):  # lr 0: a stopped (NaN, early) or frozen model
        layers = {r["layer"] for r in sel}
        prev = max((r["step"] for r in rows if r["step"] < latest), default=None)
        moving = {
            r["step"] for r in rows
            if r["step"] < latest and r["layer"] in layers and _std(r.get("update_ratio"))
            and r["update_ratio"] > 0
        }  # fmt: skip
        calm = all(
            r["update_ratio"] <= t.update_high
            for r in rows
            if r["step"] == prev and r["layer"] in layers and _std(r.get("update_ratio"))
        )
        if prev in moving and len(moving) >= 2 and calm:  # the last sampled step alone
            # without an update, after sampled steps that moved within bounds: not a stopped
            # model (LBFGS's line search ends on a closure evaluation at the final point, ‖Δθ‖
            # 0): judged at the step before. (A model one earlier sample shows moving, then
            # none, or a 0 right after a too-large step, which can kill units: "no update".)
            return _check_updates(model, [r for r in rows if r["step"] < latest], t)
        status = "warn" if early is not None else "ok"
        return Finding(
            "update_ratio", status, model, "no update (model stopped or frozen)" + before,
            sel[0]["step"], early["layer"] if early is not None else None,
        )  # fmt: skip

    # a layer that moved at a healthy rate earlier and is slow only now (a decaying schedule,
    # cosine to ~0) is not "too slow"; without an earlier too-large update that explains it.
    # The first sampled step does not count as "earlier": Adam's first update is lr itself
    # (bias correction), larger than the steady ones under a constant lr
    first = min(r["step"] for r in rows)
    peak: dict[str, float] = {}
    for r in rows:
        if r["step"] > first and r["layer"] in has_grad and _finite(r.get("update_ratio")):
            peak[r["layer"]] = max(peak.get(r["layer"], 0.0), r["update_ratio"])
    slowed = [
        r
        for r in sel
        if early is None
        and r["update_ratio"] < t.update_low
        and peak.get(r["layer"], 0.0) >= t.update_low
        and r.get("grad_norm") != 0  # (a decaying lr leaves the gradient flowing; 0: stuck)
    ]
    slow_note = (
        f"; it fell to {min(r['update_ratio'] for r in slowed):.1e} at the latest step, after "
        "moving within bounds earlier (as a decaying learning rate makes it)"
        if slowed
        else ""
    )
    judged = [r for r in sel if all(r is not q for q in slowed)]
    if not judged:  # every layer only slowed at the end
        return Finding(
            "update_ratio", "ok", model,
            f"‖Δθ‖/‖θ‖ within [{t.update_low:g}, {t.update_high:g}] earlier" + slow_note,
            slowed[0]["step"], None, slowed[0]["update_ratio"],
        )  # fmt: skip
    sel = judged

    def dist(r: dict[str, Any]) -> float:  # decades away from 1e-3
        return abs(math.log10(max(r["update_ratio"], 1e-300)) + 3.0)

    def excess(r: dict[str, Any]) -> float:  # decades beyond the crossed bound (0: in range)
        u = max(r["update_ratio"], 1e-300)
        if u < t.update_low:
            return math.log10(t.update_low / u)
        return math.log10(u / max(t.update_high, 1e-300)) if u > t.update_high else 0.0

    # the layer furthest beyond its bound (custom bounds need not sit evenly about 1e-3); with
    # none beyond, the one furthest from 1e-3
    worst = max(sel, key=lambda r: (excess(r), dist(r)))
    v = worst["update_ratio"]
    low = [r["layer"] for r in sel if r["update_ratio"] < t.update_low]
    high = [r["layer"] for r in sel if r["update_ratio"] > t.update_high]
    if low or high:
        direction = "too small" if v < t.update_low else "too large"
        bound = t.update_low if v < t.update_low else t.update_high
        if not (v < t.update_low or v > t.update_high):  # the worst is fine; report a flagged one
            lay = (low or high)[0]
            worst = next(r for r in sel if r["layer"] == lay)
            v = worst["update_ratio"]
            direction, bound = ("too small", t.update_low) if low else ("too large", t.update_high)
        shown, limit = _beyond(v, bound, 1)
        msg = f"update/weight ratio {direction}: {shown} in '{worst['layer']}' (bound {limit})"
        moved = early is not None and _moved_by(rows, {worst["layer"]}, early["step"])
        msg += before if direction == "too small" and moved else ""  # (the layer named moved)
        return Finding(
            "update_ratio", "warn", model, msg, worst["step"], worst["layer"], v, low + high
        )
    return Finding(
        "update_ratio", "ok", model,
        f"‖Δθ‖/‖θ‖ within [{t.update_low:g}, {t.update_high:g}]" + slow_note,
        worst["step"], None, v,
    )  # fmt: skip


# ``trainlab.diagnostics.verdict`` names this function (it hides the module), which the docs
# and ``trainlab diagnose --help`` send readers to for the checks: it carries their table
verdict.__doc__ = f"{inspect.cleandoc(verdict.__doc__ or '')}\n\n{__doc__}"


#: checks that fire in two directions (vanishing/exploding, collapsing/exploding, too small/
#: too large): a population's row names both
_TWO_SIDED = ("gradients", "activations", "update_ratio")


def _side(f: Finding) -> str:
    """The direction a two-sided check's finding fired in: its message up to the first colon
    or semicolon (``"vanishing gradients"``, ``"update/weight ratio too large"``, ``"no update
    (model stopped or frozen)"``, whatever step its detail names)."""
    return re.split("[:;]", f.message, maxsplit=1)[0]


#: the checks whose value is a share of units (``at most 12%``)
_SHARE_CHECKS = ("dead_relu", "saturation")
#: the checks whose value is a ratio, healthy near 1 (``largest std change ... 4.4×``)
_RATIO_CHECKS = ("gradients", "activations")


def _decades(value: float | None) -> float:
    """How far a ratio is from 1, in decades (-1: none measured)."""
    return abs(math.log10(value)) if _finite(value) and value > 0 else -1.0


def verdict_rows(findings: Sequence[Finding]) -> list[dict[str, str]]:
    """One row per check, aggregated over the models: ``check``, ``status`` (the worst over
    models), ``models`` (for how many of them it fired, ``"2/16"``), ``layer`` (the most
    common layer among the findings of that worst status) and ``detail`` (the message of the
    first such model that flagged that layer, else of the first where it fired with that
    status, or of the first model, but for a check that fired for no model, of the model
    furthest from healthy — the largest share of dead or saturated units, the gradient or
    activation ratio furthest from 1 — so that its "at most" or "largest" holds for all; with
    how many models fired the other way, for a check with two directions)."""
    rows = []
    # every model of the population counts, also one a check gave no finding (a healthy
    # ‖∂L/∂θ‖ ratio of a vmap/loop model neither warns nor clears)
    n_models = len({f.model for f in findings})
    for check in CHECKS:
        fs = [f for f in findings if f.check == check]
        if not fs:
            continue
        status = max((f.status for f in fs), key=_STATUS_RANK.__getitem__)
        fired = [f for f in fs if not f.ok]
        # the layer and detail shown are a finding of the row's status (a fail beside warns:
        # the failing model's, not a warning's on a "fail" row)
        worst = [f for f in fired if f.status == status] or fired
        layers = [f.layer for f in worst if f.layer]
        # the most common flagged layer; ties go to the first seen (no hash order)
        layer = Counter(layers).most_common(1)[0][0] if layers else ""
        # the detail of a model that flagged that layer: the row names one layer, not two
        shown = next((f for f in worst if f.layer == layer), worst[0] if worst else fs[0])
        if not fired and check in _SHARE_CHECKS:  # "at most 1%" must hold for every model
            shown = max(fs, key=lambda f: f.value if _finite(f.value) else -math.inf)
        elif not fired and check in _RATIO_CHECKS:  # ... and "largest change: 4.4×" too
            shown = max(fs, key=lambda f: _decades(f.value))
        detail = (f"model {shown.model}: " if n_models > 1 else "") + shown.message
        if check in _TWO_SIDED:  # models that fired the other way are named, not folded in
            sides: dict[str, list[Finding]] = {}
            for f in fired:
                sides.setdefault(_side(f), []).append(f)
            others = [
                f"{len(g)} with {side} (model {g[0].model})"
                for side, g in sides.items()
                if side != _side(shown)
            ]
            detail += f"; also {', '.join(others)}" if others else ""
        rows.append(
            {
                "check": check,
                "status": status,
                "models": f"{len(fired)}/{n_models}",
                "layer": layer,
                "detail": detail,
            }
        )
    return rows


def verdict_table(findings: Sequence[Finding], title: str = "training health") -> Any:
    """:func:`verdict_rows` as a one-screen rich ``Table``, the status coloured; on a console
    too narrow for it with every word whole (check, status, models and layer unwrapped, the
    detail wrapped between words), one line per row instead (``TableOrLines``): a folded
    column split ``0.3416`` into ``0.341`` and ``6``."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from ..console import TableOrLines
    from ..errors import UserError

    findings = list(findings) if isinstance(findings, Iterable) else [findings]
    if not all(isinstance(f, Finding) for f in findings):  # (a Watch is not iterable)
        raise UserError(
            "verdict_table takes the findings verdict() returns: "
            "verdict_table(verdict(w.records())), not the records or the watch"
        )

    table = Table(title=title, title_justify="left")
    for col in ("check", "status", "models", "layer", "detail"):
        table.add_column(col, no_wrap=col != "detail", overflow="fold")
    styles = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    lines = [Text.from_markup(title, style="italic")]  # (the title is markup, as the table's)
    for r in verdict_rows(findings):
        table.add_row(
            r["check"],
            f"[{styles[r['status']]}]{r['status']}[/]",
            r["models"],
            escape(r["layer"]),  # layer names and messages are text: '[x]' is not rich markup
            escape(r["detail"]),
        )
        where = f" {r['layer']}:" if r["layer"] else ""
        lines.append(
            Text.assemble(
                (r["check"], "bold"),
                " ",
                (r["status"], styles[r["status"]]),
                f" (models {r['models']}){where} {r['detail']}",
            )  # fmt: skip
        )
    return TableOrLines(table, lines, wrap=True)
