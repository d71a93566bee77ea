"""Review initschemes34: init.apply schemes against torch.nn.init, per-model init in populations."""

from __future__ import annotations

import warnings

import torch
from torch import nn
from torch.nn.utils import parametrizations

from trainlab import init
from trainlab.errors import UserError


# init.py's module docstring promises: weights under a parametrization "are set through it, so
# the layer's effective weight is the drawn one (for spectral norm: divided by its top singular
# value)". Under parametrizations.orthogonal it is not: torch's right_inverse re-orthogonalizes
# whatever is assigned (QR), so apply(m, "orthogonal", gain=2.0) leaves an orthogonal weight of
# gain 1 (measured: std 0.407 where torch.nn.init.orthogonal_(gain=2) gives 0.815), and
# he_normal/normal/xavier give the same orthogonal matrix scale, silently. apply already refuses
# the weight-norm-of-zeros case with a UserError naming the parametrization; a drawn weight that
# the parametrization changes must likewise be said (UserWarning or UserError), not passed off
# as the scheme's draw.
def test_apply_says_when_orthogonal_parametrization_discards_the_drawn_weight():
    torch.manual_seed(0)
    m = parametrizations.orthogonal(nn.Linear(6, 4))
    want = torch.empty(4, 6)
    nn.init.orthogonal_(want, gain=2.0, generator=torch.Generator().manual_seed(1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            init.apply(m, "orthogonal", gain=2.0, generator=torch.Generator().manual_seed(1))
        except UserError:
            return  # refused with a message: fine
    if torch.allclose(m.weight.detach(), want, atol=1e-5):
        return  # the drawn weight really is the layer's weight: fine
    said = [w for w in caught if issubclass(w.category, UserWarning)]
    assert any("Orthogonal" in str(w.message) or "parametriz" in str(w.message) for w in said), (
        f"effective weight std {float(m.weight.std()):.3f} != drawn {float(want.std()):.3f} "
        f"and no warning: {[str(w.message) for w in said]}"
    )
