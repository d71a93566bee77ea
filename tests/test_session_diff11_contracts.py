"""Review of 51c49dd / 3e1c2be: the optimizers' all-groups check after the closure, --seeds
parsing, Dataset.checked's empty splits and train_epoch's refusal.

Found: two refusals an optimizer step makes for a later param group (fused=True on tensors
the fused kernel cannot take; a sparse gradient) are not part of the all-groups check, so the
earlier groups have already stepped when the step is refused; and ``--seeds 1_000`` (a lone
number that ``int`` reads) is taken as one seed instead of a count. Dataset.checked's empty
splits and the train_epoch refusal held up.
"""

from __future__ import annotations

import pytest
import torch

from trainlab.errors import ConfigError, UserError
from trainlab.optim import create_optimizer


@pytest.mark.parametrize("name", ["sgd", "adam", "adagrad"])
def test_fused_refusal_in_a_later_group_comes_before_any_group_steps(name):
    """``PopulationOptimizer._closure_loss`` promises that with several param groups "every
    group [is] checked before any group is updated (a value refused in a later group would
    otherwise come after the earlier groups had stepped)", and faf9178 did this for the fused
    16-bit SGD refusal. But ``fused=True`` on a group whose tensors the fused kernel cannot take
    (here a non-contiguous parameter) is refused only when the step reaches that group: the first
    group has already moved (and Adam/Adagrad counted its step and filled its moments), so the
    refused step has changed the model, and the step retried after the user fixes the group
    moves the first group twice."""
    k = 3
    a = torch.randn(k, 4, requires_grad=True)
    b = torch.randn(k, 5, 2).transpose(1, 2).requires_grad_()  # a non-contiguous leaf
    assert b.is_leaf and not b.is_contiguous()
    opt = create_optimizer(name, [{"params": [a]}, {"params": [b], "fused": True}], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (a**2).sum() + (b**2).sum()
        loss.backward()
        return loss

    before = a.detach().clone()
    with pytest.raises(ConfigError, match="fused=True"):
        opt.step(closure)
    assert torch.equal(a.detach(), before), "group 0 stepped before group 1 was refused"
    assert len(opt.state[a]) == 0 or opt.state[a].get("step", 0) == 0


def test_sparse_gradient_refusal_in_a_later_group_comes_before_any_group_steps():
    """The same promise for the sparse-gradient refusal (``_grads``: "population optimizers do
    not support sparse gradients"): with two groups, a sparse gradient in the second is refused
    only after the first group has taken its step, so a refused step still changes the
    parameters (the all-groups check looks only at the values' shapes)."""
    k = 3
    a = torch.randn(k, 4, requires_grad=True)
    b = torch.randn(k, 5, requires_grad=True)
    opt = create_optimizer("sgd", [{"params": [a]}, {"params": [b]}], lr=0.1)
    a.grad = torch.ones_like(a)
    b.grad = torch.ones_like(b).to_sparse()
    before = a.detach().clone()
    with pytest.raises(ConfigError, match="sparse"):
        opt.step()
    assert torch.equal(a.detach(), before), "group 0 stepped before group 1 was refused"


def test_seeds_lone_number_with_digit_separator_is_not_one_seed():
    """``parse_seeds``: "a lone number is a count; inside a list it is a seed". ``1_000`` is a
    lone number to ``int`` (which the parser uses, so ``1_000`` is accepted at all), but it
    misses the count regex ``[+-]?\\d+`` and falls through to the list branch: ``--seeds 1_000``
    silently trains ONE model with seed 1000 instead of 1000 models (and ``1_0-1_2`` is refused
    as not understood, so the underscore is not a supported spelling either). Either a count
    or a one-line refusal is right; a single seed is not."""
    from trainlab.cli.app import parse_seeds

    try:
        got = parse_seeds("1_000")
    except UserError:
        return
    assert got == list(range(1000)), f"--seeds 1_000 gave {got[:5]} ({len(got)} seeds)"
