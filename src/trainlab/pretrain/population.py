"""K RBMs of one shape (different seeds, learning rates, momenta) trained in one pass.

All K models live in one stacked tensor ``(K, V+1, H+1)`` and every CD step is a handful of
``bmm`` calls over the population axis (:class:`~trainlab.pretrain._engine.CDEngine`). Each
member draws its data order and sampling noise from its own generators, keyed by its seed, and
its weights start exactly where ``BernoulliRBM(random_state=seed).fit`` would start them, so
member ``i`` reproduces that solo fit (to float rounding) whatever K is (DESIGN.md principle 2).
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import UserError
from ._engine import CDEngine, PassMonitor, augment, small_cpu_threads
from .progress import pass_done
from .rbm import (
    BernoulliRBM,
    GaussianBernoulliRBM,
    data_tensor,
    make_generators,
    resolve_device,
    small_problem,
)

__all__ = ["RBMPopulation", "PopulationMember"]


@dataclass
class PopulationMember:
    """One model of the population: its seed and hyperparameters."""

    index: int
    seed: int
    learning_rate: float
    momentum: float
    weight_decay: float
    overrides: dict = field(default_factory=dict)

    @property
    def group(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.overrides.items()) or "default"


def _as_list(name: str, x: float | Sequence[float]) -> list[float]:
    """One value or a sequence (list, tuple, numpy array) as a list of floats."""
    try:
        values = [float(v) for v in np.ravel(np.asarray(x, dtype=float))]
    except (TypeError, ValueError):
        raise UserError(f"{name} must be a number or a list of numbers, got {x!r}") from None
    if not values:
        raise UserError(f"{name} needs at least one value")
    return values


class RBMPopulation:
    """Train ``seeds x learning_rate x momentum x weight_decay`` RBMs of one shape at once.

    Args:
        n_components: hidden units H (shared: one shape).
        seeds: one model per seed (and per grid point); each seeds init, order and noise.
        learning_rate, momentum, weight_decay: a value or a list (a grid axis).
        batch_size, n_iter, k, method: as :class:`~trainlab.pretrain.BernoulliRBM`.
            ``learning_rate`` and ``method`` left out take the member estimator's defaults:
            0.1 and PCD for Bernoulli units, 0.01 and CD-1 for Gaussian ones (0.1 with PCD
            sends Gaussian units on standardized digits to NaN).
        visible: ``"bernoulli"`` (inputs in [0, 1]) or ``"gaussian"`` (standardized inputs,
            unit variance).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        monitor: number of training samples on which reconstruction error and
            pseudo-likelihood are tracked after every pass (0: none).

    After ``fit(X)``: ``members_``, ``estimators_`` (one fitted scikit-learn estimator per
    member), ``history_`` (``reconstruction_error`` and, for Bernoulli units,
    ``pseudo_likelihood``: ``(K, n_iter)`` arrays), ``fit_time_`` (seconds of training, on CUDA
    up to the last kernel's end), ``diverged_`` (indices of members whose weights went NaN/Inf;
    a warning names them, where a solo fit raises).
    """

    def __init__(
        self,
        n_components: int = 256,
        *,
        seeds: Sequence[int] = (0,),
        learning_rate: float | Sequence[float] | None = None,
        momentum: float | Sequence[float] = 0.0,
        weight_decay: float | Sequence[float] = 0.0,
        batch_size: int = 10,
        n_iter: int = 10,
        k: int = 1,
        method: str | None = None,
        visible: str = "bernoulli",
        device: str = "cpu",
        monitor: int = 1000,
    ) -> None:
        if visible not in ("bernoulli", "gaussian"):
            raise UserError(f"visible must be 'bernoulli' or 'gaussian', got '{visible}'")
        gaussian = visible == "gaussian"  # the member estimator's own defaults
        learning_rate = (0.01 if gaussian else 0.1) if learning_rate is None else learning_rate
        method = ("cd" if gaussian else "pcd") if method is None else method
        if method not in ("pcd", "cd"):
            raise UserError(f"method must be 'pcd' or 'cd', got '{method}'")
        seed_values = _as_list("seeds", seeds)
        if not all(s.is_integer() for s in seed_values):
            raise UserError(f"seeds must be integers, got {seeds!r}")
        self.seeds = [int(s) for s in seed_values]
        self.n_components = n_components
        self.learning_rate = _as_list("learning_rate", learning_rate)
        self.momentum = _as_list("momentum", momentum)
        self.weight_decay = _as_list("weight_decay", weight_decay)
        self.batch_size, self.n_iter, self.k = batch_size, n_iter, k
        self.method, self.visible, self.device = method, visible, device
        count = isinstance(monitor, int | np.integer) and not isinstance(monitor, bool | np.bool_)
        if not count or monitor < 0:
            raise UserError(f"monitor must be a count of samples >= 0, got {monitor!r}")
        self.monitor = int(monitor)
        for m in self._members():  # every grid point passes the estimator's own checks
            est = self._estimator(m)
            try:
                est._validate_params()
            except ValueError as err:  # sklearn's InvalidParameterError
                raise UserError(f"RBMPopulation: {err}") from None

    def _members(self) -> list[PopulationMember]:
        axes = {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
        }
        varying = [a for a, v in axes.items() if len(v) > 1]
        out = []
        for lr, mom, wd in itertools.product(*axes.values()):
            point = {"learning_rate": lr, "momentum": mom, "weight_decay": wd}
            for seed in self.seeds:
                over = {a: point[a] for a in varying}
                out.append(PopulationMember(len(out), seed, lr, mom, wd, over))
        return out

    def _estimator(self, m: PopulationMember):
        cls = GaussianBernoulliRBM if self.visible == "gaussian" else BernoulliRBM
        return cls(
            self.n_components,
            learning_rate=m.learning_rate,
            batch_size=self.batch_size,
            n_iter=self.n_iter,
            k=self.k,
            method=self.method,
            momentum=m.momentum,
            weight_decay=m.weight_decay,
            random_state=m.seed,
            device=self.device,
        )

    def fit(self, X) -> RBMPopulation:
        """Train every member on ``X`` ``(n_samples, n_features)``; returns ``self``."""
        self.members_ = self._members()
        ests = [self._estimator(m) for m in self.members_]
        X = ests[0]._check_input(X, reset=True)  # validation and the [0, 1] check
        names = getattr(ests[0], "feature_names_in_", None)  # a DataFrame's column names
        device = resolve_device(self.device)
        dtype = torch.float32
        seeds = []
        for est in ests:  # each member starts exactly as its solo fit would
            # (not checked again: X is float now, and float16 data's rounding allowance past
            # 1, which the check above granted, would be gone)
            est.n_features_in_ = X.shape[1]
            if names is not None:  # as a solo fit on the DataFrame would record them
                est.feature_names_in_ = names
            rng = np.random.RandomState(est.random_state)
            est._init_params(X, rng)
            est.random_state_ = rng  # what a solo fit keeps: gibbs() then samples alike
            if self.visible == "gaussian":
                est.log_variance_ = np.zeros(X.shape[1], dtype=X.dtype)
            seeds.append(est._seed)
        K = len(ests)
        t = lambda a: torch.as_tensor(np.stack(a), dtype=dtype, device=device)  # noqa: E731
        wa = augment(
            t([e.components_.T for e in ests]),
            t([e.intercept_visible_ for e in ests]),
            t([e.intercept_hidden_ for e in ests]),
        )  # (K, V+1, H+1)
        lr = torch.tensor([m.learning_rate for m in self.members_], dtype=dtype, device=device)
        mom = torch.tensor([m.momentum for m in self.members_], dtype=dtype, device=device)
        wd = torch.tensor([m.weight_decay for m in self.members_], dtype=dtype, device=device)
        small = small_problem(device, X.shape[1], self.n_components, self.batch_size)
        t0 = time.perf_counter()
        with torch.inference_mode(), small_cpu_threads(small):
            eng = CDEngine(
                wa,
                lr=lr,
                momentum=mom,
                weight_decay=wd,
                k=self.k,
                method=self.method,
                chain_size=self.batch_size,
                generators=[make_generators(s, device) for s in seeds],
                visible=self.visible,
            )
            x = data_tensor(X, dtype, device)
            monitor = PassMonitor(x, K, self.monitor, self.visible)
            for _ in range(self.n_iter):
                eng.epoch(x, self.batch_size, shuffle=True)
                monitor.after_pass(eng)  # device tensors; read once at the end
                pass_done()
            if device.type == "cuda":  # the kernels queued so far, not only their launch
                torch.cuda.synchronize(device)
            self.fit_time_ = time.perf_counter() - t0
            self.history_ = monitor.history()
            for i, est in enumerate(ests):
                sub = CDEngine.__new__(CDEngine)  # a view of member i for _store
                sub.wa, sub.H = eng.wa[i : i + 1], eng.H
                sub.chains = eng.chains[i : i + 1] if eng.chains is not None else None
                # a member without momentum keeps no velocity, as its solo fit would not
                moving = eng.velocity is not None and float(eng.mom_t[i]) != 0.0
                sub.velocity = eng.velocity[i : i + 1] if moving else None
                sub.log_var = eng.log_var[i : i + 1] if eng.log_var is not None else None
                est._store(sub, X.dtype)
                est._n_updates = self.n_iter
                est.history_ = {"epoch": [], "reconstruction_error": [], "pseudo_likelihood": []}
        self.estimators_ = ests
        # a solo fit raises for NaN/Inf weights; a population keeps its other members and says
        # which diverged (the CLI reports them in its table)
        self.diverged_ = [i for i, est in enumerate(ests) if est.diverged()]
        if self.diverged_:
            shown = ", ".join(
                f"{i} (learning_rate {self.members_[i].learning_rate:g})"
                for i in self.diverged_[:5]
            )
            warnings.warn(
                f"RBMPopulation: {len(self.diverged_)} of {K} members diverged (NaN/Inf "
                f"weights): {shown}{' ...' * (len(self.diverged_) > 5)}; lower their "
                "learning_rate (indices in diverged_)",
                UserWarning,
                stacklevel=2,
            )
        return self
