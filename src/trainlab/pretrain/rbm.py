"""Restricted Boltzmann machines as scikit-learn estimators: Bernoulli and Gaussian-Bernoulli.

An RBM (Smolensky 1986; Hinton 2002) over visible ``v`` (V,) and binary hidden ``h`` (H,) has
energy ``E(v, h) = -v.b - h.c - v^T W h`` and ``p(v, h) = exp(-E) / Z``. Both conditionals
factorize: ``p(h_j = 1 | v) = sigmoid(c_j + v.W_j)``, ``p(v_i = 1 | h) = sigmoid(b_i + W_i.h)``.
The log-likelihood gradient is ``<v h^T>_data - <v h^T>_model``; contrastive divergence CD-k
(Hinton 2002) estimates the model term with k Gibbs steps started at the data, persistent CD
(PCD, Tieleman 2008; scikit-learn's "SML") with chains that persist across updates.

``BernoulliRBM`` follows scikit-learn's ``sklearn.neural_network.BernoulliRBM`` (same defaults,
attributes and ``score_samples`` pseudo-likelihood) and adds CD-k, momentum, weight decay and
device training; training runs in :mod:`trainlab.pretrain._engine`, the same engine that trains
populations of RBMs and DBN layers. ``GaussianBernoulliRBM`` handles real-valued, standardized
inputs (Hinton & Salakhutdinov 2006; Cho, Ilin & Raiko 2011), with the visible variance fixed
at 1 or learned.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from numbers import Integral, Real
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..devices import resolve_device
from ..errors import DataError, UserError
from ..rng import seed_key
from ._engine import CDEngine, PassMonitor, augment, small_cpu_threads, split_params
from .progress import pass_done

__all__ = [
    "BernoulliRBM",
    "GaussianBernoulliRBM",
    "resolve_device",
    "make_generators",
    "data_tensor",
    "outside_unit_interval",
    "small_problem",
]


def make_generators(
    seed: int, device: torch.device
) -> tuple[torch.Generator, torch.Generator, torch.Generator]:
    """Three generators (data order, visible noise, hidden noise) keyed by ``seed`` only."""
    out = []
    for site in ("order", "visible", "hidden"):
        g = torch.Generator(device=device)
        g.manual_seed(seed_key("rbm", int(seed), site))
        out.append(g)
    return out[0], out[1], out[2]


#: samples on which ``verbose`` tracks the reconstruction error when ``monitor`` is 0
_VERBOSE_MONITOR = 2000


def data_tensor(X: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``X`` as a tensor; a read-only array is copied rather than wrapped.

    ``torch.as_tensor`` on a read-only array (a read-only memmap, or a pandas DataFrame under
    copy-on-write, whose ``to_numpy()`` is read-only) warns that writing to the tensor is
    undefined behaviour; ``torch.tensor`` copies without the warning.
    A view with negative strides (``X[::-1]``, ``np.flip``, ``df.iloc[::-1]``), which torch
    cannot wrap, is copied too.
    """
    if any(st < 0 for st in X.strides):
        X = np.ascontiguousarray(X)
    if X.flags.writeable:
        return torch.as_tensor(X, dtype=dtype, device=device)
    return torch.tensor(X, dtype=dtype, device=device)


def unit_interval_error(X: np.ndarray, name: str, why: str = "") -> DataError:
    """The error for inputs of ``name`` outside [0, 1] (:func:`outside_unit_interval`), with the
    scaler that fixes them; values below 0 open with scikit-learn's ``"Negative values in data
    passed to NAME"`` (what its ``positive_only`` tag checks look for)."""
    negative = f"Negative values in data passed to {name}; " if X.size and X.min() < 0 else ""
    return DataError(
        f"{negative}{name} needs inputs in [0, 1]{why} but got values in "
        f"[{X.min():.4g}, {X.max():.4g}]; scale them first, e.g. with "
        "sklearn.preprocessing.MinMaxScaler(clip=True) (clip=True also keeps held-out data, such "
        "as a cross-validation test fold, within [0, 1])"
    )


def outside_unit_interval(X: np.ndarray, source_dtype: Any = None) -> bool:
    """Whether ``X`` has values outside [0, 1] by more than rounding.

    ``MinMaxScaler().fit_transform`` computes ``X * scale_ + min_`` and so puts values a few
    ulps above 1 (measured: 2.2e-16 in float64 for about 1 column in 10 of random data, up to
    9.5e-7 in float32, 7.8e-3 = 8 ulps in float16): those are [0, 1] data and pass. The
    tolerance, 1000 ulps of 1 (2.2e-13 in float64, 1.2e-4 in float32; 16 ulps, 1.6e-2, in
    float16, whose 1000 ulps would be 0.98), is far below anything an unscaled input shows.
    ``source_dtype``: the dtype the user's data had before conversion; the coarser of it and
    ``X.dtype`` sets the tolerance.
    """
    if not X.size:
        return False
    dtype = np.dtype(X.dtype)
    source = _numpy_dtype(source_dtype)
    if source is not None and np.issubdtype(source, np.floating):
        dtype = min(dtype, source, key=lambda d: d.itemsize)  # the coarser one
    tol = 0.0
    if np.issubdtype(dtype, np.floating):
        tol = (16 if dtype.itemsize <= 2 else 1000) * float(np.finfo(dtype).eps)
    return bool(X.min() < -tol or X.max() > 1.0 + tol)


def data_dtype(X: Any) -> Any:
    """The dtype the user's data had before conversion: an array's or a tensor's, a
    DataFrame's coarsest float column's (MinMaxScaler keeps float16), else None."""
    dtype = getattr(X, "dtype", None)
    if dtype is None and hasattr(X, "dtypes"):
        floats = [d for d in map(_numpy_dtype, X.dtypes) if d is not None and d.kind == "f"]
        dtype = min(floats, key=lambda d: d.itemsize, default=None)
    return dtype


def _numpy_dtype(dtype: Any) -> np.dtype | None:
    """``dtype`` (numpy's, a torch dtype of a tensor given as data, or None) as numpy's; a
    16-bit torch float (bfloat16 has no numpy dtype) as float16, None if it has no match."""
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        if dtype.is_floating_point and dtype.itemsize <= 2:
            return np.dtype(np.float16)
        try:
            return torch.empty(0, dtype=dtype).numpy().dtype
        except (TypeError, RuntimeError):
            return None
    try:
        return np.dtype(dtype)
    except TypeError:
        return None


def refuse_bool_counts(est: BaseEstimator, names: tuple[str, ...]) -> None:
    """An InvalidParameterError for a bool given as a count (scikit-learn's ``Interval(Integral)``
    takes True as 1: ``n_iter=True`` would train one pass)."""
    for name in names:
        if isinstance(getattr(est, name, None), bool | np.bool_):
            raise InvalidParameterError(
                f"The '{name}' parameter of {type(est).__name__} must be an int, got "
                f"{getattr(est, name)!r}"
            )


def small_problem(device: torch.device, n_features: int, n_components: int, batch: int) -> bool:
    """Whether CD steps are tiny enough to run single-threaded (see ``small_cpu_threads``)."""
    return device.type == "cpu" and n_features * n_components * batch < 2**22


#: what ``validate_data(reset=True)`` records about the training data
_FEATURE_ATTRS = ("n_features_in_", "feature_names_in_")


@contextlib.contextmanager
def features_kept_on_error(est: Any) -> Iterator[None]:
    """A block that raises leaves the feature attributes as they were: ``validate_data(
    reset=True)`` sets ``n_features_in_``/``feature_names_in_`` before the checks that may
    refuse the data, so they are put back if the block raises anything (Ctrl-C included).
    The autoencoder wraps its whole fit (its layers are set on it only at the end: a diverged
    or stopped fit keeps the old fitted model); the RBMs wrap the validation only (a refused
    fit keeps the old model; a fit stopped mid-training keeps its new, partly trained weights,
    as scikit-learn's does)."""
    kept = {a: getattr(est, a) for a in _FEATURE_ATTRS if hasattr(est, a)}
    try:
        yield
    except BaseException:
        for a in _FEATURE_ATTRS:
            if a in kept:
                setattr(est, a, kept[a])
            elif hasattr(est, a):
                delattr(est, a)
        raise


class _BaseRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Shared machinery: validation, the torch engine round trip, fit / partial_fit loops."""

    _visible = "bernoulli"
    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "k": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"pcd", "cd"})],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "monitor": [Interval(Integral, 0, None, closed="left")],
        "device": [str, torch.device],
    }

    # ---------------------------------------------------------------- validation
    def _validate_params(self) -> None:
        """scikit-learn's checks, and no bool for a count (``Interval(Integral)`` takes True)."""
        refuse_bool_counts(self, ("n_components", "batch_size", "n_iter", "k", "monitor"))
        super()._validate_params()

    def _check_input(self, X, *, reset: bool) -> np.ndarray:
        """Validated dense ``X``; sparse input (as scikit-learn's RBM takes) is densified."""
        source = data_dtype(X)  # before the conversion to float32/64
        with features_kept_on_error(self):
            X = validate_data(
                self, X, accept_sparse=("csr", "csc", "coo"), dtype=(np.float64, np.float32),
                reset=reset,
            )  # fmt: skip
            if sp.issparse(X):
                X = X.toarray()
            self._check_values(X, source)
        return X

    def _check_values(self, X: np.ndarray, source_dtype: Any = None) -> None:
        """Subclasses restrict the range (Bernoulli: [0, 1])."""

    # ---------------------------------------------------------------- torch round trip
    def _train_dtype(self, X: np.ndarray, device: torch.device) -> torch.dtype:
        # Always float32 (fitted attributes take X's dtype). Measured on digits, batch 10, CPU
        # (benchmarks/rbm.py protocol): float32 fits 1.6-2x faster than float64 with the same
        # accuracy (0.909 vs 0.900 logistic test accuracy on the features).
        return torch.float32

    def _init_params(self, X: np.ndarray, rng: np.random.RandomState) -> None:
        n_features = X.shape[1]
        # W ~ N(0, 0.01^2), biases 0: scikit-learn's and Hinton's (2010 guide) initialization
        self.components_ = rng.normal(0, 0.01, (self.n_components, n_features)).astype(X.dtype)
        self.intercept_hidden_ = np.zeros(self.n_components, dtype=X.dtype)
        self.intercept_visible_ = np.zeros(n_features, dtype=X.dtype)
        self._n_features_out = self.n_components
        if self.method == "pcd":
            self.h_samples_ = np.zeros((self.batch_size, self.n_components), dtype=X.dtype)
        elif hasattr(self, "h_samples_"):  # a CD fit has no chains: drop an earlier PCD fit's
            del self.h_samples_
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        self._n_updates = 0

    def _engine(self, device: torch.device, dtype: torch.dtype, seed: int) -> CDEngine:
        # copies: the engine updates its tensors in place, and a fitted array may be read-only
        # (joblib.load(mmap_mode="r"): writing into it crashes the process) or shared
        as_t = lambda a: torch.tensor(np.asarray(a), dtype=dtype, device=device)  # noqa: E731
        wa = augment(
            as_t(self.components_.T)[None],
            as_t(self.intercept_visible_)[None],
            as_t(self.intercept_hidden_)[None],
        )  # (1, V+1, H+1)
        # shapes come from the fitted state, not from the parameters: set_params after fit
        # (scikit-learn allows it) changes what the next fit does, not the fitted model
        n_hidden = self.components_.shape[0]
        chains = None
        chain_size = self.batch_size
        if self.method == "pcd":
            h_samples = getattr(self, "h_samples_", None)  # absent after a CD fit
            if h_samples is None or h_samples.shape[1] != n_hidden:
                h_samples = np.zeros((self.batch_size, n_hidden))
            chain_size = h_samples.shape[0]
            chains = wa.new_ones(1, chain_size, n_hidden + 1)
            chains[0, :, :n_hidden] = as_t(h_samples)
        velocity = getattr(self, "_velocity", None)
        if velocity is not None:
            velocity = as_t(velocity)[None]
        log_var = as_t(self.log_variance_)[None] if self._visible == "gaussian" else None
        return CDEngine(
            wa,
            lr=float(self.learning_rate),
            momentum=float(self.momentum),
            weight_decay=float(self.weight_decay),
            k=self.k,
            method=self.method,
            chain_size=chain_size,
            generators=[make_generators(seed, device)],
            visible=self._visible,
            log_var=log_var,
            learn_var=bool(getattr(self, "learn_variance", False)),
            chains=chains,
            velocity=velocity,
        )

    def _store(self, eng: CDEngine, dtype: np.dtype) -> None:
        w, b, c = split_params(eng.wa)
        self.components_ = w[0].T.detach().cpu().numpy().astype(dtype, copy=True)
        self.intercept_visible_ = b[0].detach().cpu().numpy().astype(dtype, copy=True)
        self.intercept_hidden_ = c[0].detach().cpu().numpy().astype(dtype, copy=True)
        if eng.chains is not None:
            self.h_samples_ = eng.chains[0, :, : eng.H].cpu().numpy().astype(dtype, copy=True)
        if eng.velocity is not None:
            self._velocity = eng.velocity[0].cpu().numpy()
        if self._visible == "gaussian":
            self.log_variance_ = eng.log_var[0].cpu().numpy().astype(dtype, copy=True)

    # ---------------------------------------------------------------- fitting
    def fit(self, X, y=None):
        """Fit the model to ``X`` ``(n_samples, n_features)`` with ``n_iter`` passes.

        Each pass visits the samples in a fresh random order (scikit-learn's ``fit`` keeps the
        given order) in batches of ``batch_size``; the last, smaller batch is kept.
        """
        self._validate_params()
        device = resolve_device(self.device)  # every check before the fitted model is replaced
        X = self._check_input(X, reset=True)
        rng = check_random_state(self.random_state)
        self._init_params(X, rng)
        if self._visible == "gaussian":
            self.log_variance_ = np.zeros(X.shape[1], dtype=X.dtype)
        self._velocity = None
        dtype = self._train_dtype(X, device)
        small = small_problem(device, X.shape[1], self.n_components, self.batch_size)
        with torch.inference_mode(), small_cpu_threads(small):
            eng = self._engine(device, dtype, self._seed)
            x = data_tensor(X, dtype, device)
            n_mon = self.monitor or (_VERBOSE_MONITOR if self.verbose else 0)
            monitor = PassMonitor(x, 1, n_mon, self._visible)
            begin = time.perf_counter()
            for it in range(1, self.n_iter + 1):
                eng.epoch(x, self.batch_size, shuffle=True)
                monitor.after_pass(eng)
                pass_done()
                if self.verbose:  # one host read per pass, only when asked to print
                    now = time.perf_counter()
                    pl = ""
                    if monitor.pl:
                        pl = f", pseudo-likelihood = {float(monitor.pl[-1][0]):.2f}"
                    print(
                        f"[{type(self).__name__}] Iteration {it}, reconstruction error = "
                        f"{float(monitor.rec[-1][0]):.4f}{pl}, time = {now - begin:.2f}s"
                    )
                    begin = now
            hist = monitor.history()
            self.history_: dict[str, list[Any]] = {
                key: (val if key == "epoch" else [] if val is None else val[0].tolist())
                for key, val in hist.items()
            }
            self._store(eng, X.dtype)
        self._n_updates = self.n_iter
        self.random_state_ = rng
        self._check_finite()
        return self

    def partial_fit(self, X, y=None):
        """One CD/PCD update with ``X`` as the minibatch (scikit-learn's semantics)."""
        first = not hasattr(self, "components_")
        self._validate_params()
        device = resolve_device(self.device)
        X = self._check_input(X, reset=first)
        if first:
            self.random_state_ = check_random_state(self.random_state)
            self._init_params(X, self.random_state_)
            if self._visible == "gaussian":
                self.log_variance_ = np.zeros(X.shape[1], dtype=X.dtype)
            self._velocity = None
        dtype = self._train_dtype(X, device)
        small = small_problem(device, X.shape[1], self.components_.shape[0], X.shape[0])
        with torch.inference_mode(), small_cpu_threads(small):
            # a fresh stream per call, keyed by (seed, call index): no generator state to pickle
            eng = self._engine(device, dtype, seed_key(self._seed, "partial", self._n_updates))
            x = data_tensor(X, dtype, device)
            eng.epoch(x, x.shape[0], shuffle=False)
            self._store(eng, self.components_.dtype)
        self._n_updates += 1
        self._check_finite()
        return self

    def diverged(self) -> bool:
        """Whether training sent a fitted parameter to inf or NaN."""
        check_is_fitted(self)
        params = [self.components_, self.intercept_hidden_, self.intercept_visible_]
        if self._visible == "gaussian":
            params.append(self.log_variance_)
        return not all(np.isfinite(p).all() for p in params)

    def _check_finite(self) -> None:
        """Raise if training diverged (inf or NaN parameters), as scikit-learn's MLP does,
        rather than return a model whose ``transform`` is all NaN. One check per ``fit`` or
        ``partial_fit`` call, on the numpy copies: no extra host read."""
        if not self.diverged():
            return
        hint = (
            " and standardize the inputs (zero mean, unit variance per feature, e.g. with "
            "sklearn.preprocessing.StandardScaler)"
            if self._visible == "gaussian"
            else ""
        )
        raise UserError(
            f"{type(self).__name__} training diverged: its weights became inf or NaN "
            f"(learning_rate={self.learning_rate}, momentum={self.momentum}); lower "
            f"learning_rate{hint}"
        )

    # ---------------------------------------------------------------- inference (numpy)
    def _hidden_input(self, X: np.ndarray) -> np.ndarray:
        return X

    def transform(self, X):
        """Hidden probabilities ``P(h = 1 | v = X)``: ``(n_samples, n_components)``."""
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        return self._mean_hiddens(X)

    def _mean_hiddens(self, X: np.ndarray) -> np.ndarray:
        p = self._hidden_input(X) @ self.components_.T.astype(X.dtype, copy=False)
        p += self.intercept_hidden_.astype(X.dtype, copy=False)
        return expit(p, out=p)

    def _rng(self) -> np.random.RandomState:
        if not hasattr(self, "random_state_"):
            self.random_state_ = check_random_state(self.random_state)
        return self.random_state_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True  # densified by _check_input
        return tags


class BernoulliRBM(_BaseRBM):
    """Bernoulli restricted Boltzmann machine (binary visible and hidden units).

    Trained with PCD-k (``method="pcd"``, Tieleman 2008; scikit-learn's default) or CD-k
    (``method="cd"``, Hinton 2002). Update, per minibatch of B samples and chain of B particles:
    ``g = <v h^T>_data - <v h^T>_model - weight_decay * W``, ``vel = momentum * vel +
    learning_rate * g``, ``W += vel`` (the same for the biases, without decay), where
    ``<.>_data`` uses ``P(h | v)`` of the batch and ``<.>_model`` the chain's sampled visibles
    and their hidden probabilities after k Gibbs steps.

    Parameters
    ----------
    n_components : int, default=256
        Number of binary hidden units H.
    learning_rate : float, default=0.1
        Step size per minibatch (the gradient is a per-sample mean). scikit-learn's example
        uses 0.06 on digits.
    batch_size : int, default=10
        Samples per minibatch, and the number of persistent chains for PCD.
    n_iter : int, default=10
        Passes over the training data.
    k : int, default=1
        Gibbs steps per update (CD-k / PCD-k).
    method : {"pcd", "cd"}, default="pcd"
        Persistent chains, or chains restarted at the data for each batch.
    momentum : float in [0, 1), default=0.0
        Heavy-ball momentum on the update (Hinton's guide uses 0.5 then 0.9).
    weight_decay : float, default=0.0
        L2 penalty coefficient on W (not the biases); per unit of learning rate.
    random_state : int, RandomState or None, default=None
        Seeds the weight initialization and the training streams; also ``gibbs`` and the
        coordinate flips of ``score_samples``.
    verbose : bool or int, default=False
        Print the reconstruction error and pseudo-likelihood after each pass (tracked on the
        first 2000 samples unless ``monitor`` says otherwise).
    monitor : int, default=0
        Track the reconstruction error and pseudo-likelihood of the first ``monitor`` training
        samples after each pass, in ``history_`` (0: none; costs one mean-field pass over them).
    device : str, default="cpu"
        Torch device to train on (``"cpu"``, ``"cuda"``, ``"auto"``). Fitted attributes are
        always numpy arrays.

    Attributes
    ----------
    components_ : ndarray (n_components, n_features)
        Weights W^T.
    intercept_hidden_ : ndarray (n_components,)
    intercept_visible_ : ndarray (n_features,)
    h_samples_ : ndarray (batch_size, n_components)
        Hidden states of the persistent chains (PCD only).
    n_features_in_ : int
    history_ : dict
        ``epoch``, ``reconstruction_error`` and ``pseudo_likelihood``: lists with one value per
        pass when ``monitor`` (or ``verbose``) is set; else empty lists.

    Inputs must lie in [0, 1] (probabilities or binary pixels), at ``fit`` and at
    ``transform``: scale with ``MinMaxScaler(clip=True)``. Without ``clip=True``, a scaler fitted
    on a training fold maps some held-out values outside [0, 1], which this estimator rejects
    (scikit-learn's silently accepts them), so in a ``Pipeline`` under ``GridSearchCV`` every
    score would be NaN.
    """

    def __init__(
        self,
        n_components: int = 256,
        *,
        learning_rate: float = 0.1,
        batch_size: int = 10,
        n_iter: int = 10,
        k: int = 1,
        method: str = "pcd",
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        random_state=None,
        verbose: bool | int = False,
        monitor: int = 0,
        device: str = "cpu",
    ) -> None:
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.method = method
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.random_state = random_state
        self.verbose = verbose
        self.monitor = monitor
        self.device = device

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True  # [0, 1]: negative values are refused
        return tags

    def _check_values(self, X: np.ndarray, source_dtype: Any = None) -> None:
        if outside_unit_interval(X, source_dtype):
            raise unit_interval_error(X, "BernoulliRBM")

    def free_energy(self, X) -> np.ndarray:
        """``F(v) = -v.b - sum_j log(1 + exp(c_j + v.W_j))`` for each row: ``(n_samples,)``."""
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        return self._free_energy(X)

    def _free_energy(self, X: np.ndarray) -> np.ndarray:
        lin = X @ self.components_.T + self.intercept_hidden_
        return -(X @ self.intercept_visible_) - np.logaddexp(0, lin).sum(axis=1)

    def gibbs(self, v) -> np.ndarray:
        """One Gibbs step ``v -> h ~ P(h|v) -> v' ~ P(v|h)``; returns the boolean ``v'``."""
        check_is_fitted(self)
        v = self._check_input(v, reset=False)
        rng = self._rng()
        h = rng.uniform(size=(v.shape[0], self.components_.shape[0])) < self._mean_hiddens(v)
        p = expit(h @ self.components_ + self.intercept_visible_)
        return rng.uniform(size=p.shape) < p

    def score_samples(self, X) -> np.ndarray:
        """Stochastic pseudo-log-likelihood (Besag 1975), scikit-learn's estimate.

        ``PL(v) ~= V * log sigmoid(F(v~) - F(v))``, with ``v~`` equal to ``v`` with one feature
        per sample, chosen at random (seeded by ``random_state``), flipped to ``1 - v_i``.
        """
        check_is_fitted(self)
        v = self._check_input(X, reset=False)
        rng = check_random_state(self.random_state)
        idx = (np.arange(v.shape[0]), rng.randint(0, v.shape[1], v.shape[0]))
        v_ = v.copy()
        v_[idx] = 1 - v_[idx]
        return v.shape[1] * log_expit(self._free_energy(v_) - self._free_energy(v))


class GaussianBernoulliRBM(_BaseRBM):
    """RBM with Gaussian visible and binary hidden units, for standardized real inputs.

    Energy (Cho, Ilin & Raiko 2011, with ``s_i^2 = exp(z_i)``):
    ``E(v, h) = sum_i (v_i - b_i)^2 / (2 s_i^2) - sum_ij v_i W_ij h_j / s_i^2 - c.h``, so
    ``p(v_i | h) = N(b_i + (W h)_i, s_i^2)`` and ``p(h_j = 1 | v) = sigmoid(c_j + sum_i
    W_ij v_i / s_i^2)``. With ``learn_variance=False`` s = 1 (Hinton & Salakhutdinov 2006: the
    data must then be standardized to unit variance per feature); with ``True`` the
    log-variances z are learned by gradient ascent with the same learning rate (no momentum or
    weight decay on z), each s_i^2 kept within [1e-4, 1e4].

    Parameters as :class:`BernoulliRBM`, plus ``learn_variance``; the default learning rate is
    smaller (0.01) and the default method CD-1, as Gaussian units are less stable. ``monitor``
    and ``verbose`` track the reconstruction error only (no pseudo-likelihood for real inputs:
    ``history_["pseudo_likelihood"]`` stays empty).

    Attributes: ``components_``, ``intercept_hidden_``, ``intercept_visible_``,
    ``log_variance_`` (n_features,), ``h_samples_`` (PCD), ``history_``.
    """

    _visible = "gaussian"
    _parameter_constraints: dict = {
        **_BaseRBM._parameter_constraints,
        "learn_variance": ["boolean"],
    }

    def __init__(
        self,
        n_components: int = 256,
        *,
        learning_rate: float = 0.01,
        batch_size: int = 10,
        n_iter: int = 10,
        k: int = 1,
        method: str = "cd",
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        learn_variance: bool = False,
        random_state=None,
        verbose: bool | int = False,
        monitor: int = 0,
        device: str = "cpu",
    ) -> None:
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.method = method
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.learn_variance = learn_variance
        self.random_state = random_state
        self.verbose = verbose
        self.monitor = monitor
        self.device = device

    def _hidden_input(self, X: np.ndarray) -> np.ndarray:
        return X * np.exp(-self.log_variance_).astype(X.dtype, copy=False)

    def free_energy(self, X) -> np.ndarray:
        """Free energy of each row: ``(n_samples,)``.

        ``F(v) = sum_i (v_i - b_i)^2 / (2 s_i^2) - sum_j softplus(c_j + sum_i W_ij v_i / s_i^2)``.
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        return self._free_energy(X)

    def _free_energy(self, X: np.ndarray) -> np.ndarray:
        inv = np.exp(-self.log_variance_)
        lin = (X * inv) @ self.components_.T + self.intercept_hidden_
        quad = 0.5 * (((X - self.intercept_visible_) ** 2) * inv).sum(axis=1)
        return quad - np.logaddexp(0, lin).sum(axis=1)

    def gibbs(self, v) -> np.ndarray:
        """One Gibbs step ``v -> h ~ P(h|v) -> v' ~ N(b + W h, s^2)``, in ``v``'s float dtype."""
        check_is_fitted(self)
        v = self._check_input(v, reset=False)
        rng = self._rng()
        h = rng.uniform(size=(v.shape[0], self.components_.shape[0])) < self._mean_hiddens(v)
        mean = h @ self.components_ + self.intercept_visible_
        noise = np.exp(0.5 * self.log_variance_) * rng.standard_normal(mean.shape)
        return (mean + noise).astype(v.dtype, copy=False)  # the draws are float64

    def score_samples(self, X) -> np.ndarray:
        """Unnormalized log-density ``-F(v)`` (= log p(v) + log Z): compare samples, not models."""
        check_is_fitted(self)
        X = self._check_input(X, reset=False)
        return -self._free_energy(X)
