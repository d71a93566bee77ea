"""Stacked denoising autoencoders (Vincent, Larochelle, Bengio & Manzagol 2008).

Each layer is an autoencoder with tied weights trained to reconstruct its clean input ``x``
from a corrupted copy ``x~`` (masking noise: each input zeroed with probability
``corruption``): ``h = sigmoid(W x~ + c)``, ``x^ = sigmoid(W^T h + b)``, loss the
cross-entropy ``-sum_i [x_i log x^_i + (1 - x_i) log(1 - x^_i)]`` (inputs in [0, 1]).
Layer ``i+1`` trains on layer ``i``'s clean codes ``sigmoid(W x + c)``. Like
:class:`~trainlab.pretrain.DBN`, the encoders unroll into a trainlab MLP (``to_module``).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn
from torch.nn import functional as F

from ..devices import autocast_off, resolve_device
from ..errors import UserError
from ..rng import seed_key
from ._engine import small_cpu_threads
from .dbn import layer_widths, unroll
from .progress import pass_done
from .rbm import (
    data_dtype,
    data_tensor,
    features_kept_on_error,
    outside_unit_interval,
    refuse_bool_counts,
    unit_interval_error,
)

__all__ = ["StackedDenoisingAutoencoder"]


class StackedDenoisingAutoencoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Greedy layer-wise denoising-autoencoder pre-training (tied weights, masking noise).

    Parameters
    ----------
    layers : list of int, default=(256, 256)
        Code widths, bottom to top.
    corruption : float in [0, 1), default=0.25
        Probability of zeroing each input of a layer (Vincent et al. 2008 used 10-40%).
    learning_rate : float, default=1e-3
        Adam step size (Kingma & Ba 2015) per minibatch; the paper used plain SGD.
    batch_size : int, default=32
    n_iter : int, default=20
        Passes over the data per layer.
    random_state : int or None
        Seeds W ~ U(+-sqrt(6 / (fan_in + fan_out))) * 4 (Glorot's bound for sigmoid, as in
        the paper's code), data order and corruption masks.
    device : str, default="cpu"

    Attributes
    ----------
    layers_ : list of ``(weight (H, D), hidden_bias (H,), visible_bias (D,))`` numpy arrays.
    history_ : dict with ``loss`` per layer and pass (mean reconstruction cross-entropy).
    """

    #: the largest learning rate Adam can take in float32: its first step is lr / (1 - β1)
    MAX_LEARNING_RATE = float(np.finfo(np.float32).max) * (1 - 0.9)

    _parameter_constraints: dict = {
        "layers": [Interval(Integral, 1, None, closed="left"), list, tuple, np.ndarray],
        "corruption": [Interval(Real, 0, 1, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [str, torch.device],
    }

    def __init__(
        self,
        layers: Sequence[int] = (256, 256),
        *,
        corruption: float = 0.25,
        learning_rate: float = 1e-3,
        batch_size: int = 32,
        n_iter: int = 20,
        random_state=None,
        device: str = "cpu",
    ) -> None:
        self.layers = layers
        self.corruption = corruption
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.random_state = random_state
        self.device = device

    def _check_input(self, X, *, reset: bool) -> np.ndarray:
        """Validated dense ``X`` in [0, 1] (the cross-entropy reconstruction's range, at fit and
        at transform alike); sparse input (as the RBMs take it) is densified. A refused fit
        leaves the fitted model as it was."""
        source = data_dtype(X)  # float16 min-max data rounds a few ulps above 1
        with features_kept_on_error(self):
            X = validate_data(
                self, X, accept_sparse=("csr", "csc", "coo"), dtype=(np.float64, np.float32),
                reset=reset,
            )  # fmt: skip
            X = X.toarray() if sp.issparse(X) else X
            if outside_unit_interval(X, source):
                raise unit_interval_error(X, "StackedDenoisingAutoencoder", " (cross-entropy loss)")
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified by _check_input
        tags.input_tags.positive_only = True  # [0, 1]: negative values are refused
        return tags

    def _train_layer(
        self, x: torch.Tensor, width: int, seed: int
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[float]]:
        n, d = x.shape
        gen = torch.Generator(device=x.device).manual_seed(seed_key("sdae", seed))
        bound = 4.0 * float(np.sqrt(6.0 / (d + width)))
        w = (
            (torch.rand(width, d, generator=gen, device=x.device, dtype=x.dtype) * 2 - 1) * bound
        ).requires_grad_()
        c = torch.zeros(width, device=x.device, dtype=x.dtype, requires_grad=True)
        b = torch.zeros(d, device=x.device, dtype=x.dtype, requires_grad=True)
        opt = torch.optim.Adam([w, c, b], lr=self.learning_rate)
        losses = []
        for _ in range(self.n_iter):
            perm = torch.randperm(n, generator=gen, device=x.device)
            total = torch.zeros((), device=x.device, dtype=x.dtype)
            for s in range(0, n, self.batch_size):
                xb = x[perm[s : s + self.batch_size]]  # (B, D)
                keep = (
                    torch.rand(xb.shape, generator=gen, device=x.device, dtype=x.dtype)
                    >= self.corruption
                )
                h = torch.sigmoid(F.linear(xb * keep, w, c))  # (B, H)
                logits = F.linear(h, w.t(), b)  # (B, D)
                loss = F.binary_cross_entropy_with_logits(logits, xb, reduction="sum") / len(xb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.detach() * len(xb)
            losses.append(total / n)  # device scalar; read after the layer is done
            pass_done()
        return w.detach(), c.detach(), b.detach(), [float(v) for v in losses]

    def fit(self, X, y=None) -> StackedDenoisingAutoencoder:
        """Train each layer's denoising autoencoder on the codes of the layer below."""
        refuse_bool_counts(self, ("batch_size", "n_iter"))
        self._validate_params()  # settings and device first: a refused fit changes nothing
        if self.learning_rate > self.MAX_LEARNING_RATE:  # (torch's Adam fails mid-step)
            raise UserError(
                f"StackedDenoisingAutoencoder: learning_rate={self.learning_rate:g} is too large "
                f"for Adam in float32 (its first step, lr / (1 - 0.9), overflows); give at most "
                f"{self.MAX_LEARNING_RATE:.3g} (typical rates are 1e-3 to 1e-1)"
            )
        widths = layer_widths(self.layers)
        device = resolve_device(self.device)
        # a diverged fit leaves the estimator as it was; in a caller's torch.autocast region
        # it trains in float32, as outside it
        with features_kept_on_error(self), autocast_off():
            return self._fit(X, widths, device)

    def _fit(self, X, widths: list[int], device: torch.device) -> StackedDenoisingAutoencoder:
        X = self._check_input(X, reset=True)
        rng = check_random_state(self.random_state)
        x = data_tensor(X, torch.float32, device)
        layers, history = [], {"loss": []}  # on self once every layer has trained
        small = device.type == "cpu" and X.shape[1] * max(widths) * self.batch_size < 2**22
        for width in widths:
            # tiny ops: 1 intra-op thread (see small_cpu_threads); autograd on whatever the
            # caller's mode (a fit inside torch.no_grad() or torch.inference_mode())
            with small_cpu_threads(small), torch.inference_mode(False), torch.enable_grad():
                w, c, b, losses = self._train_layer(x, width, int(rng.randint(2**31 - 1)))
            layer = tuple(t.cpu().numpy().astype(X.dtype) for t in (w, c, b))
            if not all(np.isfinite(t).all() for t in layer):  # as the RBMs: never NaN weights
                raise UserError(
                    f"StackedDenoisingAutoencoder training diverged: layer {len(layers) + 1}'s "
                    f"weights became inf or NaN (learning_rate={self.learning_rate}); lower "
                    "learning_rate"
                )
            layers.append(layer)
            history["loss"].append(losses)
            with torch.no_grad():
                x = torch.sigmoid(F.linear(x, w, c))
        self.layers_, self.history_ = layers, history
        self._n_features_out = widths[-1]  # get_feature_names_out
        return self

    def transform(self, X) -> np.ndarray:
        """The top layer's codes ``sigmoid(W x + c)`` applied layer by layer."""
        check_is_fitted(self)
        return self._encode(self._check_input(X, reset=False))

    def _encode(self, h: np.ndarray) -> np.ndarray:
        for w, c, _ in self.layers_:
            h = expit(h @ w.T + c)  # (1 / (1 + exp(-a)) warns of overflow below a ≈ -88)
        return h

    def reconstruct(self, X) -> np.ndarray:
        """Encode through every layer and decode back down (tied weights); an array, whatever
        ``set_output`` says (it shapes ``transform``'s codes)."""
        check_is_fitted(self)
        h = self._encode(self._check_input(X, reset=False))
        for w, _, b in reversed(self.layers_):
            h = expit(h @ w + b)
        return h

    def to_module(
        self,
        n_classes: int,
        activation: str = "sigmoid",
        generator: torch.Generator | None = None,
    ) -> nn.Module:
        """Unroll the encoders into a trainlab MLP (``fc{i}`` = encoder ``i``); ``generator``
        draws the output layer (see :func:`~trainlab.pretrain.unroll`)."""
        check_is_fitted(self)
        encoders = [(w, c) for w, c, _ in self.layers_]
        return unroll(encoders, self.n_features_in_, n_classes, activation, generator)
