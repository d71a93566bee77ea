"""Review: watch() on exotic but plausible user models and training loops.

Each test compares watch()'s records with a brute-force recomputation (plain torch, no
trainlab) or with the same training written in an ordinary way, and checks that the watch
leaves no hook behind.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from trainlab.diagnostics import watch


def _hook_count(model: nn.Module) -> int:
    """Every module hook and every tensor hook on a parameter."""
    n = 0
    for m in model.modules():
        n += len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
    for p in model.parameters():
        n += len(p._backward_hooks or {})
        n += len(getattr(p, "_post_accumulate_grad_hooks", None) or {})
    return n


def _flat(params) -> torch.Tensor:
    return torch.cat([p.detach().double().reshape(-1) for p in params])


# -- 1. a model whose output contains one of its parameters --------------------------------------
class _GaussianPolicy(nn.Module):
    """The usual continuous-action policy of PPO/A2C: a mean network and a state-independent
    learned log standard deviation, returned as it is."""

    def __init__(self) -> None:
        super().__init__()
        self.mu = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2))
        self.log_std = nn.Parameter(torch.zeros(2))

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mu(obs), self.log_std


def test_a_model_returning_one_of_its_parameters_keeps_no_hook_on_it():
    """watch() promises (module doc, DESIGN "hooks ... always remove themselves") that every
    hook it adds is removed when the block ends. A Gaussian policy returns ``(mu,
    self.log_std)``: the root's output holds a leaf parameter, and ``_post_forward`` puts a
    tensor hook (``Watch._closed``) on it at *every* training forward, which ``detach()``
    never removes. The parameter ends up with one hook per training step, each a bound method
    holding the whole Watch (and its records) alive and still running in every later backward
    long after the block: a leak that grows with the length of the run."""
    torch.manual_seed(0)
    policy = _GaussianPolicy()
    opt = torch.optim.Adam(policy.parameters(), lr=1e-3)
    obs, act = torch.randn(32, 4), torch.randn(32, 2)
    assert _hook_count(policy) == 0
    with watch(policy, every=1):
        for _ in range(5):
            mu, log_std = policy(obs)
            nll = ((act - mu) / log_std.exp()).pow(2).mean() / 2 + log_std.sum()
            opt.zero_grad()
            nll.backward()
            opt.step()
    assert len(policy.log_std._backward_hooks or {}) == 0, policy.log_std._backward_hooks
    assert _hook_count(policy) == 0


# -- 2. a model returning a dataclass ----------------------------------------------------------
@dataclasses.dataclass
class _Output:
    logits: torch.Tensor


class _Net(nn.Module):
    def __init__(self, as_dataclass: bool) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        self.as_dataclass = as_dataclass

    def forward(self, x: torch.Tensor):
        y = self.net(x)
        return _Output(y) if self.as_dataclass else (y,)


@pytest.mark.parametrize("loop", ["siamese", "checkpoint"])
def test_a_model_returning_a_dataclass_has_the_steps_of_one_returning_a_tuple(loop):
    """Models that return a ``@dataclass`` of tensors (a common alternative to HF's
    ``ModelOutput``) must be watched like any other: the step definition (module doc: a step
    lasts "until a backward reaches the output of one of them"; "two views / siamese losses:
    one step"; a non-reentrant checkpoint's recomputation "belongs to that step") does not
    depend on the container of the output. ``_grad_tensors`` does not look into dataclasses,
    so no forward of such a model ever opens a step: a siamese step ``m(x1)``, ``m(x2)`` becomes
    two steps, and ``checkpoint(model, x, use_reentrant=False)`` counts its recomputation in
    the backward as a new step — 3 iterations read as 6 steps, half without gradients, the
    update ratios attached to the wrong steps. The same model returning a tuple is right."""
    runs = []
    for as_dataclass in (False, True):
        torch.manual_seed(0)
        model = _Net(as_dataclass)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        g = torch.Generator().manual_seed(1)
        with watch(model, every=1) as w:
            for _ in range(3):
                x1, x2 = torch.randn(8, 4, generator=g), torch.randn(8, 4, generator=g)
                if loop == "siamese":
                    a, b = model(x1), model(x2)
                    la = a.logits if as_dataclass else a[0]
                    lb = b.logits if as_dataclass else b[0]
                    loss = (la - lb).pow(2).mean()
                else:
                    out = checkpoint(model, x1, use_reentrant=False)
                    loss = (out.logits if as_dataclass else out[0]).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
        recs = [
            (r["step"], r["layer"], r["act_std"], r["grad_norm"], r["update_ratio"])
            for r in w.records()
        ]
        runs.append((w.step, recs))
    (tuple_steps, tuple_recs), (dc_steps, dc_recs) = runs
    assert tuple_steps == 2
    assert dc_steps == tuple_steps, f"3 iterations counted as {dc_steps + 1} steps"
    assert [r[:2] for r in dc_recs] == [r[:2] for r in tuple_recs]
    for a, b in zip(dc_recs, tuple_recs, strict=True):
        for x, y in zip(a[2:], b[2:], strict=True):
            assert (x is None) == (y is None) and (x is None or math.isclose(x, y, rel_tol=1e-6)), (
                a,
                b,
            )


# -- 3. a loss with a derivative of the output (PINN, gradient penalty) -------------------------
def test_grad_norm_with_a_derivative_in_the_loss_is_the_gradient_of_the_loss():
    """Physics-informed nets (and WGAN-GP / R1 gradient penalties, double backprop) put a
    derivative of the model's output in the loss: ``u = m(x)``, ``du = autograd.grad(u.sum(),
    x, create_graph=True)``, then ``loss(du, u).backward()``. ``grad_norm`` is documented as
    ‖θ.grad‖ "read when the backward of step s ends"; it must be the norm of the gradient that
    ``loss.backward()`` leaves in ``.grad``. Today the ``autograd.grad`` call, which
    accumulates nothing into ``.grad``, is taken for the step's backward: ``.grad`` is read at
    its end (None after ``zero_grad()``; the previous iteration's stale gradient when the user
    zeroes later) and the real backward is ignored, so every layer reads "no gradient"."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.linspace(0, 1, 32).unsqueeze(1)
    want = []
    with watch(model, every=1) as w:
        for _ in range(3):
            opt.zero_grad()
            xi = x.clone().requires_grad_(True)
            u = model(xi)
            (du,) = torch.autograd.grad(u.sum(), xi, create_graph=True)
            loss = (du - torch.cos(xi)).pow(2).mean() + u[0].pow(2).sum()  # u' = cos x, u(0) = 0
            loss.backward()
            want.append(_flat(p.grad for p in model[0].parameters()).norm().item())
            opt.step()
    assert w.step == 2
    got = [r["grad_norm"] for r in w.records() if r["layer"] == "0"]
    assert len(got) == 3
    for g, ref in zip(got, want, strict=True):
        assert g is not None and g == pytest.approx(ref, rel=1e-5), (got, want)


# -- 4. fused optimizers ------------------------------------------------------------------------
def test_update_ratio_of_a_fused_optimizer_after_accumulated_micro_batches():
    """The module doc: the optimizer step "is detected from the parameters' in-place version
    counters (... as every ``torch.optim`` optimizer does) at the next step's first forward ...
    whenever it comes (also after several accumulation steps)". ``torch.optim.AdamW(...,
    fused=True)`` (a documented torch option, on CPU since 2.4) moves no version counter, so
    the watch falls back to its one-shot value comparison, which it makes at the next
    micro-batch — before the optimizer has stepped — and never again. With gradient
    accumulation over 4 micro-batches and ``every=4`` (one sample per optimizer step) every
    update ratio is None, although the weights moved by ~5% each time (the same loop with the
    default ``foreach`` AdamW gets the right ratio)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, fused=True)
    g = torch.Generator().manual_seed(1)
    before = _flat(model[0].parameters())
    with watch(model, every=4) as w:
        for it in range(2):
            opt.zero_grad()
            for _ in range(4):  # micro-batches
                (model(torch.randn(4, 8, generator=g)).pow(2).mean() / 4).backward()
            opt.step()
            if it == 0:
                after = _flat(model[0].parameters())
    want = ((after - before).norm() / before.norm()).item()
    rec = next(r for r in w.records() if r["step"] == 0 and r["layer"] == "0")
    assert rec["update_ratio"] is not None, "the fused optimizer's update was not seen"
    assert rec["update_ratio"] == pytest.approx(want, rel=1e-4)


# -- 5. a parameter whose size changes through .data ---------------------------------------------
class _GrowingLM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.fc = nn.Linear(8, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(tokens))


@pytest.mark.parametrize("every", [1, 9])
def test_growing_an_embedding_through_data_neither_crashes_nor_leaves_hooks(every):
    """Adding tokens to a vocabulary mid-training by ``emb.weight.data = torch.cat([old,
    new_rows])`` trains fine without a watch. The module doc lists ``p.data = ...`` among the
    supported manual updates, and DESIGN promises hooks that "always remove themselves, also
    after an exception". Today the update-ratio comparison subtracts the old-shaped snapshot
    from the new-shaped parameter: the next training forward raises a RuntimeError from the
    watch's pre-hook (the user's training crashes), and ``detach()`` raises the same error
    before it removes any hook, so the model keeps the watch's hooks after the ``with`` block."""
    torch.manual_seed(0)
    model = _GrowingLM()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)
    error = None
    try:
        with watch(model, every=every):
            for s in range(3):
                tokens = torch.randint(0, 10 + 2 * s, (4, 5), generator=g)
                opt.zero_grad()
                model(tokens).pow(2).mean().backward()
                opt.step()
                with torch.no_grad():  # two new tokens join the vocabulary
                    model.emb.weight.data = torch.cat([model.emb.weight.data, torch.randn(2, 8)])
                model.emb.num_embeddings += 2
    except RuntimeError as exc:
        error = exc
    assert _hook_count(model) == 0, f"hooks left on the model after the block ({error})"
    assert error is None, f"training under watch() crashed: {error}"


# -- 6. a recursive model --------------------------------------------------------------------------
class _TreeNet(nn.Module):
    """A recursive neural network over a binary parse tree (CS224n): the model calls itself on
    both children and composes them."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.comp = nn.Linear(16, 8)
        self.act = nn.Tanh()

    def forward(self, tree) -> torch.Tensor:
        if isinstance(tree, int):
            return self.emb(torch.tensor([tree]))
        return self.act(self.comp(torch.cat([self(tree[0]), self(tree[1])], dim=1)))


def test_a_recursive_model_is_one_step_per_training_iteration():
    """A *step* is "one training iteration of the root module" (module doc). A recursive model
    calls its own ``forward`` on sub-trees: those nested calls happen inside the iteration's
    forward and are no new iterations. Today every nested root call runs the watch's root
    pre-hook as if a new forward had started (it even drops the outer call's sample as "the
    last forward raised"): two training iterations read as 5 steps, most of them with no
    activation statistics, and the first iteration's records are empty. Each iteration must be
    one step, with the statistics of its forward (first call of each layer)."""
    torch.manual_seed(0)
    model = _TreeNet()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    seen: dict[str, torch.Tensor] = {}

    def keep(name):
        def hook(mod, args, out):
            seen.setdefault(name, out.detach().clone())

        return hook

    handles = [model.comp.register_forward_hook(keep("comp"))]
    want = None
    with watch(model, every=1) as w:
        for i, tree in enumerate([((1, 2), 3), (4, (5, 6))]):
            opt.zero_grad()
            model(tree).pow(2).sum().backward()
            if i == 0:
                want = _flat(p.grad for p in model.comp.parameters()).norm().item()
                for h in handles:
                    h.remove()
            opt.step()
    assert w.step == 1, f"2 iterations counted as {w.step + 1} steps"
    recs = {(r["step"], r["layer"]): r for r in w.records()}
    comp = recs[(0, "comp")]
    assert comp["act_std"] == pytest.approx(seen["comp"].std(correction=0).item(), rel=1e-5)
    assert comp["grad_norm"] == pytest.approx(want, rel=1e-5)
    assert recs[(0, "act")]["saturated_fraction"] is not None
