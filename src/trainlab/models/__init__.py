"""Models by name: ``create("mlp", input_shape=(64,), num_classes=10, hidden=(256, 256))``.

Modelled on timm's ``create_model``: each architecture registers its class under a name and
declares its own defaults in its constructor signature; :func:`create` checks the keyword
arguments against that signature, so a typo is a one-line :class:`~trainlab.errors.UserError`
with a "did you mean" hint instead of a ``TypeError`` deep inside a constructor.

Every model here is *population-safe* (class attribute ``population_safe = True``): its
``forward`` only calls registered submodules and uses elementwise ops and ``+``, never
``.view``/``.reshape``/``x.size(0)``. The population engine (``trainlab.population``) relies on
this when it swaps each leaf layer for a stacked twin that takes ``(K, B, ...)`` inputs.

Weights keep PyTorch's default initialization; :func:`trainlab.init.apply` re-initializes them.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from ..errors import UserError, did_you_mean
from ..registry import Registry
from .convnet import ConvNet
from .mlp import ACTIVATIONS, MLP, check_shape, make_activation
from .resnet import BasicBlock, ResNet

__all__ = [
    "create",
    "check_options",
    "list_models",
    "register_model",
    "model_options",
    "MLP",
    "ConvNet",
    "ResNet",
    "BasicBlock",
    "ACTIVATIONS",
    "make_activation",
]

_MODELS: Registry = Registry("model")
_MODELS.register("mlp", "multilayer perceptron: flatten, [Linear-BN-act-dropout] x L, Linear")(MLP)
_MODELS.register("convnet", "1-D or 2-D conv net: [conv-BN-act-pool] x L, flatten, Linear")(ConvNet)
_MODELS.register("resnet", "small basic-block ResNet (1-D or 2-D) with BN, avg-pool head")(ResNet)

_FIXED = ("input_shape", "num_classes")


def register_model(name: str, description: str = ""):
    """Decorator: register a model class or factory ``fn(input_shape, num_classes, **kw)``."""
    return _MODELS.register(name, description)


def list_models() -> list[tuple[str, str]]:
    """``(name, description)`` of every registered model, sorted by name."""
    return _MODELS.items()


_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def model_options(name: str) -> dict[str, Any]:
    """The keyword options of model ``name`` with their defaults (``inspect.Parameter.empty``
    for required ones). A factory's ``**kw`` is not listed: it takes any other option too."""
    sig = inspect.signature(_MODELS.get(name))
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind in _NAMED and p.name not in _FIXED
    }


def _takes_any_option(name: str) -> bool:
    """True when model ``name``'s factory has a ``**kw`` parameter."""
    params = inspect.signature(_MODELS.get(name)).parameters.values()
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def create(
    name: str, *, input_shape: tuple[int, ...], num_classes: int, **kwargs: Any
) -> nn.Module:
    """Build model ``name`` for inputs of shape ``input_shape`` (without the batch axis) and
    ``num_classes`` outputs; ``kwargs`` are the model's own options (see :func:`model_options`).

    Unknown names and unknown options raise :class:`~trainlab.errors.UserError` with a hint.
    """
    factory = _MODELS.get(name)
    shape, num_classes = check_shape(input_shape, num_classes)
    check_options(name, kwargs)
    return factory(input_shape=shape, num_classes=num_classes, **kwargs)


def check_options(name: str, kwargs: dict[str, Any]) -> None:
    """Refuse an unknown model ``name`` or an option its constructor does not take, with a
    "did you mean" hint (what :func:`create` checks before it builds anything)."""
    _MODELS.get(name)
    options = model_options(name)
    for key in kwargs:
        if key not in options and not _takes_any_option(name):
            raise UserError(
                f"model '{name}' has no option '{key}'{did_you_mean(key, options)}; "
                f"its options are: {', '.join(options) or '(none)'}"
            )
