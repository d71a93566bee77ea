"""Adversarial review of the random streams and their users (trainlab.rng, SeededDropout, the
trainer's seeded draws): failing tests for real defects only.

The core streams passed every statistical check tried (see the review report): a bit-exact
match with the SplitMix64 reference, KS and chi-square uniformity, 24-bit resolution, no value
1.0, no correlation across neighbouring seeds, steps, sites or elements, uniform permutations.
The failures below are in how the streams are consumed."""

import warnings

import pytest
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from conftest import small_config
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.train import Trainer


class _DropVmap(nn.Module):
    """Runs under vmap: its output is its dropout's mask times 2 (input of ones)."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(6, 6)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(x)


class _DropLoop(nn.Module):
    """The same dropout under the same name, but an LSTM sends the population to the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(6, 6, batch_first=True)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(x)


def test_a_loop_population_draws_a_fresh_mask_for_a_second_forward_in_one_step():
    """SeededDropout promises that "the n-th call since set_step draws stream (site, n), as torch
    draws a fresh mask per call (a module used twice, or two forwards in one step)", and a
    model's masks must not depend on the population's mode. In loop mode (any model with an
    RNN) ``_loop_forward`` resets every dropout's call counter to 0 at each forward, so a second
    forward in the same step (R-drop / consistency regularization, two views of a batch, or a
    user's own loop that never calls set_step) replays exactly the first forward's masks: the
    two "independent" dropout samples are identical, and the result differs from the same
    model run in vmap or stacked mode."""
    x = torch.ones(2, 64, 6)
    masks = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, cls in (("vmap", _DropVmap), ("loop", _DropLoop)):
            torch.manual_seed(0)
            pop = Population(cls(), 2, seeds=[3, 4]).train()
            assert pop.mode == name
            pop.set_step(5)
            masks[name] = [pop(x) == 0, pop(x) == 0]
    assert torch.equal(masks["loop"][0], masks["vmap"][0])  # first forwards agree across modes
    assert not torch.equal(masks["loop"][1], masks["loop"][0]), "second forward replays masks"
    assert torch.equal(masks["loop"][1], masks["vmap"][1])


def _twice_used_dropout() -> nn.Sequential:
    torch.manual_seed(0)
    drop = nn.Dropout(0.5)  # one module at two places, as many transformer blocks do
    return nn.Sequential(nn.Linear(8, 32), drop, nn.Linear(32, 32), drop, nn.Linear(32, 3))


def test_activation_checkpointing_recomputes_the_masks_of_a_dropout_used_twice():
    """Activation checkpointing (``torch.utils.checkpoint``) must not change gradients: the
    recomputation in the backward has to redraw exactly the masks of the forward. SeededDropout
    skips its call counter inside the backward and always draws the *first* call's stream
    there, so a dropout module used twice in a checkpointed forward (one ``self.dropout`` after
    attention and after the MLP is a common pattern) recomputes its second call with the first
    call's mask: the saved activations no longer match the forward and every gradient is
    silently wrong (differences of order 1 here, not rounding)."""
    x = torch.randn(2, 16, 8, generator=torch.Generator().manual_seed(5))
    grads = []
    for use_checkpoint in (False, True):
        pop = Population(_twice_used_dropout(), 2, seeds=[0, 1]).train()
        pop.set_step(3)
        y = checkpoint(pop, x, use_reentrant=False) if use_checkpoint else pop(x)
        try:
            y.square().sum().backward()
        except UserError as err:  # refusing (it cannot replay the calls) keeps the contract
            assert "checkpointing" in str(err)
            return
        grads.append({n: p.grad.clone() for n, p in pop.named_parameters()})
    for n, g in grads[0].items():
        torch.testing.assert_close(grads[1][n], g, rtol=1e-5, atol=1e-5, msg=n)


@pytest.mark.xfail(
    strict=True, reason="known limitation: init draws from torch's 32-bit-seeded CPU generator"
)
def test_distinct_seeds_draw_distinct_initial_weights():
    """Every model's randomness comes from streams keyed by its own seed (DESIGN.md principle
    2), so two models with different seeds must not start from the same weights. The trainer
    seeds a CPU ``torch.Generator`` with the 63-bit ``rng.seed_key("init", seed)``, but torch's
    CPU generator (mt19937) keeps only the low 32 bits of a manual seed: seeds whose keys agree
    in those bits get bitwise-identical initializations. Seeds 27957 and 48428 are such a pair
    (among N seeds about N²/2³³ such pairs; the "lsuv-batch", "rbm", "sdae" and
    pretraining-study keys pass the same 32-bit funnel on the CPU), so a study that happens to
    use both reports two identical random inits as two independent samples. Left as a known
    limitation (README): drawing from a 64-bit-seeded generator changes every initial weight,
    and with them every number the studies quote."""
    cfg = small_config(population={"seeds": [27957, 48428]})
    trainer = Trainer(cfg, device="cpu")
    w = dict(trainer.pop.net.named_parameters())["fc1.weight"]
    assert not torch.equal(w[0], w[1])
