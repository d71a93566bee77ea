"""Second-order methods for full-batch problems: per-model L-BFGS and exact Newton.

The notes (CS231n lecture 7) introduce second-order optimization with the Taylor expansion
``L(θ) ≈ L(θ₀) + ∇Lᵀ(θ − θ₀) + ½ (θ − θ₀)ᵀ H (θ − θ₀)``, whose minimizer is the Newton step
``θ ← θ₀ − H⁻¹ ∇L`` — no learning rate, and one step to the minimum of a quadratic. Forming and
inverting the n×n Hessian costs O(n²) memory and O(n³) time, so for real networks the notes point
to quasi-Newton methods: L-BFGS (Liu & Nocedal 1989) keeps the last m pairs
``s = Δθ, y = Δ∇L`` and applies an approximate inverse Hessian with the two-loop recursion.
L-BFGS "works very well in full batch, deterministic mode" but does not transfer to mini-batches:
the curvature pairs from different batches disagree (the study ``optimizers`` and the tests show
it).

- :class:`LBFGS`: ``torch.optim.LBFGS``'s algorithm (no line search) run for every model of a
  stacked population at once, each with its own history, step size and stopping tests.
- :class:`Newton`: exact (optionally damped) Newton steps for small problems, per model.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import ConfigError, short_repr
from .base import OPTIMIZERS, Hyper, PopulationOptimizer, compute_dtype

__all__ = ["LBFGS", "Newton", "flat_hessian"]


def _flat(tensors: list[Tensor], k: int) -> Tensor:
    return torch.cat([t.reshape(k, -1) for t in tensors], dim=1)  # (K, n)


def _per_model_loss(loss: Any, k: int) -> Tensor:
    if not isinstance(loss, Tensor) or loss.shape != (k,):
        shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise ConfigError(
            f"the closure must return the per-model losses, a ({k},) tensor; got {shape}"
        )
    return loss


def _one_number(name: str, value: Any, *, whole: bool = True) -> Any:
    """An L-BFGS option that is one number for every model (only lr is per model): a whole
    number (``whole``) or a float; anything else is a ConfigError naming it."""
    if isinstance(value, Tensor | np.ndarray) and value.ndim == 0:  # (one number)
        value = value.item()
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and whole and (not math.isfinite(value) or value != int(value)):
        ok = False
    if not ok:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(
            f"lbfgs's {name} takes {kind}, one for all models (only lr may differ per "
            f"model), got {short_repr(value)}"
        )
    return int(value) if whole else float(value)


@OPTIMIZERS.register("lbfgs", "L-BFGS (full batch; closure returns per-model losses)")
class LBFGS(PopulationOptimizer):
    """Population L-BFGS: ``torch.optim.LBFGS`` (``line_search_fn=None``) for each model.

    ``step(closure)``: the closure zeroes the gradients, computes the per-model losses ``(K,)``,
    calls ``loss.sum().backward()`` and returns the losses. Each model keeps its own curvature
    history, step size and stopping tests (``tolerance_grad`` on ``max|g|``, ``tolerance_change``
    on the step and the loss change); a model that has stopped is frozen for the rest of the call.

    Each model keeps its own history of up to ``history_size`` pairs: a pair the model rejects
    (``yᵀs ≤ 1e-10``) takes no slot, a stopped model adds none, and a model with a full history
    drops its own oldest pair; so the result equals K separate ``torch.optim.LBFGS`` runs up to
    rounding, also across calls. Differences: ``state["n_iter"]`` and ``state["func_evals"]``
    count for the population as a whole; and a model whose gradient already meets
    ``tolerance_grad`` at the very first call is initialized with the others, so it later starts
    with ``t = lr`` instead of torch's first-iteration ``min(1, 1/‖g‖₁)·lr``. The loop reads one
    flag per iteration from the device (whether any model is still running) — fine for a
    full-batch method, not for a hot loop.

    Args:
        lr: step size (torch's default 1; the first iteration uses ``min(1, 1/‖g‖₁)·lr``).
        max_iter: iterations per ``step`` call. max_eval: closure evaluations (default 1.25×).
        tolerance_grad, tolerance_change: stopping tests. history_size: m.
    """

    _hypers = {"lr": (0.0, None, False, False)}

    def __init__(
        self,
        params: Iterable[Any],
        lr: Hyper = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if line_search_fn is not None:
            raise ConfigError(
                "population L-BFGS has no line search; set line_search_fn: null "
                "(each model uses torch's fixed-step rule)"
            )
        max_iter, history_size = (
            _one_number("max_iter", max_iter),
            _one_number("history_size", history_size),
        )
        if max_iter < 1 or history_size < 1:
            raise ConfigError("max_iter and history_size must be ≥ 1")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=int(max_iter),
            max_eval=int(_one_number("max_eval", max_eval)),
            tolerance_grad=_one_number("tolerance_grad", tolerance_grad, whole=False),
            tolerance_change=_one_number("tolerance_change", tolerance_change, whole=False),
            history_size=int(history_size),
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ConfigError("L-BFGS supports one parameter group; pass the parameters directly")
        self._params = self.param_groups[0]["params"]

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:  # (step reads the first group's parameters only)
            raise ConfigError("L-BFGS supports one parameter group; pass the parameters directly")
        super().add_param_group(param_group)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """torch's, then each model's history ``count`` back to int64: torch casts every state
        tensor but ``step`` to its parameter's dtype, and a float count cannot index. A state
        of another population (its tensors not ``(K, ...)``, its directions not ``(..., n)``
        for these parameters' ``n`` values per model) is refused before anything is loaded."""
        k = self.k
        n = sum(p[0].numel() if p.dim() > 1 else 1 for p in self._params)
        for st in state_dict.get("state", {}).values():
            for key, v in st.items():
                flat = key in ("d", "prev_flat_grad", "old_dirs", "old_stps")
                if (
                    isinstance(v, Tensor)
                    and v.dim()
                    and (v.shape[0] != k or (flat and v.shape[-1] != n))
                ):
                    raise ValueError(
                        f"L-BFGS state {key!r} of shape {tuple(v.shape)} belongs to another "
                        f"population (these parameters: K={k} models of {n} values); load a "
                        "state saved from these parameters"
                    )
        super().load_state_dict(state_dict)
        for st in self.state.values():
            if isinstance(st.get("count"), Tensor):
                st["count"] = st["count"].long()

    def _gather_grad(self) -> Tensor:
        k = self.k
        views = [
            torch.zeros_like(p).reshape(k, -1) if p.grad is None else p.grad.reshape(k, -1)
            for p in self._params
        ]
        return torch.cat(views, dim=1)  # (K, n)

    def _add(self, t: Tensor, d: Tensor) -> None:
        """θ_k ← θ_k + t_k d_k for every model."""
        off = 0
        for p in self._params:
            n = p[0].numel() if p.dim() > 1 else 1
            upd = (d[:, off : off + n] * t[:, None]).view_as(p)  # (K, ...)
            p.add_(upd)
            off += n

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations of every model; returns the first losses (K,)."""
        if closure is None:
            raise ConfigError("L-BFGS needs a closure that recomputes the per-model losses")
        group = self.param_groups[0]
        k = self.k
        lr = group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with torch.enable_grad():
            orig_loss = _per_model_loss(closure(), k)
        loss = orig_loss.detach().clone()  # (K,)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_grad()  # (K, n)
        dev, dt = flat_grad.device, flat_grad.dtype
        # not `> tol`: a NaN gradient is not converged (torch's opt_cond `<=` is False for NaN)
        active = ~(flat_grad.abs().amax(1) <= tol_grad)  # (K,)
        if not bool(active.any()):
            return orig_loss

        d = state.get("d")
        t = state.get("t", torch.zeros(k, device=dev, dtype=dt))
        # each model's own history, oldest first: (K, m, n) pairs, (K, m) 1/yᵀs, (K,) count;
        # unused slots hold zeros (ρ = 0), which leave the two-loop recursion exactly unchanged
        m_hist = history_size
        old_dirs: Tensor | None = state.get("old_dirs")
        old_stps: Tensor | None = state.get("old_stps")
        ro: Tensor | None = state.get("ro")
        count: Tensor | None = state.get("count")
        h_diag = state.get("H_diag", torch.ones(k, device=dev, dtype=dt))
        prev_flat_grad = state.get("prev_flat_grad")
        prev_loss = state.get("prev_loss")
        lr_t = torch.as_tensor(lr, device=dev, dtype=dt).expand(k)  # (K,)
        a = active[:, None]

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs = flat_grad.new_zeros(k, m_hist, flat_grad.shape[1])
                old_stps = torch.zeros_like(old_dirs)
                ro = flat_grad.new_zeros(k, m_hist)
                count = torch.zeros(k, dtype=torch.long, device=dev)
                h_diag = torch.ones(k, device=dev, dtype=dt)
            else:
                y = flat_grad - prev_flat_grad  # (K, n)
                s = d * t[:, None]  # (K, n)
                ys = (y * s).sum(1)  # (K,)
                accept = (ys > 1e-10) & active
                # a model that accepts with a full history drops its own oldest pair
                shift = accept & (count == m_hist)
                if bool(shift.any()):  # (a host read, as the loop's flag is)
                    sh = shift[:, None, None]
                    old_dirs = torch.where(sh, old_dirs.roll(-1, dims=1), old_dirs)
                    old_stps = torch.where(sh, old_stps.roll(-1, dims=1), old_stps)
                    ro = torch.where(sh[:, :, 0], ro.roll(-1, dims=1), ro)
                # each model's pair goes to its slot `count` (the last one once full): O(K n)
                rows = torch.arange(k, device=dev)
                slot = count.clamp(max=m_hist - 1)
                acc = accept[:, None]
                old_dirs[rows, slot] = torch.where(acc, y, old_dirs[rows, slot])
                old_stps[rows, slot] = torch.where(acc, s, old_stps[rows, slot])
                rho = 1.0 / torch.where(accept, ys, 1.0)
                ro[rows, slot] = torch.where(accept, rho, ro[rows, slot])
                count = torch.where(accept, (count + 1).clamp(max=m_hist), count)
                yy = (y * y).sum(1)
                h_diag = torch.where(accept, ys / torch.where(accept, yy, 1.0), h_diag)
                # two-loop recursion: d = −H⁻¹ g for every model at once
                q = -flat_grad
                # slots no model has filled yet hold ρ = 0 and change nothing: skip them (the
                # loop's one host read; L-BFGS reads a flag every iteration anyway)
                used = int(count.max())
                al = [torch.zeros(k, device=dev, dtype=dt)] * m_hist
                for i in range(used - 1, -1, -1):
                    al[i] = (old_stps[:, i] * q).sum(1) * ro[:, i]  # (K,)
                    q = q - al[i][:, None] * old_dirs[:, i]
                r = q * h_diag[:, None]
                for i in range(used):
                    be = (old_dirs[:, i] * r).sum(1) * ro[:, i]
                    r = r + old_stps[:, i] * (al[i] - be)[:, None]
                d = torch.where(a, r, d)

            prev_flat_grad = (
                flat_grad.clone() if prev_flat_grad is None
                else torch.where(a, flat_grad, prev_flat_grad)
            )  # fmt: skip
            prev_loss = loss.clone() if prev_loss is None else torch.where(active, loss, prev_loss)
            if state["n_iter"] == 1:
                t_new = torch.clamp(1.0 / flat_grad.abs().sum(1), max=1.0) * lr_t
            else:
                t_new = lr_t
            t = torch.where(active, t_new, t)
            gtd = (flat_grad * d).sum(1)
            active = active & ~(gtd > -tol_change)  # not a descent direction: stop this model
            a = active[:, None]

            self._add(torch.where(active, t, 0.0), d)
            ls_evals = 0
            opt_cond = torch.zeros(k, dtype=torch.bool, device=dev)
            if n_iter != max_iter:
                with torch.enable_grad():
                    new_loss = _per_model_loss(closure(), k).detach()
                new_grad = self._gather_grad()
                loss = torch.where(active, new_loss, loss)
                flat_grad = torch.where(a, new_grad, flat_grad)
                opt_cond = flat_grad.abs().amax(1) <= tol_grad
                ls_evals = 1
            current_evals += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or current_evals >= max_eval:
                break
            stop = (
                opt_cond
                | ((d * t[:, None]).abs().amax(1) <= tol_change)
                | ((loss - prev_loss).abs() < tol_change)
            )
            active = active & ~stop
            a = active[:, None]
            if not bool(active.any()):
                break

        state.update(
            d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, count=count, H_diag=h_diag,
            prev_flat_grad=prev_flat_grad, prev_loss=prev_loss,
        )  # fmt: skip
        return orig_loss


def lu_factor_each(a: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``torch.linalg.lu_factor_ex`` of a batch ``(K, n, n)``, one matrix per call on CPU.

    torch's batched CPU LU runs LAPACK's ``getrf`` on several threads at once for matrices
    larger than about 14×14, which MKL does not allow: after ``torch.set_num_threads`` (which
    trainlab's studies call) the factors come back wrong (residuals ~1e2 for n=256, K=2, and
    "Intel oneMKL ERROR: Parameter 6 was incorrect on entry to DLASWP"; torch 2.13,
    pytorch/pytorch#181570). One matrix per call keeps ``getrf`` on one thread of torch's pool
    (MKL threads it internally).
    """
    if a.device.type != "cpu" or a.shape[0] == 1:
        return torch.linalg.lu_factor_ex(a)
    lu, piv, info = zip(*(torch.linalg.lu_factor_ex(m) for m in a), strict=True)
    return torch.stack(lu), torch.stack(piv), torch.stack(info)


def flat_hessian(loss: Tensor, params: list[Tensor], k: int) -> tuple[Tensor, Tensor]:
    """Per-model gradient ``(K, n)`` and Hessian ``(K, n, n)`` of per-model losses ``(K,)``.

    The models are independent, so the Hessian of ``Σ_k L_k`` is block diagonal; row j of every
    model's block comes from one backward pass of ``Σ_k g_k,j`` (n passes in all).
    """
    grads = torch.autograd.grad(loss.sum(), params, create_graph=True, allow_unused=True)
    # a parameter the loss does not use has a zero gradient (and zero Hessian rows: damping > 0)
    grads = [torch.zeros_like(p) if x is None else x for x, p in zip(grads, params, strict=True)]
    g = _flat(grads, k)  # (K, n)
    n = g.shape[1]
    if not g.requires_grad:  # every loss is linear in its parameters: H = 0
        return g.detach(), g.new_zeros(k, n, n)
    rows = []
    for j in range(n):
        gj = torch.autograd.grad(g[:, j].sum(), params, retain_graph=True, allow_unused=True)
        gj = [torch.zeros_like(p) if x is None else x for x, p in zip(gj, params, strict=True)]
        rows.append(_flat(gj, k))  # (K, n): ∂g_k,j / ∂θ_k
    return g.detach(), torch.stack(rows, dim=1)  # (K, n), (K, n, n)


@OPTIMIZERS.register("newton", "exact (damped) Newton steps, per model (small problems)")
class Newton(PopulationOptimizer):
    """Exact Newton's method per model: ``θ ← θ − η (H + λI)⁻¹ ∇L``.

    ``step(closure)``: the closure returns the per-model losses ``(K,)`` *without* calling
    backward (Newton differentiates them twice itself). With η = 1 and λ = 0, one step solves a
    quadratic exactly. The Hessian has n² entries per model: meant for small problems (the
    ``optimizers-2d`` study, logistic regression), limited to ``max_params`` per model.

    With several param groups the Hessian is still the joint one over all of a model's
    parameters; each group's λ is added to the diagonal entries of its own parameters and each
    group's η scales its own parameters' part of the step:
    ``θ ← θ − diag(η) (H + diag(λ))⁻¹ ∇L`` (a group with η = 0 stays where it is).

    Args:
        lr: η, the fraction of the Newton step (1 = the full step), ≥ 0.
        damping: λ ≥ 0 (Levenberg–Marquardt), added to H's diagonal; H + λI is positive
            definite (a descent step near saddles) once λ exceeds −(H's smallest eigenvalue).
        max_params: refuse models with more parameters than this (the smallest over groups).

    A model whose ``H + λI`` is singular (λ = 0 and a direction the loss ignores, such as a
    constant input feature next to a bias) gets NaN parameters: it fails alone, the others
    step as usual. Singular in floating point: an LU pivot of the equilibrated ``H + λI``
    (rows and columns scaled by 1/√ of their largest entry) at most n·ε times the largest.
    16-bit parameters are solved in float32 and the step rounded to their dtype.
    """

    _hypers = {"lr": (0.0, None, False, False), "damping": (0.0, None, False, False)}

    def __init__(
        self, params: Iterable[Any], lr: Hyper = 1.0, damping: Hyper = 0.0, max_params: int = 2048
    ) -> None:
        super().__init__(params, dict(lr=lr, damping=damping, max_params=int(max_params)))

    @staticmethod
    def _per_model_numel(p: Tensor) -> int:
        return p[0].numel() if p.dim() > 1 else 1

    def step(self, closure: Callable[[], Tensor]) -> Tensor:  # type: ignore[override]
        """One Newton step of every model; returns the losses ``(K,)`` before it."""
        if closure is None:
            raise ConfigError("Newton needs a closure that returns the per-model losses")
        k = self.k
        # parameters that do not require grad are left alone, as torch.optim does
        all_params = [p for g in self.param_groups for p in g["params"] if p.requires_grad]
        n = sum(self._per_model_numel(p) for p in all_params)
        limit = min(g["max_params"] for g in self.param_groups)
        if n > limit:
            raise ConfigError(
                f"Newton needs the {n}×{n} Hessian of each model; that is too large "
                f"(max_params={limit}); use lbfgs instead"
            )
        with torch.enable_grad():
            loss = _per_model_loss(closure(), k)
            if not loss.requires_grad:
                raise ConfigError(
                    "Newton's closure returned losses without a graph; return the per-model "
                    "losses as computed (do not detach them or call backward)"
                )
            g, h = flat_hessian(loss, all_params, k)
        # 16-bit parameters: solved in float32 (torch has no 16-bit LU), the step rounded back
        cdt = compute_dtype(h.dtype)
        g, h = g.to(cdt), h.to(cdt)
        # each coordinate's η and λ, from its parameter's group: (K, n) each
        lrs, damps = [], []
        for group in self.param_groups:
            hp = self._values(group)
            for p in group["params"]:
                if not p.requires_grad:
                    continue
                m = self._per_model_numel(p)
                for key, out in (("lr", lrs), ("damping", damps)):
                    v = torch.as_tensor(hp[key], device=h.device, dtype=cdt)
                    out.append(v.reshape(-1, 1).expand(k, m))
        lr, damp = torch.cat(lrs, dim=1), torch.cat(damps, dim=1)
        # a model whose H + λI is singular fails alone (NaN parameters, as a NaN loss would);
        # the others take their own steps. Singular in floating point: an LU pivot at most
        # n·ε times the largest (a direction the loss ignores leaves a rounding-sized pivot,
        # not an exact zero, and would step it by O(1/ε)·rounding)
        # A = H + λI solved as (S A S) y = S g, x = S y, with S = diag(1/√(max_j |A_ij|)):
        # equilibrated, so the pivot test does not call a regular but badly scaled A (weights
        # of scales 1e4 and 1) singular
        a = h + torch.diag_embed(damp)
        rows = a.abs().amax(-1)  # (K, n)
        scale = torch.where(rows > 0, rows.rsqrt(), torch.ones_like(rows))
        lu, piv, info = lu_factor_each(scale[:, :, None] * a * scale[:, None, :])
        pivots = lu.diagonal(dim1=-2, dim2=-1).abs()
        tiny = pivots.amin(-1) <= n * torch.finfo(cdt).eps * pivots.amax(-1)
        y = torch.linalg.lu_solve(lu, piv, (scale * g).unsqueeze(-1)).squeeze(-1)
        delta = torch.where(((info == 0) & ~tiny)[:, None], scale * y, torch.nan)
        with torch.no_grad():
            off = 0
            for p in all_params:
                m = self._per_model_numel(p)
                eta = lr[:, off : off + m]
                step = torch.where(eta == 0, 0.0, delta[:, off : off + m] * eta)  # (NaN Δ too)
                p.sub_(step.view_as(p))  # θ − η Δ
                off += m
        return loss.detach()
