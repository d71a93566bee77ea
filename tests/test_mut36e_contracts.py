"""Mutation review (mut36e) of watch.py's record fields: update_ratio's exact/estimated
boundary, embeddings' exact ratio, grad_norm of partly frozen layers, forward-order records.
Every expected value is computed by hand with torch on a copy of the parameters."""

import torch
from torch import nn

from trainlab.diagnostics import watch


def _ratio_by_hand(before: list[torch.Tensor], after: list[torch.Tensor]) -> float:
    d = torch.cat([(a - b).reshape(-1) for a, b in zip(after, before, strict=True)]).double()
    w = torch.cat([b.reshape(-1) for b in before]).double()
    return (d.norm() / w.norm()).item()


# Kills watch.py:641 `if n <= sample` -> `if n < sample` (_update_subset): the module docstring
# promises the estimate only for n > UPDATE_SAMPLE (32768) entries; a parameter of exactly
# 32768 entries (Linear(256, 128) without bias) is exact. The mutant samples every 2nd chunk
# and scales by sqrt(2), which differs from the exact ‖Δθ‖/‖θ‖ by far more than 1e-5.
def test_update_ratio_is_exact_for_a_parameter_of_exactly_update_sample_entries():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(256, 128, bias=False))
    assert model[0].weight.numel() == 32768
    x, y = torch.randn(32, 256), torch.randn(32, 128)
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    with watch(model) as w:
        before = [model[0].weight.detach().clone()]
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    expected = _ratio_by_hand(before, [model[0].weight.detach()])
    (rec,) = w.records()
    assert abs(rec["update_ratio"] - expected) <= 1e-5 * expected


# Kills watch.py:1108 `exact = isinstance(self.layers[name], nn.Embedding | nn.EmbeddingBag)`
# -> `exact = False`: the docstring promises an exact ratio for embeddings whatever their
# size. Embedding(4096, 16) has 65536 > 32768 entries; the subset would be every 3rd row
# (stride 3, chunks of 16 = one row), so a batch of tokens 1, 2, 4 (no multiple of 3) moves no
# sampled row: the mutant reads 0.0, the exact ratio (computed by hand) is > 0.
def test_update_ratio_of_a_large_embedding_is_exact_for_rows_off_any_stride():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Embedding(4096, 16), nn.Linear(16, 1))
    tokens = torch.tensor([[1, 2, 4]])
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    with watch(model, layers="0") as w:
        before = [model[0].weight.detach().clone()]
        opt.zero_grad()
        model(tokens).pow(2).mean().backward()
        opt.step()
    expected = _ratio_by_hand(before, [model[0].weight.detach()])
    assert expected > 0
    (rec,) = w.records()
    assert abs(rec["update_ratio"] - expected) <= 1e-5 * expected


# Kills watch.py:2207 `cols["grad_have"][a:b].any()` -> `.all()`: a layer whose bias is frozen
# (requires_grad False, never a .grad) still has a gradient on its weight; grad_norm is ‖θ.grad‖
# over the layer's parameters that have one (a parameter without a gradient counts 0), i.e.
# ‖W.grad‖, computed here by torch. The mutant reads None.
def test_grad_norm_of_a_layer_with_a_frozen_bias_is_its_weights_gradient():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 2))
    model[0].bias.requires_grad_(False)
    x = torch.randn(8, 5)
    with watch(model) as w:
        model(x).pow(2).sum().backward()
    rec = next(r for r in w.records() if r["layer"] == "0")
    expected = model[0].weight.grad.norm().item()
    assert rec["grad_norm"] is not None
    assert abs(rec["grad_norm"] - expected) <= 1e-5 * expected


# Kills watch.py:1385 dropping `p.requires_grad` from the `.grad` read in _grads_done (the
# mutant reads a frozen parameter's leftover .grad). README: "a frozen parameter's leftover
# `.grad` is not read". Layer 0 gets a .grad from a backward before the watch, is then frozen;
# the watched step's backward does not reach it, so its grad_norm is None, while layer 2's is
# ‖θ.grad‖ computed by torch.
def test_a_frozen_layers_leftover_grad_is_not_its_grad_norm():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3), nn.Tanh(), nn.Linear(3, 2))
    x = torch.randn(8, 5)
    model(x).pow(2).sum().backward()  # before the watch: every parameter gets a .grad
    model[0].requires_grad_(False)
    assert model[0].weight.grad is not None
    model[2].zero_grad()
    with watch(model) as w:
        model(x).pow(2).sum().backward()
    recs = {r["layer"]: r for r in w.records()}
    assert recs["0"]["grad_norm"] is None
    g = torch.cat([model[2].weight.grad.reshape(-1), model[2].bias.grad]).norm().item()
    assert abs(recs["2"]["grad_norm"] - g) <= 1e-5 * g


# Kills watch.py:2214 `x / y if y > 0 else (0.0 if x == 0 else None)` -> `x / y if y > 0 else
# None`: a zero-initialized layer that has a gradient and an optimizer step (lr 0: no move)
# has ‖Δθ‖ = 0; the module docstring gives None only for no parameters, no gradient or no
# optimizer step yet, so the ratio of no movement is 0.0, as for any layer whose step moved
# nothing (checked by hand: θ stays 0 after the step).
def test_update_ratio_of_a_zero_layer_that_did_not_move_is_zero():
    model = nn.Sequential(nn.Linear(3, 2))
    nn.init.zeros_(model[0].weight)
    nn.init.zeros_(model[0].bias)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    with watch(model) as w:
        opt.zero_grad()
        model(torch.ones(4, 3)).sum().backward()
        opt.step()
    assert model[0].weight.abs().sum().item() == 0.0 and model[0].bias.abs().sum().item() == 0.0
    (rec,) = w.records()
    assert rec["grad_norm"] > 0 and rec["weight_norm"] == 0.0
    assert rec["update_ratio"] == 0.0


class _Reversed(nn.Module):
    """Registers ``b`` before ``a`` but runs ``a`` first."""

    def __init__(self) -> None:
        super().__init__()
        self.b = nn.Linear(4, 2)
        self.a = nn.Linear(3, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.tanh(self.a(x)))


# Kills watch.py:2187 dropping `chosen.sort(key=... order ...)` in _to_records (records then
# come in registration order b, a). Watch.records promises "layers in forward order": the
# forward above runs a, then b.
def test_records_come_in_forward_order_not_registration_order():
    model = _Reversed()
    with watch(model) as w:
        model(torch.randn(5, 3)).sum().backward()
    recs = w.records()
    assert [r["layer"] for r in recs] == ["a", "b"]
    assert [r["order"] for r in recs] == [0, 1]


class _TwoHeads(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.trunk = nn.Linear(3, 4)
        self.h1 = nn.Linear(4, 1)
        self.h2 = nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.tanh(self.trunk(x))
        return self.h1(z), self.h2(z)


# Kills watch.py:1391 `if not later:` -> `if True:` in _grads_done (a later backward of the same
# forward then never re-reads a .grad the first backward left untouched). Docstring: with
# several backward calls of one forward, grad_norm is read at "the first that reached the
# layer". At step 1 gradients accumulate (no zero_grad); the first backward (loss of h1) leaves
# h2's .grad, step 0's, as it was; the second reaches h2: its grad_norm is ‖h2.grad‖ after it,
# taken here with torch, not the stale step-0 norm the mutant keeps.
def test_grad_norm_of_a_head_reached_only_by_a_later_backward_is_read_then():
    torch.manual_seed(0)
    model = _TwoHeads()
    x = torch.randn(6, 3)
    with watch(model) as w:
        a, b = model(x)
        (a.sum() + b.sum()).backward()  # step 0: every layer has a .grad
        stale = torch.cat([model.h2.weight.grad.reshape(-1), model.h2.bias.grad]).norm().item()
        a, b = model(x)  # step 1, accumulating
        a.pow(2).sum().backward(retain_graph=True)  # does not reach h2
        b.pow(2).sum().backward()  # reaches h2
        g = torch.cat([model.h2.weight.grad.reshape(-1), model.h2.bias.grad]).norm().item()
    assert abs(g - stale) > 1e-3 * g
    rec = next(r for r in w.records() if r["layer"] == "h2" and r["step"] == 1)
    assert abs(rec["grad_norm"] - g) <= 1e-5 * g


# Kills watch.py:1796 `moved = self._opt_stepped or counted` -> `moved = counted`: a fused
# optimizer moves no version counter, so only its step hook tells that a step ran. Docstring:
# the optimizer step is detected "from a step of a torch.optim optimizer holding them (a global
# step hook: fused optimizers move no counter)", and a ratio is None only with no optimizer
# step; a fused Adam step with lr 0 moved nothing (checked by hand), so the ratio is 0.0 —
# the mutant, seeing no counter move and no value change, reads None.
def test_a_fused_optimizer_step_that_moved_nothing_reads_zero():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    try:
        opt = torch.optim.Adam(model.parameters(), lr=0.0, fused=True)
    except (RuntimeError, ValueError):  # a torch without CPU fused Adam
        import pytest

        pytest.skip("no fused Adam on the CPU")
    before = [p.detach().clone() for p in model.parameters()]
    with watch(model) as w:
        opt.zero_grad()
        model(torch.randn(4, 3)).sum().backward()
        opt.step()
    assert all(torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
    (rec,) = w.records()
    assert rec["update_ratio"] == 0.0


# Kills watch.py:1823 `for s in (sample, *sample.waiting):` -> `for s in (sample,):` in
# _finish_update (only the last accumulated step gets the ratio). README: "every sampled step
# of gradients accumulated over several steps gives the ratio of the update that used them".
# Steps 0 and 1 accumulate, one SGD step follows: both read ‖θ_after − θ_0‖/‖θ_0‖ (by hand).
def test_every_accumulated_sampled_step_gets_the_updates_ratio():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    x = torch.randn(8, 4)
    before = [p.detach().clone() for p in model.parameters()]
    with watch(model, every=1) as w:
        opt.zero_grad()
        for s in range(2):
            model(x[s * 4 : s * 4 + 4]).pow(2).sum().backward()
        opt.step()
    expected = _ratio_by_hand(before, [p.detach() for p in model.parameters()])
    ratios = {r["step"]: r["update_ratio"] for r in w.records()}
    assert set(ratios) == {0, 1}
    for s in (0, 1):
        assert ratios[s] is not None and abs(ratios[s] - expected) <= 1e-5 * expected
