"""The multilayer perceptron, and the activation functions every trainlab model shares.

``MLP`` is an ``nn.Sequential`` with stable child names, so that other parts of trainlab can
address its layers (pre-training copies RBM weights into ``fc{i}``, diagnostics report them):

    flatten, fc1, [bn1], act1, [drop1], fc2, ..., fcL, [bnL], actL, [dropL], out

Batch norm (Ioffe & Szegedy 2015) sits between the linear layer and the activation, as in the
paper; dropout (Srivastava et al. 2014; inverted: scaled by 1/(1-p) at train time) follows the
activation.
"""

from __future__ import annotations

import math
import numbers
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from torch import nn

from ..errors import UserError, unknown_name

__all__ = ["MLP", "ACTIVATIONS", "make_activation", "check_dropout", "check_switch"]

#: activation name -> factory of a parameter-free elementwise module
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),  # torch's default slope; trainlab.init.gain agrees
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "linear": nn.Identity,
    "identity": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """A fresh activation module for ``name`` (one of :data:`ACTIVATIONS`)."""
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        raise unknown_name("activation", str(name), ACTIVATIONS) from None


def check_dropout(p: float) -> float:
    """Validate a dropout probability (the fraction of units zeroed): ``0 <= p < 1``."""
    if isinstance(p, bool | np.bool_):  # (float(True) is 1.0: said as the bool given)
        raise UserError(f"dropout must be a number in [0, 1), got {p!r}")
    try:
        p = float(p)
    except OverflowError:  # float(10**400)
        raise UserError(
            "dropout must be a number in [0, 1), got a whole number too large for a float"
        ) from None
    except (TypeError, ValueError):
        raise UserError(f"dropout must be a number in [0, 1), got {p!r}") from None
    if not 0.0 <= p < 1.0:
        raise UserError(f"dropout must be in [0, 1) (the fraction of units dropped), got {p}")
    return p


def check_switch(name: str, value: object) -> bool:
    """An on/off option (``batch_norm``, ``bias``) must be a bool: ``"false"`` is truthy in Python
    and would silently switch the option on."""
    if not isinstance(value, bool | np.bool_):
        raise UserError(f"{name} must be true or false, got {value!r}")
    return bool(value)


def _is_int(v: object) -> bool:
    """True for a Python or numpy integer, never for a bool (``True`` is not a width)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_)


def _positive_ints(name: str, values: Sequence[int] | int) -> tuple[int, ...]:
    """One positive int or a sequence of them (a string, a bool or a float is an error)."""
    if isinstance(values, np.ndarray) and values.ndim == 0:  # np.asarray(4): one number
        values = values.item()
    if _is_int(values):
        values = (values,)  # type: ignore[assignment]
    if (
        isinstance(values, str | bytes)
        or not isinstance(values, Sequence | np.ndarray)
        or not all(_is_int(v) for v in values)
    ):
        raise UserError(
            f"{name} must be a positive int or a list of positive ints like [256, 256], "
            f"got {values!r}"
        )
    out = tuple(int(v) for v in values)
    if any(v <= 0 for v in out):
        raise UserError(f"{name} must hold positive ints, got {list(out)}")
    return out


def check_shape(input_shape: Any, num_classes: Any) -> tuple[tuple[int, ...], int]:
    """``input_shape`` as a tuple of positive ints and ``num_classes`` as a positive int; numpy
    integers and arrays are fine, strings, bools and fractions are UserErrors (``"64"`` is never
    read as ``(6, 4)``, nor ``4.5`` as ``4``)."""
    if _is_int(input_shape):
        input_shape = (input_shape,)
    if isinstance(input_shape, np.ndarray):
        input_shape = input_shape.tolist()
    if (
        isinstance(input_shape, str | bytes)
        or not isinstance(input_shape, Sequence)
        or not input_shape
    ):
        raise UserError(
            f"input_shape must be a non-empty tuple of positive ints like (1, 8, 8), "
            f"got {input_shape!r}"
        )
    if not all(_is_int(d) for d in input_shape):
        raise UserError(f"input_shape must hold ints, got {tuple(input_shape)!r}")
    shape = tuple(int(d) for d in input_shape)
    if any(d <= 0 for d in shape):
        raise UserError(f"input_shape must hold positive sizes, got {shape}")
    if not _is_int(num_classes) or num_classes < 1:
        raise UserError(f"num_classes must be a positive int, got {num_classes!r}")
    return shape, int(num_classes)


#: the hidden widths of an ``mlp`` given neither ``hidden`` nor ``depth``
DEFAULT_HIDDEN = (256, 256)


class MLP(nn.Sequential):
    """Fully connected network: ``flatten -> [Linear -> (BN) -> act -> (dropout)] x L -> Linear``.

    Args:
        input_shape: shape of one input without the batch axis; it is flattened, so any shape
            works (``(64,)`` for digits as vectors, ``(1, 8, 8)`` for digits as images).
        num_classes: number of outputs (logits).
        hidden: widths of the hidden layers, e.g. ``(256, 256)``; ``()`` gives logistic
            regression.
        depth, width: shortcut for ``hidden = (width,) * depth`` (``depth`` hidden layers;
            width defaults to 256). Give either ``hidden`` or ``depth``.
        activation: ``relu``, ``leaky_relu`` (slope 0.01), ``elu``, ``gelu``, ``tanh``,
            ``sigmoid``, ``linear``/``identity``.
        batch_norm: add ``BatchNorm1d`` after each hidden Linear (before the activation).
        dropout: drop probability p of the ``Dropout`` after each hidden activation;
            ``0`` adds no dropout modules.
        bias: give the Linear layers a bias. A Linear followed by batch norm never gets one:
            BN subtracts the batch mean, so its gradient is round-off only (BN's own shift
            plays its part), and Adam would turn that round-off into lr-sized steps.
    """

    population_safe = True

    def __init__(
        self,
        input_shape: tuple[int, ...],
        num_classes: int,
        *,
        hidden: Sequence[int] | int | None = None,
        depth: int | None = None,
        width: int | None = None,
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
        bias: bool = True,
    ) -> None:
        input_shape, num_classes = check_shape(input_shape, num_classes)  # (built directly too)
        if depth is not None:
            if hidden is not None:
                raise UserError("give either hidden=(...) or depth=/width=, not both")
            if not _is_int(depth) or depth < 0:
                raise UserError(
                    f"depth (number of hidden layers) must be an int >= 0, got {depth!r}"
                )
            if width is not None and (not _is_int(width) or width < 1):
                raise UserError(f"width (of each hidden layer) must be an int >= 1, got {width!r}")
            hidden = (256 if width is None else width,) * int(depth)
        elif width is not None:
            raise UserError("width= needs depth= (the number of hidden layers of that width)")
        elif hidden is None:
            hidden = DEFAULT_HIDDEN
        widths = _positive_ints("hidden", hidden)
        batch_norm, bias = check_switch("batch_norm", batch_norm), check_switch("bias", bias)
        p = check_dropout(dropout)
        if p > 0 and not widths:
            raise UserError(
                f"mlp: dropout={p:g} follows each hidden activation, and this mlp has no hidden "
                "layer (hidden: []); give it one (e.g. hidden: [64]) or leave dropout out"
            )
        make_activation(activation)  # validate the name before building anything

        layers: OrderedDict[str, nn.Module] = OrderedDict()
        layers["flatten"] = nn.Flatten()  # (B, *input_shape) -> (B, D)
        d = math.prod(input_shape)
        for i, w in enumerate(widths, start=1):
            layers[f"fc{i}"] = nn.Linear(d, w, bias=bias and not batch_norm)
            if batch_norm:
                layers[f"bn{i}"] = nn.BatchNorm1d(w)
            layers[f"act{i}"] = make_activation(activation)
            if p > 0:
                layers[f"drop{i}"] = nn.Dropout(p)
            d = w
        layers["out"] = nn.Linear(d, num_classes, bias=bias)
        super().__init__(layers)
        self.input_shape = tuple(input_shape)
        self.num_classes = num_classes
        self.hidden = widths
        self.activation = activation
