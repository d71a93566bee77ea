"""Contrastive divergence for K restricted Boltzmann machines of one shape, stacked.

One engine serves the scikit-learn estimators (K = 1), the RBM population (K models with their
own seeds and hyperparameters) and the DBN's layer-wise pre-training.

Parameters are kept in one *augmented* matrix per model::

    Wa = [[W, b],      # (K, V+1, H+1): W (V, H) weights, b (V,) visible biases,
          [c, 0]]      #                c (H,) hidden biases, corner unused

and every activation matrix carries a trailing column of ones, so that

- ``[v | 1] @ Wa[:, :, :H] = v W + c``       (hidden pre-activation, bias included),
- ``[h | 1] @ Wa[:, :V, :]^T = h W^T + b``    (visible pre-activation),
- ``[v | 1]^T @ [h | 1] = [[v^T h, v^T 1], [1^T h, B]]`` holds the gradient of W, b and c at
  once (the corner cancels between the positive and the negative phase).

A CD/PCD step is then 7 tensor ops for k = 1 (3 ``bmm``, 2 ``sigmoid``, 2 samples) plus the
update (2 ``baddbmm_``), which matters at scikit-learn's batch size of 10, where per-op overhead
dominates: a step costs ~40 µs on one CPU core (measured in ``benchmarks/rbm.py``).

Sampling uses logistic noise: ``h = 1[a > L]`` with ``L = logit(U)``, ``U ~ U(0, 1)``, has
``P(h = 1) = sigmoid(a)``, so sampled units need no sigmoid. Noise is drawn in bulk, per chunk of
``_CHUNK_SAMPLES`` training samples, from each model's own ``torch.Generator`` (one for data
order, one for visible and one for hidden noise), so a model's stream depends only on its own
seed, never on K or its slot (DESIGN.md principle 2). On the CPU each logistic draw seeds
numpy's PCG64 from the model's generator (:meth:`CDEngine._logistic`: about half the cost of
``torch.rand``); Gaussian visible noise is ``torch.randn`` from it.
We use generators rather than :mod:`trainlab.rng` here: hashing the ~1.2 M noise values of one
batch-10 epoch on digits costs ~25 ms per epoch on CPU against ~4 ms for ``torch.rand``, which
alone would be a third of scikit-learn's whole fit time.

Gaussian visible units (``visible="gaussian"``): ``p(v_i | h) = N(b_i + (W h)_i, s_i^2)`` and
``p(h_j = 1 | v) = sigmoid(c_j + sum_i W_ij v_i / s_i^2)`` (Cho, Ilin & Raiko 2011). With
``u = v / s^2`` the gradient of W, b, c keeps the augmented form (``<u h^T>``, ``<u>``, ``<h>``);
the log-variance ``z = log s^2`` has gradient
``e^{-z} (<(v - b)^2 / 2 - v (W h)>_data - <...>_model)``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from ..threads import torch_threads

__all__ = [
    "CDEngine",
    "augment",
    "split_params",
    "free_energy",
    "pseudo_likelihood",
    "small_cpu_threads",
]

# Noise is drawn for this many training samples at a time (independent of K, so that a model's
# random stream is the same alone or in a population).
_CHUNK_SAMPLES = 640


class _BlasOneThread:
    """The process-wide BLAS limit that :func:`small_cpu_threads` lowers, counted: the first
    block to enter sets it to 1, the last to leave restores it (two fits on two Python threads,
    as GridSearchCV's threading backend runs them, would otherwise each restore what the other
    had set: 1 for good). torch's intra-op count is the calling thread's own (OpenMP): each
    block sets and restores it for its thread."""

    lock = threading.Lock()
    users = 0
    limiter: Any = None

    @classmethod
    def enter(cls) -> None:
        with cls.lock:
            if cls.users == 0:
                _release_blas_control()
                cls.limiter = _blas_controller().limit(limits=1, user_api="blas")  # (set now)
                _release_blas_control()
            cls.users += 1

    @classmethod
    def leave(cls) -> None:
        with cls.lock:
            cls.users -= 1
            if cls.users == 0 and cls.limiter is not None:
                # not over a limit someone set since (a user's threadpool_limits, open or
                # closed while the fits ran): theirs to keep or restore
                if not _blas_taken_since():
                    _release_blas_control()
                    cls.limiter.restore_original_limits()
                    _release_blas_control()
                cls.limiter = None


def _blas_taken_since() -> bool:
    """Whether BLAS was limited by someone else since the fits set 1 thread: another live
    thread holds threadpoolctl's OpenBLAS control, or the count is no longer 1."""
    import threading

    import threadpoolctl

    state = getattr(getattr(threadpoolctl, "OpenBLASController", None), "_SHARED_STATE", None)
    holder = getattr(state, "controlling_thread", None)
    if holder is not None and holder is not threading.current_thread() and holder.is_alive():
        return True
    counts = [i["num_threads"] for i in _blas_controller().select(user_api="blas").info()]
    return any(c != 1 for c in counts)


def _release_blas_control() -> None:
    """threadpoolctl (3.8+) lets only the thread that set an OpenBLAS (pthreads) limit change
    it again while that thread lives, silently ignoring the others: a fit on another Python
    thread ran unlimited (other rounding), and a restore from another thread did nothing (1
    thread for good). Released around each change, so that whichever thread comes next can."""
    import threadpoolctl

    ctl = getattr(threadpoolctl, "OpenBLASController", None)
    clear = getattr(ctl, "clear_controlling_thread", None)  # (older threadpoolctl: no owner)
    if clear is not None:
        clear(force=True)


@contextlib.contextmanager
def small_cpu_threads(active: bool = True) -> Iterator[None]:
    """Run torch and BLAS single-threaded inside the block (restored afterwards: torch's count
    for this thread at the block's end, the process-wide BLAS limit when the last of the
    blocks running at once on several Python threads ends).

    For RBMs of digits' size the ops are a few microseconds long and intra-op threads only
    add synchronization: on this project's shared 2-core machine ``Tensor.logit_`` on 64 k
    floats took 46 ms with 2 torch threads and 0.13 ms with 1 (min of 7 runs).
    """
    if not active:
        yield
        return
    with torch_threads(1):
        _BlasOneThread.enter()
        try:
            yield
        finally:
            _BlasOneThread.leave()


@functools.cache
def _blas_controller() -> Any:
    """One ``threadpoolctl.ThreadpoolController``, built on first use and then reused.

    Building one scans the process's loaded libraries (``threadpool_limits(1, "blas")`` does so
    on every call): ~6 ms, against ~1 ms for a whole batch-10 ``partial_fit`` step on digits;
    ``limit`` on the cached controller costs ~50 us. BLAS libraries loaded after the first
    call are not limited.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def augment(
    weights: torch.Tensor, visible_bias: torch.Tensor, hidden_bias: torch.Tensor
) -> torch.Tensor:
    """Build ``Wa`` ``(K, V+1, H+1)`` from W ``(K, V, H)``, b ``(K, V)`` and c ``(K, H)``."""
    k, v, h = weights.shape
    wa = weights.new_zeros(k, v + 1, h + 1)
    wa[:, :v, :h] = weights
    wa[:, :v, h] = visible_bias
    wa[:, v, :h] = hidden_bias
    return wa


def split_params(wa: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Views ``(W (K, V, H), b (K, V), c (K, H))`` into an augmented ``Wa``."""
    v, h = wa.shape[1] - 1, wa.shape[2] - 1
    return wa[:, :v, :h], wa[:, :v, h], wa[:, v, :h]


def free_energy(
    wa: torch.Tensor, x: torch.Tensor, log_var: torch.Tensor | None = None
) -> torch.Tensor:
    """Free energy ``F(v) = -log sum_h exp(-E(v, h))`` of each row of ``x`` ``(K, N, V)``.

    Bernoulli visibles: ``F(v) = -v.b - sum_j softplus(c_j + v.W_j)``.
    Gaussian visibles (``log_var`` = z, ``(K, V)``):
    ``F(v) = sum_i (v_i - b_i)^2 / (2 s_i^2) - sum_j softplus(c_j + sum_i W_ij v_i / s_i^2)``.
    Returns ``(K, N)``.
    """
    w, b, c = split_params(wa)
    if log_var is None:
        lin = torch.baddbmm(c[:, None, :], x, w)  # (K, N, H)
        return -(x * b[:, None, :]).sum(-1) - torch.nn.functional.softplus(lin).sum(-1)
    inv = torch.exp(-log_var)[:, None, :]  # (K, 1, V)
    lin = torch.baddbmm(c[:, None, :], x * inv, w)
    quad = 0.5 * ((x - b[:, None, :]) ** 2 * inv).sum(-1)
    return quad - torch.nn.functional.softplus(lin).sum(-1)


class PassMonitor:
    """After each pass over the data: the reconstruction error (:meth:`CDEngine.
    reconstruction_error`) and, for binary visible units, the pseudo-log-likelihood
    (:func:`pseudo_likelihood`, one fixed coordinate flipped per sample) of the first ``n``
    training samples, per model. Kept on the device and read once, by :meth:`history`.

    Args:
        x: the training data ``(N, V)`` on the engine's device.
        k: models in the engine.
        n: samples to track (0: none; then :meth:`after_pass` does nothing).
        visible: ``"bernoulli"`` or ``"gaussian"`` (no pseudo-likelihood).
    """

    def __init__(self, x: torch.Tensor, k: int, n: int, visible: str) -> None:
        self.data = x[:n][None].expand(k, -1, -1) if n else None  # (K, n, V)
        self.flip: torch.Tensor | None = None
        if self.data is not None and visible == "bernoulli":
            g = torch.Generator(device=x.device).manual_seed(0)
            n_mon = self.data.shape[1]
            self.flip = torch.randint(0, x.shape[1], (n_mon,), generator=g, device=x.device)
        self.rec: list[torch.Tensor] = []  # (K,) per pass
        self.pl: list[torch.Tensor] = []

    def after_pass(self, eng: CDEngine) -> None:
        if self.data is None:
            return
        self.rec.append(eng.reconstruction_error(self.data))
        if self.flip is not None:
            self.pl.append(pseudo_likelihood(eng.wa, self.data, self.flip).mean(1))

    def history(self) -> dict[str, Any]:
        """``epoch`` (passes 1, 2, ...), ``reconstruction_error`` and ``pseudo_likelihood``:
        ``(K, passes)`` arrays (``(K, 0)`` before the first pass), None where not tracked
        (one host read)."""
        k = 0 if self.data is None else self.data.shape[0]

        def stacked(values: list[torch.Tensor], tracked: bool) -> np.ndarray | None:
            if not tracked:
                return None
            return torch.stack(values, 1).cpu().numpy() if values else np.zeros((k, 0))

        return {
            "epoch": list(range(1, len(self.rec) + 1)),
            "reconstruction_error": stacked(self.rec, self.data is not None),
            "pseudo_likelihood": stacked(self.pl, self.flip is not None),
        }


def pseudo_likelihood(wa: torch.Tensor, x: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """Stochastic pseudo-log-likelihood of binary ``x`` ``(K, N, V)``, as scikit-learn computes it.

    ``PL(v) ~= V * log sigmoid(F(v~) - F(v))`` where ``v~`` is ``v`` with feature ``flip[n]``
    flipped (Besag 1975; one random coordinate per sample instead of all V). ``flip``: ``(N,)``
    int64. Returns ``(K, N)``.
    """
    xf = x.clone()
    rows = torch.arange(x.shape[1], device=x.device)
    xf[:, rows, flip] = 1.0 - xf[:, rows, flip]
    diff = free_energy(wa, xf) - free_energy(wa, x)
    return x.shape[2] * torch.nn.functional.logsigmoid(diff)


class CDEngine:
    """CD-k / PCD-k updates for K stacked RBMs (Hinton 2002; Tieleman 2008).

    ``lr``, ``momentum``, ``weight_decay``: floats or ``(K,)`` tensors (per model). The update
    with gradient ``g = <v h^T>_data - <v h^T>_model - weight_decay * W`` (decay on W only) is
    ``vel = momentum * vel + lr * g; Wa += vel``. ``generators``: three ``torch.Generator`` per
    model (data order, visible noise, hidden noise).
    """

    def __init__(
        self,
        wa: torch.Tensor,
        *,
        lr: float | torch.Tensor,
        momentum: float | torch.Tensor = 0.0,
        weight_decay: float | torch.Tensor = 0.0,
        k: int = 1,
        method: str = "pcd",
        chain_size: int = 10,
        generators: list[tuple[torch.Generator, torch.Generator, torch.Generator]],
        visible: str = "bernoulli",
        log_var: torch.Tensor | None = None,
        learn_var: bool = False,
        chains: torch.Tensor | None = None,
        velocity: torch.Tensor | None = None,
    ) -> None:
        self.wa = wa  # (K, V+1, H+1); views and buffers made from it: see the setter
        self.K, self.V, self.H = wa.shape[0], wa.shape[1] - 1, wa.shape[2] - 1
        self.device, self.dtype = wa.device, wa.dtype
        self.k, self.method, self.chain_size = int(k), method, int(chain_size)
        self.visible = visible
        self.gens = generators
        if len(generators) != self.K:
            raise ValueError(f"need one generator triple per model: {len(generators)} != {self.K}")
        self.log_var = log_var  # (K, V) or None
        self.learn_var = bool(learn_var)
        if visible == "gaussian" and log_var is None:
            self.log_var = wa.new_zeros(self.K, self.V)

        def per_model(x: float | torch.Tensor) -> tuple[float | None, torch.Tensor]:
            t = torch.as_tensor(x, dtype=self.dtype, device=self.device).reshape(-1)
            t = t.expand(self.K).contiguous()
            scalar = float(x) if not isinstance(x, torch.Tensor) else None
            if scalar is None and bool((t == t[0]).all()):
                scalar = float(t[0])
            return scalar, t.view(self.K, 1, 1)

        self.lr_s, self.lr_t = per_model(lr)
        self.mom_s, self.mom_t = per_model(momentum)
        self.wd_s, self.wd_t = per_model(weight_decay)
        self.velocity = velocity
        if self.velocity is None and (self.mom_s is None or self.mom_s != 0.0):
            self.velocity = torch.zeros_like(wa)
        self.chains = chains  # (K, Bc, H+1) persistent hidden samples with a ones column
        if method == "pcd" and self.chains is None:
            self.chains = wa.new_zeros(self.K, self.chain_size, self.H + 1)
            self.chains[..., self.H] = 1.0
        # One Bernoulli RBM on the CPU: numpy/BLAS steps on views of the same memory. At batch
        # 10 a torch matmul costs ~7-12 us against ~2-5 us for np.dot (2-core CPU, measured with
        # /tmp microbenchmarks, min of 15 runs), and per-op overhead is the whole cost there.
        self.backend = (
            "numpy"
            if self.device.type == "cpu" and self.K == 1 and visible == "bernoulli"
            else "torch"
        )

    @property
    def wa(self) -> torch.Tensor:
        """The augmented weights ``(K, V+1, H+1)``. Setting a new tensor (a member's slice, a
        resized copy) drops every view and buffer made from the old one."""
        return self._wa

    @wa.setter
    def wa(self, value: torch.Tensor) -> None:
        self._wa = value
        v, h = value.shape[1] - 1, value.shape[2] - 1
        self._w_h = value[:, :, :h]  # (K, V+1, H)
        self._w_vt = value[:, :v, :].transpose(1, 2)  # (K, H+1, V)
        self._buf: dict[tuple[int, int], dict[str, torch.Tensor]] = {}
        self._np: dict[tuple[int, int], dict[str, Any]] = {}
        self._np_views: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None

    # ------------------------------------------------------------------ buffers and noise
    def _buffers(self, bp: int, bc: int) -> dict[str, torch.Tensor]:
        key = (bp, bc)
        if key not in self._buf:
            K, V, H = self.K, self.V, self.H

            def ones_col(b: int, d: int) -> torch.Tensor:
                t = self.wa.new_zeros(K, b, d + 1)
                t[..., d] = 1.0
                return t

            self._buf[key] = {
                "hp": ones_col(bp, H),  # (K, Bp, H+1) data-phase hidden probabilities
                "vn": ones_col(bc, V),  # (K, Bc, V+1) model-phase visible samples
                "hn": ones_col(bc, H),  # (K, Bc, H+1) model-phase hidden probabilities
                "hs": ones_col(bc, H),  # (K, Bc, H+1) CD chain hidden samples
                "ahp": self.wa.new_empty(K, bp, H),
                "ah": self.wa.new_empty(K, bc, H),
                "av": self.wa.new_empty(K, bc, V),
                "g": self.wa.new_empty(K, V + 1, H + 1),
                "up": self.wa.new_zeros(K, bp, V + 1),  # gaussian: [v / s^2 | 1]
            }
            self._buf[key]["up"][..., V] = 1.0
        return self._buf[key]

    def noise(self, n_steps: int, bc: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Visible noise ``(n, k, K, Bc, V)`` and hidden logistic noise ``(n, k, K, Bc, H)``.

        Bernoulli visible noise is logistic (``logit(U)``); Gaussian visible noise is N(0, 1).
        """
        shape_v = (n_steps, self.k, bc, self.V)
        shape_h = (n_steps, self.k, bc, self.H)
        gaussian = self.visible == "gaussian"

        def visible(g: torch.Generator) -> torch.Tensor:
            if gaussian:
                return torch.randn(shape_v, generator=g, device=self.device, dtype=self.dtype)
            return self._logistic(g, shape_v)

        if self.K == 1:
            g = self.gens[0]
            return visible(g[1]).unsqueeze(2), self._logistic(g[2], shape_h).unsqueeze(2)
        lv = self.wa.new_empty(n_steps, self.k, self.K, bc, self.V)
        lh = self.wa.new_empty(n_steps, self.k, self.K, bc, self.H)
        for m, g in enumerate(self.gens):
            lv[:, :, m] = visible(g[1])
            lh[:, :, m] = self._logistic(g[2], shape_h)
        return lv, lh

    def _logistic(self, g: torch.Generator, shape: tuple[int, ...]) -> torch.Tensor:
        """Logistic noise ``logit(U)``, ``U ~ U(0, 1)``, of ``shape``, drawn from ``g``.

        On the CPU, in float32/float64: numpy's PCG64, seeded by one 63-bit draw from ``g`` per
        call, and numpy's logit (one of ``u / (1 - u)``, then ``log``). For the 16,400 values of
        a batch-100 step on digits that took ~41 us against ~75 us for ``torch.rand`` and
        ``Tensor.logit_`` (2-core CPU, one thread, min of 7 runs), and noise is drawn for every
        training sample. The stream is still a function of ``g`` alone. Elsewhere:
        ``torch.rand`` and ``logit_`` on the device.
        """
        np_dtype = {torch.float32: np.float32, torch.float64: np.float64}.get(self.dtype)
        if self.device.type != "cpu" or np_dtype is None:
            u = torch.rand(shape, generator=g, device=self.device, dtype=self.dtype)
            return u.logit_()
        seed = int(torch.randint(0, 2**63 - 1, (), generator=g))
        u = np.random.Generator(np.random.PCG64(seed)).random(shape, dtype=np_dtype)
        odds = np.subtract(1.0, u, dtype=np_dtype)
        np.divide(u, odds, out=odds)
        with np.errstate(divide="ignore"):  # U = 0 gives logit -inf, as torch's logit does
            np.log(odds, out=odds)
        return torch.from_numpy(odds)

    # ------------------------------------------------------------------ one update
    def step(self, va: torch.Tensor, lv: torch.Tensor, lh: torch.Tensor) -> None:
        """One CD-k/PCD-k update on the batch ``va = [v | 1]`` ``(K, Bp, V+1)``.

        ``lv`` ``(k, K, Bc, V)`` and ``lh`` ``(k, K, Bc, H)`` are the step's noise.
        """
        V, H = self.V, self.H
        bp = va.shape[1]
        bc = self.chain_size if self.method == "pcd" else bp
        if self.backend == "numpy":
            self._step_numpy(va[0].numpy(), lv[:, 0].numpy(), lh[:, 0].numpy(), bp, bc)
            return
        buf = self._buffers(bp, bc)
        hp, vn, hn, ahp, ah, av = buf["hp"], buf["vn"], buf["hn"], buf["ahp"], buf["ah"], buf["av"]
        gaussian = self.visible == "gaussian"
        if gaussian:
            inv = torch.exp(-self.log_var)[:, None, :]  # (K, 1, V)
            up = buf["up"]
            torch.mul(va[..., :V], inv, out=up[..., :V])
            va_in = up
        else:
            va_in = va
        # data phase: h+ = sigmoid([v|1] Wa[:, :, :H])
        torch.bmm(va_in, self._w_h, out=ahp)  # (K, Bp, H)
        torch.sigmoid(ahp, out=hp[..., :H])
        if self.method == "pcd":
            h, j0 = self.chains, 0
        else:
            h, j0 = buf["hs"], 1
            torch.gt(ahp, lh[0], out=h[..., :H])
        for t in range(self.k):
            torch.bmm(h, self._w_vt, out=av)  # (K, Bc, V) = h W^T + b
            if gaussian:
                torch.add(av, lv[t] * torch.exp(0.5 * self.log_var)[:, None, :], out=vn[..., :V])
                vn_in = vn.clone()
                vn_in[..., :V] *= inv
            else:
                torch.gt(av, lv[t], out=vn[..., :V])
                vn_in = vn
            torch.bmm(vn_in, self._w_h, out=ah)  # (K, Bc, H)
            if t == self.k - 1:
                torch.sigmoid(ah, out=hn[..., :H])
            if self.method == "pcd" or t < self.k - 1:
                torch.gt(ah, lh[t + j0], out=h[..., :H])
        if gaussian and self.learn_var:
            self._update_log_var(va[..., :V], hp, vn[..., :V], hn, bp, bc)
        self._update(va_in, hp, vn_in, hn, bp, bc, buf["g"])

    def _np_buffers(self, bp: int, bc: int) -> dict[str, np.ndarray]:
        key = (bp, bc)
        if key not in self._np:
            V, H, dt = self.V, self.H, self.wa.numpy().dtype
            u = np.zeros((bp + bc, V + 1), dt)  # [[v | 1], [v- | 1]]
            u[:, V] = 1.0
            hs = np.zeros((bp + bc, H + 1), dt)  # [[h+ | 1], [-(Bp/Bc) h- | -(Bp/Bc)]]
            hs[:bp, H] = 1.0
            hs[bp:, H] = -bp / bc
            ch = np.zeros((bc, H + 1), dt)  # CD chain hidden samples [h | 1]
            ch[:, H] = 1.0
            self._np[key] = {
                "u": u,
                "hs": hs,
                "ch": ch,
                "ahp": np.empty((bp, H), dt),
                "ah": np.empty((bc, H), dt),
                "av": np.empty((bc, V), dt),
                "g": np.empty((V + 1, H + 1), dt),
                "tmp": np.empty((V, H), dt),
            }
            # torch views of the same memory, for torch.sigmoid: on 100x100 floats it took
            # ~5 us against ~33 us for scipy's expit (~1.3 against ~3.6 us on 10x100).
            b, t = self._np[key], torch.from_numpy
            b["t_ahp"], b["t_hp"] = t(b["ahp"]), t(hs)[:bp, :H]
            b["t_ah"], b["t_hn"] = t(b["ah"]), t(hs)[bp:, :H]
        return self._np[key]

    def _numpy_state(self) -> tuple[Any, ...]:
        """Numpy views ``(Wa[0], chains[0], velocity[0])`` sharing the tensors' memory (None
        where a tensor is None), made again only when a tensor is replaced: ``.numpy()`` and
        ``[0]`` cost ~1-2 us each, a few percent of a batch-10 step."""
        tensors = (self.wa, self.chains, self.velocity)
        if self._np_views is None or any(
            a is not b for a, b in zip(tensors, self._np_views[0], strict=True)
        ):
            views = tuple(None if t is None else t[0].numpy() for t in tensors)
            self._np_views = (tensors, views)
        return self._np_views[1]

    def _step_numpy(self, va, lv, lh, bp: int, bc: int) -> None:
        """The same update as :meth:`step` for K = 1 on the CPU, with numpy/BLAS on views.

        Positive and negative statistics share one matmul: ``G = U^T S`` with
        ``U = [[v|1], [v-|1]]`` and ``S = [[h+|1], [-(Bp/Bc) (h-|1)]]``.
        """
        V, H = self.V, self.H
        b = self._np_buffers(bp, bc)
        u, hs, ahp, ah, av, g = b["u"], b["hs"], b["ahp"], b["ah"], b["av"], b["g"]
        wa, chains, vel = self._numpy_state()
        w_h, w_vt = wa[:, :H], wa[:V, :].T
        np.copyto(u[:bp], va)
        np.dot(va, w_h, out=ahp)  # (Bp, H) = v W + c
        torch.sigmoid(b["t_ahp"], out=b["t_hp"])  # h+ into hs[:bp, :H]
        if self.method == "pcd":
            h, j0 = chains, 0
        else:
            h, j0 = b["ch"], 1
            np.greater(ahp, lh[0], out=h[:, :H], casting="unsafe")
        vn, hn = u[bp:], hs[bp:, :H]
        for t in range(self.k):
            np.dot(h, w_vt, out=av)  # (Bc, V) = h W^T + b
            np.greater(av, lv[t], out=vn[:, :V], casting="unsafe")
            np.dot(vn, w_h, out=ah)  # (Bc, H)
            if t == self.k - 1:
                torch.sigmoid(b["t_ah"], out=b["t_hn"])  # h- into hs[bp:, :H]
            if self.method == "pcd" or t < self.k - 1:
                np.greater(ah, lh[t + j0], out=h[:, :H], casting="unsafe")
        hn *= -bp / bc
        np.dot(u.T, hs, out=g)  # (V+1, H+1) = Bp * (<.>_data - <.>_model)
        g *= self.lr_s / bp
        w = wa[:V, :H]
        if self.wd_s != 0.0:
            np.multiply(w, -self.lr_s * self.wd_s, out=b["tmp"])
            g[:V, :H] += b["tmp"]
        if vel is not None:
            vel *= self.mom_s
            vel += g
            wa += vel
        else:
            wa += g

    def _update(self, va, hp, vn, hn, bp: int, bc: int, g: torch.Tensor) -> None:
        wa = self.wa
        w = wa[:, : self.V, : self.H]
        if self.lr_s is not None and self.velocity is None and self.wd_s is not None:
            # fast path: shared hyperparameters, no momentum (and no velocity left by an earlier
            # fit with momentum, which the update below resets to lr * g): 2 (or 3) ops
            if self.wd_s != 0.0:
                w.mul_(1.0 - self.lr_s * self.wd_s)
            wa.baddbmm_(va.transpose(1, 2), hp, alpha=self.lr_s / bp)
            wa.baddbmm_(vn.transpose(1, 2), hn, alpha=-self.lr_s / bc)
            return
        torch.bmm(va.transpose(1, 2), hp, out=g)  # (K, V+1, H+1)
        g.baddbmm_(vn.transpose(1, 2), hn, alpha=-bp / bc)  # = Bp * (<.>_data - <.>_model)
        if self.wd_s is None or self.wd_s != 0.0:
            g[:, : self.V, : self.H].addcmul_(w, self.wd_t, value=-float(bp))
        scale = self.lr_t / bp  # (K, 1, 1)
        if self.velocity is not None:
            self.velocity.mul_(self.mom_t).addcmul_(g, scale)
            wa.add_(self.velocity)
        else:
            wa.addcmul_(g, scale)

    def _update_log_var(self, v, hp, vn, hn, bp: int, bc: int) -> None:
        """Gradient ascent on z = log s^2 (Cho et al. 2011), same learning rate as W, no
        momentum or decay; s^2 is then clamped to [1e-4, 1e4]."""
        w, b, _ = split_params(self.wa)

        def stat(x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
            wh = torch.bmm(h[..., : self.H], w.transpose(1, 2))  # (K, B, V)
            return (0.5 * (x - b[:, None, :]) ** 2 - x * wh).mean(1)  # (K, V)

        grad = torch.exp(-self.log_var) * (stat(v, hp) - stat(vn, hn))  # (K, V)
        self.log_var.add_(grad * self.lr_t.view(self.K, 1))
        self.log_var.clamp_(min=math.log(1e-4), max=math.log(1e4))

    # ------------------------------------------------------------------ one epoch
    def epoch(self, x: torch.Tensor, batch_size: int, shuffle: bool = True) -> None:
        """One pass over ``x`` ``(N, V)`` in batches of ``batch_size`` (own order per model).

        Memory: one ``[x | 1]`` copy ``(N, V+1)`` shared by all models, plus each chunk's
        batches gathered in every model's order, ``(K, <= _CHUNK_SAMPLES, V+1)``: never a
        copy of the data per model.
        """
        n = x.shape[0]
        x1 = torch.cat((x, x.new_ones(n, 1)), dim=1)  # (N, V+1)
        if shuffle:
            perms = torch.stack(
                [torch.randperm(n, generator=g[0], device=self.device) for g in self.gens]
            )  # (K, N)
        else:
            perms = torch.arange(n, device=self.device).expand(self.K, n)
        nb, rem = divmod(n, batch_size)
        bc = self.chain_size if self.method == "pcd" else batch_size
        per_chunk = max(1, _CHUNK_SAMPLES // batch_size)
        for c0 in range(0, nb, per_chunk):
            m = min(per_chunk, nb - c0)
            rows = perms[:, c0 * batch_size : (c0 + m) * batch_size]  # (K, m * B)
            xa = x1[rows.reshape(-1)].view(self.K, m, batch_size, self.V + 1)
            lv, lh = self.noise(m, bc)
            if self.backend == "numpy":  # numpy views: slicing them costs ~0.2 us, torch's ~2 us
                xn, lvn, lhn = xa[0].numpy(), lv[:, :, 0].numpy(), lh[:, :, 0].numpy()
                with np.errstate(all="ignore"):  # a diverging RBM: its owner checks the weights
                    for j in range(m):
                        self._step_numpy(xn[j], lvn[j], lhn[j], batch_size, bc)
                continue
            for va, nv, nh in zip(xa.unbind(1), lv.unbind(0), lh.unbind(0), strict=True):
                self.step(va, nv, nh)
        if rem:
            lv, lh = self.noise(1, self.chain_size if self.method == "pcd" else rem)
            last = x1[perms[:, nb * batch_size :].reshape(-1)].view(self.K, rem, self.V + 1)
            with np.errstate(all="ignore"):
                self.step(last, lv[0], lh[0])

    # ------------------------------------------------------------------ monitoring
    def reconstruction_error(self, x: torch.Tensor) -> torch.Tensor:
        """Mean squared error of the mean-field reconstruction ``E[v | E[h | v]]``: ``(K,)``."""
        w, b, c = split_params(self.wa)
        xin = x * torch.exp(-self.log_var)[:, None, :] if self.visible == "gaussian" else x
        h = torch.sigmoid(torch.baddbmm(c[:, None, :], xin, w))  # (K, N, H)
        mean_v = torch.baddbmm(b[:, None, :], h, w.transpose(1, 2))  # (K, N, V)
        if self.visible != "gaussian":
            mean_v = torch.sigmoid(mean_v)
        return ((mean_v - x) ** 2).mean(dim=(1, 2))
