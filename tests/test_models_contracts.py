"""Models and populations: a stacked (or vmap/loop) population of K models computes,
differentiates, stores and gives back exactly what the K plain models do, one by one (bare
layers, hooks, subclasses, from_models, non-persistent buffers, embeddings with padding, a float64
layer zoo with gradients, resnet on every input kind, one-line errors of ``create``)."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainlab.errors import UserError
from trainlab.models import create
from trainlab.population import Population


def _models(factory, k: int) -> list[nn.Module]:
    torch.manual_seed(0)
    return [factory().double() for _ in range(k)]


def _assert_population_is_the_models(pop: Population, models, x, *, train: bool = True) -> None:
    """Forward (training or eval), gradients and member states of ``pop`` equal the models'."""
    pop.train(train)
    refs = [m.train(train) for m in models]
    y = pop(x)
    ys = [m(x[i]) for i, m in enumerate(refs)]
    for i, yi in enumerate(ys):
        torch.testing.assert_close(y[i], yi, rtol=1e-10, atol=1e-10, msg=f"forward of model {i}")
    if y.requires_grad:
        y.square().sum().backward()
        sum(yi.square().sum() for yi in ys).backward()
        params = dict(pop.net.named_parameters())
        for i, m in enumerate(refs):
            for n, p in m.named_parameters():
                got = params[n].grad
                if p.grad is None:
                    assert got is None or not got[i].any(), n
                    continue
                torch.testing.assert_close(got[i], p.grad, rtol=1e-9, atol=1e-10, msg=f"{n} {i}")
        pop.zero_grad()
        for m in refs:
            m.zero_grad()
    for i, m in enumerate(refs):
        want = m.state_dict()
        got = pop.member_state(i)
        assert list(got) == list(want)
        for n, t in want.items():
            torch.testing.assert_close(got[n], t, rtol=1e-12, atol=1e-12, msg=f"{n} {i}")


# -- templates, from_models, unstack, hints -------------------------------------------------


@pytest.mark.parametrize(
    "factory, shape",
    [(lambda: nn.Linear(4, 3), (4,)), (lambda: nn.Conv1d(2, 3, 3), (2, 7))],
    ids=["Linear", "Conv1d"],
)
def test_a_bare_layer_as_template_is_stacked_per_model(factory, shape):
    """``nn.Linear(64, 10)`` is the natural template for (multinomial) logistic regression: a
    single layer as the whole template is stacked per model like any layer inside one."""
    template = factory().double()
    pop = Population(template, 3)
    assert {n: tuple(t.shape) for n, t in pop.member_state(0).items()} == {
        n: tuple(t.shape) for n, t in template.state_dict().items()
    }, "member_state(0) is not a plain model's state"
    models = _models(factory, 3)
    pop = Population.from_models(models)
    x = torch.randn(3, 5, *shape, dtype=torch.float64)
    _assert_population_is_the_models(pop, models, x)
    torch.testing.assert_close(pop.unstack(2)(x[2]), models[2](x[2]))


def _hooked() -> nn.Module:
    lin = nn.Linear(4, 3)
    lin.register_forward_hook(lambda m, inputs, out: 2 * out)  # a user's forward hook
    return nn.Sequential(lin, nn.Tanh())


def _pre_hooked() -> nn.Module:
    lin = nn.Linear(4, 3)
    lin.register_forward_pre_hook(lambda m, inputs: (inputs[0].clamp(min=0),))
    return nn.Sequential(lin, nn.Tanh())


def _spectral() -> nn.Module:  # torch's hook-based spectral norm (weight_orig, u, v)
    return nn.Sequential(nn.utils.spectral_norm(nn.Linear(4, 3).double()), nn.Tanh())


@pytest.mark.parametrize(
    "factory", [_hooked, _pre_hooked, _spectral], ids=["forward-hook", "pre-hook", "spectral-norm"]
)
def test_hooks_on_a_stackable_layer_are_not_dropped(factory):
    """A hook registered on a Linear (by the user, or by nn.utils.spectral_norm) keeps working:
    such a model takes the vmap path, since a stacked twin would have no hooks."""
    torch.manual_seed(0)
    template = factory().double().eval()  # (spectral norm: built in float64)
    pop = Population(template, 2).eval()
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    y = pop(x)
    for i in range(2):
        torch.testing.assert_close(y[i], template(x[i]), msg=f"model {i} ({pop.mode} mode)")
    for n, t in template.state_dict().items():  # spectral norm: weight_orig, weight_u, ...
        torch.testing.assert_close(pop.member_state(1)[n], t, msg=n)


class PositiveLinear(nn.Linear):
    """A Linear with non-negative weights (monotone networks): its own forward, no new state."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight.abs(), self.bias)


class MaskedLinear(nn.Linear):
    """MADE's masked Linear (Germain et al. 2015): a mask buffer and its own forward."""

    def __init__(self, n: int) -> None:
        super().__init__(n, n)
        self.register_buffer("mask", torch.ones(n, n).tril(-1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.mask * self.weight, self.bias)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: nn.Sequential(PositiveLinear(4, 4), nn.Tanh()),
        lambda: nn.Sequential(MaskedLinear(4)),
    ],
    ids=["own-forward", "own-forward-and-buffer"],
)
def test_a_subclass_of_a_stackable_layer_keeps_its_forward_and_state(factory):
    """A user's nn.Linear subclass keeps its own forward and buffers (exact types are stacked;
    a subclass takes the vmap path)."""
    torch.manual_seed(0)
    template = factory().double()
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    y = Population(template, 2)(x)
    for i in range(2):
        torch.testing.assert_close(y[i], template(x[i]), msg=f"model {i}")
    models = _models(factory, 2)
    pop = Population.from_models([copy.deepcopy(m) for m in models])
    _assert_population_is_the_models(pop, models, x)
    assert type(pop.unstack(1)[0]) is type(models[1][0])


@pytest.mark.parametrize(
    "first, second",
    [
        ({"activation": "relu"}, {"activation": "tanh"}),
        ({"activation": "leaky_relu"}, {"activation": "elu"}),
    ],
    ids=["relu-tanh", "leaky_relu-elu"],
)
def test_from_models_keeps_each_models_activation_or_refuses(first, second):
    """Models that differ in what a state_dict does not hold (activation, BN eps, ...) are kept
    apart or refused with a UserError, never all turned into models[0]."""
    torch.manual_seed(0)
    a = create("mlp", input_shape=(4,), num_classes=3, hidden=(5,), **first).double()
    b = create("mlp", input_shape=(4,), num_classes=3, hidden=(5,), **second).double()
    try:
        pop = Population.from_models([a, b])
    except UserError:
        return  # refusing different architectures is fine
    x = torch.randn(2, 6, 4, dtype=torch.float64)
    torch.testing.assert_close(pop(x)[1], b(x[1]), msg="model 1 became a copy of model 0")
    assert type(pop.unstack(1).act1) is type(b.act1)


def test_from_models_keeps_each_models_batchnorm_eps_or_refuses():
    torch.manual_seed(0)
    a = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, eps=1e-5)).double()
    b = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, eps=0.5)).double()
    try:
        pop = Population.from_models([a, b])
    except UserError:
        return
    x = torch.randn(2, 6, 4, dtype=torch.float64)
    torch.testing.assert_close(pop(x)[1], b(x[1]), msg="model 1 normalizes with model 0's eps")


def test_from_models_keeps_each_models_dropout_rate():
    """from_models keeps each model's dropout rate (the population has one per model)."""
    a = create("mlp", input_shape=(4,), num_classes=3, hidden=(5,), dropout=0.1)
    b = create("mlp", input_shape=(4,), num_classes=3, hidden=(5,), dropout=0.5)
    pop = Population.from_models([a, b])
    assert pop.net.drop1.p.tolist() == pytest.approx([0.1, 0.5])
    assert pop.unstack(1).drop1.p == pytest.approx(0.5)


class RandomFeatures(nn.Module):
    """A fixed random projection kept as a non-persistent buffer (not worth checkpointing)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("proj", torch.randn(4, 8), persistent=False)
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.cos(x @ self.proj))


def test_from_models_and_unstack_keep_non_persistent_buffers():
    """from_models and unstack(i) keep each model's non-persistent buffers."""
    models = _models(RandomFeatures, 2)
    pop = Population.from_models(models)
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(pop(x)[1], models[1](x[1]), msg="population's model 1")
    torch.testing.assert_close(pop.unstack(1)(x[1]), models[1](x[1]), msg="unstack(1)")


def test_embedding_padding_row_gets_no_gradient_in_any_model():
    """nn.Embedding(padding_idx=0): no model's padding row gets a gradient (vmap's embedding
    backward offsets the indices per model but not padding_idx, so such a model runs in loop
    mode)."""
    factory = lambda: nn.Sequential(  # noqa: E731
        nn.Embedding(6, 2, padding_idx=0), nn.Flatten(), nn.Linear(6, 1)
    )
    models = _models(factory, 3)
    pop = Population.from_models([copy.deepcopy(m) for m in models])
    x = torch.randint(0, 6, (3, 8, 3), generator=torch.Generator().manual_seed(1))
    x[:, 0, 0] = 0  # every model sees the padding index
    pop(x).sum().backward()
    grad = pop.net[0].weight.grad
    assert not grad[:, 0].any(), f"padding-row gradients per model: {grad[:, 0].tolist()}"
    for i, m in enumerate(models):
        m(x[i]).sum().backward()
        torch.testing.assert_close(grad[i], m[0].weight.grad, msg=f"model {i}")


def test_unstacked_dropout_has_the_rate_it_was_given():
    """Model i comes back with Dropout(p=0.1), the rate it was built with (not float32's
    0.10000000149011612)."""
    template = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1), nn.Linear(4, 2))
    pop = Population(template, 2)
    assert pop.unstack(0)[1].p == 0.1
    pop.set_dropout_p(torch.tensor([0.1, 0.3]))
    assert [pop.unstack(i)[1].p for i in range(2)] == [0.1, 0.3]


@pytest.mark.parametrize("name", ["Relu", "ReLU"])
def test_activation_hint_ignores_case(name):
    """torch's class names (ReLU) and a capitalized name are common: the hint compares names
    without case."""
    with pytest.raises(UserError, match=r"did you mean 'relu'\?"):
        create("mlp", input_shape=(4,), num_classes=2, activation=name)


# -- the contract, layer by layer -------------------------------------------------------------


def _shared() -> nn.Module:
    a = nn.Linear(4, 4)
    return nn.Sequential(a, nn.Tanh(), a, nn.Linear(4, 2))  # one Linear used twice


class _Counter(nn.Module):
    """A user module with buffers that are not batch norm's (a scale and a step counter)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.register_buffer("scale", torch.rand(3))
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.calls.add_(1)
        return self.fc(x) * self.scale


ZOO = {
    "conv1d-groups-dilation-stride": (
        lambda: nn.Sequential(nn.Conv1d(4, 6, 3, stride=2, dilation=2, groups=2, padding=1)),
        (4, 12),
        "stacked",
    ),
    "conv2d-depthwise-same-nobias": (
        lambda: nn.Sequential(nn.Conv2d(4, 4, 3, padding="same", groups=4, bias=False)),
        (4, 6, 6),
        "stacked",
    ),
    "conv2d-same-even-kernel": (
        lambda: nn.Sequential(nn.Conv2d(2, 3, 4, padding="same", dilation=2)),
        (2, 7, 7),
        "stacked",
    ),
    "conv1d-reflect": (
        lambda: nn.Sequential(nn.Conv1d(2, 3, 3, padding=1, padding_mode="reflect")),
        (2, 9),
        "vmap",
    ),
    "conv2d-circular": (
        lambda: nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular")),
        (2, 5, 5),
        "vmap",
    ),
    "bn1d-NC-noaffine": (
        lambda: nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, affine=False)),
        (4,),
        "stacked",
    ),
    "bn1d-NCL-untracked": (
        lambda: nn.Sequential(nn.Conv1d(2, 3, 3), nn.BatchNorm1d(3, track_running_stats=False)),
        (2, 8),
        "stacked",
    ),
    "bn2d": (lambda: nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)), (2, 5, 5), "stacked"),
    "layernorm-noaffine-nobias": (
        lambda: nn.Sequential(
            nn.Linear(4, 5), nn.LayerNorm(5, elementwise_affine=False), nn.LayerNorm(5, bias=False)
        ),
        (4,),
        "stacked",
    ),
    "layernorm-2d": (
        lambda: nn.Sequential(nn.Conv1d(2, 3, 3), nn.LayerNorm([3, 6])),
        (2, 8),
        "stacked",
    ),
    "groupnorm-prelu": (
        lambda: nn.Sequential(nn.Conv1d(2, 4, 3), nn.GroupNorm(2, 4), nn.PReLU(4, init=0.1)),
        (2, 8),
        "vmap",
    ),
    "pools-ceil-adaptive-flatten-unflatten": (
        lambda: nn.Sequential(
            nn.Conv2d(2, 3, 3),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.AvgPool2d(2, padding=1, ceil_mode=True, count_include_pad=False),
            nn.AdaptiveMaxPool2d((2, 3)),
            nn.Flatten(),
            nn.Unflatten(1, (3, 6)),
            nn.AdaptiveAvgPool1d(2),
            nn.Flatten(),
            nn.Linear(6, 2),
        ),
        (2, 8, 8),
        "stacked",
    ),
    "shared-linear": (_shared, (4,), "stacked"),
    "non-bn-buffers": (_Counter, (4,), "vmap"),
    "eval-at-stacking": (
        lambda: nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU()).eval(),
        (4,),
        "stacked",
    ),
}


@pytest.mark.parametrize("case", list(ZOO))
def test_float64_population_is_the_plain_models_layer_by_layer(case):
    """Training forward (batch statistics and their running averages), gradients, then eval
    forward, member states and unstack: the K=3 population equals the 3 plain models."""
    factory, shape, mode = ZOO[case]
    models = _models(factory, 3)
    pop = Population.from_models([copy.deepcopy(m) for m in models])
    assert pop.mode == mode
    g = torch.Generator().manual_seed(1)
    for train in (True, False):
        x = torch.randn(3, 5, *shape, dtype=torch.float64, generator=g)
        _assert_population_is_the_models(pop, models, x, train=train)
    for i, m in enumerate(models):
        back = pop.unstack(i).eval()
        assert type(back) is type(m)
        torch.testing.assert_close(back(x[i]), m(x[i]), rtol=1e-12, atol=1e-12)


def test_embedding_without_padding_is_the_plain_models():
    factory = lambda: nn.Sequential(nn.Embedding(6, 2), nn.Flatten(), nn.Linear(6, 1))  # noqa: E731
    models = _models(factory, 3)
    pop = Population.from_models([copy.deepcopy(m) for m in models])
    x = torch.randint(0, 6, (3, 8, 3), generator=torch.Generator().manual_seed(1))
    _assert_population_is_the_models(pop, models, x)


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 40), (3, 32, 32)], ids=["8x8", "1d-40", "32x32"])
def test_resnet_on_every_input_kind_trains_one_step_as_alone(shape):
    """create('resnet') with its defaults: (B, 10) logits, and one SGD step of a K=2
    population gives each model's own step (float64)."""
    models = _models(lambda: create("resnet", input_shape=shape, num_classes=10), 2)
    assert models[0](torch.zeros(3, *shape, dtype=torch.float64)).shape == (3, 10)
    pop = Population.from_models([copy.deepcopy(m) for m in models]).train()
    assert pop.mode == "stacked"
    x = torch.randn(2, 4, *shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    opt = torch.optim.SGD(pop.parameters(), lr=0.1)
    out = pop(x)
    assert out.shape == (2, 4, 10)
    F.cross_entropy(out.flatten(0, 1), y.flatten(), reduction="none").view(2, 4).mean(
        1
    ).sum().backward()
    opt.step()
    for i, m in enumerate(models):
        opt_i = torch.optim.SGD(m.parameters(), lr=0.1)
        F.cross_entropy(m.train()(x[i]), y[i]).backward()
        opt_i.step()
        for n, t in m.state_dict().items():
            torch.testing.assert_close(pop.member_state(i)[n], t, rtol=1e-10, atol=1e-12, msg=n)


@pytest.mark.parametrize(
    "name, shape, kwargs, words",
    [
        ("mlp", (4,), {"depth": -1}, "depth"),
        ("mlp", (4,), {"depth": 2, "width": 0}, "width"),
        ("mlp", (4,), {"hidden": 0}, "hidden"),
        ("mlp", (4,), {"activation": None}, "unknown activation"),
        ("convnet", (1, 8, 8), {"channels": []}, "at least one conv block"),
        ("convnet", (1, 8, 8), {"kernel_size": 0}, "kernel_size"),
        ("resnet", (1, 8, 8), {"widths": []}, "at least one stage"),
        ("resnet", (1, 8, 8), {"blocks": 0}, "blocks"),
        ("resnet", (1, 8, 8), {"widths": (8, 0)}, "widths"),
        ("resnet", (1, 8, 8), {"bias": False}, "no option 'bias'"),
        ("convnet", (1, 2, 8, 8), {}, "needs input_shape"),
    ],
)
def test_create_with_bad_options_is_one_clear_line(name, shape, kwargs, words):
    with pytest.raises(UserError) as err:
        create(name, input_shape=shape, num_classes=3, **kwargs)
    assert words in str(err.value) and "\n" not in str(err.value)
