"""Review diff32f: population.py `_checkpoint_calls` (torch.utils.checkpoint refusal in the loop
mode by temporarily wrapping CheckpointFunction / _checkpoint_without_reentrant_generator)."""

from __future__ import annotations

import threading
import warnings

import pytest
import torch
import torch.utils.checkpoint as ckpt
from torch import nn

from trainlab.errors import UserError
from trainlab.population import Population

_ORIG = (ckpt.CheckpointFunction, ckpt._checkpoint_without_reentrant_generator)


def _pop(m: nn.Module, k: int = 2) -> Population:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(m, k)
    with torch.no_grad():  # the models differ from the template (as after training)
        g = torch.Generator().manual_seed(5)
        for p in pop.parameters():
            p.add_(torch.randn(p.shape, generator=g))
    return pop.train()


class _Later(nn.Module):
    """Embedding(padding_idx) (loop mode) -> Linear -> Linear; the middle Linear is checkpointed
    from the forward's second call on (a step counter, which README says a forward may keep)."""

    def __init__(self, ck: bool) -> None:
        super().__init__()
        self.e = nn.Embedding(10, 8, padding_idx=0)
        self.l = nn.Linear(8, 8)
        self.o = nn.Linear(8, 3)
        self.ck = ck
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        h = self.e(x).mean(1)
        if self.ck and self.training and self.calls > 1:
            h = ckpt.checkpoint(self.l, h, use_reentrant=True)
        else:
            h = self.l(h)
        return self.o(torch.tanh(h))


# What is wrong: `_loop_forward` watches only model 0's FIRST training forward (then sets
# `_no_checkpoint` for good). A forward that checkpoints only at some calls (after a warm-up
# step, for long inputs, ...) is never refused: from its second step on, the reentrant
# recompute reads the template's weights, the checkpointed Linear of every model gets grad
# None (never trains) and the embedding's gradient is off by O(10). Expected: refused (README:
# "torch.utils.checkpoint inside the forward is refused") or the gradients of the same
# population without checkpointing. Fix: the wrappers cost two setattr, so watch every
# training forward (and every model), not just the first.
def test_checkpoint_from_the_second_step_on_is_refused_or_correct() -> None:
    x = torch.randint(0, 10, (2, 5, 6))
    grads = []
    for ck in (False, True):
        torch.manual_seed(1)
        pop = _pop(_Later(ck))
        try:
            for _ in range(2):
                for p in pop.parameters():
                    p.grad = None
                pop(x).square().sum().backward()
        except UserError:
            assert ck
            return  # refused: the fix README promises
        grads.append({n: p.grad for n, p in pop.named_parameters()})
    for n, want in grads[0].items():
        assert grads[1][n] is not None, f"{n} got no gradient (it would never train)"
        torch.testing.assert_close(grads[1][n], want, msg=n)


class _Gate(nn.Module):
    """A loop-mode model without any checkpointing whose first forward call runs a callback."""

    def __init__(self, on_first) -> None:
        super().__init__()
        self.e = nn.Embedding(10, 8, padding_idx=0)
        self.o = nn.Linear(8, 3)
        self.__dict__["on_first"] = on_first

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.__dict__.pop("on_first", None)
        if f is not None:
            f()
        return self.o(self.e(x).mean(1))


# What is wrong: `_checkpoint_calls` patches the torch.utils.checkpoint MODULE (process-wide)
# and records every call in it, from any thread. A model that does not checkpoint is refused
# ("Gate's forward uses torch.utils.checkpoint") when another thread (another population,
# plain torch code) calls checkpoint while this population's first training forward runs.
# Expected: the population trains (its forward never calls checkpoint). Fix: record per thread
# (a threading.local recorder consulted by the wrappers), installed once under a lock.
def test_checkpoint_in_another_thread_does_not_refuse_a_population() -> None:
    inside, done = threading.Event(), threading.Event()

    def wait() -> None:
        inside.set()
        assert done.wait(5)

    pop = _pop(_Gate(wait))
    x = torch.randint(0, 10, (2, 5, 6))
    res: dict[str, object] = {}

    def train() -> None:
        try:
            pop(x).sum().backward()
            res["a"] = "ok"
        except Exception as err:  # noqa: BLE001
            res["a"] = err

    lin = nn.Linear(8, 8)  # plain torch code in this thread, legitimately checkpointed (made
    # before the thread starts: its init draws from torch's global generator)
    t = threading.Thread(target=train)
    t.start()
    try:
        assert inside.wait(5)
        # (inputs from a generator of their own: a draw from torch's global generator in
        # another thread is read as the forward's own randomness, a limitation of that check)
        xs = torch.randn(3, 8, generator=torch.Generator().manual_seed(0))
        ckpt.checkpoint(lin, xs, use_reentrant=False).sum().backward()
    finally:
        done.set()
        t.join(10)
    assert res.get("a") == "ok", res


# What is wrong: two populations whose first training forwards overlap in two threads (A
# enters, B enters, A leaves, B leaves) leave torch.utils.checkpoint patched for good: B saved
# A's wrappers as "the originals" and put them back. From then on
# torch.utils.checkpoint.CheckpointFunction is trainlab's `_Reentrant` (not an
# autograd.Function) and every reentrant checkpoint in the process appends to A's dead list.
# Expected: the module's attributes are torch's own again once no forward is running. Fix: one
# installation with a count (or thread-local recorders) under a lock.
def test_overlapping_first_forwards_restore_torch_utils_checkpoint() -> None:
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def wa() -> None:
        a_in.set()
        assert b_in.wait(5)

    def wb() -> None:
        b_in.set()
        assert a_out.wait(5)

    pa, pb = _pop(_Gate(wa)), _pop(_Gate(wb))
    x = torch.randint(0, 10, (2, 5, 6))

    def run_a() -> None:
        try:
            pa(x)
        finally:
            a_out.set()

    def run_b() -> None:
        assert a_in.wait(5)
        pb(x)

    ts = [threading.Thread(target=run_a), threading.Thread(target=run_b)]
    try:
        for t in ts:
            t.start()
        for t in ts:
            t.join(10)
        left = (ckpt.CheckpointFunction, ckpt._checkpoint_without_reentrant_generator)
        assert left == _ORIG, f"torch.utils.checkpoint left patched: {left}"
    finally:  # (leave the module sane for the other tests of the process)
        ckpt.CheckpointFunction, ckpt._checkpoint_without_reentrant_generator = _ORIG


class _Composable(nn.Module):
    def __init__(self, ck: bool) -> None:
        super().__init__()
        self.e = nn.Embedding(10, 8, padding_idx=0)
        self.l = nn.Linear(8, 8)
        self.o = nn.Linear(8, 3)
        if ck:
            from torch.distributed._composable import checkpoint

            checkpoint(self.l)  # torch's composable activation checkpointing (FSDP2 docs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.o(torch.tanh(self.l(self.e(x).mean(1))))


# What is wrong: torch.distributed._composable.checkpoint runs torch.utils.checkpoint's
# non-reentrant machinery but imported `_checkpoint_without_reentrant_generator` by name, so the
# module-attribute wrapper never sees it (contrary to the docstring's "however it was
# imported"): not refused, and the embedding's gradient is silently off by O(10) (the
# recompute reads the template's weights). Expected: refused, or the gradients without
# checkpointing. Fix: wrap `_checkpoint_hook` (the saved-tensors hook class the generator looks
# up in torch.utils.checkpoint's globals at each call), which both paths use.
def test_composable_checkpoint_is_refused_or_correct() -> None:
    pytest.importorskip("torch.distributed._composable")
    x = torch.randint(0, 10, (2, 5, 6))
    grads = []
    for ck in (False, True):
        torch.manual_seed(1)
        pop = _pop(_Composable(ck))
        try:
            pop(x).square().sum().backward()
        except UserError:
            assert ck
            return
        grads.append({n: p.grad for n, p in pop.named_parameters()})
    for n, want in grads[0].items():
        assert grads[1][n] is not None, n
        torch.testing.assert_close(grads[1][n], want, msg=n)
