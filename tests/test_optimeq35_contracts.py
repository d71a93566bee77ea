"""Review (optimeq35): trainlab.optim population optimizers against torch.optim, unusual values."""

import pytest
import torch

import trainlab.optim as to
from trainlab.errors import ConfigError


# SGD(nesterov=True, momentum=0.9, dampening=0.1) is refused (right: torch refuses it too), but the
# message's fix is "set optim.momentum (e.g. 0.9) or nesterov: false" although momentum is already
# 0.9: the offending value, dampening=0.1, is neither named nor is "set dampening to 0" offered.
# A user following the hint changes nothing. The error should name dampening and its value.
def test_nesterov_with_dampening_error_names_dampening_value():
    p = torch.zeros(3, 4, requires_grad=True)
    with pytest.raises(ConfigError) as info:
        to.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    msg = str(info.value)
    assert "0.1" in msg, msg  # the offending dampening value is named
    fix = msg.split(";", 1)[1] if ";" in msg else msg
    assert "dampening" in fix, msg  # and the fix says to set dampening to 0
