"""mut36q review: stacked population layers checked against torch's own plain layers.

Independent references: torch's nn.BatchNorm1d/2d, nn.Linear, nn.Conv2d run on one member's
slice, and torch.func.functional_call of the template on member i's weights.
"""

import copy

import torch
from torch import nn
from torch.func import functional_call

from trainlab.population import Population


def _bn_models(cls, c, k, **kw):
    torch.manual_seed(0)
    models = []
    for _ in range(k):
        m = cls(c, **kw)
        with torch.no_grad():  # distinct affine parameters and running statistics per model
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-1, 1)
            m.running_mean.uniform_(-1, 1)
            m.running_var.uniform_(0.5, 2.0)
        models.append(m)
    return models


# kills population.py:299 `self.eps = m.eps` -> `self.eps = 1e-5` and
# population.py:300 `... else m.momentum` -> `... else 0.1`: the model's own eps and momentum
# must be used. Expected values: torch's own BatchNorm1d(eps=0.5, momentum=0.7) on member i's
# slice (a stacked population of 1 would use the same wrong constants, so only torch can tell).
def test_stacked_batchnorm_uses_each_models_eps_and_momentum_as_torch_does():
    k = 3
    models = _bn_models(nn.BatchNorm1d, 4, k, eps=0.5, momentum=0.7)
    pop = Population.from_models(models)
    assert pop.mode == "stacked"
    x = torch.randn(k, 6, 4, generator=torch.Generator().manual_seed(1)) * 2 + 1
    pop.train()
    y = pop(x)
    refs = []
    for i, m in enumerate(models):
        ref = copy.deepcopy(m).train()
        refs.append(ref)
        torch.testing.assert_close(y[i], ref(x[i]), rtol=1e-5, atol=1e-6)
        st = pop.member_state(i)
        torch.testing.assert_close(st["running_mean"], ref.running_mean, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(st["running_var"], ref.running_var, rtol=1e-6, atol=1e-6)
        assert int(st["num_batches_tracked"]) == 1
    pop.eval()
    y = pop(x)
    for i, ref in enumerate(refs):
        ref.eval()  # eval: the updated running stats and eps=0.5 matter
        torch.testing.assert_close(y[i], ref(x[i]), rtol=1e-5, atol=1e-6)


# kills population.py:318 `use_batch = self.training or not self.track` -> `self.training`:
# a BatchNorm2d with track_running_stats=False normalizes with the batch statistics in eval
# too (torch's own layer, run on member i's slice, is the reference).
def test_untracked_batchnorm2d_uses_batch_statistics_in_eval_like_torch():
    torch.manual_seed(0)
    models = [
        nn.Sequential(nn.BatchNorm2d(3, track_running_stats=False, eps=0.2)) for _ in range(2)
    ]
    for m in models:
        with torch.no_grad():
            m[0].weight.uniform_(0.5, 1.5)
            m[0].bias.uniform_(-1, 1)
    pop = Population.from_models(models).eval()
    x = torch.randn(2, 5, 3, 4, 4, generator=torch.Generator().manual_seed(2)) * 3 + 2
    y = pop(x)
    for i, m in enumerate(models):
        torch.testing.assert_close(y[i], copy.deepcopy(m).eval()(x[i]), rtol=1e-5, atol=1e-5)


# kills member indexing / bias / transposed weight mutants of _StackedLinear and _StackedConv
# (population.py:254-255, 278-279): each member's output equals torch.func.functional_call of
# the plain template with that member's own weights (from the plain models, not from trainlab).
def test_each_member_equals_functional_call_of_the_template_on_its_own_weights():
    torch.manual_seed(0)

    def net():
        return nn.Sequential(
            nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 5 * 5, 4)
        )

    models = [net() for _ in range(4)]
    template = net()
    pop = Population.from_models(models).eval()
    assert pop.mode == "stacked"
    x = torch.randn(4, 7, 2, 5, 5, generator=torch.Generator().manual_seed(3))
    y = pop(x)
    assert y.shape == (4, 7, 4)
    for i, m in enumerate(models):
        ref = functional_call(template, dict(m.state_dict()), (x[i],))
        torch.testing.assert_close(y[i], ref, rtol=1e-5, atol=1e-5)


# kills population.py:1043 `list(range(k))` -> `list(range(1, k + 1))`: the documented
# default (Population docstring, "seeds: ... default 0..K-1") is seeds 0, 1, ..., K-1, so a
# default population draws the same dropout masks as one given seeds=[0, 1, 2] explicitly.
def test_default_seeds_are_0_to_k_minus_1_and_draw_the_explicit_masks():
    def net():
        return nn.Sequential(nn.Linear(5, 5), nn.Dropout(0.5))

    torch.manual_seed(0)
    tpl = net()
    default = Population(tpl, 3).train()
    explicit = Population(tpl, 3, seeds=[0, 1, 2]).train()
    assert default.seeds.tolist() == [0, 1, 2]
    x = torch.randn(3, 8, 5)
    default.set_step(3)
    explicit.set_step(3)
    torch.testing.assert_close(default(x), explicit(x))


# kills population.py:1106 `buffers[f"{n}.p"][i]` -> `[0]`: from_models keeps each model's own
# dropout rate (its docstring); the expected rates are the ones the user's models were built with.
def test_from_models_keeps_each_models_dropout_rate():
    rates = [0.1, 0.3, 0.6]
    models = [nn.Sequential(nn.Linear(4, 4), nn.Dropout(p)) for p in rates]
    pop = Population.from_models(models)
    assert [pop.unstack(i)[1].p for i in range(3)] == rates


class _Scaled(nn.Module):
    def __init__(self, s: float) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.register_buffer("scale", torch.tensor(s), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


# kills population.py:1118 `buffers[n][i].copy_(b)` -> `[0]` and population.py:1217
# `b.copy_(stacked[n][i])` -> `[0]`: non-persistent buffers go into / come back from model i's
# slot (from_models and unstack docstrings); the reference is the user's own model i.
def test_non_persistent_buffers_belong_to_their_own_model():
    torch.manual_seed(0)
    models = [_Scaled(s) for s in (2.0, 3.0, 5.0)]
    pop = Population.from_models(models).eval()
    x = torch.randn(3, 4, 3)
    y = pop(x)
    for i, m in enumerate(models):
        torch.testing.assert_close(y[i], m(x[i]))
        assert float(pop.unstack(i).scale) == float(m.scale)


# kills population.py:401 `and m.padding_mode == "zeros"` dropped: a circular-padded conv
# must pad circularly as torch's own Conv2d does (the reference), not with zeros.
def test_circular_padded_conv_matches_torch():
    torch.manual_seed(0)
    models = [
        nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")) for _ in range(2)
    ]
    pop = Population.from_models(models).eval()
    x = torch.randn(2, 3, 2, 5, 5)
    y = pop(x)
    for i, m in enumerate(models):
        torch.testing.assert_close(y[i], m(x[i]), rtol=1e-5, atol=1e-5)
