"""The partition function of an RBM: exact by enumeration, or by annealed importance sampling.

``log p(v) = -F(v) - log Z`` needs ``Z = sum_{v,h} exp(-E(v, h))``. Summing out one layer
analytically leaves ``2^min(V, H)`` terms, which we enumerate up to 20 units
(:func:`exact_log_partition`). Larger models use AIS (Neal 2001; Salakhutdinov & Murray 2008,
"On the quantitative analysis of deep belief networks", :func:`ais_log_partition`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM as SklearnBernoulliRBM
from sklearn.utils import check_array, check_random_state
from torch.nn.functional import softplus

from ..errors import UserError
from ._engine import small_cpu_threads
from .rbm import BernoulliRBM, GaussianBernoulliRBM

__all__ = [
    "exact_log_partition",
    "ais_log_partition",
    "AISResult",
    "log_likelihood",
    "MAX_ENUMERATION_UNITS",
]

#: enumeration limit: 2^20 configurations, 2^20·V·H float64 multiply-adds (H = 20 hidden units
#: of 64 visible: 0.7-0.9 s on the 2-core CPU VM, measured 2026-11-28)
MAX_ENUMERATION_UNITS = 20


def _params(rbm, what: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``W (V, H), b (V,), c (H,)`` as float64 tensors from a fitted single RBM (trainlab's, or
    scikit-learn's BernoulliRBM: the same attributes and energy); anything else, an unfitted
    one or non-finite parameters are a UserError naming ``what`` (the function)."""
    if not isinstance(rbm, (BernoulliRBM, GaussianBernoulliRBM, SklearnBernoulliRBM)):
        hint = {"RBMPopulation": " (one of pop.estimators_)", "DBN": " (one of dbn.rbms_)"}
        raise UserError(
            f"{what} takes one RBM (trainlab.pretrain's BernoulliRBM or GaussianBernoulliRBM, "
            f"or scikit-learn's BernoulliRBM), got {type(rbm).__name__}"
            f"{hint.get(type(rbm).__name__, '')}"
        )
    if not hasattr(rbm, "components_"):
        raise UserError(f"{type(rbm).__name__} is not fitted yet; call fit(X) first")
    t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    w, b, c = t(rbm.components_).T, t(rbm.intercept_visible_), t(rbm.intercept_hidden_)
    extra = [t(rbm.log_variance_)] if isinstance(rbm, GaussianBernoulliRBM) else []
    if not all(bool(torch.isfinite(x).all()) for x in (w, b, c, *extra)):
        raise UserError(
            f"{type(rbm).__name__} has non-finite parameters (NaN/inf): it diverged or was "
            "corrupted; refit it (e.g. with a lower learning_rate)"
        )
    return w, b, c


def _configs(n: int, start: int, stop: int) -> torch.Tensor:
    """Binary configurations ``start..stop-1`` of ``n`` units as rows: ``(stop-start, n)``."""
    idx = torch.arange(start, stop, dtype=torch.int64)[:, None]
    bits = torch.arange(n, dtype=torch.int64)[None, :]
    return ((idx >> bits) & 1).to(torch.float64)


def exact_log_partition(rbm: BernoulliRBM | GaussianBernoulliRBM, *, chunk: int = 2**16) -> float:
    """``log Z`` by enumerating the smaller layer (at most 20 units).

    Bernoulli RBM, enumerating h: ``log Z = logsumexp_h [c.h + sum_i softplus(b_i + W_i.h)]``;
    enumerating v: ``logsumexp_v [b.v + sum_j softplus(c_j + v.W_j)]``.
    Gaussian-Bernoulli RBM (h only): ``log Z = logsumexp_h [c.h + sum_i ((Wh)_i^2 +
    2 b_i (Wh)_i) / (2 s_i^2)] + sum_i log(2 pi s_i^2) / 2``.
    """
    w, b, c = _params(rbm, "exact_log_partition")
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise UserError(f"chunk must be a positive integer (states per batch), got {chunk!r}")
    V, H = w.shape
    gaussian = isinstance(rbm, GaussianBernoulliRBM)
    n = H if gaussian else min(V, H)
    if n > MAX_ENUMERATION_UNITS:
        raise UserError(
            f"exact log Z enumerates 2^{n} states, more than 2^{MAX_ENUMERATION_UNITS}; "
            "use ais_log_partition for this model"
        )
    terms = []
    if gaussian:
        s2 = torch.exp(torch.tensor(np.asarray(rbm.log_variance_), dtype=torch.float64))
    for start in range(0, 2**n, chunk):
        stop = min(2**n, start + chunk)
        if gaussian:
            h = _configs(H, start, stop)
            wh = h @ w.T  # (n, V)
            terms.append(h @ c + ((wh**2 + 2 * b * wh) / (2 * s2)).sum(1))
        elif H <= V:
            h = _configs(H, start, stop)
            terms.append(h @ c + softplus(h @ w.T + b).sum(1))
        else:
            v = _configs(V, start, stop)
            terms.append(v @ b + softplus(v @ w + c).sum(1))
    log_z = torch.logsumexp(torch.cat(terms), 0).item()
    if gaussian:
        log_z += 0.5 * torch.log(2 * math.pi * s2).sum().item()
    return log_z


@dataclass
class AISResult:
    """AIS estimate: ``log_z``, and ``log_z_low``/``log_z_high`` from the mean importance weight
    ``-+ 3`` standard errors over the chains (``log_z_low`` is ``-inf`` where that reaches 0)."""

    log_z: float
    log_z_low: float
    log_z_high: float
    log_weights: np.ndarray  # (n_runs,)
    log_z_base: float


def ais_log_partition(
    rbm: BernoulliRBM | GaussianBernoulliRBM,
    *,
    n_betas: int = 10000,
    n_runs: int = 100,
    base_rate: np.ndarray | None = None,
    random_state: int | np.random.RandomState | None = 0,
) -> AISResult:
    """Annealed importance sampling estimate of ``log Z`` (Salakhutdinov & Murray 2008).

    Intermediate models scale energies: ``E_beta(v, h) = (1 - beta) E_A(v) + beta E_B(v, h)``,
    from a base model A (W = 0, c = 0, H free hidden units) at beta = 0 to the RBM B at 1.

    - Bernoulli RBM: A's visible biases are ``b_A = logit(base_rate)`` (rates clamped to
      [0.001, 0.999]; the training data's pixel means are a good choice; default 0.5), so
      ``log Z_A = sum_i softplus(b_A,i) + H log 2`` and ``log p*_beta(v) = (1 - beta) b_A.v +
      beta b.v + sum_j softplus(beta (c_j + v.W_j))``.
    - Gaussian-Bernoulli RBM: A is B's Gaussian part, ``N(b, s^2)``, so ``log Z_A = sum_i
      log(2 pi s_i^2) / 2 + H log 2`` and ``log p*_beta(v) = -sum_i (v_i - b_i)^2 / (2 s_i^2) +
      sum_j softplus(beta (c_j + sum_i W_ij v_i / s_i^2))``; at beta the Gibbs sweep draws
      ``v ~ N(b + beta W h, s^2)``. ``base_rate`` does not apply.

    Each of ``n_runs`` chains starts from ``p_A``; at each ``beta_k`` its log weight gains
    ``log p*_k(v) - log p*_{k-1}(v)``, then one Gibbs sweep at ``beta_k`` moves v. Then
    ``log Z_B ~= log Z_A + log mean exp(log w)``. ``beta`` takes ``n_betas`` values (at
    least 4), evenly spaced within 0 -> 0.5 -> 0.9 -> 1 with 10%, 40%, 50% of them (the paper
    used 500, 4,000 and 10,000 of 14,500, about 3%, 28%, 69%: denser near beta = 1 than here).
    ``random_state``: an int seeds the chains' ``torch.Generator`` directly; a
    ``RandomState`` or ``None`` (scikit-learn's conventions) draws that seed from it.
    ``n_runs >= 2``: the interval comes from the spread of the chains' weights.
    """
    gaussian = isinstance(rbm, GaussianBernoulliRBM)
    counts = (n_betas, n_runs)
    if (
        any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) for n in counts)
        or n_betas < 4
        or n_runs < 2
    ):
        raise UserError(
            f"need integers n_betas >= 4 (the schedule's stretches 0 -> 0.5 -> 0.9 -> 1) and "
            f"n_runs >= 2 (the spread of the chains' weights gives the interval), got {n_betas} "
            f"and {n_runs}"
        )
    w, b, c = _params(rbm, "ais_log_partition")
    V, H = w.shape
    if gaussian and base_rate is not None:
        raise UserError(
            "base_rate sets a Bernoulli base model; a GaussianBernoulliRBM's base model is its "
            "own Gaussian part: leave base_rate out"
        )
    if base_rate is None:
        b_a = torch.zeros(V, dtype=torch.float64)
    else:
        rate = np.asarray(base_rate, dtype=np.float64)
        if rate.shape != (V,) or not np.isfinite(rate).all():
            raise UserError(
                f"base_rate must be {V} finite pixel rates (one per visible unit, e.g. the "
                f"training data's means), got shape {rate.shape}"
            )
        p = torch.as_tensor(rate).clamp(1e-3, 1 - 1e-3)
        b_a = torch.log(p) - torch.log1p(-p)
    n1, n2 = max(1, n_betas // 10), max(1, (4 * n_betas) // 10)
    betas = torch.cat(
        [
            torch.linspace(0, 0.5, n1 + 1, dtype=torch.float64)[:-1],
            torch.linspace(0.5, 0.9, n2 + 1, dtype=torch.float64)[:-1],
            torch.linspace(0.9, 1.0, max(2, n_betas - n1 - n2), dtype=torch.float64),
        ]
    )
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        seed = int(random_state)
        if not 0 <= seed < 2**32:
            raise UserError(f"random_state must be in [0, 2**32 - 1], got {seed}")
    else:
        try:
            seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        except ValueError:
            raise UserError(
                f"random_state must be an int, a numpy RandomState or None, got {random_state!r}"
            ) from None
    gen = torch.Generator().manual_seed(seed)
    draw = lambda p: (torch.rand(p.shape, generator=gen, dtype=torch.float64) < p).double()  # noqa: E731

    if gaussian:
        s2 = torch.exp(torch.tensor(np.asarray(rbm.log_variance_), dtype=torch.float64))
        w_in = w / s2[:, None]  # the hidden units see v / s^2

        def log_p(v: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:  # (R,)
            return -((v - b) ** 2 / (2 * s2)).sum(1) + softplus(beta * (v @ w_in + c)).sum(1)

        def sweep(v: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
            h = draw(torch.sigmoid(beta * (v @ w_in + c)))
            noise = torch.randn(v.shape, generator=gen, dtype=torch.float64)
            return b + beta * (h @ w.T) + s2.sqrt() * noise

        noise = torch.randn(n_runs, V, generator=gen, dtype=torch.float64)
        v = b + s2.sqrt() * noise
        log_z_a = 0.5 * torch.log(2 * math.pi * s2).sum().item() + H * math.log(2)
    else:

        def log_p(v: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:  # (R,)
            # sum_h exp(-beta E_B) = prod_j (1 + exp(beta (c_j + v.W_j))): at beta = 0 this is
            # the base model's 2^H, which log Z_A counts
            return v @ ((1 - beta) * b_a + beta * b) + softplus(beta * (v @ w + c)).sum(1)

        def sweep(v: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
            h = draw(torch.sigmoid(beta * (v @ w + c)))  # (R, H)
            return draw(torch.sigmoid((1 - beta) * b_a + beta * (h @ w.T + b)))  # (R, V)

        v = draw(torch.sigmoid(b_a).expand(n_runs, V))
        log_z_a = softplus(b_a).sum().item() + H * math.log(2)
    log_w = torch.zeros(n_runs, dtype=torch.float64)
    # tiny ops: one intra-op thread (see small_cpu_threads; 2 threads were ~10x slower here)
    with torch.inference_mode(), small_cpu_threads(n_runs * (V + H) < 2**20):
        for k in range(1, len(betas)):
            log_w += log_p(v, betas[k]) - log_p(v, betas[k - 1])
            v = sweep(v, betas[k])
    lw = log_w.numpy().copy()
    m = lw.max()
    mean_w = np.exp(lw - m).mean()
    std_w = np.exp(lw - m).std(ddof=1) / math.sqrt(n_runs)
    est = log_z_a + m + math.log(mean_w)
    low_w = mean_w - 3 * std_w  # no lower bound where the interval reaches Z = 0
    low = log_z_a + m + math.log(low_w) if low_w > 0 else -math.inf
    high = log_z_a + m + math.log(mean_w + 3 * std_w)
    return AISResult(est, low, high, lw, log_z_a)


def log_likelihood(rbm, X, log_z: float | AISResult) -> np.ndarray:
    """``log p(v) = -F(v) - log Z`` per row of ``X`` (nats); ``log_z`` a number or the
    :class:`AISResult` of :func:`ais_log_partition` (its estimate ``log_z``). For
    scikit-learn's BernoulliRBM (no public free energy), ``F(v) = -v.b - sum_j softplus(c_j +
    v.W_j)`` from its parameters."""
    w, b, c = _params(rbm, "log_likelihood")
    if isinstance(log_z, AISResult):
        log_z = log_z.log_z
    if isinstance(log_z, np.ndarray | torch.Tensor) and log_z.ndim == 0:  # (one number)
        log_z = log_z.item()
    if (
        isinstance(log_z, bool)
        or not isinstance(log_z, (int, float, np.integer, np.floating))
        or not math.isfinite(log_z)
    ):
        raise UserError(
            "log_z must be a finite number (exact_log_partition) or the AISResult of "
            f"ais_log_partition, got {log_z!r}"
        )
    if not isinstance(rbm, SklearnBernoulliRBM):
        return -rbm.free_energy(X) - float(log_z)
    X = check_array(X, accept_sparse="csr", dtype=np.float64)
    if X.shape[1] != w.shape[0]:
        raise UserError(
            f"X has {X.shape[1]} features but the RBM was fitted on {w.shape[0]}; pass data "
            "with the training data's columns"
        )
    lin = np.asarray(X @ w.numpy()) + c.numpy()
    return np.asarray(X @ b.numpy()).ravel() + np.logaddexp(0, lin).sum(axis=1) - float(log_z)
