"""The population engine: a model's result depends only on its own weights and seed."""

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import requires_cuda
from trainlab import rng
from trainlab.errors import UserError
from trainlab.models import create
from trainlab.population import Population, SeededDropout, is_stackable


class Custom(nn.Module):
    """A user module whose forward reshapes: trained through the vmap path."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(64, 16)
        self.drop = nn.Dropout(0.25)
        self.b = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.drop(torch.tanh(self.a(x.view(x.size(0), -1)))))


def _mlp() -> nn.Module:
    return create(
        "mlp", input_shape=(1, 8, 8), num_classes=10, hidden=(16, 16), batch_norm=True, dropout=0.2
    )


def _conv() -> nn.Module:
    return create("convnet", input_shape=(1, 8, 8), num_classes=10)


def _resnet1d() -> nn.Module:
    return create("resnet", input_shape=(1, 40), num_classes=10)


FACTORIES = [_mlp, _conv, _resnet1d, Custom]


def _models(factory, k):
    torch.manual_seed(0)
    return [factory() for _ in range(k)]


@pytest.mark.parametrize("factory", FACTORIES)
def test_member_alone_equals_member_in_population(factory):
    """Model 2 of a population of 5 equals the same model alone: train and eval forward,
    gradients, batch-norm statistics after a step."""
    models = _models(factory, 5)
    seeds = [10, 11, 12, 13, 14]
    big = Population.from_models(models, seeds)
    alone = Population.from_models([copy.deepcopy(models[2])], [12])
    shape = (8,) + ((1, 40) if factory is _resnet1d else (1, 8, 8))
    x = torch.randn(5, *shape)
    for pop in (big, alone):
        pop.train()
        pop.set_step(7)
    y_big, y_alone = big(x), alone(x[2:3])
    torch.testing.assert_close(y_big[2], y_alone[0], rtol=1e-5, atol=1e-5)
    y_big.square().sum().backward()
    y_alone.square().sum().backward()
    for (n, p), (_, q) in zip(
        big.net.named_parameters(), alone.net.named_parameters(), strict=True
    ):
        torch.testing.assert_close(p.grad[2], q.grad[0], rtol=1e-4, atol=1e-5, msg=n)
    for n, t in big.member_state(2).items():
        torch.testing.assert_close(t, alone.member_state(0)[n], msg=n)
    big.eval(), alone.eval()
    torch.testing.assert_close(big(x)[2], alone(x[2:3])[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("factory", FACTORIES)
def test_unstack_gives_back_the_plain_model(factory):
    models = _models(factory, 3)
    pop = Population.from_models(models)
    shape = (4,) + ((1, 40) if factory is _resnet1d else (1, 8, 8))
    x = torch.randn(*shape)
    pop.eval()
    for i, m in enumerate(models):
        m.eval()
        torch.testing.assert_close(pop(x.expand(3, *x.shape))[i], m(x), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(pop.unstack(i).eval()(x), m(x), rtol=1e-5, atol=1e-5)


def test_paths():
    assert is_stackable(_mlp()) and is_stackable(_conv()) and is_stackable(_resnet1d())
    assert not is_stackable(Custom())
    assert Population(_mlp(), 2).mode == "stacked"
    assert Population(Custom(), 2).mode == "vmap"
    pop = Population(_mlp(), 3)
    assert {n: tuple(t.shape) for n, t in pop.member_state(0).items()} == {
        n: tuple(t.shape) for n, t in _mlp().state_dict().items()
    }


def test_dropout_masks_come_from_the_models_own_stream():
    """Inverted dropout: kept units scaled by 1/(1-p); masks differ by seed, step and call
    since set_step, repeat for the same (seed, step, call), and a model's mask does not depend
    on its neighbours."""
    drop = SeededDropout(0.5, site=rng.seed_key("d"), k=3)
    drop.seed.copy_(torch.tensor([1, 2, 3]))
    drop.step = 4
    x = torch.ones(3, 1000)
    y = drop(x)
    assert set(y.unique().tolist()) == {0.0, 2.0}
    assert abs((y == 0).float().mean().item() - 0.5) < 0.05
    assert not torch.equal(y[0], y[1])
    second = drop(x)  # a second call in the same step draws a fresh mask, as torch does
    assert not torch.equal(second, y)
    drop.calls = 0  # what set_step does
    torch.testing.assert_close(drop(x), y)
    torch.testing.assert_close(drop(x), second)
    drop.step, drop.calls = 5, 0
    assert not torch.equal(drop(x), y)
    one = SeededDropout(0.5, site=rng.seed_key("d"), k=1)
    one.seed.fill_(2)
    one.step = 4
    torch.testing.assert_close(one(x[:1])[0], y[1])
    drop.eval()
    assert torch.equal(drop(x), x)


def test_per_model_dropout_rate():
    pop = Population(_mlp(), 3)
    pop.set_dropout_p(torch.tensor([0.0, 0.5, 0.9]))
    pop.train()
    pop.set_step(1)
    with pytest.raises(UserError, match="dropout probability"):
        pop.set_dropout_p(torch.tensor([0.0, 1.0, 0.2]))


def test_nan_in_one_model_leaves_the_others_untouched():
    models = _models(_mlp, 4)
    pop = Population.from_models(models)
    with torch.no_grad():
        pop.net.fc1.weight[1].fill_(float("nan"))
    x = torch.randn(4, 6, 1, 8, 8)
    pop.train()
    out = pop(x)
    assert torch.isnan(out[1]).all()
    assert torch.isfinite(out[[0, 2, 3]]).all()
    F.cross_entropy(out.flatten(0, 1), torch.zeros(24, dtype=torch.long)).backward()
    assert torch.isfinite(pop.net.fc1.weight.grad[[0, 2, 3]]).all()


def test_frozen_models_keep_batchnorm_statistics():
    pop = Population(_mlp(), 2)
    before = pop.net.bn1.running_mean.clone()
    pop.set_frozen(torch.tensor([True, False]))
    pop.train()
    pop(torch.randn(2, 16, 1, 8, 8) + 3)
    assert torch.equal(pop.net.bn1.running_mean[0], before[0])
    assert not torch.equal(pop.net.bn1.running_mean[1], before[1])


@requires_cuda
def test_cuda_matches_cpu():
    models = _models(_mlp, 3)
    cpu = Population.from_models(models)
    gpu = Population.from_models(models).cuda()
    x = torch.randn(3, 5, 1, 8, 8)
    for pop in (cpu, gpu):
        pop.train()
        pop.set_step(2)
    torch.testing.assert_close(gpu(x.cuda()).cpu(), cpu(x), rtol=1e-4, atol=1e-4)


def test_bad_inputs():
    with pytest.raises(UserError, match="at least one model"):
        Population(_mlp(), 0)
    with pytest.raises(UserError, match="seeds"):
        Population(_mlp(), 2, seeds=[1, 2, 3])
    pop = Population(_mlp(), 2)
    bad = _mlp().state_dict()
    bad["fc1.weight"] = torch.zeros(3, 3)
    with pytest.raises(UserError, match="shape mismatch"):
        pop.load_member(0, bad)


# ----------------------------------------------------------------------------- every dropout kind


class _Channels(nn.Module):
    """A non-Sequential module (vmap path) with channel-wise dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.drop = nn.Dropout2d(0.5)
        self.out = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(torch.relu(self.conv(x))).flatten(1))


DROPOUT_NETS = {
    "dropout1d": lambda: nn.Sequential(
        nn.Conv1d(1, 4, 3, padding=1), nn.Dropout1d(0.5), nn.Flatten(), nn.Linear(160, 10)
    ),
    "dropout2d": lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.Dropout2d(0.5), nn.Flatten(), nn.Linear(256, 10)
    ),
    "alpha": lambda: nn.Sequential(
        nn.Flatten(), nn.Linear(64, 32), nn.SELU(), nn.AlphaDropout(0.3), nn.Linear(32, 10)
    ),
    "feature_alpha": lambda: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.SELU(),
        nn.FeatureAlphaDropout(0.3),
        nn.Flatten(),
        nn.Linear(256, 10),
    ),
    "vmap_dropout2d": _Channels,
}


@pytest.mark.parametrize("name", list(DROPOUT_NETS))
def test_every_torch_dropout_module_is_seeded_per_model(name):
    """Dropout1d/2d, AlphaDropout, FeatureAlphaDropout train in a population (also K=1): masks
    come from the model's own stream, so slot 2 of 3 equals the model alone."""
    models = _models(DROPOUT_NETS[name], 3)
    shape = (6, 1, 40) if name == "dropout1d" else (6, 1, 8, 8)
    x = torch.randn(3, *shape)
    big = Population.from_models(models, [4, 5, 6])
    alone = Population.from_models([copy.deepcopy(models[2])], [6])
    assert big.mode == ("vmap" if name.startswith("vmap") else "stacked")
    for pop in (big, alone):
        pop.train()
        pop.set_step(3)
    y_big, y_alone = big(x), alone(x[2:3])
    torch.testing.assert_close(y_big[2], y_alone[0], rtol=1e-5, atol=1e-6)
    big.set_step(4)
    assert not torch.equal(big(x)[2], y_big[2])  # a new mask each step
    big.eval()
    for i, m in enumerate(models):
        torch.testing.assert_close(big(x)[i], m.eval()(x[i]), rtol=1e-5, atol=1e-6)


def test_channel_dropout_drops_whole_channels_and_alpha_dropout_keeps_selu_statistics():
    drop = SeededDropout(0.5, site=rng.seed_key("c"), k=2, kind="dropout2d")
    drop.seed.copy_(torch.tensor([1, 2]))
    y = drop(torch.ones(2, 64, 3, 5, 5))  # (K, B, C, H, W)
    per_channel = y.flatten(3)
    assert torch.equal(per_channel.amin(-1), per_channel.amax(-1))  # one value per channel
    assert set(y.unique().tolist()) == {0.0, 2.0}
    alpha = SeededDropout(0.2, site=rng.seed_key("a"), kind="alpha")
    alpha.seed.fill_(3)
    x = torch.randn(200_000)
    out = alpha(x)
    assert abs(float(out.mean())) < 0.02 and abs(float(out.var()) - 1.0) < 0.02
    a = (1.0 / ((1.7580993408473766**2 * 0.2 + 1) * 0.8)) ** 0.5
    dropped = out[(out - (-1.7580993408473766 * a * 0.8)).abs() < 1e-6]
    assert abs(dropped.numel() / x.numel() - 0.2) < 0.01  # torch's alpha_dropout value a·α'(p-1)


class _FunctionalDropout(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(F.dropout(x.flatten(1), 0.3, self.training))


def test_functional_dropout_in_forward_is_a_clear_error():
    pop = Population(_FunctionalDropout(), 1)
    pop.train()
    with pytest.raises(UserError, match=r"F\.dropout.*use dropout modules \(nn\.Dropout"):
        pop(torch.randn(1, 4, 1, 8, 8))
    pop.eval()
    assert pop(torch.randn(1, 4, 1, 8, 8)).shape == (1, 4, 10)  # no random draws in eval


def test_unstack_gives_a_plain_torch_module():
    """Plain nn.Dropout at the member's rate (a new mask each call), plain state_dict keys that
    load into a freshly built model."""
    pop = Population(create("mlp", input_shape=(1, 8, 8), num_classes=10, hidden=(32,),
                            dropout=0.5), 2)  # fmt: skip
    pop.set_dropout_p(torch.tensor([0.5, 0.25]))
    m = pop.unstack(1)
    assert type(m.drop1) is nn.Dropout and m.drop1.p == 0.25
    assert not any(isinstance(mod, SeededDropout) for mod in m.modules())
    fresh = create("mlp", input_shape=(1, 8, 8), num_classes=10, hidden=(32,), dropout=0.5)
    assert list(m.state_dict()) == list(fresh.state_dict())
    fresh.load_state_dict(m.state_dict())
    m.train()
    x = torch.randn(16, 1, 8, 8)
    assert not torch.equal(m(x), m(x))  # the mask changes from call to call
    chans = Population(DROPOUT_NETS["dropout2d"](), 2).unstack(0)
    assert type(chans[1]) is nn.Dropout2d and list(chans.state_dict()) == list(
        DROPOUT_NETS["dropout2d"]().state_dict()
    )


def test_dropout_rate_for_a_model_without_dropout_is_an_error():
    pop = Population(nn.Sequential(nn.Flatten(), nn.Linear(64, 10)), 2)
    pop.set_dropout_p(0.0)  # nothing to set, nothing lost
    with pytest.raises(UserError, match="no dropout layer; add nn.Dropout"):
        pop.set_dropout_p(torch.tensor([0.0, 0.9]))


def test_k_and_index_errors():
    with pytest.raises(UserError, match=r"k \(the number of models\) must be an int"):
        Population(_mlp(), 2.5)
    pop = Population(_mlp(), 3)
    state = _mlp().state_dict()
    with pytest.raises(UserError, match=r"model index 5 is out of range .* of 3; use 0\.\.2"):
        pop.load_member(5, state)
    with pytest.raises(UserError, match="out of range"):
        pop.member_state(-1)
    with pytest.raises(UserError, match="out of range"):
        pop.unstack(3)


def test_trainer_refuses_a_dropout_grid_for_a_model_without_dropout():
    from trainlab.config import parse_config
    from trainlab.train import Trainer

    cfg = parse_config({"population": {"seeds": [0], "grid": {"model.dropout": [0.0, 0.9]}}})
    plain = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    with pytest.raises(UserError, match="no dropout layer"):
        Trainer(cfg, device="cpu", model=plain)
    with_drop = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.Dropout(0.1), nn.Linear(16, 10))
    pop = Trainer(cfg, device="cpu", model=with_drop).pop
    assert pop.net[2].p.tolist() == pytest.approx([0.0, 0.9])


# ------------------------------------------------------------ user modules: sharing, frozen, vmap


class _TiedCustom(nn.Module):
    """A user module (vmap path) whose second Linear shares the first one's weight."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(6, 6)
        self.b = nn.Linear(6, 3)
        self.c = nn.Linear(6, 6)
        self.c.weight = self.a.weight  # weight tying

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.tanh(self.c(torch.tanh(self.a(x)))))


def _tied_sequential() -> nn.Module:
    a, c = nn.Linear(6, 6), nn.Linear(6, 6)
    c.weight = a.weight  # tied weight, separate biases
    return nn.Sequential(a, nn.Tanh(), c, nn.Tanh(), nn.Linear(6, 3))


def _shared_sequential() -> nn.Module:
    a = nn.Linear(6, 6)
    return nn.Sequential(a, nn.Tanh(), a, nn.Tanh(), nn.Linear(6, 3))  # one module used twice


def _frozen_sequential() -> nn.Module:
    m = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 3))
    m[0].requires_grad_(False)  # a frozen feature extractor
    return m


def _train_alone_and_together(factory, k: int = 3, steps: int = 3):
    """Each model trained alone with torch.optim.SGD, and all of them as one population."""
    models = _models(factory, k)
    g = torch.Generator().manual_seed(1)
    xs = [torch.randn(k, 5, 6, generator=g) for _ in range(steps)]
    pop = Population.from_models(models)
    opt = torch.optim.SGD([p for p in pop.parameters() if p.requires_grad], lr=0.1)
    pop.train()
    for x in xs:
        opt.zero_grad()
        pop(x).square().mean(dim=(1, 2)).sum().backward()  # each model's own mean loss
        opt.step()
    alone = []
    for i, m in enumerate(models):
        m = copy.deepcopy(m)
        opt = torch.optim.SGD([p for p in m.parameters() if p.requires_grad], lr=0.1)
        for x in xs:
            opt.zero_grad()
            m(x[i]).square().mean().backward()
            opt.step()
        alone.append(m)
    return pop, alone


@pytest.mark.parametrize(
    "factory",
    [_TiedCustom, _tied_sequential, _shared_sequential, _frozen_sequential],
    ids=["tied-vmap", "tied-stacked", "shared-module-stacked", "frozen-stacked"],
)
def test_shared_and_frozen_parameters_train_as_alone(factory):
    """Weight tying, a module used twice and requires_grad=False survive stacking: each member
    trains exactly as the same model alone."""
    pop, alone = _train_alone_and_together(factory)
    for i, m in enumerate(alone):
        got = pop.member_state(i)
        assert list(got) == list(m.state_dict())
        for n, t in m.state_dict().items():
            torch.testing.assert_close(got[n], t, rtol=1e-5, atol=1e-6, msg=n)
        back = pop.unstack(i)
        torch.testing.assert_close(back(torch.ones(2, 6)), m(torch.ones(2, 6)))
    frozen = {n for n, p in alone[0].named_parameters() if not p.requires_grad}
    assert frozen == {n for n, p in pop.net.named_parameters() if not p.requires_grad}


def test_tied_parameters_stay_one_tensor_in_the_population():
    for pop in (Population(_TiedCustom(), 2), Population(_tied_sequential(), 2)):
        state = pop.net.state_dict(keep_vars=True)
        first, second = ("a.weight", "c.weight") if pop.mode == "vmap" else ("0.weight", "2.weight")
        assert state[first] is state[second]
    shared = Population(_shared_sequential(), 2)
    assert shared.net[0] is shared.net[2]


class _SharedDropout(nn.Module):
    """A user module (vmap path) that applies one nn.Dropout module at two places."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(6, 6)
        self.drop = nn.Dropout(0.5)
        self.b = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.drop(torch.tanh(self.a(self.drop(x)))))


def test_a_dropout_module_used_twice_is_seeded_per_model():
    shared = nn.Dropout(0.5)
    seq = nn.Sequential(nn.Linear(6, 6), shared, nn.Tanh(), shared, nn.Linear(6, 3))
    for template in (_SharedDropout(), seq):
        big = Population.from_models([copy.deepcopy(template) for _ in range(3)], [4, 5, 6])
        alone = Population.from_models([copy.deepcopy(template)], [6])
        x = torch.randn(3, 8, 6)
        for pop in (big, alone):
            pop.train()
            pop.set_step(3)
        torch.testing.assert_close(big(x)[2], alone(x[2:3])[0])
        back = big.unstack(2)
        drops = [d for _, d in back.named_modules(remove_duplicate=False) if d is not back]
        drops = [d for d in drops if isinstance(d, nn.Dropout | SeededDropout)]
        assert len({id(d) for d in drops}) == 1 and type(drops[0]) is nn.Dropout  # one module


class _LSTMNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(4, 5, batch_first=True)
        self.out = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(x)[0][:, -1])


class _ReadsItem(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) * float(x.abs().max())


class _GRUNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(4, 5, batch_first=True)
        self.out = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(x)[0][:, -1])


class _NormThenItem(nn.Module):
    """Batch norm (running statistics), then a Python read of a tensor's value."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.bn(self.fc(x))
        return h * (2.0 if float(h.detach().abs().max()) > 0 else 1.0)


def _sgd_alone_and_together(factory, x: torch.Tensor, steps: int = 3):
    """K models trained as one population and each alone (SGD), on ``x`` ``(K, B, ...)``."""
    k = x.shape[0]
    models = _models(factory, k)
    pop = Population.from_models(models)
    opt = torch.optim.SGD(pop.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        pop(x).square().mean(dim=(1, 2)).sum().backward()
        opt.step()
    alone = []
    for i, m in enumerate(models):
        m = copy.deepcopy(m)
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(steps):
            opt.zero_grad()
            m(x[i]).square().mean().backward()
            opt.step()
        alone.append(m)
    return pop, alone


@pytest.mark.parametrize("factory", [_LSTMNet, _GRUNet], ids=["lstm", "gru"])
def test_recurrent_models_train_model_by_model(factory):
    """torch.vmap cannot batch nn.LSTM / nn.GRU: such a population runs its models one after
    another (loop mode), each exactly as it trains alone."""
    x = torch.randn(3, 2, 6, 4, generator=torch.Generator().manual_seed(0))
    pop, alone = _sgd_alone_and_together(factory, x)
    assert pop.mode == "loop"
    for i, m in enumerate(alone):
        for n, t in m.state_dict().items():
            torch.testing.assert_close(pop.member_state(i)[n], t, rtol=1e-6, atol=1e-7, msg=n)


def test_a_forward_vmap_refuses_falls_back_to_the_loop_once_without_double_updates():
    """A Python read of a tensor (.item(), float(t)) makes vmap fail mid-forward: the population
    warns, restores the batch-norm statistics the failed attempt touched, and runs the models one
    by one from then on; every member still equals the model trained alone."""
    x = torch.randn(2, 8, 4, generator=torch.Generator().manual_seed(0))
    with pytest.warns(UserWarning, match=r"torch.vmap cannot batch: this population runs its 2"):
        pop, alone = _sgd_alone_and_together(_NormThenItem, x)
    assert pop.mode == "loop"
    for i, m in enumerate(alone):
        for n, t in m.state_dict().items():  # incl. bn.running_mean and num_batches_tracked
            torch.testing.assert_close(pop.member_state(i)[n], t, rtol=1e-6, atol=1e-7, msg=n)


def test_errors_no_mode_can_fix_stay_one_clear_line():
    """Random draws a population cannot seed per model: refused in every mode."""
    with pytest.raises(UserError, match=r"0 \(LSTM, dropout=0.2\) draws its own dropout"):
        Population(nn.Sequential(nn.LSTM(4, 5, num_layers=2, dropout=0.2)), 2)

    class _OwnDropout(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.dropout(self.fc(x), 0.5, training=self.training)

    with pytest.raises(UserError, match="draws random numbers itself"):
        Population(_OwnDropout(), 2).train()(torch.randn(2, 3, 4))


class _LSTMOwnDropout(nn.Module):
    """Loop mode (an LSTM) with a forward that draws from torch's global generator."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.LSTM(4, 5, batch_first=True)
        self.out = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(self.out(self.rnn(x)[0][:, -1]), 0.5, training=self.training)


class _LSTMAttention(nn.Module):
    """Loop mode with nn.MultiheadAttention(dropout > 0), which calls F.dropout inside."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(4, 4, batch_first=True)
        self.att = nn.MultiheadAttention(4, 2, dropout=0.5, batch_first=True)
        self.out = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.rnn(x)[0]
        return self.out(self.att(h, h, h)[0][:, -1])


class _ItemThenOwnDropout(nn.Module):
    """vmap refuses its .item() (fallback to the loop), then it draws dropout masks itself."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x) * float(x.abs().max())
        return F.dropout(h, 0.5, training=self.training)


@pytest.mark.parametrize("factory", [_LSTMOwnDropout, _LSTMAttention, _ItemThenOwnDropout])
def test_the_loop_mode_refuses_a_forward_that_draws_its_own_random_numbers(factory):
    """Loop mode runs no vmap (randomness="error"), so a forward drawing from torch's global
    generator went through silently: each model's masks depended on K and its slot (and on
    whatever drew before), not on its seed. It is refused as under vmap; evaluation, which
    draws nothing, still runs."""
    x = torch.randn(2, 3, 6, 4) if factory is not _ItemThenOwnDropout else torch.randn(2, 3, 4)
    pop = Population(factory(), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the vmap -> loop fallback's warning
        with pytest.raises(UserError, match="draws random numbers itself"):
            pop.train()(x)
        pop.eval()
        with torch.no_grad():
            assert pop(x).shape == (2, x.shape[1], 3)
    assert pop.mode == "loop"


class _GRUNorm(nn.Module):
    """Loop mode with batch-norm statistics."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(4, 4, batch_first=True)
        self.bn = nn.BatchNorm1d(4)
        self.out = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.bn(self.rnn(x)[0][:, -1]))


class _NormCustom(nn.Module):
    """vmap mode with batch-norm statistics."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.bn(self.fc(x)))


@pytest.mark.parametrize(
    "factory, shape, mode",
    [
        (lambda: nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4)), (3, 5, 4), "stacked"),
        (_NormCustom, (3, 5, 4), "vmap"),
        (_GRUNorm, (3, 5, 6, 4), "loop"),
        (_NormThenItem, (3, 5, 4), "loop"),  # vmap, then the fallback
    ],
    ids=["stacked", "vmap", "loop", "vmap-to-loop"],
)
def test_frozen_models_keep_their_statistics_in_every_mode(factory, shape, mode):
    """``set_frozen`` (the trainer's early-stopped models): a training forward leaves those
    models' running statistics as they were and updates the others' as alone. The vmap and
    loop modes ignored it: an early-stopped model's statistics kept moving with the batches the
    others trained on, so it did not end as it would have alone."""
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    models = _models(factory, 3)
    pop = Population.from_models(models).train()
    pop.set_frozen(torch.tensor([True, False, True]))
    before = [pop.member_state(i) for i in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the vmap -> loop fallback's warning
        pop(x)
    assert pop.mode == mode
    for i in (0, 2):
        for n, t in before[i].items():
            assert torch.equal(pop.member_state(i)[n], t), (i, n)
    alone = copy.deepcopy(models[1]).train()
    alone(x[1])
    for n, t in alone.state_dict().items():
        torch.testing.assert_close(pop.member_state(1)[n], t, msg=n)
    bn = "1." if mode == "stacked" else "bn."
    assert not torch.equal(pop.member_state(1)[bn + "running_mean"], before[1][bn + "running_mean"])
    pop.set_frozen(None)  # all train again
    pop(x)
    steps = bn + "num_batches_tracked"
    assert [int(pop.member_state(i)[steps]) for i in range(3)] == [1, 2, 1]


class _SafeScaled(nn.Module):
    """A population-safe block with a parameter of its own (a learned per-feature scale)."""

    population_safe = True

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.gamma = nn.Parameter(torch.linspace(0.5, 1.5, 6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x) * self.gamma


def test_a_container_with_parameters_of_its_own_is_stacked_per_model():
    """The block's own gamma is one per model (vmap path), not one shared by all."""
    assert not is_stackable(nn.Sequential(_SafeScaled(), nn.Linear(6, 3)))
    pop, alone = _train_alone_and_together(lambda: nn.Sequential(_SafeScaled(), nn.Linear(6, 3)))
    assert pop.net.state_dict()["0.gamma"].shape == (3, 6)
    for i, m in enumerate(alone):
        for n, t in m.state_dict().items():
            torch.testing.assert_close(pop.member_state(i)[n], t, rtol=1e-5, atol=1e-6, msg=n)


@pytest.mark.parametrize("counter", [0, 7, 2**40 + 3, 2**63 - 1])
def test_rng_counter_as_int_or_device_tensor_draws_the_same(counter):
    """The step counter is a scalar kernel argument (no host-to-device copy) or a 0-d int64
    tensor: the same streams either way, wrapping int64 arithmetic included."""
    seeds = torch.tensor([0, 5, -3, 2**62])
    site = rng.seed_key("dropout", "fc1")
    as_int = rng.uniform(seeds, counter, site, (4, 3))
    as_tensor = rng.uniform(seeds, torch.tensor(counter), site, (4, 3))
    assert torch.equal(as_int, as_tensor)
    assert torch.equal(
        rng.permutations(seeds, counter, 9), rng.permutations(seeds, torch.tensor(counter), 9)
    )


class _ItemWhenTraining(nn.Module):
    """vmap runs it in evaluation; in training its forward reads a tensor's value."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.fc(x)
        return h * float(h.detach().abs().max()) if self.training else h


def test_the_fallback_to_the_loop_can_come_at_the_first_training_forward():
    """An evaluation forward that vmap runs does not use up the fallback: the first training
    forward that vmap refuses still falls back (with the warning), not a raw vmap error."""
    pop = Population(_ItemWhenTraining(), 2)
    x = torch.randn(2, 3, 4)
    with torch.no_grad():
        pop.eval()(x)
    assert pop.mode == "vmap"
    with pytest.warns(UserWarning, match="one after another"):
        out = pop.train()(x)
    assert pop.mode == "loop" and out.shape == (2, 3, 3)


def test_the_fallback_warning_points_at_the_line_that_called_the_model():
    """The vmap -> loop warning names the caller's file and line, not trainlab's or torch's."""
    pop = Population(_ItemWhenTraining(), 2).train()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pop(torch.randn(2, 3, 4))
    (w,) = [w for w in caught if "one after another" in str(w.message)]
    assert w.filename == __file__


def test_a_one_layer_rnn_with_dropout_is_accepted_since_torch_applies_none():
    """torch drops out between an RNN's layers only: with num_layers=1 ``dropout`` has no
    effect (torch warns so), so a population takes it and trains it model by model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's own "expects num_layers > 1"
        lstm = nn.LSTM(4, 5, num_layers=1, dropout=0.3, batch_first=True)
    pop = Population(nn.Sequential(lstm), 2)
    out, (h, c) = pop.train()(torch.randn(2, 3, 6, 4))  # a tuple output, stacked as by vmap
    assert pop.mode == "loop" and out.shape == (2, 3, 6, 5) and h.shape == c.shape == (2, 1, 3, 5)
