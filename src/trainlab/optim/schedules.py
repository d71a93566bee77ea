"""Learning-rate schedules as pure functions of the global step, with per-model parameters.

A :class:`Schedule` is called as ``sched(step) -> (K,)`` tensor: the learning rate of every model
at optimizer step ``step`` (counted from 0). ``step`` may be a Python int or a 0-d int64 tensor on
the device: the result is computed with tensor ops, so no host sync is needed, and it depends on
the step alone (resuming a run needs no scheduler state). Every numeric parameter may be a number
or a ``(K,)`` tensor of per-model values.

Units: ``total_steps`` and ``steps_per_epoch`` count optimizer steps. Parameters ending in the
schedule's own natural unit are documented per schedule: ``step``/``multistep``/``exponential``
decay once per *epoch* (as ``torch.optim.lr_scheduler`` stepped once per epoch, unless
``interval="step"``); ``cosine``, ``linear``, ``cyclic`` and ``one_cycle`` move every step (as
torch's schedulers stepped once per batch); ``sgdr`` follows Loshchilov & Hutter (2017) with the
epoch counted fractionally (``step / steps_per_epoch``), as ``CosineAnnealingWarmRestarts`` is
when stepped with ``epoch + i / iters``.

Any schedule accepts ``warmup_steps`` W (and ``warmup_start_factor`` s, default 0): for
``step < W`` the lr ramps linearly, ``lr = lr₀ · (s + (1 − s) · step / W)``, where ``lr₀`` is the
inner schedule's first value; afterwards the inner schedule runs on ``step − W`` over
``total_steps − W`` steps (as ``torch.optim.lr_scheduler.SequentialLR`` of ``LinearLR`` and it).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..errors import ConfigError, whole_number
from ..registry import Registry
from .base import _check_range, array_as_list, hyper, too_big

__all__ = ["Schedule", "SCHEDULES", "create_schedule", "list_schedules"]

SCHEDULES: Registry[Any] = Registry("schedule")

F64 = torch.float64


class Schedule:
    """``sched(step) -> (K,)`` learning rates (0-d for a schedule of one float lr, shared by
    every model); a pure function of the step.

    Built by :func:`create_schedule`. ``fn(t, base)`` receives the step as a 0-d float64 tensor
    and the base lr ``(K,)`` float64, and returns ``(K,)`` float64.
    """

    def __init__(
        self,
        name: str,
        base_lr: Tensor,
        fn: Callable[[Tensor, Tensor], Tensor],
        *,
        total_steps: int,
        steps_per_epoch: int,
        params: dict[str, Any],
        resolved: dict[str, Any] | None = None,
        per_model: list[str] | None = None,
        shared: bool = False,
    ) -> None:
        self.name = name
        #: built from one float lr: ``sched(step)`` is 0-d, a value every model of any K takes
        self.shared = shared
        self.base_lr = base_lr
        self._base64 = base_lr.to(F64) if base_lr.device.type != "mps" else base_lr
        self._fn = fn
        self.total_steps = total_steps
        self.steps_per_epoch = steps_per_epoch
        self.params = params
        #: every parameter as used, defaults filled in (``t_max`` from the run's length, ...)
        self.resolved = dict(resolved or {})
        #: the parameters with one value per model (``resolved[key]`` is then a K-list)
        self.per_model = list(per_model or [])

    @property
    def k(self) -> int:
        return int(self.base_lr.shape[0])

    def __call__(self, step: int | Tensor) -> Tensor:
        """The ``(K,)`` learning rates at global step ``step`` (int or 0-d int64 tensor); 0-d
        for a schedule built from one float lr."""
        dev = self.base_lr.device
        if isinstance(step, Tensor):
            t = step.to(device=dev, dtype=self._base64.dtype)
        else:  # a fill kernel, not a host-to-device copy: no sync on CUDA
            if isinstance(step, bool | str | bytes) or not step >= 0:  # (a tensor: not read)
                raise ConfigError(f"a schedule's step is a number >= 0, got {step!r}")
            t = torch.full((), float(step), dtype=self._base64.dtype, device=dev)
        lr = self._fn(t, self._base64).to(self.base_lr.dtype)
        return lr.reshape(()) if self.shared and lr.shape == (1,) else lr

    def curve(self, steps: int | None = None) -> Tensor:
        """The lr of every model at steps ``0 … steps−1``: ``(steps, K)`` (for plots)."""
        n = self.total_steps if steps is None else steps
        t = torch.arange(n, dtype=self._base64.dtype, device=self.base_lr.device)[:, None]  # (n, 1)
        out = self._fn(t, self._base64)  # (n, K): every formula broadcasts over the step axis
        return out.expand(n, self.k).to(self.base_lr.dtype)

    def __repr__(self) -> str:
        return f"Schedule({self.name!r}, k={self.k}, params={self.params})"


# -- parameter helpers ---------------------------------------------------------------------------


def _is_bool(value: Any) -> bool:
    """``True``/``False``, numpy's too (``np.True_``: not a number here)."""
    return isinstance(value, bool) or type(value).__name__ in ("bool_", "bool")


class _KeepDefault:
    def __repr__(self) -> str:
        return "KEEP_DEFAULT"


#: in a per-model list, a model that keeps the parameter's default (population variants that
#: set it for some models only: :func:`trainlab.config.schedule_kwargs`)
KEEP_DEFAULT = _KeepDefault()


class _Params:
    """Validate and convert a schedule's parameters to float64 numbers or ``(K,)`` tensors."""

    def __init__(self, name: str, given: dict[str, Any], k: int, device: torch.device) -> None:
        self.name, self.given, self.k, self.device = name, dict(given), k, device
        self.shared = False  # one float base_lr for every model (set by create_schedule)
        self.used: set[str] = set()
        #: every parameter's value as used, in the order read (``trainlab schedule`` shows them)
        self.resolved: dict[str, Any] = {}
        #: the parameters given one value per model
        self.per_model: list[str] = []

    def _record(self, key: str, value: Any) -> None:
        if isinstance(value, Tensor):
            value = value.tolist() if value.dim() else float(value)
        self.resolved[key] = value

    def _missing(self, key: str, what: str) -> ConfigError:
        """The error for a required parameter not given; when a given key is that name spelt
        another way (torch's ``T_0``, ``stepsize``, ``max_LR``), it names that key instead (the
        unknown-key check, with its hint, runs only after every parameter is read)."""
        norm = lambda s: str(s).lower().replace("_", "").replace("-", "")  # noqa: E731
        near = [g for g in self.given if g not in self.used and norm(g) == norm(key)]
        if near:
            return ConfigError(
                f"schedule '{self.name}' has no parameter '{near[0]}' (did you mean '{key}'?)"
            )
        return ConfigError(f"schedule '{self.name}' needs parameter '{key}'{what}")

    def num(
        self,
        key: str,
        default: Any,
        *,
        lo: float | None = None,
        hi: float | None = None,
        lo_open: bool = False,
        hi_open: bool = False,
    ) -> float | Tensor:
        self.used.add(key)
        value = self.given.get(key, default)
        if value is None:
            raise self._missing(key, "")
        value = array_as_list(value)
        if isinstance(value, list | tuple) and any(v is KEEP_DEFAULT for v in value):
            if default is None:  # variants that set a required parameter for some models only
                raise ConfigError(
                    f"schedule '{self.name}' needs parameter '{key}' for every model; the "
                    f"population's variants set it for some only: give schedule.{key} a value"
                )
            fill = default.tolist() if isinstance(default, Tensor) else [default] * len(value)
            value = [f if v is KEEP_DEFAULT else v for v, f in zip(value, fill, strict=True)]
        if isinstance(value, list | tuple):  # one value per model
            if not all(isinstance(v, numbers.Real) and not _is_bool(v) for v in value):
                raise ConfigError(
                    f"schedule '{self.name}': {key} must be a number or a list of numbers (one "
                    f"per model), got {value!r}"
                )
            try:
                value = torch.tensor([float(v) for v in value], dtype=F64)
            except OverflowError:  # float(10**400)
                raise ConfigError(f"schedule '{self.name}': {key}: {too_big(value)}") from None
        if isinstance(value, Tensor):
            if value.dim() == 0:
                value = float(value)
            elif value.shape != (self.k,):
                fix = (
                    f"a number or {self.k} value{'s' if self.k != 1 else ''} (one per model)"
                    if not self.shared
                    else "a number (per-model values need base_lr as a (K,) tensor: one lr "
                    "per model)"
                )
                raise ConfigError(
                    f"schedule '{self.name}': {key} has shape {tuple(value.shape)}; give {fix}"
                )
        if _is_bool(value) or not isinstance(value, numbers.Real | Tensor):
            raise ConfigError(f"schedule '{self.name}': {key} must be a number, got {value!r}")
        if not isinstance(value, Tensor):
            value = float(value) if not isinstance(value, int) else value  # (np.int64(1): 1.0)
        try:
            t = torch.as_tensor(value, dtype=F64)
        except OverflowError:  # a whole number beyond float64 (10**400)
            raise ConfigError(f"schedule '{self.name}': {key}: {too_big([value])}") from None
        bad = ~torch.isfinite(t)
        if lo is not None:
            bad |= (t <= lo) if lo_open else (t < lo)
        if hi is not None:
            bad |= (t >= hi) if hi_open else (t > hi)
        if bool(bad.any()):  # construction time: reading the host is fine
            lb = "(" if lo_open or lo is None else "["
            rb = ")" if hi_open or hi is None else "]"  # (an infinite value is refused too)
            shown = value.tolist() if isinstance(value, Tensor) else value
            raise ConfigError(
                f"schedule '{self.name}': {key} must lie in {lb}{'-inf' if lo is None else lo}, "
                f"{'inf' if hi is None else hi}{rb}, got {shown!r}"
            )
        self._record(key, value)
        if isinstance(value, Tensor):
            self.per_model.append(key)
            return value.detach().to(device=self.device, dtype=F64)
        return float(value)

    def _shared(self, key: str, default: Any, *, nested: bool = False) -> None:
        """A value every model must share (a choice, a count, milestones) given per model (by
        variants or a grid; ``KEEP_DEFAULT``: the model keeps ``default``): one value in
        ``given`` when they all agree, else a ConfigError naming the values. ``nested``: the
        value itself is a list (milestones, compared sorted): only a list holding
        ``KEEP_DEFAULT`` or lists is one per model."""
        value = self.given.get(key)
        if not isinstance(value, list | tuple) or (
            nested and not any(v is KEEP_DEFAULT or isinstance(v, list | tuple) for v in value)
        ):
            return
        if default is None and any(v is KEEP_DEFAULT for v in value):
            raise ConfigError(
                f"schedule '{self.name}' needs parameter '{key}' for every model; the "
                f"population's variants set it for some only: give schedule.{key} a value"
            )
        values = [default if v is KEEP_DEFAULT else v for v in value]

        def norm(v: Any) -> Any:
            return sorted(v) if nested and isinstance(v, list | tuple) else v

        if all(norm(v) == norm(values[0]) for v in values):
            self.given[key] = values[0]
            return
        shown = ", ".join(dict.fromkeys(repr(norm(v)) for v in values))
        raise ConfigError(
            f"schedule '{self.name}': {key} cannot vary per model (the models give {shown}); "
            "give it one value"
        )

    def count(self, key: str, default: int) -> int:
        """A whole number ≥ 0 shared by all models (e.g. ``warmup_steps``)."""
        self._shared(key, default)
        value = self.given.get(key, default)
        if isinstance(value, list | tuple) or (isinstance(value, Tensor) and value.dim() > 0):
            shown = (
                [v for v in value if v is not KEEP_DEFAULT] if isinstance(value, list) else value
            )
            raise ConfigError(
                f"schedule '{self.name}': {key} must be one number shared by all models, got "
                f"{shown!r} (per model); per-model values are not supported for {key}"
            )
        v = self.num(key, default, lo=0.0)
        if not float(v).is_integer():
            raise ConfigError(f"schedule '{self.name}': {key} must be a whole number, got {v!r}")
        self._record(key, int(v))
        return int(v)

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        self.used.add(key)
        self._shared(key, default)
        value = str(self.given.get(key, default))
        if value not in choices:
            raise ConfigError(
                f"schedule '{self.name}': {key} must be one of {', '.join(choices)}, got {value!r}"
            )
        self._record(key, value)
        return value

    def ints(self, key: str) -> list[int]:
        self.used.add(key)
        self._shared(key, None, nested=True)
        value = self.given.get(key)
        if value is None:
            raise self._missing(key, " (a list of epochs)")
        if not isinstance(value, list | tuple):  # a string "10" would be read digit by digit
            raise ConfigError(
                f"schedule '{self.name}': {key} must be a list of whole epochs, e.g. [10, 20]; "
                f"got {value!r}"
            )
        try:
            nums = [float(v) for v in value]
        except (TypeError, ValueError):
            raise ConfigError(f"schedule '{self.name}': {key} must be a list of ints") from None
        if any(isinstance(v, bool) for v in value) or not all(x.is_integer() for x in nums):
            raise ConfigError(
                f"schedule '{self.name}': {key} must be whole epochs (or steps), got {value!r}"
            )
        out = sorted(int(x) for x in nums)
        if any(v < 0 for v in out):
            raise ConfigError(f"schedule '{self.name}': {key} must be ≥ 0, got {value!r}")
        self._record(key, out)
        return out

    def check_unused(self) -> None:
        extra = sorted(set(self.given) - self.used)
        if extra:
            from ..errors import did_you_mean

            raise ConfigError(
                f"schedule '{self.name}' has no parameter '{extra[0]}'"
                f"{did_you_mean(extra[0], self.used)}; valid: {', '.join(sorted(self.used))}"
            )


def _unit(t: Tensor, interval: str, steps_per_epoch: int) -> Tensor:
    """Whole epochs (``floor(step / steps_per_epoch)``) or steps, as float64."""
    return torch.floor(t / steps_per_epoch) if interval == "epoch" else t


# -- the schedules ---------------------------------------------------------------------------------
# Each builder takes (P: _Params, total_steps, steps_per_epoch) and returns fn(t, base) -> (K,).


@SCHEDULES.register("none", "constant lr (the base lr of each model)")
def _none(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    return lambda t, base: base + 0.0 * t


SCHEDULES.register("constant", "constant lr (same as none)")(_none)


@SCHEDULES.register("step", "lr · γ^floor(epoch / step_size)  (torch StepLR)")
def _step(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    """``lr = base · γ^⌊e / step_size⌋`` with e the epoch (or step with ``interval="step"``)."""
    size = p.num("step_size", None, lo=0.0, lo_open=True)
    gamma = p.num("gamma", 0.1, lo=0.0)
    interval = p.choice("interval", "epoch", ("epoch", "step"))
    return lambda t, base: base * gamma ** torch.floor(_unit(t, interval, spe) / size)


@SCHEDULES.register("multistep", "lr · γ^(number of milestones passed)  (torch MultiStepLR)")
def _multistep(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    """``lr = base · γ^#{m ∈ milestones : m ≤ e}``; milestones in epochs (or steps)."""
    milestones = p.ints("milestones")
    gamma = p.num("gamma", 0.1, lo=0.0)
    interval = p.choice("interval", "epoch", ("epoch", "step"))

    ms = torch.tensor(milestones, dtype=F64).to(p.device)  # once, at construction

    def fn(t: Tensor, base: Tensor) -> Tensor:
        e = _unit(t, interval, spe)
        passed = (ms <= e.unsqueeze(-1)).sum(-1).to(F64)
        return base * gamma**passed

    return fn


@SCHEDULES.register("exponential", "lr · γ^epoch  (torch ExponentialLR)")
def _exponential(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    """``lr = base · γ^e``, e the epoch (or the step with ``interval="step"``)."""
    gamma = p.num("gamma", None, lo=0.0)
    interval = p.choice("interval", "epoch", ("epoch", "step"))
    return lambda t, base: base * gamma ** _unit(t, interval, spe)


@SCHEDULES.register("linear", "linear decay from lr to end_factor·lr over the run (torch LinearLR)")
def _linear(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    """``lr = base · (1 + (end_factor − 1) · min(t, T) / T)``, T = total_steps."""
    end = p.num("end_factor", 0.0, lo=0.0)
    n = max(total, 1)
    return lambda t, base: base * (1.0 + (end - 1.0) * torch.clamp(t, max=n) / n)


@SCHEDULES.register("cosine", "cosine annealing to eta_min over the run (torch CosineAnnealingLR)")
def _cosine(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    """``lr = η_min + (base − η_min)(1 + cos(π t / T))/2`` for t ≤ T (T = ``t_max``, default the
    run's total steps), then η_min (Loshchilov & Hutter 2017, without restarts)."""
    eta_min = p.num("eta_min", 0.0, lo=0.0)
    t_max = p.num("t_max", float(max(total, 1)), lo=0.0, lo_open=True)

    def fn(t: Tensor, base: Tensor) -> Tensor:
        frac = torch.clamp(t / t_max, max=1.0)
        return eta_min + (base - eta_min) * (1.0 + torch.cos(math.pi * frac)) / 2.0

    return fn


@SCHEDULES.register("sgdr", "cosine with warm restarts, T_0 epochs, ×T_mult per cycle (SGDR)")
def _sgdr(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    """SGDR (Loshchilov & Hutter 2017): cycle i lasts ``T_i = T_0 · T_multⁱ`` epochs;
    ``lr = η_min + (base − η_min)(1 + cos(π T_cur / T_i))/2``, epochs counted fractionally."""
    t0 = p.num("t_0", None, lo=0.0, lo_open=True)
    t_mult = p.num("t_mult", 1.0, lo=1.0)
    eta_min = p.num("eta_min", 0.0, lo=0.0)

    tm = (
        t_mult if isinstance(t_mult, Tensor) else torch.full((), t_mult, dtype=F64, device=p.device)
    )
    t0_ = t0 if isinstance(t0, Tensor) else torch.full((), t0, dtype=F64, device=p.device)

    def fn(t: Tensor, base: Tensor) -> Tensor:
        e = t / spe  # fractional epoch
        # T_mult = 1: T_cur = e mod T_0.  T_mult > 1: n = floor(log_{T_mult}(e/T_0 (T_mult−1) + 1))
        multi = tm > 1.0
        tm_safe = torch.where(multi, tm, torch.full_like(tm, 2.0))
        n = torch.floor(torch.log(e / t0_ * (tm_safe - 1.0) + 1.0) / torch.log(tm_safe))
        # the log rounds: at a restart e = T_0 (T_multⁿ − 1)/(T_mult − 1) it can give n − 1
        # (log(1000)/log(10) = 2.9999999999999996), which would put the restart at η_min
        # instead of the base lr; move n by one where T_cur falls outside [0, T_n)
        start = t0_ * (tm_safe**n - 1.0) / (tm_safe - 1.0)  # first epoch of cycle n
        n = torch.where(e >= start + t0_ * tm_safe**n, n + 1.0, n)
        n = torch.where(e < t0_ * (tm_safe**n - 1.0) / (tm_safe - 1.0), n - 1.0, n)
        cur_m = e - t0_ * (tm_safe**n - 1.0) / (tm_safe - 1.0)
        ti_m = t0_ * tm_safe**n
        cur = torch.where(multi, cur_m, torch.remainder(e, t0_))
        ti = torch.where(multi, ti_m, t0_)
        # a T_0 or T_mult that binary floats do not hold exactly (0.2, 1.3) can leave a restart
        # a rounding error short of its cycle's end (remainder(0.6, 0.2) = 0.19999999999999996):
        # that is the restart, at the base lr, not η_min (no step lies within 1e-9·T_i of a
        # cycle's end unless a cycle spans ~1e9 steps)
        cur = torch.where(ti - cur <= 1e-9 * ti, torch.zeros_like(cur), cur)
        return eta_min + (base - eta_min) * (1.0 + torch.cos(math.pi * cur / ti)) / 2.0

    return fn


SCHEDULES.register("cosine_restarts", "alias of sgdr")(_sgdr)


@SCHEDULES.register("cyclic", "triangular cyclic lr between lr and max_lr (Smith 2017; CyclicLR)")
def _cyclic(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    """Cyclical learning rates (Smith 2017), ``torch.optim.lr_scheduler.CyclicLR`` per step:
    a cycle of ``step_size_up + step_size_down`` steps rises linearly from the base lr to
    ``max_lr`` and falls back; ``mode="triangular2"`` halves the amplitude each cycle. The lr
    only: momentum stays as configured, as torch's ``cycle_momentum=False`` (torch's default
    cycles it between 0.9 and 0.8)."""
    max_lr = p.num("max_lr", None, lo=0.0)
    up = p.num("step_size_up", 2000.0, lo=0.0, lo_open=True)
    down = p.num("step_size_down", up, lo=0.0, lo_open=True)
    mode = p.choice("mode", "triangular", ("triangular", "triangular2"))

    def fn(t: Tensor, base: Tensor) -> Tensor:
        size = up + down
        ratio = up / size
        cycle = torch.floor(1.0 + t / size)
        x = 1.0 + t / size - cycle
        scale = torch.where(x <= ratio, x / ratio, (x - 1.0) / (ratio - 1.0))
        if mode == "triangular2":
            scale = scale / 2.0 ** (cycle - 1.0)
        return base + (max_lr - base) * scale

    return fn


@SCHEDULES.register("one_cycle", "one-cycle: warm up to lr, anneal to lr/(div·final_div) (Smith)")
def _one_cycle(p: _Params, total: int, spe: int) -> Callable[[Tensor, Tensor], Tensor]:
    """One-cycle policy (Smith & Topin 2019), ``torch.optim.lr_scheduler.OneCycleLR`` with
    ``anneal_strategy="cos"``: the model's base lr is the *peak* (torch's ``max_lr``); the run
    starts at ``lr/div_factor``, rises over ``pct_start`` of the steps, and ends at
    ``lr/(div_factor·final_div_factor)``.

    ``anneal_strategy="linear"`` interpolates linearly instead of along a half cosine.

    The lr only: momentum / β₁ stay as configured, as torch's ``cycle_momentum=False`` (torch's
    default cycles them inversely between 0.85 and 0.95; compare with that setting). From
    Python, torch's ``OneCycleLR`` on a trainlab optimizer with a shared lr cycles β₁ too.

    The rise ends at step ``u = pct_start·total_steps − 1`` (torch's). When ``u ≤ 0`` there is no
    rise: the annealing runs from the peak at step ``u`` to the end, so for ``u < 0`` step 0 is
    already a little below the peak, as in torch (e.g. 3 steps with ``pct_start=0.1``: 0.84×
    the peak at step 0); for ``u = 0`` exactly torch divides 0 by 0, and this gives the peak at
    step 0."""
    pct = p.num("pct_start", 0.3, lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    div = p.num("div_factor", 25.0, lo=0.0, lo_open=True)
    final_div = p.num("final_div_factor", 1e4, lo=0.0, lo_open=True)
    strategy = p.choice("anneal_strategy", "cos", ("cos", "linear"))
    n = float(total)

    def anneal(start: Tensor, end: Tensor, frac: Tensor) -> Tensor:
        if strategy == "cos":
            return end + (start - end) / 2.0 * (torch.cos(math.pi * frac) + 1.0)
        return (end - start) * frac + start

    def fn(t: Tensor, base: Tensor) -> Tensor:
        initial = base / div
        final = initial / final_div
        up_end = pct * n - 1.0  # torch: float(pct_start * total_steps) - 1
        down_end = n - 1.0
        # t/u is 0/0 at t = u = 0 (no rise): that step is the peak, the end of a rise of length 0
        up = anneal(initial, base, torch.clamp(torch.nan_to_num(t / up_end, nan=1.0), max=1.0))
        frac_down = torch.clamp((t - up_end) / (down_end - up_end), min=0.0, max=1.0)
        down = anneal(base, final, frac_down)
        return torch.where(t <= up_end, up, down)

    return fn


def _with_warmup(
    inner: Callable[[Tensor, Tensor], Tensor], warmup: int, start: float | Tensor
) -> Callable[[Tensor, Tensor], Tensor]:
    def fn(t: Tensor, base: Tensor) -> Tensor:
        after = inner(torch.clamp(t - warmup, min=0.0), base)
        factor = start + (1.0 - start) * torch.clamp(t / warmup, max=1.0)
        return torch.where(t < warmup, after * factor, after)

    return fn


SCHEDULES.register("warmup", "linear warmup over warmup_steps, then constant")(_none)


def create_schedule(
    name: str,
    base_lr: Tensor | float,
    *,
    total_steps: int,
    steps_per_epoch: int,
    **params: Any,
) -> Schedule:
    """Build schedule ``name`` for base learning rates ``base_lr`` ``(K,)``, or one float lr
    (the schedule then gives 0-d rates, which a population optimizer of any K takes).

    ``params`` are the schedule's own (see :func:`list_schedules`), each a number or a ``(K,)``
    tensor, plus ``warmup_steps`` / ``warmup_start_factor`` for any schedule.
    """
    builder = SCHEDULES.get(name)
    shared = not isinstance(base_lr, Tensor)
    if shared:  # a number ≥ 0, as an optimizer's lr (a negative one would ascend)
        lr = hyper("base_lr", base_lr, 1, device=torch.device("cpu"), lo=0.0)
        base_lr = torch.tensor([float(lr)], dtype=torch.float64)  # (float32 rounds 0.1)
    if base_lr.dim() != 1:
        raise ConfigError(f"base_lr must be a (K,) tensor, got shape {tuple(base_lr.shape)}")
    if not base_lr.is_floating_point():  # torch.tensor([1, 2]): the rates are not whole numbers
        base_lr = base_lr.to(torch.float64)  # (as the optimizers take it)
    if not shared:
        _check_range("base_lr", base_lr, 0.0, None, False, False)
    counts = [whole_number(total_steps), whole_number(steps_per_epoch)]
    if any(c is None or c < 1 for c in counts):
        raise ConfigError(
            f"total_steps ({total_steps!r}) and steps_per_epoch ({steps_per_epoch!r}) must be "
            "whole numbers ≥ 1 (a schedule runs in steps: e.g. math.ceil(len(x) / batch_size))"
        )
    total_steps, steps_per_epoch = counts
    k = int(base_lr.shape[0])
    p = _Params(name, params, k, base_lr.device)
    p.shared = shared
    warmup = p.count("warmup_steps", 0)
    start = p.num("warmup_start_factor", 0.0, lo=0.0, hi=1.0)
    if name == "warmup" and warmup == 0:
        raise ConfigError("schedule 'warmup' needs warmup_steps ≥ 1 (e.g. warmup_steps: 100)")
    if warmup >= total_steps:
        raise ConfigError(
            f"warmup_steps ({warmup}) must be smaller than the run's total steps ({total_steps})"
        )
    fn = builder(p, total_steps - warmup, steps_per_epoch)
    p.check_unused()
    if warmup:
        fn = _with_warmup(fn, warmup, start)
    # the first and last steps' rates: parameters that pass their ranges can still overflow
    # (one_cycle's lr/div_factor with div_factor 1e-320 is inf, then NaN)
    ends = torch.tensor([[0.0], [float(total_steps - 1)]], dtype=F64, device=base_lr.device)
    if not bool(torch.isfinite(fn(ends, base_lr.to(F64))).all()):
        raise ConfigError(
            f"schedule '{name}' {dict(params)} gives learning rates that are not finite (a "
            "factor so small or large that the lr overflows); choose other values"
        )
    return Schedule(
        name,
        base_lr,
        fn,
        total_steps=total_steps,
        steps_per_epoch=steps_per_epoch,
        params=dict(params),
        resolved=p.resolved,
        per_model=p.per_model,
        shared=shared,
    )


def list_schedules() -> list[tuple[str, str]]:
    """``(name, description)`` of every schedule."""
    return SCHEDULES.items()
