"""A watch whose block ran the model only in evaluation mode says so (it recorded nothing)."""

import warnings

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))


def test_a_block_of_evaluation_forwards_only_warns_that_nothing_was_recorded():
    # a practitioner who watches `model.eval()` inference (or a loop under torch.no_grad())
    # got an empty records() and no word why; the warning names the cause and the fix
    m = _mlp().eval()
    said = pytest.warns(UserWarning, match=r"recorded nothing.*3 forward.*model\.train\(\)")
    with said, watch(m, every=1) as w:
        for _ in range(3):
            m(torch.randn(5, 4))
    assert w.records() == []


def test_training_steps_with_logging_forwards_and_an_unused_block_do_not_warn():
    m = _mlp()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with watch(m, every=1) as w:
            m(torch.randn(5, 4)).sum().backward()
            with torch.no_grad():  # a logging forward: not a step, not a reason to warn
                m(torch.randn(5, 4))
        assert w.records()
        with watch(m, every=1):  # nothing ran: nothing to say
            pass
