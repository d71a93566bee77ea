"""Weight initialization schemes, the fan-in/fan-out helper, gains, and LSUV.

``apply(model, "he_normal", generator=g)`` re-initializes every ``Linear`` and ``Conv`` weight of
a plain ``nn.Module``, sets every bias to the constant ``bias`` (0 by default; 0.01 is the
CS231n option for ReLU nets) and normalization layers (BatchNorm, InstanceNorm, LayerNorm,
GroupNorm, RMSNorm) to weight 1, bias 0 (running statistics reset). Any other parameter
(``nn.Embedding``, RNN weights, a bare ``nn.Parameter`` of a custom layer, hook-based
``weight_norm``) is left as it is, and :func:`apply` warns naming it
(:func:`skipped_parameters` lists them). Weights under a ``torch.nn.utils.parametrize``
parametrization (``parametrizations.weight_norm``/``spectral_norm``) are set through it, so the
layer's effective weight is the drawn one (for spectral norm: divided by its top singular
value, as that layer always does); one whose parametrization makes something else of it
(``parametrizations.orthogonal``: an orthogonal matrix whatever is drawn) gets a warning.
Each scheme draws from the ``torch.Generator`` it is given, in ``model.modules()`` order, on the
generator's device (CPU by default), so a seed gives the same weights on every device and the
draws equal ``torch.nn.init``'s own functions called with the same generator.

For a layer with weight ``(out, in, *kernel)`` (see :func:`fans`):
``fan_in = in * prod(kernel)``, ``fan_out = out * prod(kernel)``.

| scheme | distribution | paper |
|---|---|---|
| ``default`` | U(±1/√fan_in), PyTorch's Linear/Conv default ``kaiming_uniform_(a=√5)`` | — |
| ``zeros`` | W = 0 (symmetry is never broken) | — |
| ``constant`` | W = value (symmetry is never broken) | — |
| ``normal`` | N(mean, std²); CS231n uses std 0.01 | — |
| ``uniform`` | U(−a, a) | — |
| ``xavier_normal`` | N(0, σ²), σ = gain·√(2/(fan_in+fan_out)) | Glorot & Bengio 2010 |
| ``xavier_uniform`` | U(±gain·√(6/(fan_in+fan_out))) (same variance) | Glorot & Bengio 2010 |
| ``he_normal`` | N(0, σ²), σ = gain/√fan, gain = √2 for ReLU: Var = 2/fan_in | He et al. 2015 |
| ``he_uniform`` | U(±gain·√(3/fan)) = U(±√(6/fan_in)) for ReLU | He et al. 2015 |
| ``orthogonal`` | gain · a random (semi-)orthogonal matrix (QR of a Gaussian) | Saxe et al. 2014 |
| ``lsuv`` | orthogonal, then unit output variance per layer on a batch | Mishkin & Matas 2016 |
| ``keep`` | nothing is changed (for pre-trained modules) | — |

(Note: some lecture notes write Xavier's variance as √(2/(n_in+n_out)) and *divide* He's by
√(2/n_in); both are wrong. The correct variances are 2/(fan_in+fan_out) and 2/fan_in.)
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import math
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrize import is_parametrized

from .devices import autocast_off
from .errors import UserError, did_you_mean, unknown_name
from .registry import Registry

__all__ = [
    "apply",
    "list_schemes",
    "scheme_options",
    "init_tensor",
    "expected_std",
    "fans",
    "gain",
    "lsuv_",
    "is_weight_layer",
    "skipped_parameters",
    "NONLINEARITIES",
]

_SCHEMES: Registry = Registry("init scheme")

#: nonlinearity -> gain, as torch.nn.init.calculate_gain (leaky_relu takes its slope)
NONLINEARITIES = (
    "linear",
    "identity",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)


def is_weight_layer(module: nn.Module) -> bool:
    """True for the layers that :func:`apply` initializes: ``nn.Linear`` and every ``Conv``."""
    return isinstance(module, nn.Linear | nn.modules.conv._ConvNd)


#: the normalization layers :func:`apply` resets to weight 1, bias 0
NORM_LAYERS: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,  # BatchNorm*d, InstanceNorm*d, SyncBatchNorm
    nn.LayerNorm,
    nn.GroupNorm,
) + ((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ())


def _pruning(module: nn.Module, name: str) -> Any:
    """The ``torch.nn.utils.prune`` hook that recomputes ``module.<name>`` from the parameter
    ``<name>_orig`` and the buffer ``<name>_mask`` before each forward, or None."""
    from torch.nn.utils.prune import BasePruningMethod

    return next(
        (
            h
            for h in module._forward_pre_hooks.values()
            if isinstance(h, BasePruningMethod) and h._tensor_name == name
        ),
        None,
    )


def _own(module: nn.Module, name: str) -> Any:
    """The parameter that holds ``module.<name>`` (``<name>_orig`` for a pruned tensor), or
    None."""
    return getattr(module, f"{name}_orig" if _pruning(module, name) else name, None)


def _settable(module: nn.Module, name: str) -> bool:
    """True when writing ``module.<name>`` reaches the module's own parameter: a plain
    ``nn.Parameter``, a pruned tensor's ``<name>_orig`` (``torch.nn.utils.prune``: the mask
    applies to what is drawn), or a parametrized tensor whose parametrizations all have a
    ``right_inverse`` (then assigning sets the original through them). False for a missing
    tensor and for a plain tensor attribute recomputed each forward (hook-based weight norm)."""
    if is_parametrized(module, name):
        chain = module.parametrizations[name]  # type: ignore[index]
        return all(hasattr(p, "right_inverse") for p in chain)
    return isinstance(_own(module, name), nn.Parameter)


def _assign(
    module: nn.Module, name: str, value: Tensor, generator: torch.Generator | None = None
) -> None:
    """Set ``module.<name>`` to ``value`` in place (through its parametrization if it has one).

    A parametrization's ``right_inverse`` gets ``value`` on the parameter's device and may draw
    numbers itself (``parametrizations.orthogonal`` completes a non-square matrix with
    ``torch.randn``): with a ``generator``, those come from torch's global generator seeded by
    a hash of ``generator``'s state (restored afterwards), so the result depends on
    ``generator`` alone and the global stream is left as it was."""
    with torch.no_grad():
        if is_parametrized(module, name):
            current = getattr(module, name)
            with _global_rng_from(generator, current.device):
                setattr(module, name, value.to(device=current.device, dtype=current.dtype))
            chain = getattr(module.parametrizations, name)
            first = chain[0]  # spectral norm on the raw weight: its u, v fit the old weight
            if hasattr(first, "_u") and hasattr(first, "_reshape_weight_to_matrix"):
                mat = first._reshape_weight_to_matrix(chain.original)
                u, _, vh = torch.linalg.svd(mat.double(), full_matrices=False)
                first._u.copy_(u[:, 0])  # the exact top singular pair
                first._v.copy_(vh[0])
        elif (pruning := _pruning(module, name)) is not None:
            _own(module, name).copy_(value)
            setattr(module, name, pruning.apply_mask(module))  # as its next forward would
        else:
            getattr(module, name).copy_(value)


@contextlib.contextmanager
def _global_rng_from(generator: torch.Generator | None, device: torch.device) -> Iterator[None]:
    """Inside the block, torch's global generator for ``device`` is seeded from a hash of
    ``generator``'s state (which is not advanced); both are restored afterwards. Nothing
    changes when ``generator`` is None, nor on devices other than CPU and CUDA (MPS, XPU),
    where such a draw still comes from torch's global generator."""
    if generator is None or device.type not in ("cpu", "cuda", "meta"):
        yield
        return
    state = generator.get_state().numpy().tobytes()
    seed = int.from_bytes(hashlib.blake2b(state, digest_size=8).digest(), "little") >> 1
    cuda = []
    if device.type == "cuda":
        cuda = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(cuda[0]):
                torch.cuda.manual_seed(seed)
        yield


def refuse_lazy(model: nn.Module, then: str) -> None:
    """UserError if ``model`` has lazy (uninitialized) parameters or buffers, e.g. an
    ``nn.LazyLinear`` or ``nn.LazyBatchNorm1d`` before its first forward: their shapes are
    unknown until then. ``then``: what to do after the forward pass (the message's fix)."""
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if nn.parameter.is_lazy(t):
            raise UserError(
                f"{type(model).__name__} has uninitialized (lazy) parameters ('{name}'): run one "
                f"forward pass on a batch first (it fixes their shapes), then {then}"
            )


def refuse_meta(model: nn.Module, then: str) -> None:
    """UserError if ``model`` has parameters or buffers on the ``meta`` device (shapes without
    data: a model built under ``torch.device("meta")``), which cannot be trained or watched (a
    copy of them fails inside torch); :func:`apply` takes them (it draws nothing there)."""
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if t.is_meta:
            raise UserError(
                f"{type(model).__name__} has '{name}' on the meta device (a shape without data): "
                f"give it data first (model.to_empty(device='cpu'), then initialize it), then "
                f"{then}"
            )


def _covered(module: nn.Module) -> list[Tensor]:
    """The parameters of ``module`` itself (not its children) that :func:`apply` sets."""
    if not (is_weight_layer(module) or isinstance(module, NORM_LAYERS)):
        return []
    out: list[Tensor] = []
    for name in ("weight", "bias"):
        if getattr(module, name, None) is None or not _settable(module, name):
            continue
        chain = getattr(getattr(module, "parametrizations", None), name, None)
        out.extend(chain.parameters() if chain is not None else [_own(module, name)])
    return out


def skipped_parameters(model: nn.Module) -> list[str]:
    """Names (as in ``named_parameters()``) of the parameters :func:`apply` leaves unchanged:
    everything outside Linear/Conv weights and biases and normalization-layer affine
    parameters, e.g. ``nn.Embedding``, ``nn.GRU``/``nn.LSTM`` weights, ``nn.Bilinear``,
    ``nn.MultiheadAttention``'s ``in_proj_weight``, a custom layer's own ``nn.Parameter``, and the
    ``weight_g``/``weight_v`` of hook-based ``nn.utils.weight_norm``."""
    covered = {id(p) for m in model.modules() for p in _covered(m)}
    return [name for name, p in model.named_parameters() if id(p) not in covered]


def fans(tensor: Tensor | nn.Module) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight ``(out, in, *kernel)`` (or of a layer's ``.weight``).

    ``fan_in = in * prod(kernel)`` (inputs that feed one output unit), ``fan_out = out *
    prod(kernel)``. Linear ``(out, in)``: ``(in, out)``; Conv2d ``(o, i, kh, kw)``:
    ``(i*kh*kw, o*kh*kw)``. Same convention as ``torch.nn.init`` (so every scheme draws
    exactly what torch's functions draw), including its two shortcuts:

    - grouped convs (``groups=g``) store ``(out, in/g, *kernel)``: fan_in ``in/g * prod(kernel)``
      is exact, fan_out ``out * prod(kernel)`` counts all outputs, not the ``out/g`` of a group;
    - transposed convs store ``(in, out/g, *kernel)``, so "fan_in" is ``out/g * prod(kernel)``
      and "fan_out" ``in * prod(kernel)``: the roles are swapped relative to the data flow.
      For He init of a stride-1, ``groups=1`` ``ConvTranspose`` keeping the forward variance,
      ``mode="fan_out"`` is the one that counts the layer's inputs. Each output receives only
      ``in/g * prod(kernel) / prod(s)`` of them with ``g`` groups and stride ``s`` (on
      average, away from the borders), so ``mode="fan_out"`` leaves the output variance
      ``g * prod(s)`` times too small (1/4 for the usual 2x2 upsampling with kernel 2,
      stride 2; 1/C for a depthwise one); scale the drawn weight by ``sqrt(g * prod(s))`` to
      keep it.
    """
    if isinstance(tensor, nn.Module):
        weight = getattr(tensor, "weight", None)
        if not isinstance(weight, Tensor):
            raise UserError(f"{type(tensor).__name__} has no weight tensor to compute fans of")
        tensor = weight
    if tensor.dim() < 2:
        raise UserError(
            f"fans need a weight with at least 2 dims (out, in, *kernel), got shape "
            f"{tuple(tensor.shape)}"
        )
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (``torch.nn.init.calculate_gain``).

    linear/identity/conv/sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu with slope a (``param``,
    default 0.01): √(2/(1+a²)); selu: 3/4. He et al. (2015): a ReLU halves the second moment,
    so Var(W) = gain²/fan = 2/fan keeps it constant through the layers.
    """
    if nonlinearity == "identity":
        nonlinearity = "linear"
    if nonlinearity in ("elu", "gelu", "silu", "softplus"):  # (model activations, not typos)
        raise UserError(
            f"torch has no recommended gain for '{nonlinearity}'; its units are ReLU-like: use "
            "nonlinearity: relu (gain √2; not selu's 3/4)"
        )
    if nonlinearity not in NONLINEARITIES:
        raise unknown_name("nonlinearity", str(nonlinearity), NONLINEARITIES)
    if param is not None and nonlinearity != "leaky_relu":
        raise UserError(f"nonlinearity '{nonlinearity}' takes no parameter (only leaky_relu does)")
    if nonlinearity == "leaky_relu" and param is not None:
        if isinstance(param, bool) or not isinstance(param, int | float):
            raise UserError(f"leaky_relu's gain needs a number (the negative slope), got {param!r}")
        param = float(param)
    return float(torch.nn.init.calculate_gain(nonlinearity, param))  # type: ignore[arg-type]


def _he_gain(nonlinearity: str, negative_slope: float) -> float:
    return gain(nonlinearity, negative_slope if nonlinearity == "leaky_relu" else None)


# ---------------------------------------------------------------------------------------------
# the schemes: each fills ``weight`` in place from ``generator`` (torch.nn.init's own functions)


@_SCHEMES.register("default", "PyTorch's Linear/Conv default: U(±1/√fan_in)")
def _default(weight: Tensor, *, generator: torch.Generator | None) -> None:
    """PyTorch's ``reset_parameters``: ``kaiming_uniform_(a=√5)``, i.e. gain √(2/(1+5)) = √(1/3)
    and bound gain·√(3/fan_in) = 1/√fan_in: W ~ U(−1/√fan_in, 1/√fan_in), Var = 1/(3·fan_in)."""
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)


@_SCHEMES.register("zeros", "W = 0: every hidden unit stays identical (symmetry)")
def _zeros(weight: Tensor, *, generator: torch.Generator | None) -> None:
    """W = 0. All units of a layer compute the same function and get the same gradient, so
    they stay identical forever (and with ReLU, W = 0 also gives zero gradients)."""
    torch.nn.init.zeros_(weight)


@_SCHEMES.register("constant", "W = value: symmetry never breaks")
def _constant(weight: Tensor, *, generator: torch.Generator | None, value: float = 0.1) -> None:
    """W = ``value`` everywhere; like zeros, the hidden units of a layer stay identical."""
    torch.nn.init.constant_(weight, float(value))


@_SCHEMES.register("normal", "W ~ N(mean, std²); CS231n's small random numbers use std 0.01")
def _normal(
    weight: Tensor, *, generator: torch.Generator | None, std: float = 0.01, mean: float = 0.0
) -> None:
    """W ~ N(mean, std²), the same std for every layer whatever its size. CS231n (lecture 7):
    std 0.01 makes the activations of a deep tanh net collapse to 0; std 0.05 (or 1) saturates
    them."""
    if std < 0:
        raise UserError(f"normal init needs std >= 0, got {std}")
    torch.nn.init.normal_(weight, mean=float(mean), std=float(std), generator=generator)


@_SCHEMES.register("uniform", "W ~ U(-a, a)")
def _uniform(weight: Tensor, *, generator: torch.Generator | None, a: float = 0.01) -> None:
    """W ~ U(−a, a): std = a/√3."""
    if a < 0:
        raise UserError(f"uniform init needs a >= 0, got {a}")
    torch.nn.init.uniform_(weight, -float(a), float(a), generator=generator)


@_SCHEMES.register("xavier_normal", "Glorot & Bengio 2010: N(0, gain²·2/(fan_in+fan_out))")
def _xavier_normal(weight: Tensor, *, generator: torch.Generator | None, gain: float = 1.0) -> None:
    """Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward
    neural networks": W ~ N(0, σ²) with σ = gain·√(2/(fan_in+fan_out)), i.e.
    Var(W) = gain²·2/(fan_in+fan_out), the compromise between keeping forward (1/fan_in) and
    backward (1/fan_out) variances constant for a linear/tanh unit."""
    _check_gain(gain)
    torch.nn.init.xavier_normal_(weight, gain=float(gain), generator=generator)


@_SCHEMES.register("xavier_uniform", "Glorot & Bengio 2010: U(±gain·√(6/(fan_in+fan_out)))")
def _xavier_uniform(
    weight: Tensor, *, generator: torch.Generator | None, gain: float = 1.0
) -> None:
    """Glorot & Bengio (2010): W ~ U(−a, a) with a = gain·√(6/(fan_in+fan_out)), so
    Var(W) = a²/3 = gain²·2/(fan_in+fan_out). The notes' MNIST recipe uses this."""
    _check_gain(gain)
    torch.nn.init.xavier_uniform_(weight, gain=float(gain), generator=generator)


@_SCHEMES.register("he_normal", "He et al. 2015: N(0, gain²/fan), = 2/fan_in for ReLU")
def _he_normal(
    weight: Tensor,
    *,
    generator: torch.Generator | None,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    negative_slope: float = 0.01,
) -> None:
    """He, Zhang, Ren & Sun (2015), "Delving deep into rectifiers": W ~ N(0, σ²) with
    σ = gain/√fan; for ReLU gain = √2, so Var(W) = 2/fan_in (``mode="fan_in"`` keeps the
    forward variance, ``"fan_out"`` the backward one). leaky_relu with slope a:
    gain = √(2/(1+a²))."""
    torch.nn.init.kaiming_normal_(
        weight,
        a=float(negative_slope) if nonlinearity == "leaky_relu" else 0.0,
        mode=_check_mode(mode),
        nonlinearity=_check_nonlinearity(nonlinearity),
        generator=generator,
    )


@_SCHEMES.register("he_uniform", "He et al. 2015: U(±gain·√(3/fan)), = ±√(6/fan_in) for ReLU")
def _he_uniform(
    weight: Tensor,
    *,
    generator: torch.Generator | None,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    negative_slope: float = 0.01,
) -> None:
    """He et al. (2015): W ~ U(−b, b) with b = gain·√(3/fan), so Var(W) = gain²/fan; for ReLU
    b = √(6/fan_in) and Var(W) = 2/fan_in."""
    torch.nn.init.kaiming_uniform_(
        weight,
        a=float(negative_slope) if nonlinearity == "leaky_relu" else 0.0,
        mode=_check_mode(mode),
        nonlinearity=_check_nonlinearity(nonlinearity),
        generator=generator,
    )


@_SCHEMES.register("orthogonal", "Saxe et al. 2014: gain × random (semi-)orthogonal matrix")
def _orthogonal(weight: Tensor, *, generator: torch.Generator | None, gain: float = 1.0) -> None:
    """Saxe, McClelland & Ganguli (2014), "Exact solutions to the nonlinear dynamics of learning
    in deep linear neural networks": W = gain·Q with Q from the QR decomposition of a Gaussian
    matrix (rows or columns orthonormal; conv weights are flattened to (out, in·k))."""
    torch.nn.init.orthogonal_(weight, gain=float(gain), generator=generator)


@_SCHEMES.register(
    "lsuv", "Mishkin & Matas 2016: orthogonal, then unit output variance per layer on a batch"
)
def _lsuv_pre(weight: Tensor, *, generator: torch.Generator | None) -> None:
    """LSUV's first step: orthogonal weights (gain 1). :func:`apply` then rescales each layer."""
    torch.nn.init.orthogonal_(weight, gain=1.0, generator=generator)


@_SCHEMES.register("keep", "leave the weights and biases as they are (pre-trained modules)")
def _keep(weight: Tensor, *, generator: torch.Generator | None) -> None:
    """No change."""


#: options of a scheme that :func:`apply` uses itself, not the per-tensor function
_MODEL_LEVEL_OPTIONS = {"lsuv": {"tol": 0.1, "max_iter": 10}}


def _check_gain(gain: float) -> None:
    if gain < 0:
        raise UserError(f"xavier init needs gain >= 0 (a scale of the std), got {gain}")


def _check_mode(mode: str) -> str:
    if mode not in ("fan_in", "fan_out"):
        raise unknown_name("fan mode", str(mode), ("fan_in", "fan_out"))
    return mode


def _check_nonlinearity(nonlinearity: str) -> str:
    gain(nonlinearity, None)  # validates the name
    return "linear" if nonlinearity == "identity" else nonlinearity


def list_schemes() -> list[tuple[str, str]]:
    """``(name, description)`` of every init scheme, sorted by name."""
    return _SCHEMES.items()


def scheme_options(scheme: str) -> dict[str, Any]:
    """The keyword options of ``scheme`` with their defaults, e.g. ``{"gain": 1.0}``."""
    fn = _SCHEMES.get(scheme)
    params = inspect.signature(fn).parameters.values()
    opts = {p.name: p.default for p in params if p.name not in ("weight", "generator")}
    opts.update(_MODEL_LEVEL_OPTIONS.get(scheme, {}))
    return opts


def _check_options(scheme: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` checked against the scheme's options; numeric options come back as numbers
    (YAML reads ``1e-2`` as a string), anything that is not one is a UserError."""
    options = scheme_options(scheme)
    out = dict(kwargs)
    for key, value in kwargs.items():
        if key not in options:
            near = [o for o in (*options, "scheme", "bias") if o != key]  # (init: {schem: ...})
            hint = did_you_mean(key, near)
            if scheme == "uniform" and key in ("b", "bound", "low", "high"):
                hint = " (the distribution is U(-a, a): give a)"
            raise UserError(
                f"init scheme '{scheme}' has no option '{key}'{hint}; "
                f"its options are: {', '.join(options) or '(none)'}"
            )
        default = options[key]
        if isinstance(default, int | float) and not isinstance(default, bool):
            try:
                if isinstance(value, bool):
                    raise TypeError
                number = float(value)
            except OverflowError:  # float(10**400)
                raise UserError(
                    f"init scheme '{scheme}': option '{key}' is a whole number of "
                    f"{len(str(abs(value)))} digits, too large for a float"
                ) from None
            except (TypeError, ValueError):
                hint = ""
                if key == "gain" and isinstance(value, str):
                    try:  # a nonlinearity's name: its gain as the number to write
                        g = gain(value)
                    except (UserError, ValueError):
                        pass
                    else:
                        hint = f" (the gain of {value} is {g:.6g}: pass gain={g:.6g})"
                raise UserError(
                    f"init scheme '{scheme}': option '{key}' must be a number, got {value!r}{hint}"
                ) from None
            if not math.isfinite(number):
                raise UserError(
                    f"init scheme '{scheme}': option '{key}' must be a finite number, got {value!r}"
                )
            if isinstance(default, int):
                if not number.is_integer():
                    raise UserError(
                        f"init scheme '{scheme}': option '{key}' must be a whole number, "
                        f"got {value!r}"
                    )
                number = int(number)
            if number < 0 and (key in ("std", "a") or (key == "gain" and "xavier" in scheme)):
                raise UserError(  # (the same rule the scheme itself applies, also for expected_std)
                    f"init scheme '{scheme}' needs {key} >= 0 (a scale of the std), got {value!r}"
                )
            out[key] = number
    nonlinearity = out.get("nonlinearity", options.get("nonlinearity"))
    slope = out.get("negative_slope", options.get("negative_slope"))
    # a slope other than the default, with another nonlinearity, would not be applied (torch's
    # a=: leaky_relu's); the default stays accepted: every He run's config.yaml records it
    if slope != options.get("negative_slope") and nonlinearity != "leaky_relu":
        raise UserError(
            f"init scheme '{scheme}': negative_slope applies to nonlinearity 'leaky_relu' only, "
            f"but the nonlinearity is '{nonlinearity}' (its gain would ignore it); add "
            "nonlinearity: leaky_relu, or drop negative_slope"
        )
    return out


def _gen_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def init_tensor(
    weight: Tensor, scheme: str, *, generator: torch.Generator | None = None, **kwargs: Any
) -> Tensor:
    """Fill one weight tensor in place with ``scheme`` (any but ``lsuv``'s rescaling step) and
    return it. Values are drawn on the generator's device (CPU when ``generator`` is None, from
    torch's global generator) and copied into ``weight``."""
    kwargs = _check_options(scheme, kwargs)
    if not isinstance(weight, Tensor):
        raise UserError(f"init_tensor fills a torch.Tensor, got {type(weight).__name__}")
    if scheme == "keep":
        return weight
    if scheme in _FAN_SCHEMES:
        fans(weight)  # a 1-D tensor has no fans: one line, not torch's ValueError
    with torch.no_grad():
        weight.copy_(_draw(weight, scheme, generator, kwargs))
    return weight


#: the schemes whose formula needs fan-in/fan-out (or a matrix): a weight of 2+ dims
_FAN_SCHEMES = frozenset(
    {"xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "orthogonal", "lsuv", "default"}
)


def _draw(
    like: Tensor, scheme: str, generator: torch.Generator | None, kwargs: dict[str, Any]
) -> Tensor:
    """A new tensor shaped like ``like`` drawn by ``scheme`` (checked options) on the
    generator's device."""
    fn: Callable[..., None] = _SCHEMES.get(scheme)
    kwargs = {k: v for k, v in kwargs.items() if k not in _MODEL_LEVEL_OPTIONS.get(scheme, {})}
    dtype = like.dtype
    if scheme in ("orthogonal", "lsuv") and dtype in (torch.float16, torch.bfloat16):
        dtype = torch.float32  # QR has no 16-bit kernel: draw in float32, round after
    _refuse_too_wide(like, scheme, kwargs)
    tmp = torch.empty(like.shape, dtype=dtype, device=_gen_device(generator))
    with torch.no_grad():
        fn(tmp, generator=generator, **kwargs)
    return tmp.to(like.dtype)


def _refuse_too_wide(like: Tensor, scheme: str, kwargs: dict[str, Any]) -> None:
    """A uniform draw U(−b, b) whose width 2b is beyond the largest number of ``like``'s dtype
    (``xavier_uniform`` with gain 1e39 in float32) is a UserError naming the option (torch's
    ``uniform_`` raises a RuntimeError; a normal draw of such a scale gives inf weights, and
    the model stops as diverged)."""
    key = {"uniform": "a", "xavier_uniform": "gain"}.get(scheme)
    if key is None:
        return
    if scheme == "uniform":  # U(-a, a): no fans needed (a 1-D tensor has none)
        bound = abs(float((scheme_options(scheme) | kwargs)["a"]))
    else:
        bound = math.sqrt(3.0) * (expected_std(scheme, like, **kwargs) or 0.0)
    biggest = torch.finfo(like.dtype).max
    if 2 * bound > biggest:
        raise UserError(
            f"init scheme '{scheme}': {key}={kwargs.get(key)!r} draws from ±{bound:.3g} for a "
            f"weight of shape {tuple(like.shape)}, wider than {like.dtype}'s range "
            f"(largest {biggest:.3g}); lower {key}"
        )


def expected_std(scheme: str, weight: Tensor | nn.Module, **kwargs: Any) -> float | None:
    """The standard deviation that ``scheme`` gives the entries of ``weight`` (a tensor or a
    layer), from the formula; None where it is not one number (orthogonal, lsuv: data
    dependent, keep).

    E.g. ``expected_std("he_normal", nn.Linear(512, 256))`` = √(2/512) = 0.0625.
    """
    _SCHEMES.get(scheme)
    kwargs = _check_options(scheme, kwargs)
    o = scheme_options(scheme) | kwargs
    fan_in, fan_out = fans(weight)  # (a layer without a weight tensor: a UserError there)
    if scheme == "default":
        return 1.0 / math.sqrt(3.0 * fan_in)
    if scheme in ("zeros", "constant"):
        return 0.0
    if scheme == "normal":
        return float(o["std"])
    if scheme == "uniform":
        return float(o["a"]) / math.sqrt(3.0)
    if scheme in ("xavier_normal", "xavier_uniform"):
        return float(o["gain"]) * math.sqrt(2.0 / (fan_in + fan_out))
    if scheme in ("he_normal", "he_uniform"):
        fan = fan_in if _check_mode(o["mode"]) == "fan_in" else fan_out
        return _he_gain(o["nonlinearity"], o["negative_slope"]) / math.sqrt(fan)
    return None


class _Stop(Exception):
    """Raised by a hook to end a forward pass once the layer of interest has run."""

    def __init__(self, output: Tensor) -> None:
        super().__init__()
        self.output = output


def _listed(names: list[str]) -> str:
    """``layer 'a' is`` / ``layers 'a', 'b' are``: the names quoted, for a warning."""
    quoted = ", ".join(f"'{n}'" for n in names)
    return f"layer {quoted} is" if len(names) == 1 else f"layers {quoted} are"


def _kept_drawn(layer: nn.Module, drawn: Tensor) -> bool:
    """Whether a parametrized layer's effective weight is the ``drawn`` one (weight norm), or
    for spectral norm the drawn one divided by a positive number (its top singular value),
    to float rounding."""
    d, w = drawn.detach().double().flatten().cpu(), layer.weight.detach().double().flatten().cpu()
    dn, wn = d.norm(), w.norm()
    if dn == 0 or wn == 0:
        return bool(dn == wn)
    tol = max(1e-5, 8 * torch.finfo(layer.weight.dtype).eps)  # (16-bit weights round ~1e-3)
    if hasattr(layer.parametrizations["weight"][0], "_u"):  # spectral norm: the direction
        return bool(d @ w >= (1 - tol) * dn * wn)
    return bool((w - d).norm() <= tol * dn)


def _parametrizations(layer: nn.Module) -> str:
    """The class names of the parametrizations on ``layer.weight`` (``Orthogonal``)."""
    return ", ".join(type(p).__name__ for p in layer.parametrizations["weight"])


@autocast_off()  # (in a caller's torch.autocast: bfloat16 outputs left layers unscaled)
def lsuv_(
    model: nn.Module,
    data: Tensor,
    *,
    tol: float = 0.1,
    max_iter: int = 10,
    layers: list[nn.Module] | None = None,
    generator: torch.Generator | None = None,
) -> list[float]:
    """Layer-sequential unit-variance rescaling (Mishkin & Matas 2016, "All you need is a good
    init", Alg. 1), without the orthogonal pre-init (see :func:`apply`).

    For each Linear/Conv layer in the order the forward pass calls it: run the batch ``data``,
    measure the variance v of the layer's output (all elements, unbiased), and divide its weight
    by √v, until |v − 1| < ``tol`` or ``max_iter`` rescalings have been made (the paper uses
    tol 0.1, T_max 10); the variance is measured again after every rescaling. Runs in eval mode
    (dropout off, batch norm on its running statistics, which it does not update) without
    gradients; restores each module's mode. ``layers`` (default: every Linear/Conv layer)
    are rescaled in the forward's order whatever order they are listed in. Returns each
    layer's output variance as the model is left (measured once more after all rescalings), in
    forward order, or in the order of ``layers`` when given (NaN for one the forward does not
    call). A layer whose variance is 0 or not
    finite (dead units), or still not within ``tol`` after ``max_iter`` rescalings, is left
    as it is and named in a ``UserWarning``, as are layers the forward pass does not call
    (``nn.MultiheadAttention``'s ``out_proj``). A parametrized weight (``weight_norm``) is rescaled
    through its parametrization (numbers it draws, as ``parametrizations.orthogonal``
    completing a non-square matrix, come from ``generator`` as in :func:`_assign`; ``None``:
    torch's global generator); layers whose weight cannot be written (hook-based weight norm)
    are not touched. Data the model does not accept is a UserError.
    """
    _refuse_population(model, "init.lsuv_")
    if (
        not isinstance(data, Tensor)
        or data.dim() < (1 if not data.is_floating_point() else 2)  # ((B,) token ids only)
        or data.shape[0] < 2
    ):
        raise UserError(
            "lsuv needs a data batch: pass data= a tensor (B, *input_shape) with B >= 2"
        )
    checked = _check_options("lsuv", {"tol": tol, "max_iter": max_iter})  # numbers, whole, finite
    tol, max_iter = checked["tol"], checked["max_iter"]
    if tol <= 0 or max_iter < 1:
        raise UserError(f"lsuv needs tol > 0 and max_iter >= 1, got tol={tol}, max_iter={max_iter}")
    params = list(model.parameters())
    if params:  # token ids stay integers (an embedding model); float data takes the model's
        dtype = params[0].dtype if data.is_floating_point() else data.dtype
        data = data.to(device=params[0].device, dtype=dtype)
    names = {id(m): name or type(m).__name__ for name, m in model.named_modules()}
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        given = None if layers is None else list(layers)
        candidates = given if given is not None else [
            m for m in model.modules() if is_weight_layer(m) and _settable(m, "weight")
        ]  # fmt: skip
        by_id = {id(m): m for m in candidates}
        layers = [by_id[i] for i in _first_variances(model, data, candidates)]  # call order
        called = {id(m) for m in layers}
        uncalled = [names.get(id(m), type(m).__name__) for m in candidates if id(m) not in called]
        if uncalled:
            warnings.warn(
                f"lsuv: {_listed(uncalled)} not called by the forward pass on the data "
                "batch (unused, or their weight used directly, as nn.MultiheadAttention "
                "uses out_proj); not rescaled: they keep the weights they were drawn with",
                UserWarning,
                stacklevel=2,
            )

        def output_of(layer: nn.Module) -> Tensor:
            """The layer's output in its first call (``layers`` holds called ones only)."""

            def stop(_m: nn.Module, _i: Any, out: Tensor) -> None:
                raise _Stop(out)

            handle = layer.register_forward_hook(stop)
            try:
                with torch.no_grad():
                    _forward(model, data)
            except _Stop as s:
                return s.output
            finally:
                handle.remove()
            raise RuntimeError("lsuv: the layer was not called by the forward pass")

        variances = []
        for layer in layers:
            name = names.get(id(layer), type(layer).__name__)
            v = float("nan")
            before = None  # the variance the last rescaling divided the weight by
            scale_fixed = False  # whether that rescaling left the weight's norm as it was
            for i in range(max_iter + 1):  # max_iter rescalings, each measured afterwards
                v = float(output_of(layer).float().var())
                # dividing W by √v should have brought v to ~1: if v hardly moved, the bias (a
                # constant input) sets it; undo that step rather than repeat it
                off = 0.0 if before is None else abs(before - 1.0)
                if off > 1e-3 and abs(v - before) < 0.01 * off:
                    _divide_weight(layer, 1.0 / math.sqrt(before), generator)
                    v = before
                    why = (
                        f"its weight's parametrization ({_parametrizations(layer)}) fixes its scale"
                        if scale_fixed
                        else "a constant input? the bias alone sets it"
                    )
                    warnings.warn(
                        f"lsuv: layer '{name}' ({type(layer).__name__}): output variance {v:.4g} "
                        f"does not change with the weight's scale on the data batch ({why}); the "
                        "weight is left as it was",
                        UserWarning,
                        stacklevel=2,
                    )
                    break
                if not math.isfinite(v) or v <= 1e-20:
                    warnings.warn(
                        f"lsuv: layer '{name}' ({type(layer).__name__}): output variance is {v} "
                        "on the data batch; cannot rescale it (dead units or a constant input?)",
                        UserWarning,
                        stacklevel=2,
                    )
                    break
                if abs(v - 1.0) < tol:
                    break
                if i == max_iter:
                    warnings.warn(
                        f"lsuv: layer '{name}' ({type(layer).__name__}): output variance {v:.4g} "
                        f"after {max_iter} rescaling{'s' * (max_iter != 1)}, not within "
                        f"tol={tol:g} of 1; raise max_iter or tol",
                        UserWarning,
                        stacklevel=2,
                    )
                    break
                parametrized = is_parametrized(layer, "weight")
                norm = float(layer.weight.detach().norm()) if parametrized else 0.0
                _divide_weight(layer, math.sqrt(v), generator)
                # a parametrization that fixes the weight's scale (orthogonal, spectral norm)
                # leaves its norm as it was; weight_norm's changes
                scale_fixed = parametrized and math.isclose(
                    float(layer.weight.detach().norm()), norm, rel_tol=1e-4
                )
                before = v
            variances.append(v)
        as_left = _as_left(model, data, layers, variances, names, tol)
        left = dict(zip(map(id, layers), as_left, strict=True))
        if given is None:
            return list(left.values())
        return [left.get(id(m), math.nan) for m in given]  # (NaN: a layer the forward skips)
    finally:
        for m, training in modes:
            m.train(training)


def _first_variances(model: nn.Module, data: Tensor, layers: list[nn.Module]) -> dict[int, float]:
    """One forward of ``data`` without gradients: the variance of each of ``layers``' output
    in its first call (taken in the hook: an in-place activation after the layer changes the
    tensor later), by ``id`` of the layer, in the order the layers were first called (a layer
    the forward does not call is absent)."""
    outputs: dict[int, float] = {}

    def record(m: nn.Module, _i: Any, o: Any) -> None:
        if id(m) not in outputs:
            outputs[id(m)] = float(o.float().var()) if isinstance(o, Tensor) else math.nan

    hooks = [layer.register_forward_hook(record) for layer in layers]
    try:
        with torch.no_grad():
            _forward(model, data)
    finally:
        for h in hooks:
            h.remove()
    return outputs


def _as_left(
    model: nn.Module,
    data: Tensor,
    layers: list[nn.Module],
    variances: list[float],
    names: dict[int, str],
    tol: float,
) -> list[float]:
    """Each layer's output variance as LSUV leaves the model (one more forward): a later
    layer's rescaling changes an earlier one's output when they share a weight (tied
    input/output embeddings); such a layer, no longer within ``tol``, is named in a warning."""
    outputs = _first_variances(model, data, layers)
    left = [outputs.get(id(layer), v) for layer, v in zip(layers, variances, strict=True)]
    moved = [
        f"'{names.get(id(layer), type(layer).__name__)}' ({v:.4g})"
        for layer, v, was in zip(layers, left, variances, strict=True)
        if math.isfinite(was) and abs(was - 1.0) < tol and not abs(v - 1.0) < tol
    ]
    if moved:
        warnings.warn(
            f"lsuv: rescaling later layers moved the output variance of {', '.join(moved)} off "
            "1 again (a weight they share with a later layer: tied embeddings?)",
            UserWarning,
            stacklevel=3,
        )
    return left


def _divide_weight(
    layer: nn.Module, divisor: float, generator: torch.Generator | None = None
) -> None:
    """``layer.weight /= divisor`` in place (a pruned layer's ``weight_orig``: its forward
    recomputes ``weight``; a parametrized one's original, through the parametrization, whose
    random draws come from ``generator``: :func:`_global_rng_from`)."""
    with torch.no_grad():
        if is_parametrized(layer, "weight"):
            with _global_rng_from(generator, layer.weight.device):
                layer.weight = layer.weight / divisor
        else:
            _own(layer, "weight").div_(divisor)


#: words of torch's messages for data a model does not accept: a shape (``mat1 and mat2 shapes
#: cannot be multiplied``, ``Expected 3D (unbatched) or 4D (batched) input``), a dtype
#: (``Input type (unsigned char) and bias type (float) should be the same``), a width a leading
#: norm layer rejects (``running_mean should contain 4 elements not 8``), token ids past an
#: embedding (``index out of range in self``)
_SHAPE_WORDS = (
    "shape",
    "size",
    "Expected",
    "expected",
    "should be the same",
    "must have the same dtype",
    "should contain",
    "index out of range",
)


def _forward(model: nn.Module, data: Tensor) -> None:
    """``model(data)``; a shape mismatch becomes a one-line UserError. Any other error (out of
    memory, a bug in a user's ``forward``) is raised as it is."""
    try:
        model(data)
    except (RuntimeError, IndexError) as err:
        if isinstance(err, torch.cuda.OutOfMemoryError) or not any(
            w in str(err) for w in _SHAPE_WORDS
        ):
            raise
        first = (str(err).strip().splitlines() or [""])[0]
        raise UserError(
            f"lsuv: the model does not accept the data batch of shape {tuple(data.shape)}, "
            f"{str(data.dtype).removeprefix('torch.')} "
            f"({first}); pass data= a batch (B, *input_shape) of the model's own inputs"
        ) from None


def _refuse_population(model: nn.Module, who: str) -> None:
    """A :class:`~trainlab.population.Population` holds K models' weights stacked along a
    first dimension (or in stacked twins of the layers): the fans of one model cannot be read
    off them (K would count as output channels), so ``apply`` and ``lsuv_`` refuse it."""
    from .population import Population

    pop = next((m for m in model.modules() if isinstance(m, Population)), None)
    if pop is not None:
        raise UserError(
            f"{who} got a Population of {pop.k} stacked models, whose fans it cannot read; "
            "initialize each model before stacking (Population.from_models([init.apply(m, "
            "...) for m in models])) or give the init in the config (init.scheme, "
            "population.grid)"
        )


def apply(
    model: nn.Module,
    scheme: str,
    *,
    bias: float = 0.0,
    generator: torch.Generator | None = None,
    data: Tensor | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Initialize ``model`` in place with ``scheme`` and return it.

    Every ``nn.Linear``/``Conv`` weight is drawn by ``scheme`` (options in ``kwargs``, see
    :func:`scheme_options`), every such bias is set to ``bias``, and normalization layers'
    affine parameters to weight 1, bias 0 (running statistics reset). Draws come from
    ``generator`` in ``model.modules()`` order (None: torch's global generator, as
    ``torch.nn.init``). ``lsuv`` also needs ``data``, a batch of inputs (options ``tol``,
    ``max_iter``). ``keep`` changes nothing (a ``bias`` other than 0 is refused).

    Parameters outside those layers (see :func:`skipped_parameters`) keep their values, and a
    ``UserWarning`` names them. A model with lazy (uninitialized) parameters is a UserError,
    and so is a :class:`~trainlab.population.Population` (initialize its models before
    stacking them).
    """
    if not isinstance(model, nn.Module):
        raise UserError(f"init.apply needs an nn.Module, got {type(model).__name__}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise UserError(
            f"generator must be a torch.Generator, e.g. torch.Generator().manual_seed(0); got "
            f"{type(generator).__name__}"
        )
    _SCHEMES.get(scheme)
    kwargs = _check_options(scheme, kwargs)
    if scheme == "keep":
        if not isinstance(bias, bool) and isinstance(bias, int | float) and bias == 0.0:
            return model
        raise UserError(
            f"init scheme 'keep' leaves the biases as they are, so bias={bias!r} would not be "
            "applied; leave bias out (or choose another scheme)"
        )
    try:
        if isinstance(bias, bool):
            raise TypeError
        bias = float(bias)
    except (TypeError, ValueError):
        raise UserError(f"bias init must be a number, got {bias!r}") from None
    if not math.isfinite(bias):
        raise UserError(f"bias init must be a finite number, got {bias!r}")
    if scheme == "lsuv" and data is None:
        raise UserError("init scheme 'lsuv' needs a data batch: pass data= (B, *input_shape)")
    refuse_lazy(model, "init.apply")
    _refuse_population(model, "init.apply")
    layers = [m for m in model.modules() if is_weight_layer(m)]
    if not layers:
        raise UserError(
            f"{type(model).__name__} has no Linear or Conv layer for init scheme '{scheme}'"
        )
    reshaped = []  # layers whose parametrization did not keep the drawn weight
    for layer_name, m in model.named_modules():
        if is_weight_layer(m):
            if _settable(m, "weight"):
                drawn = _draw(m.weight, scheme, generator, kwargs)
                _assign(m, "weight", drawn, generator)
                checkable = is_parametrized(m, "weight") and m.weight.device.type != "meta"
                if checkable and not torch.isfinite(m.weight).all():
                    raise UserError(
                        f"init scheme '{scheme}' gives {type(m).__name__} a weight its "
                        f"parametrization ({type(m.parametrizations.weight[0]).__name__}) "
                        "turns into NaN/Inf (weight norm of an all-zero weight is 0/0); "
                        "use a random scheme for this layer"
                    )
                if checkable and not _kept_drawn(m, drawn):
                    kinds = _parametrizations(m).replace("_", "")
                    reshaped.append(f"'{layer_name or type(m).__name__}' ({kinds})")
            if m.bias is not None and _settable(m, "bias"):
                _assign(m, "bias", torch.full_like(m.bias, bias))
        elif isinstance(m, NORM_LAYERS):
            for name, value in (("weight", 1.0), ("bias", 0.0)):
                tensor = getattr(m, name, None)
                if tensor is not None and _settable(m, name):
                    _assign(m, name, torch.full_like(tensor, value))
            if isinstance(m, nn.modules.batchnorm._NormBase):
                m.reset_running_stats()
    if reshaped:
        warnings.warn(
            f"init.apply('{scheme}'): the weight of layer {', '.join(reshaped[:8])}"
            f"{' ...' * (len(reshaped) > 8)} is not the drawn one: its parametrization maps "
            "what is assigned to a matrix of its own kind (Orthogonal: an orthogonal matrix, "
            "whatever the scheme, gain or std); remove the parametrization to use the scheme",
            UserWarning,
            stacklevel=2,
        )
    skipped = skipped_parameters(model)
    if skipped:
        shown = ", ".join(skipped[:8]) + (f", ... ({len(skipped) - 8} more)" * (len(skipped) > 8))
        warnings.warn(
            f"init.apply('{scheme}') left {len(skipped)} parameter"
            f"{'s' * (len(skipped) != 1)} unchanged (neither a Linear/Conv weight or bias nor "
            f"a normalization layer's): {shown}; initialize them yourself",
            UserWarning,
            stacklevel=2,
        )
    if scheme == "lsuv":
        assert data is not None
        opts = _MODEL_LEVEL_OPTIONS["lsuv"] | {
            k: v for k, v in kwargs.items() if k in ("tol", "max_iter")
        }
        lsuv_(
            model,
            data,
            tol=float(opts["tol"]),
            max_iter=int(opts["max_iter"]),
            generator=generator,
        )
    return model
