"""Deep belief network: greedy layer-wise RBM pre-training, unrolled into an MLP.

Hinton, Osindero & Teh (2006) and Bengio et al. (2007): train an RBM on the data, then another
RBM on the first one's hidden probabilities ``P(h | v)``, and so on; the stack's recognition
weights initialize a feed-forward sigmoid network whose layer ``i`` computes
``sigmoid(W_i^T x + c_i)`` -- exactly ``rbms_[i].transform`` -- and which is then fine-tuned with
backprop on the labels (:func:`fine_tune`, through trainlab's normal trainer).
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import (
    _check_feature_names,
    _get_feature_names,
    check_array,
    check_is_fitted,
)
from torch import nn

from ..errors import UserError
from ._engine import small_cpu_threads
from .rbm import BernoulliRBM, GaussianBernoulliRBM

__all__ = ["DBN", "unroll", "fine_tune", "arrays_dataset", "layer_widths"]


def unroll(
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    n_visible: int,
    n_classes: int,
    activation: str = "sigmoid",
    generator: torch.Generator | None = None,
) -> nn.Module:
    """A trainlab MLP whose ``fc{i}`` holds ``(weight (H_i, D_i), bias (H_i,))`` of ``layers``.

    The network is ``trainlab.models.create("mlp", input_shape=(n_visible,), num_classes=...,
    hidden=[H_1, ...], activation=...)``. With a ``generator`` the output layer is drawn
    Xavier-uniform from it (bias 0) and torch's global RNG is left as it was; without, it keeps
    PyTorch's default init (drawn from the global RNG).
    """
    from .. import models
    from ..train import float32_default

    hidden = [int(w.shape[0]) for w, _ in layers]
    # the default init of the layers below is overwritten: with a generator, it must not
    # advance the caller's global RNG either
    fork = torch.random.fork_rng(devices=[]) if generator is not None else contextlib.nullcontext()
    with fork, float32_default():  # a float32 module whatever default dtype the caller set
        module = models.create(
            "mlp",
            input_shape=(n_visible,),
            num_classes=n_classes,
            hidden=hidden,
            activation=activation,
        )
    with torch.no_grad():
        for i, (w, b) in enumerate(layers, start=1):
            fc = getattr(module, f"fc{i}")
            w, b = np.asarray(w), np.asarray(b)
            if w.shape != tuple(fc.weight.shape) or b.shape != tuple(fc.bias.shape):
                raise UserError(  # (copy_ would broadcast a (H, 1) weight silently)
                    f"layer {i}: weight {w.shape} and bias {b.shape} do not fit fc{i}, which "
                    f"needs {tuple(fc.weight.shape)} and {tuple(fc.bias.shape)}; pass each "
                    "layer as (weight (H_i, D_i), bias (H_i,)), D_i = the width below it"
                )
            # (torch.tensor copies: an estimator loaded with joblib's mmap_mode="r" holds
            # read-only arrays, which torch.as_tensor would wrap with a warning)
            fc.weight.copy_(torch.tensor(w, dtype=fc.weight.dtype))
            fc.bias.copy_(torch.tensor(b, dtype=fc.bias.dtype))
        if generator is not None:
            nn.init.xavier_uniform_(module.out.weight, generator=generator)
            module.out.bias.zero_()
    return module


def layer_widths(layers: int | Sequence[int]) -> list[int]:
    """``layers`` (one width or a sequence of widths) as a non-empty list of positive ints."""
    raw = [layers] if isinstance(layers, int | np.integer | bool) else layers
    try:
        widths = [int(w) for w in raw]
        ok = widths and all(
            w > 0 and w == v and not isinstance(v, bool | np.bool_)  # True is not a width
            for w, v in zip(widths, raw, strict=True)
        )
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise UserError(f"layers must be a positive width or a list of them, got {layers!r}")
    return widths


@contextlib.contextmanager
def _as_dbn_layer(i: int, n: int) -> Iterator[None]:
    """Errors of layer ``i``'s RBM (scikit-learn's parameter and input checks, which name
    ``BernoulliRBM``) say that they come from this DBN and which layer; same exception type."""
    try:
        yield
    except ValueError as err:  # the same object, traceback kept: only its message is prefixed
        err.args = (f"DBN layer {i + 1} of {n}: {err}", *err.args[1:])
        raise


def _frame_values(X: Any) -> Any:
    """A DataFrame's values as scikit-learn reads them (pandas' nullable dtypes, pd.NA as NaN:
    ``np.asarray`` gives an object array the layer cannot read), for the layers; what is wrong
    with them (NaN, shape) the first layer says."""
    return check_array(
        X, accept_sparse=True, dtype=None, ensure_all_finite=False, ensure_2d=False,
        allow_nd=True, ensure_min_samples=0, ensure_min_features=0,
    )  # fmt: skip


#: ``DBN(learning_rate=None)``'s rates: Bernoulli layers, and a Gaussian first layer (as
#: :class:`GaussianBernoulliRBM`'s default)
BERNOULLI_LEARNING_RATE = 0.1
GAUSSIAN_LEARNING_RATE = 0.01


class DBN(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Greedy layer-wise pre-training of a stack of RBMs (a deep belief network).

    Parameters
    ----------
    layers : list of int, default=(256, 256)
        Hidden widths, bottom to top.
    learning_rate, batch_size, n_iter, k, method, momentum, weight_decay :
        As :class:`BernoulliRBM`, shared by every layer; ``learning_rate=None`` (the default)
        is 0.1 for Bernoulli layers and 0.01 for a Gaussian first layer (``visible=
        "gaussian"``: at 0.1 with momentum 0.5 it diverges on standardized digits). Default
        CD-1 (``method="cd"``), as Hinton et al. 2006, lr 0.1, momentum 0.5, 30 passes: on the
        nudged-digits benchmark (``benchmarks/rbm.py``) a 64-256-256 DBN fine-tuned to 97.3%
        test accuracy with these, 96.2% with lr 0.05, no momentum, 10 passes; on plain digits
        (1294 inputs) the latter left the upper layers' weights below 0.05 and their units
        almost constant.
    visible : {"bernoulli", "gaussian"}, default="bernoulli"
        The first layer's visible units: Bernoulli for data in [0, 1], Gaussian (unit
        variance) for standardized real data; upper layers are always Bernoulli.
    random_state : int or None
        Layer ``i`` uses a seed drawn from it.
    monitor : int, default=0
        Each layer tracks its reconstruction error and pseudo-likelihood on the first
        ``monitor`` samples of its input after each pass (see :class:`BernoulliRBM`).
    device : str, default="cpu"

    Attributes
    ----------
    rbms_ : list of fitted RBM estimators, bottom to top.
    history_ : list of dict
        Each layer's ``history_`` (empty lists unless ``monitor`` or ``verbose`` is set).
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when fitted on a DataFrame with string columns)
    """

    def __init__(
        self,
        layers: Sequence[int] = (256, 256),
        *,
        learning_rate: float | None = None,
        batch_size: int = 10,
        n_iter: int = 30,
        k: int = 1,
        method: str = "cd",
        momentum: float = 0.5,
        weight_decay: float = 0.0,
        visible: str = "bernoulli",
        random_state=None,
        verbose: bool = False,
        monitor: int = 0,
        device: str = "cpu",
    ) -> None:
        self.layers = layers
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.method = method
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.visible = visible
        self.random_state = random_state
        self.verbose = verbose
        self.monitor = monitor
        self.device = device

    def _layer(self, i: int, width: int, seed: int):
        cls = GaussianBernoulliRBM if (i == 0 and self.visible == "gaussian") else BernoulliRBM
        lr = self.learning_rate
        if lr is None:  # Gaussian units are less stable: their RBM's own default
            lr = GAUSSIAN_LEARNING_RATE if cls is GaussianBernoulliRBM else BERNOULLI_LEARNING_RATE
        return cls(
            width,
            learning_rate=lr,
            batch_size=self.batch_size,
            n_iter=self.n_iter,
            k=self.k,
            method=self.method,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            random_state=seed,
            verbose=self.verbose,
            monitor=self.monitor,
            device=self.device,
        ).set_output(transform="default")  # layers pass arrays, whatever sklearn's set_config

    def fit(self, X, y=None) -> DBN:
        """Train layer 1 on ``X``, layer ``i+1`` on layer ``i``'s hidden probabilities."""
        if self.visible not in ("bernoulli", "gaussian"):
            raise UserError(f"visible must be 'bernoulli' or 'gaussian', got '{self.visible}'")
        widths = layer_widths(self.layers)
        rng = check_random_state(self.random_state)
        rbms = []  # set on self only when every layer has fitted: a refused refit keeps the old
        names = _get_feature_names(X)  # a DataFrame's: the DBN keeps them; its layers see arrays
        h = _frame_values(X) if names is not None else X
        for i, width in enumerate(widths):
            rbm = self._layer(i, width, int(rng.randint(np.iinfo(np.int32).max)))
            if self.verbose:  # (each layer's RBM then prints its passes, by its class name)
                print(f"[DBN] layer {i + 1} of {len(widths)}: {type(rbm).__name__}, {width} units")
            with _as_dbn_layer(i, len(widths)):
                h = rbm.fit(h).transform(h)
            rbms.append(rbm)
        self.rbms_ = rbms
        self.history_ = [rbm.history_ for rbm in self.rbms_]
        self.n_features_in_ = self.rbms_[0].n_features_in_
        if names is not None:  # fitted on a DataFrame
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):  # an earlier fit's
            del self.feature_names_in_
        self._n_features_out = widths[-1]  # get_feature_names_out: dbn0, dbn1, ...
        return self

    def transform(self, X) -> np.ndarray:
        """The top layer's hidden probabilities (each layer fed the one below's)."""
        return collections.deque(self._upward(X), maxlen=1).pop()  # only the last one held

    def hidden_activations(self, X) -> list[np.ndarray]:
        """Every layer's ``P(h | input)``, bottom to top."""
        return list(self._upward(X))

    def _upward(self, X) -> Iterator[np.ndarray]:
        """Each layer's ``P(h | input)`` in turn, bottom to top (the recognition pass)."""
        check_is_fitted(self)
        with _as_dbn_layer(0, len(self.rbms_)):  # the DBN's feature names, by its name (its
            _check_feature_names(self, X, reset=False)  # first layer checks the shape)
        h = _frame_values(X) if _get_feature_names(X) is not None else X
        for i, rbm in enumerate(self.rbms_):
            with _as_dbn_layer(i, len(self.rbms_)):
                h = rbm.transform(h)
            yield h

    def layer_weights(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(weight (H, D), bias (H,))`` per layer as the recognition (bottom-up) pass uses them.

        A Gaussian first layer folds its ``1 / s^2`` into the weight.
        """
        check_is_fitted(self)
        out = []
        for rbm in self.rbms_:
            w = rbm.components_
            if isinstance(rbm, GaussianBernoulliRBM):
                w = w * np.exp(-rbm.log_variance_)[None, :]
            out.append((w, rbm.intercept_hidden_))
        return out

    def to_module(
        self,
        n_classes: int,
        activation: str = "sigmoid",
        generator: torch.Generator | None = None,
    ) -> nn.Module:
        """Unroll into ``trainlab.models.create("mlp", ..., hidden=layers, activation=...)``
        with ``fc{i}`` initialized from RBM ``i``; fine-tune it with :func:`fine_tune`.
        ``generator`` draws the output layer (see :func:`unroll`)."""
        w = self.layer_weights()
        return unroll(w, self.n_features_in_, n_classes, activation, generator)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # the first RBM densifies it
        tags.input_tags.positive_only = self.visible == "bernoulli"  # [0, 1] for a Bernoulli RBM
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]  # as each layer's
        return tags


def arrays_dataset(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None,
    y_test: np.ndarray | None,
    *,
    val_fraction: float = 0.1,
    num_classes: int | None = None,
    name: str = "arrays",
) -> Any:
    """A :class:`trainlab.data.Dataset` from arrays; the last ``round(val_fraction · N)`` of
    the ``N`` training rows, at least one for ``val_fraction > 0``, become the validation split
    (shuffle rows sorted by class first). Labels must be
    integers in ``[0, num_classes)`` (``num_classes`` defaults to the largest label + 1),
    inputs finite, and the arrays checked as ``trainlab.data.load`` checks a file's
    (:func:`trainlab.data.datasets.check_arrays`); the training split must keep 2 classes.
    ``x_test = y_test = None``: no test split (a run then reports validation numbers).
    Inputs become float32, the built-in models' dtype (integers above 2**24 round); for
    float64 inputs build a :class:`trainlab.data.Dataset` of float64 tensors yourself."""
    from ..data import Dataset
    from ..data.datasets import _held_out_size, check_arrays

    number = isinstance(val_fraction, int | float | np.floating) and not isinstance(
        val_fraction, bool
    )
    if not (number and 0.0 <= val_fraction < 1.0):  # (NaN fails the range)
        raise UserError(f"val_fraction must be a number in [0, 1), got {val_fraction!r}")
    if (x_test is None) != (y_test is None):
        raise UserError("arrays_dataset needs both x_test and y_test, or neither (no test split)")
    if len(x_train) == 0:
        raise UserError(f"{name}: the training arrays are empty; pass x_train with samples")
    n_val = _held_out_size(len(x_train), val_fraction)  # (as trainlab.data: >= 1 for > 0)
    n_tr = len(x_train) - n_val
    if n_tr < 1:
        raise UserError(
            f"val_fraction={val_fraction} leaves no training rows of {len(x_train)}; "
            "pass val_fraction=0 (no validation split)"
        )
    checked, k = check_arrays(
        name,
        {"train": (x_train, y_train), "test": (x_test, y_test)},  # (None: skipped)
        num_classes,
        fix="check y_train (the labels passed in)",
    )  # lengths, 1-D integer labels, finite inputs, one sample shape, labels in [0, k)
    x_train, y_train = checked["train"]
    x_test, y_test = (
        checked.get("test")
        or (  # no test split: an empty one of the same shape
            np.empty((0, *x_train.shape[1:]), dtype=np.float32),
            np.empty(0, dtype=np.int64),
        )
    )
    kept = np.unique(y_train[:n_tr])
    if kept.size < 2:  # rows sorted by class: the validation rows took the other classes
        raise UserError(
            f"{name}: the training split (the first {n_tr} rows; the last val_fraction="
            f"{val_fraction} become validation) holds class {int(kept[0])} only; shuffle the "
            "rows first (e.g. sklearn.utils.shuffle), lower val_fraction, or pass "
            "val_fraction=0 (no validation split)"
        )
    # copies: the Dataset never shares memory with the caller's arrays
    f = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    i = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.int64)  # noqa: E731
    return Dataset(
        name=name,
        x_train=f(x_train[:n_tr]),
        y_train=i(y_train[:n_tr]),
        x_val=f(x_train[n_tr:]),
        y_val=i(y_train[n_tr:]),
        x_test=f(x_test),
        y_test=i(y_test),
        input_shape=tuple(x_train.shape[1:]),
        num_classes=k,
    )


def fine_tune(
    modules: nn.Module | Sequence[nn.Module],
    dataset: Any,
    *,
    seeds: Sequence[int] | None = None,
    epochs: int = 30,
    lr: float = 1e-3,
    optimizer: str = "adam",
    batch_size: int = 64,
    device: str = "cpu",
    out: str | None = None,
    name: str = "fine-tune",
    progress: bool = False,
    **optim_options: Any,
) -> dict[str, Any]:
    """Fine-tune pre-trained modules (one per seed) as one population with trainlab's trainer.

    Every module must have the same architecture; model ``i`` starts from ``modules[i]``'s
    weights (``init.scheme: keep``) and draws its data order from ``seeds[i]``;
    ``optim_options`` go to the optimizer (e.g. ``momentum=0.9`` for SGD); ``progress`` shows
    the trainer's progress bar (a line per epoch when written to a file). Returns the
    trainer's summary (``summary["models"][i]["final"]["test_acc"]``, ``aggregates``).
    """
    from ..config import parse_config
    from ..train import Trainer, _module_record, _noted_fit, _start_run
    from .autoencoder import StackedDenoisingAutoencoder

    if isinstance(modules, DBN | StackedDenoisingAutoencoder):
        modules = [modules]  # (refused below with the fix)
    mods = [modules] if isinstance(modules, nn.Module) else list(modules)
    if not mods:
        raise UserError("fine_tune needs at least one module (one per seed); got none")
    for i, m in enumerate(mods):
        if not isinstance(m, nn.Module):
            fix = (
                "call .to_module(n_classes) on it first to get one"
                if isinstance(m, DBN | StackedDenoisingAutoencoder)
                else "pass modules, e.g. dbn.to_module(n_classes)"
            )
            raise UserError(f"modules[{i}] is a {type(m).__name__}, not an nn.Module: {fix}")
    if isinstance(seeds, int | np.integer | str):
        raise UserError(f"seeds must be a list with one seed per module, got {seeds!r}")
    # (numpy integers as ints; anything else as given: the config names a 0.5, True or "a")
    seeds = (
        list(range(len(mods)))
        if seeds is None
        else [s.item() if isinstance(s, np.integer) else s for s in seeds]
    )
    if len(seeds) != len(mods):
        raise UserError(f"need one seed per module: {len(seeds)} seeds for {len(mods)} modules")
    first = _module_record(mods[0])
    frozen = [n for n, p in mods[0].named_parameters() if not p.requires_grad]
    for i, m in enumerate(mods[1:], start=1):  # (a ReLU and a sigmoid stack share every shape)
        if _module_record(m) != first:
            raise UserError(
                f"modules[{i}] is not the architecture of modules[0] (layers, activations or "
                "shapes differ); fine-tune different architectures in separate calls"
            )
        if [n for n, p in m.named_parameters() if not p.requires_grad] != frozen:
            raise UserError(  # a population trains every model's copy of a parameter alike
                f"modules[{i}] freezes other parameters (requires_grad=False) than modules[0]; "
                "fine-tune modules frozen differently in separate calls"
            )
    config = parse_config(
        {
            "name": name,
            "init": {"scheme": "keep"},
            "optim": {"name": optimizer, "lr": lr, **optim_options},
            "train": {"epochs": epochs, "batch_size": batch_size},
            "population": {"seeds": seeds},
        },
        "fine_tune",
    )
    trainer = Trainer(config, device=device, model=mods[0], dataset=dataset)
    for i, m in enumerate(mods):  # (its non-persistent buffers too: a state_dict omits them)
        trainer.pop._load_model(i, m)
    run = _start_run(config, out, trainer) if out is not None else None  # (locked)
    try:
        if run is not None:  # a kill before the first epoch's checkpoint resumes every model
            run.save_checkpoint(trainer.state_dict())  # from its own module, not modules[0]
        # small models on the CPU train with one intra-op thread: the quick pretraining study
        # took 6.5 s with 1 thread and 42 s with 2 on this project's shared 2-core machine
        n_params = sum(p.numel() for p in mods[0].parameters()) * len(mods)
        small = trainer.device.type == "cpu" and n_params < 2**22
        with small_cpu_threads(small):
            return _noted_fit(trainer, run, progress=progress)
    finally:
        if run is not None:
            run.unlock()
