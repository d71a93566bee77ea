"""Mutation review mut40a: bugs found (these tests failed before their fix; cpow's rounding:
test_exact40_contracts.py)."""

from __future__ import annotations

import pytest
import torch

from trainlab.errors import ConfigError
from trainlab.optim import create_optimizer


def test_fused_true_refusal_names_the_device_that_is_not_the_cpu():
    """A fused=True group whose first parameter is on the CPU and a later one on another device
    is refused, but the message says "the parameters are on cpu" (it names params[0]'s
    device), which is the one device fused=True takes."""
    cpu = torch.zeros(2, 3, requires_grad=True)
    meta = torch.zeros(2, 3, device="meta", requires_grad=True)
    with pytest.raises(ConfigError, match="meta"):
        create_optimizer("adam", [cpu, meta], lr=0.1, fused=True)
