"""Adversarial review: initialization of conv nets (trainlab.init on Conv layers, resnets,
user conv nets with groups/dilation/parametrizations)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrizations

from trainlab import init


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _top_singular_value(weight: torch.Tensor) -> float:
    return float(torch.linalg.matrix_norm(weight.detach().reshape(weight.shape[0], -1), ord=2))


def test_spectral_norm_conv_effective_weight_is_drawn_weight_over_its_top_singular_value() -> None:
    """``init.apply``'s docstring promises that a weight under a ``parametrizations.spectral_norm``
    is set through the parametrization "so the layer's effective weight is the drawn one (for
    spectral norm: divided by its top singular value, as that layer always does)". torch's
    spectral norm estimates that singular value from its power-iteration vectors ``_u``/``_v``,
    which torch fits to the weight (15 iterations) when the parametrization is registered;
    ``apply`` replaces the weight but leaves ``_u``/``_v`` fitted to the *old* weight, so in eval
    mode (evaluation right after init, LSUV's measuring passes) the layer divides by
    ``u_oldᵀ W_new v_old``, not by σ_max(W_new): its effective weight has spectral norm about 1.17
    instead of 1 here, and it is not the drawn weight over its top singular value. A GAN
    discriminator or any spectrally-normalized conv net initialized with trainlab thus starts
    with weights that break the Lipschitz-1 contract the user asked for."""
    torch.manual_seed(0)  # spectral_norm's own u/v start draws
    layer = parametrizations.spectral_norm(nn.Conv2d(4, 8, 3, groups=2, dilation=2))
    init.apply(layer, "he_normal", generator=_gen(0))
    drawn = layer.parametrizations.weight.original.detach().clone()
    expected_drawn = init.init_tensor(torch.empty(8, 2, 3, 3), "he_normal", generator=_gen(0))
    torch.testing.assert_close(drawn, expected_drawn)  # the scheme did reach the weight
    layer.eval()
    effective = layer.weight.detach()
    assert abs(_top_singular_value(effective) - 1.0) < 0.02, _top_singular_value(effective)
    torch.testing.assert_close(effective, drawn / _top_singular_value(drawn), rtol=2e-2, atol=1e-4)
