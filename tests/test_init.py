"""trainlab.init: formulas, exact agreement with torch.nn.init, fans, gains, LSUV, errors."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn

from trainlab import init
from trainlab.errors import UserError
from trainlab.models import create


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_list_schemes() -> None:
    names = {n for n, _ in init.list_schemes()}
    assert names == {
        "default", "zeros", "constant", "normal", "uniform", "xavier_normal", "xavier_uniform",
        "he_normal", "he_uniform", "orthogonal", "lsuv", "keep",
    }  # fmt: skip


def test_fans_linear_conv1d_conv2d() -> None:
    assert init.fans(nn.Linear(7, 3)) == (7, 3)
    assert init.fans(nn.Conv1d(4, 6, 5)) == (4 * 5, 6 * 5)
    assert init.fans(nn.Conv2d(3, 8, (3, 5))) == (3 * 15, 8 * 15)
    assert init.fans(torch.empty(10, 20)) == (20, 10)
    with pytest.raises(UserError, match="at least 2 dims"):
        init.fans(torch.empty(5))


def test_gain() -> None:
    assert init.gain("relu") == pytest.approx(math.sqrt(2))
    assert init.gain("tanh") == pytest.approx(5 / 3)
    assert init.gain("linear") == init.gain("identity") == init.gain("sigmoid") == 1
    assert init.gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(UserError, match=r"unknown nonlinearity 'rellu' \(did you mean 'relu'"):
        init.gain("rellu")


# (our scheme, our kwargs, the torch.nn.init call that must give the identical tensor)
TORCH_EQUIV = [
    ("default", {}, lambda w, g: nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=g)),
    ("normal", {"std": 0.3, "mean": 0.1}, lambda w, g: nn.init.normal_(w, 0.1, 0.3, generator=g)),
    ("uniform", {"a": 0.2}, lambda w, g: nn.init.uniform_(w, -0.2, 0.2, generator=g)),
    ("xavier_uniform", {}, lambda w, g: nn.init.xavier_uniform_(w, generator=g)),
    ("xavier_normal", {"gain": 2.0}, lambda w, g: nn.init.xavier_normal_(w, 2.0, generator=g)),
    (
        "he_normal",
        {},
        lambda w, g: nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu", generator=g),
    ),
    (
        "he_uniform",
        {"mode": "fan_out"},
        lambda w, g: nn.init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", generator=g),
    ),
    (
        "he_normal",
        {"nonlinearity": "leaky_relu", "negative_slope": 0.2},
        lambda w, g: nn.init.kaiming_normal_(w, a=0.2, nonlinearity="leaky_relu", generator=g),
    ),
    (
        "he_uniform",
        {"nonlinearity": "tanh"},
        lambda w, g: nn.init.kaiming_uniform_(w, nonlinearity="tanh", generator=g),
    ),
    ("orthogonal", {"gain": 1.5}, lambda w, g: nn.init.orthogonal_(w, 1.5, generator=g)),
]


@pytest.mark.parametrize(("scheme", "kwargs", "reference"), TORCH_EQUIV)
@pytest.mark.parametrize("shape", [(30, 20), (8, 3, 5), (6, 4, 3, 3)])
def test_identical_to_torch_nn_init(scheme, kwargs, reference, shape) -> None:
    ours = init.init_tensor(torch.empty(shape), scheme, generator=gen(7), **kwargs)
    theirs = reference(torch.empty(shape), gen(7))
    assert torch.equal(ours, theirs)


def test_default_matches_pytorch_layer_default_with_global_seed() -> None:
    torch.manual_seed(11)
    layer = nn.Linear(50, 20)
    fresh = nn.Linear(50, 20)
    torch.manual_seed(11)
    init.apply(fresh, "default")  # generator=None: torch's global RNG
    # nn.Linear draws its weight first, so the weights agree; our bias is the constant 0
    assert torch.equal(layer.weight, fresh.weight)
    assert torch.equal(fresh.bias, torch.zeros(20))


LARGE = (1000, 2000)  # fan_in 2000, fan_out 1000: 2e6 entries, std estimate to ~0.1%


@pytest.mark.parametrize(
    ("scheme", "kwargs", "std", "bound"),
    [
        ("default", {}, 1 / math.sqrt(3 * 2000), 1 / math.sqrt(2000)),
        ("normal", {"std": 0.01}, 0.01, None),
        ("normal", {"std": 1.0}, 1.0, None),
        ("uniform", {"a": 0.5}, 0.5 / math.sqrt(3), 0.5),
        ("xavier_normal", {}, math.sqrt(2 / 3000), None),
        ("xavier_uniform", {}, math.sqrt(2 / 3000), math.sqrt(6 / 3000)),
        ("he_normal", {}, math.sqrt(2 / 2000), None),
        ("he_normal", {"mode": "fan_out"}, math.sqrt(2 / 1000), None),
        ("he_uniform", {}, math.sqrt(2 / 2000), math.sqrt(6 / 2000)),
        (
            "he_uniform",
            {"nonlinearity": "leaky_relu", "negative_slope": 0.3},
            math.sqrt(2 / 1.09 / 2000),
            math.sqrt(3 * 2 / 1.09 / 2000),
        ),
        ("he_normal", {"nonlinearity": "tanh"}, (5 / 3) / math.sqrt(2000), None),
    ],
)
def test_empirical_moments_match_formula(scheme, kwargs, std, bound) -> None:
    w = init.init_tensor(torch.empty(LARGE), scheme, generator=gen(1), **kwargs)
    assert init.expected_std(scheme, w, **kwargs) == pytest.approx(std, rel=1e-12)
    assert abs(float(w.mean())) < 4 * std / math.sqrt(w.numel())
    assert float(w.std()) == pytest.approx(std, rel=0.005)
    if bound is not None:
        assert float(w.abs().max()) <= bound
        assert float(w.abs().max()) > 0.999 * bound
    else:  # Gaussian: a 2e6 sample reaches past 4.5 sigma
        assert float(w.abs().max()) > 4.5 * std


def test_zeros_constant_and_orthogonal() -> None:
    assert torch.equal(init.init_tensor(torch.ones(5, 4), "zeros"), torch.zeros(5, 4))
    assert torch.equal(
        init.init_tensor(torch.ones(5, 4), "constant", value=0.3), torch.full((5, 4), 0.3)
    )
    q = init.init_tensor(torch.empty(64, 128), "orthogonal", generator=gen(2), gain=2.0)
    torch.testing.assert_close(q @ q.T, 4.0 * torch.eye(64), atol=1e-4, rtol=0)
    c = init.init_tensor(torch.empty(16, 4, 3, 3), "orthogonal", generator=gen(2))
    flat = c.reshape(16, -1)
    torch.testing.assert_close(flat @ flat.T, torch.eye(16), atol=1e-4, rtol=0)


def test_apply_covers_every_layer_sets_biases_and_resets_batch_norm() -> None:
    m = create("convnet", input_shape=(1, 8, 8), num_classes=10, channels=(4, 6), batch_norm=True)
    with torch.no_grad():
        m.bn1.weight.fill_(3.0)
        m.bn1.bias.fill_(2.0)
        m.bn1.running_mean.fill_(5.0)
    out = init.apply(m, "he_normal", bias=0.01, generator=gen(0))
    assert out is m
    assert m.conv1.bias is None and m.conv2.bias is None  # BN follows: no bias
    assert torch.equal(m.out.bias, torch.full_like(m.out.bias, 0.01))
    plain = create("convnet", input_shape=(1, 8, 8), num_classes=10, channels=(4, 6))
    init.apply(plain, "he_normal", bias=0.01, generator=gen(0))
    for layer in (plain.conv1, plain.conv2, plain.out):
        assert torch.equal(layer.bias, torch.full_like(layer.bias, 0.01))
    assert torch.equal(m.bn1.weight, torch.ones(4)) and torch.equal(m.bn1.bias, torch.zeros(4))
    assert torch.equal(m.bn1.running_mean, torch.zeros(4))
    # draws in modules() order from the one generator
    g = gen(0)
    expected = [init.init_tensor(torch.empty_like(x.weight), "he_normal", generator=g)
                for x in (m.conv1, m.conv2, m.out)]  # fmt: skip
    for layer, w in zip((m.conv1, m.conv2, m.out), expected, strict=True):
        assert torch.equal(layer.weight, w)


def test_same_seed_same_weights_different_seed_different() -> None:
    def weights(seed: int) -> list[torch.Tensor]:
        m = create("mlp", input_shape=(10,), num_classes=3, hidden=(8, 8))
        init.apply(m, "xavier_uniform", generator=gen(seed))
        return [p.detach().clone() for p in m.parameters()]

    a, b, c = weights(5), weights(5), weights(6)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])


def test_keep_changes_nothing() -> None:
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    before = [p.detach().clone() for p in m.parameters()]
    init.apply(m, "keep")
    assert all(torch.equal(x, y) for x, y in zip(before, m.parameters(), strict=True))
    with pytest.raises(UserError, match="keep.*bias"):  # a bias it would not apply: said
        init.apply(m, "keep", bias=0.5)
    assert all(torch.equal(x, y) for x, y in zip(before, m.parameters(), strict=True))


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_lsuv_gives_unit_variance_per_layer(activation: str) -> None:
    torch.manual_seed(0)
    data = torch.randn(256, 1, 8, 8) * 3.0 + 1.0
    m = create(
        "mlp", input_shape=(1, 8, 8), num_classes=10, depth=6, width=64, activation=activation
    )
    init.apply(m, "lsuv", generator=gen(3), data=data, tol=0.02, bias=0.01)
    outputs: list[torch.Tensor] = []
    hooks = [l.register_forward_hook(lambda _m, _i, o: outputs.append(o)) for l in m.modules()
             if isinstance(l, nn.Linear)]  # fmt: skip
    with torch.no_grad():
        m(data)
    for h in hooks:
        h.remove()
    assert len(outputs) == 7
    for out in outputs:
        assert abs(float(out.var()) - 1.0) < 0.02
    # without LSUV's rescaling (plain orthogonal) the first layer's variance is far from 1
    plain = init.apply(
        create("mlp", input_shape=(1, 8, 8), num_classes=10, depth=6, width=64),
        "orthogonal",
        generator=gen(3),
    )
    with torch.no_grad():
        assert abs(float(plain.fc1(plain.flatten(data)).var()) - 1.0) > 0.5


def test_lsuv_on_conv_net_and_mode_restored() -> None:
    torch.manual_seed(0)
    data = torch.randn(64, 1, 40) * 5
    m = create("convnet", input_shape=(1, 40), num_classes=10, channels=(8, 8), dropout=0.5)
    m.train()
    variances = init.lsuv_(init.apply(m, "orthogonal", generator=gen(0)), data, tol=0.05)
    assert len(variances) == 3 and all(abs(v - 1) < 0.05 for v in variances)
    assert m.training and m.drop.training


def test_errors_name_the_fix() -> None:
    m = nn.Linear(3, 2)
    with pytest.raises(UserError, match=r"unknown init scheme 'xavier' \(did you mean 'xavier_"):
        init.apply(m, "xavier")
    with pytest.raises(UserError, match=r"no option 'gian' \(did you mean 'gain'\?\)"):
        init.apply(m, "xavier_uniform", gian=2.0)
    with pytest.raises(UserError, match="its options are: std, mean"):
        init.apply(m, "normal", sd=1.0)
    with pytest.raises(UserError, match="needs a data batch"):
        init.apply(m, "lsuv")
    with pytest.raises(UserError, match=r"unknown fan mode 'fanin'"):
        init.apply(m, "he_normal", mode="fanin")
    with pytest.raises(UserError, match=r"unknown nonlinearity"):
        init.apply(m, "he_uniform", nonlinearity="swish")
    with pytest.raises(UserError, match="no Linear or Conv layer"):
        init.apply(nn.Sequential(nn.ReLU()), "zeros")
    with pytest.raises(UserError, match="std >= 0"):
        init.apply(m, "normal", std=-1.0)


def test_numeric_options_must_be_numbers() -> None:
    m = nn.Linear(3, 2)
    with pytest.raises(UserError, match=r"'gain' must be a number, got 'relu'.*pass gain=1\.41421"):
        init.apply(m, "xavier_normal", gain="relu")
    with pytest.raises(UserError, match="'std' must be a number, got True"):
        init.apply(m, "normal", std=True)
    init.apply(m, "normal", std="1e-2", generator=gen(0))  # YAML reads 1e-2 as a string
    expected = init.init_tensor(torch.empty(2, 3), "normal", generator=gen(0), std=0.01)
    assert torch.equal(m.weight, expected)


def test_keep_member_starts_from_the_users_weights_whatever_its_slot() -> None:
    """A 'keep' model after a re-initialized one gets the user's weights, as it does alone."""
    from trainlab.config import parse_config
    from trainlab.train import Trainer

    torch.manual_seed(0)
    user = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    variants = [{"init.scheme": "he_normal"}, {"init.scheme": "keep"}]
    both = parse_config({"population": {"seeds": [0], "variants": variants}})
    pop = Trainer(both, device="cpu", model=user).pop
    alone = Trainer(parse_config({"init": {"scheme": "keep"}}), device="cpu", model=user).pop
    for n, t in user.state_dict().items():
        assert torch.equal(alone.member_state(0)[n], t), n
        assert torch.equal(pop.member_state(1)[n], t), n
    assert not torch.equal(pop.member_state(0)["1.weight"], user.state_dict()["1.weight"])


def test_lsuv_makes_at_most_max_iter_rescalings_and_returns_the_final_variance() -> None:
    """``max_iter`` rescalings, not ``max_iter + 1``; the returned variance is the layer's."""
    torch.manual_seed(0)
    data = torch.randn(64, 10)
    for max_iter in (1, 2, 3):
        layer = nn.Linear(10, 10)
        init.apply(layer, "orthogonal", generator=gen(0))
        with torch.no_grad():
            layer.weight.mul_(100.0)
        rescalings = []
        div = layer.weight.div_

        def counting_div(*args, div=div, rescalings=rescalings, **kwargs):
            rescalings.append(1)
            return div(*args, **kwargs)

        layer.weight.div_ = counting_div  # type: ignore[method-assign]
        # tol too small to ever be met: every allowed rescaling is made (and a warning says so)
        with pytest.warns(UserWarning, match="not within tol=1e-12"):
            (v,) = init.lsuv_(layer, data, tol=1e-12, max_iter=max_iter)
        del layer.weight.div_
        assert len(rescalings) == max_iter
        with torch.no_grad():
            assert v == pytest.approx(float(layer(data).var()), rel=1e-6)


class _Custom(nn.Module):
    """A user's module: layers trainlab.init knows (Linear, LayerNorm) and ones it does not."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.scale = nn.Parameter(torch.ones(8))
        self.rnn = nn.GRU(8, 8)
        self.ln = nn.LayerNorm(8)
        self.fc = nn.Linear(8, 3)


def test_apply_reports_the_parameters_it_leaves_unchanged() -> None:
    m = _Custom()
    expected = ["scale", "emb.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0",
                "rnn.bias_hh_l0"]  # fmt: skip
    assert init.skipped_parameters(m) == expected
    before = {n: p.detach().clone() for n, p in m.named_parameters()}
    with pytest.warns(UserWarning, match=r"left 6 parameters unchanged.*: scale, emb\.weight, rnn"):
        init.apply(m, "he_normal", generator=gen(0))
    for name in expected:
        assert torch.equal(before[name], dict(m.named_parameters())[name]), name
    # a model whose every parameter is covered: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mlp = create("mlp", input_shape=(4,), num_classes=3, hidden=(8,), batch_norm=True)
        assert init.skipped_parameters(mlp) == []
        init.apply(mlp, "xavier_uniform", generator=gen(0))
        init.apply(create("resnet", input_shape=(1, 8, 8), num_classes=3), "he_normal")


@pytest.mark.skipif(not hasattr(nn, "RMSNorm"), reason="torch without nn.RMSNorm")
def test_apply_resets_every_norm_layer_like_layer_norm() -> None:
    m = nn.Sequential(nn.Linear(4, 4), nn.RMSNorm(4), nn.GroupNorm(2, 4), nn.LayerNorm(4))
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(3.0)
    init.apply(m, "he_normal", generator=gen(0))
    assert torch.equal(m[1].weight, torch.ones(4))
    assert torch.equal(m[2].weight, torch.ones(4)) and torch.equal(m[2].bias, torch.zeros(4))
    assert torch.equal(m[3].weight, torch.ones(4)) and torch.equal(m[3].bias, torch.zeros(4))


def test_apply_initializes_parametrized_weights() -> None:
    """weight_norm/spectral_norm parametrizations: the scheme reaches the layer's weight."""
    from torch.nn.utils import parametrizations

    wn = parametrizations.weight_norm(nn.Linear(50, 40))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.apply(wn, "he_normal", bias=0.01, generator=gen(4))
    expected = init.init_tensor(torch.empty(40, 50), "he_normal", generator=gen(4))
    torch.testing.assert_close(wn.weight, expected, rtol=1e-5, atol=1e-6)
    assert torch.equal(wn.bias, torch.full((40,), 0.01))
    sn = parametrizations.spectral_norm(nn.Linear(50, 40))
    before = sn.parametrizations.weight.original.detach().clone()
    init.apply(sn, "he_normal", generator=gen(4))
    torch.testing.assert_close(sn.parametrizations.weight.original, expected)
    assert not torch.equal(before, sn.parametrizations.weight.original)
    # weight norm of an all-zero weight is 0/0: refused, not a NaN model
    with pytest.raises(UserError, match=r"'zeros' .*_WeightNorm.*NaN"):
        init.apply(parametrizations.weight_norm(nn.Linear(5, 4)), "zeros")
    # LSUV rescales a weight-normed layer too (through its parametrization)
    data = torch.randn(64, 50) * 4
    (v,) = init.lsuv_(parametrizations.weight_norm(nn.Linear(50, 40)), data, tol=0.01)
    assert abs(v - 1.0) < 0.01


def test_apply_leaves_hook_based_weight_norm_alone_and_says_so() -> None:
    """Old hook-based ``weight_norm`` recomputes ``weight`` each forward: writing it is lost."""
    with pytest.warns(FutureWarning):
        layer = nn.utils.weight_norm(nn.Linear(6, 4))
    g_before, v_before = layer.weight_g.detach().clone(), layer.weight_v.detach().clone()
    with pytest.warns(UserWarning, match=r"left 2 parameters unchanged.*weight_g, weight_v"):
        init.apply(layer, "zeros", bias=0.5)
    assert torch.equal(layer.weight_g, g_before) and torch.equal(layer.weight_v, v_before)
    assert torch.equal(layer.bias, torch.full((4,), 0.5))
    with torch.no_grad():
        assert torch.isfinite(layer(torch.randn(3, 6))).all()


def test_lazy_modules_are_a_user_error_naming_the_fix() -> None:
    with pytest.raises(UserError, match=r"uninitialized \(lazy\).*forward pass"):
        init.apply(nn.Sequential(nn.LazyLinear(4)), "he_normal")


@pytest.mark.parametrize(
    ("scheme", "kwargs", "message"),
    [
        ("uniform", {"a": float("nan")}, "'a' must be a finite number"),
        ("normal", {"std": float("inf")}, "'std' must be a finite number"),
        ("normal", {"std": "inf"}, "'std' must be a finite number"),
        ("constant", {"value": float("nan")}, "'value' must be a finite number"),
        ("xavier_normal", {"gain": -1.0}, "gain >= 0"),
        ("xavier_uniform", {"gain": -1.0}, "gain >= 0"),
        ("lsuv", {"max_iter": 2.5, "data": torch.randn(8, 3)}, "'max_iter' must be a whole"),
        ("zeros", {"bias": float("nan")}, "bias init must be a finite number"),
        ("uniform", {"bound": 0.1}, r"no option 'bound'.*U\(-a, a\): give a"),
    ],
)
def test_bad_option_values_are_user_errors(scheme, kwargs, message) -> None:
    with pytest.raises(UserError, match=message):
        init.apply(nn.Linear(3, 2), scheme, generator=gen(0), **kwargs)


def test_gain_rejects_a_bool_slope() -> None:
    with pytest.raises(UserError, match="slope"):
        init.gain("leaky_relu", True)


def test_lsuv_data_of_the_wrong_shape_is_a_user_error() -> None:
    m = create("convnet", input_shape=(1, 8, 8), num_classes=3, channels=(4,))
    with pytest.raises(UserError, match=r"lsuv: the model does not accept .*\(8, 64\)"):
        init.apply(m, "lsuv", generator=gen(0), data=torch.randn(8, 64))


def test_lsuv_warns_naming_the_layer_that_did_not_reach_unit_variance() -> None:
    torch.manual_seed(0)
    m = create("mlp", input_shape=(10,), num_classes=3, hidden=(8,))
    with pytest.warns(UserWarning, match=r"lsuv: layer 'fc1'.*after 1 rescaling"):
        init.apply(m, "lsuv", generator=gen(0), data=torch.randn(32, 10) * 50, tol=1e-9,
                   max_iter=1)  # fmt: skip
    # a dead layer (zero output variance) is named too
    m = create("mlp", input_shape=(4,), num_classes=3, hidden=(8, 8))
    with pytest.warns(UserWarning, match=r"variance is 0") as record:
        init.apply(m, "lsuv", generator=gen(0), data=torch.randn(16, 4), bias=-100.0)
    assert [str(w.message).split()[2] for w in record] == ["'fc2'", "'out'"]


def test_population_member_gets_the_weights_it_gets_alone() -> None:
    """init.scheme / init.std as per-model overrides: model k's starting weights (and BN
    buffers) equal those of the same config and seed trained alone, whatever its slot."""
    from trainlab.config import parse_config
    from trainlab.train import Trainer

    def start(model: dict, init_cfg: dict, population: dict) -> tuple[Trainer, list[dict]]:
        raw = {"model": model, "init": init_cfg, "train": {"epochs": 1}, "population": population}
        t = Trainer(parse_config(raw), device="cpu")
        return t, [t.pop.member_state(i) for i in range(t.k)]

    cases = [
        ({"name": "convnet", "channels": [4, 6], "batch_norm": True}, {"scheme": "xavier_uniform"},
         {"init.scheme": ["lsuv", "he_normal", "orthogonal"]}),
        ({"name": "mlp", "hidden": [8]}, {"scheme": "normal"}, {"init.std": [0.01, 1.0]}),
    ]  # fmt: skip
    for model, init_cfg, grid in cases:
        t, pop = start(model, init_cfg, {"seeds": [0, 1], "grid": grid})
        (key,) = grid
        for i, member in enumerate(t.members):
            alone_init = {**init_cfg, key.split(".")[1]: member.overrides[key]}
            _, (alone,) = start(model, alone_init, {"seeds": [member.seed]})
            for name, tensor in alone.items():
                assert torch.equal(pop[i][name], tensor), (member.overrides, member.seed, name)


def test_lsuv_leaves_batch_norm_running_statistics_alone() -> None:
    torch.manual_seed(0)
    m = create("resnet", input_shape=(1, 8, 8), num_classes=3, widths=(4, 8))
    m.train()
    m(torch.randn(32, 1, 8, 8) * 3 + 1)  # running statistics away from their reset values
    buffers = {n: b.clone() for n, b in m.named_buffers()}
    variances = init.lsuv_(m, torch.randn(64, 1, 8, 8), tol=0.05)
    assert all(abs(v - 1) < 0.05 for v in variances)
    for name, b in m.named_buffers():
        assert torch.equal(b, buffers[name]), name
    assert all(x.training for x in m.modules())


def test_lsuv_lets_an_error_that_is_not_about_shapes_through() -> None:
    """Only shape mismatches become the "does not accept the data batch" UserError; a bug in
    a user's forward keeps its own message and type."""

    class Broken(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("boom in the user's forward")

    with pytest.raises(RuntimeError, match="^boom in the user's forward$"):
        init.apply(Broken(), "lsuv", data=torch.randn(8, 4))
