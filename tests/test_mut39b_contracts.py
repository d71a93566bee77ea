"""Mutation review mut39b: population.py outside the stacked layers' forward math.

Each test kills a mutant that the existing tests let through. Expected values come from the
docstrings/README or from plain torch modules, never from trainlab itself.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.population import Population


def _drop_net(p: float) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 64), nn.Dropout(p))


class _Scaled(nn.Module):
    """A vmap-path module with a non-persistent buffer that its forward reads."""

    def __init__(self, s: float) -> None:
        super().__init__()
        self.lin = nn.Linear(3, 2)
        self.register_buffer("s", torch.tensor(s), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x) * self.s


def test_default_seeds_are_0_to_k_minus_1() -> None:
    # Population docstring: "seeds: ... default ``0..K-1``"
    tpl = _drop_net(0.5)
    x = torch.randn(3, 5, 4)
    default = Population(tpl, 3).train()
    given = Population(tpl, 3, seeds=[0, 1, 2]).train()
    assert default.seeds.tolist() == [0, 1, 2]
    default.set_step(7)
    given.set_step(7)
    with torch.no_grad():
        assert torch.equal(default(x), given(x))


def test_set_dropout_p_with_models_changes_only_those_models() -> None:
    # set_dropout_p docstring: "with ``models`` (a ``(K,)`` bool mask), only those models'
    # rates change"
    tpl = _drop_net(0.3)
    pop = Population(tpl, 3).train()
    pop.set_dropout_p(0.0, models=torch.tensor([True, False, True]))
    pop.set_step(0)
    x = torch.randn(3, 32, 4)
    with torch.no_grad():
        out = pop(x)
        for i in (0, 2):  # rate 0 now: the dropout is the identity
            torch.testing.assert_close(out[i], tpl[0](x[i]), rtol=1e-5, atol=1e-6)
    zeros = (out[1] == 0).float().mean().item()  # model 1 kept 0.3 over 32*64 units
    assert 0.2 < zeros < 0.4
    assert pop.unstack(1)[1].p == pytest.approx(0.3)
    assert pop.unstack(0)[1].p == 0.0


def test_from_models_keeps_each_models_dropout_rate() -> None:
    # from_models docstring: "each keeps its weights, buffers ... and dropout rates"
    a, b = _drop_net(0.0), _drop_net(0.9)
    pop = Population.from_models([a, b]).train()
    pop.set_step(0)
    x = torch.randn(2, 32, 4)
    with torch.no_grad():
        out = pop(x)
        ref0 = a[0](x[0])
    torch.testing.assert_close(out[0], ref0, rtol=1e-5, atol=1e-6)  # rate 0: identity
    assert (out[1] == 0).float().mean().item() > 0.75  # rate 0.9
    assert pop.unstack(0)[1].p == 0.0
    assert pop.unstack(1)[1].p == pytest.approx(0.9)


def test_from_models_keeps_non_persistent_buffers_per_model() -> None:
    torch.manual_seed(1)
    models = [_Scaled(1.0), _Scaled(3.0), _Scaled(-2.0)]
    pop = Population.from_models(models).eval()
    x = torch.randn(3, 4, 3)
    with torch.no_grad():
        out = pop(x)
        for i, m in enumerate(models):
            torch.testing.assert_close(out[i], m(x[i]), rtol=1e-5, atol=1e-6)


def test_unstack_gives_model_is_non_persistent_buffers() -> None:
    torch.manual_seed(2)
    models = [_Scaled(1.0), _Scaled(3.0)]
    pop = Population.from_models(models).eval()
    one = pop.unstack(1)
    assert float(one.s) == 3.0
    x = torch.randn(4, 3)
    with torch.no_grad():
        torch.testing.assert_close(one(x), models[1](x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("template", [_drop_net(0.1), _Scaled(1.0)], ids=["stacked", "vmap"])
def test_unstack_is_in_the_populations_mode(template: nn.Module) -> None:
    # unstack docstring: "It is in the population's mode ... in every path"
    pop = Population(template.train(), 2)
    pop.eval()
    assert pop.unstack(0).training is False
    assert all(not m.training for m in pop.unstack(1).modules())
    pop.train()
    assert pop.unstack(1).training is True


def test_load_member_refuses_a_state_with_missing_keys() -> None:
    # load_member docstring: "keys and shapes must match"
    pop = Population(nn.Sequential(nn.Linear(3, 2)), 2)
    before = pop.member_state(0)
    with pytest.raises(UserError, match="missing"):
        pop.load_member(0, {"0.weight": torch.ones(2, 3)})
    after = pop.member_state(0)
    assert all(torch.equal(before[n], after[n]) for n in before)


def test_dropout_rate_one_template_builds_and_drops_everything_as_torch() -> None:
    # nn.Dropout accepts p=1 (every unit dropped); SeededDropout checks "as nn.Dropout"
    tpl = _drop_net(1.0)
    pop = Population(tpl, 2).train()
    pop.set_step(0)
    x = torch.randn(2, 5, 4)
    with torch.no_grad():
        out = pop(x)
        ref = nn.Dropout(1.0).train()(tpl[0](x[0]))
    assert torch.equal(ref, torch.zeros_like(ref))
    assert torch.equal(out, torch.zeros_like(out))


def test_forward_with_the_wrong_k_is_a_user_error_naming_k() -> None:
    # forward docstring: "x: (K, B, ...)"; a wrong K is a UserError telling how to share a batch
    pop = Population(nn.Sequential(nn.Linear(3, 2)), 2)
    with pytest.raises(UserError, match=r"K=2"):
        pop(torch.randn(3, 5, 3))


@pytest.mark.parametrize("mode", ["circular", "reflect", "replicate"])
def test_a_conv_with_non_zero_padding_mode_equals_the_plain_models(mode: str) -> None:
    torch.manual_seed(3)
    models = [nn.Sequential(nn.Conv1d(2, 3, 3, padding=1, padding_mode=mode)) for _ in range(2)]
    pop = Population.from_models(models).eval()
    x = torch.randn(2, 4, 2, 7)
    with torch.no_grad():
        out = pop(x)
        for i, m in enumerate(models):
            torch.testing.assert_close(out[i], m(x[i]), rtol=1e-5, atol=1e-6)


def test_an_inplace_relu_on_a_shared_batch_neither_fails_nor_edits_the_input() -> None:
    torch.manual_seed(4)
    tpl = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(3, 2))
    pop = Population(tpl, 2).eval()
    x = torch.randn(4, 3)
    kept = x.clone()
    with torch.no_grad():
        out = pop(x.expand(2, *x.shape))
        ref = tpl[1](torch.relu(kept))
    assert torch.equal(x, kept)
    for i in range(2):
        torch.testing.assert_close(out[i], ref, rtol=1e-5, atol=1e-6)


def test_a_flatten_over_the_batch_axis_runs_per_model() -> None:
    # module docstring: a Flatten whose dim may be the batch axis is not folded (vmap)
    torch.manual_seed(5)
    models = [nn.Sequential(nn.Linear(3, 2), nn.Flatten(0, 1)) for _ in range(2)]
    pop = Population.from_models(models).eval()
    x = torch.randn(2, 4, 3)
    with torch.no_grad():
        out = pop(x)
        assert out.shape == (2, 8)
        for i, m in enumerate(models):
            torch.testing.assert_close(out[i], m(x[i]), rtol=1e-5, atol=1e-6)


def test_embedding_padding_row_gets_no_gradient_in_any_model() -> None:
    # torch: the padding_idx row of an nn.Embedding receives no gradient (README: such a model
    # runs model by model, since vmap would give the padding rows of models 2..K gradients)
    torch.manual_seed(6)
    plain = nn.Embedding(5, 3, padding_idx=0)
    ids = torch.tensor([[0, 1, 0, 4], [2, 0, 3, 0], [0, 0, 1, 1]])
    plain(ids[1]).sum().backward()
    assert torch.equal(plain.weight.grad[0], torch.zeros(3))  # torch's own rule
    with pytest.warns(UserWarning):
        pop = Population(plain, 3).train()
    pop(ids).sum().backward()
    grads = [p.grad for p in pop.parameters() if p.grad is not None]
    assert len(grads) == 1 and grads[0].shape == (3, 5, 3)
    assert torch.equal(grads[0][:, 0], torch.zeros(3, 3))
    torch.testing.assert_close(grads[0][1], plain.weight.grad)
