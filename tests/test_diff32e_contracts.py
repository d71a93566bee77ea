"""Review diff32e: the population's torch.utils.checkpoint refusal (population.py
`_refuse_checkpoint`, called once from `_loop_forward`)."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from trainlab.errors import UserError
from trainlab.population import Population


class _Emb(nn.Module):
    """Embedding(padding_idx) (which puts the population in the loop mode) -> Linear, the
    Linear optionally checkpointed, only in training (the usual `if self.training` pattern)."""

    def __init__(self) -> None:
        super().__init__()
        self.e = nn.Embedding(10, 8, padding_idx=0)
        self.l = nn.Linear(8, 8)
        self.o = nn.Linear(8, 3)
        self.ck: bool | None = None  # None: no checkpoint; True/False: use_reentrant

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.e(x).mean(1)
        if self.ck is not None and self.training:
            h = checkpoint(self.l, h, use_reentrant=self.ck)
        else:
            h = self.l(h)
        return self.o(torch.tanh(h))


def _grads(m: nn.Module, x: torch.Tensor, eval_first: bool) -> dict[str, torch.Tensor | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(m, 2)
    with torch.no_grad():  # the models differ from the template (as after training)
        g = torch.Generator().manual_seed(5)
        for p in pop.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    if eval_first:
        pop.eval()
        pop(x)  # an evaluation forward with autograd on (no torch.no_grad)
    pop.train()
    pop(x).square().sum().backward()
    return {n: p.grad for n, p in pop.named_parameters()}


def _check(ck: bool, eval_first: bool) -> None:
    torch.manual_seed(1)
    base = _Emb()
    m = copy.deepcopy(base)
    m.ck = ck
    x = torch.randint(0, 10, (2, 5, 6))
    want = _grads(copy.deepcopy(base), x, eval_first)
    try:
        got = _grads(m, x, eval_first)
    except UserError:
        return  # refusing the model (as README promises) is a fix
    for n, w in want.items():
        assert got[n] is not None, f"{n} got no gradient (it would never train)"
        torch.testing.assert_close(got[n], w, msg=f"gradient of {n}")


# What is wrong: `_refuse_checkpoint` walks model 0's graph once, on the first grad-enabled
# loop forward, and then sets `_no_checkpoint` whatever the mode. An evaluation forward with
# autograd on (pop.eval(); pop(x) without torch.no_grad) of a model that checkpoints only in
# training (`if self.training`, the common pattern) sets the flag without having seen a
# checkpoint; the training forwards after it are never walked: the reentrant checkpoint is not
# refused, the checkpointed Linear of every model gets grad None (never trains) and the
# embedding's gradient is wrong. Without the eval forward the same model is refused. Expected:
# refused (README: "torch.utils.checkpoint inside the forward is refused"), or the gradients
# of the same population without checkpointing. Fix: walk (and set the flag) only on a
# training forward, or detect after the backward that the template's parameters got a .grad.
def test_reentrant_checkpoint_is_refused_after_a_grad_enabled_eval_forward() -> None:
    _check(ck=True, eval_first=True)


# What is wrong: in the loop mode (here forced by Embedding(padding_idx)) the non-reentrant
# form checkpoint(..., use_reentrant=False) is not refused at all (`_refuse_checkpoint` looks
# only for the reentrant CheckpointFunctionBackward; the trainer's message covers the vmap
# mode's crash only). Its recompute in the backward runs after functional_call restored the
# template's tensors, so the saved tensors are the template's weights, not model i's: the
# gradient through the checkpointed Linear to the layers before it (the embedding) is silently
# wrong (off by O(10) here). Expected: refused, as README promises for torch.utils.checkpoint
# inside the forward, or the gradients of the same population without checkpointing. Fix: also
# refuse the non-reentrant form (e.g. torch.utils.checkpoint's saved-tensors hooks: a
# `_checkpoint_hook`/`_recomputation_hook` graph, or compare grads of the template after
# backward), or run the recompute under the same functional_call.
def test_non_reentrant_checkpoint_in_loop_mode_is_refused_or_correct() -> None:
    _check(ck=False, eval_first=False)


# Control (passes): the refusal works on a first training forward.
def test_reentrant_checkpoint_refused_on_first_training_forward() -> None:
    torch.manual_seed(1)
    m = _Emb()
    m.ck = True
    with warnings.catch_warnings(), pytest.raises(UserError, match="checkpoint"):
        warnings.simplefilter("ignore")
        pop = Population(m, 2)
        pop.train()
        pop(torch.randint(0, 10, (2, 5, 6))).sum().backward()


# The first version watched the forward with sys.setprofile, chained to the profiler already set:
# under cProfile (a C-level profiler, not callable) the population's first training forward
# raised "TypeError: 'Profile' object is not callable". A profiled run must train as any other.
def test_loop_population_trains_under_cprofile() -> None:
    import cProfile

    torch.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(_Emb(), 2)
    pop.train()
    x = torch.randint(0, 10, (2, 5, 6))
    prof = cProfile.Profile()
    prof.enable()
    try:
        pop(x).square().sum().backward()
    finally:
        prof.disable()
    assert all(p.grad is not None for p in pop.parameters())
