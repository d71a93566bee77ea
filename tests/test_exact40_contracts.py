"""Review exact40: per-model hyperparameters step a model exactly as ``torch.optim`` steps it alone.

torch's ``number / tensor`` is ``tensor.reciprocal() * number`` (rounded twice): Adam's
``−η/(1 − β₁ᵗ)`` with per-model β₁ and AdaGrad's ``−η/(1 + (t−1)·lr_decay)`` with a per-model
decay came out an ulp off the host values ``torch.optim`` computes, so 4 of 8 models (Adam,
per-model betas, float64) ended a 30-step run bitwise apart from the same model stepped alone
by ``torch.optim`` (test_exact41_contracts.py checks every optimizer and per-model value so;
``βᵗ`` on the CPU is C's ``pow`` on each β, as torch.optim's: see ``trainlab.optim.base.cpow``).
"""

from __future__ import annotations

import random

import torch

from trainlab.optim.base import cdiv


def test_cdiv_rounds_once_as_python_divides():
    rng = random.Random(3)
    a = [rng.uniform(1e-4, 1.0) for _ in range(2000)]
    b = [rng.uniform(0.01, 1.0) for _ in range(2000)]
    bt = torch.tensor(b, dtype=torch.float64)
    for x, want in ((0.01, [0.01 / v for v in b]), (-0.3, [-0.3 / v for v in b])):
        assert torch.equal(cdiv(x, bt), torch.tensor(want, dtype=torch.float64))
    assert cdiv(a[0], b[0]) == a[0] / b[0]
    quotients = [x / y for x, y in zip(a, b, strict=True)]
    assert torch.equal(
        cdiv(torch.tensor(a, dtype=torch.float64), bt), torch.tensor(quotients, dtype=torch.float64)
    )
