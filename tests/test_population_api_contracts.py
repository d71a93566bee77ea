"""The population's public API: 16-bit and cast populations keep their dropout rates, set_dropout_p
checks its input, from_models compares tying and frozen parameters, BatchNorm momentum=None,
tensor indices, sparse embeddings."""

import copy

import pytest
import torch
from torch import nn

from trainlab.errors import UserError
from trainlab.population import Population


def _drop_seq(p: float = 0.1) -> nn.Module:
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Dropout(p), nn.Linear(5, 3))


class _DropCustom(nn.Module):
    """The same network as a user module (vmap path)."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        self.a = nn.Linear(4, 5)
        self.d = nn.Dropout(p)
        self.b = nn.Linear(5, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.d(torch.relu(self.a(x))))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_a_half_precision_template_with_dropout_trains_in_stacked_mode(dtype):
    """A template built in bfloat16/float16 (``model.to(torch.bfloat16)``) with an nn.Dropout
    must train in a population whatever its mode. The stacked path crashed with "expected
    scalar type BFloat16 but found Float": SeededDropout keeps its rates ``p`` as a float32
    ``(K,)`` buffer and divides by ``(1 - p).view(K, 1, ...)``, which promotes the activations
    to float32, so the next stacked Linear (bf16 weights) fails. The vmap path, where ``p`` is a
    0-d tensor, keeps the dtype (``_DropCustom`` runs); a user only sees that a Sequential
    crashes in half precision where the same network as a custom module does not."""
    torch.manual_seed(0)
    pop = Population(_drop_seq().to(dtype), 2).train()
    assert pop.mode == "stacked"
    pop.set_step(0)
    y = pop(torch.randn(2, 6, 4).to(dtype))
    assert y.dtype == dtype and y.shape == (2, 6, 3)


@pytest.mark.parametrize("factory", [_drop_seq, _DropCustom], ids=["stacked", "vmap"])
def test_casting_a_population_to_bfloat16_keeps_the_dropout_rate(factory):
    """``pop.to(torch.bfloat16)`` casts weights; a dropout rate is a setting, not a weight
    (``nn.Dropout.to(bf16)`` leaves ``p=0.1``). The population stores rates as a floating
    buffer, so the cast rounds 0.1 to 0.10009765625: every member now trains with a different
    rate than configured, and ``unstack(i)`` hands back ``Dropout(p=0.100097656)``, not the
    model that went in."""
    pop = Population(factory(0.1), 2).to(torch.bfloat16)
    back = pop.unstack(0)
    drops = [m for m in back.modules() if isinstance(m, nn.Dropout)]
    assert [d.p for d in drops] == [0.1]


def test_set_dropout_p_refuses_nan():
    """``set_dropout_p`` promises a clear error for rates outside [0, 1). Its check
    ``(p < 0) | (p >= 1)`` is False for NaN, so a NaN rate (a failed computation in a sweep
    grid) is accepted silently, every training output turns NaN, and ``unstack`` returns
    ``Dropout(p=nan)``."""
    pop = Population(_drop_seq(), 2)
    with pytest.raises(UserError, match="dropout probability"):
        pop.set_dropout_p(float("nan"))


@pytest.mark.parametrize(
    "p", [[0.1, 0.2], torch.tensor([[0.1], [0.2], [0.3]])], ids=["too-short", "column"]
)
def test_set_dropout_p_with_the_wrong_number_of_rates_is_a_user_error(p):
    """``set_dropout_p`` takes a float or ``(K,)`` rates. Two rates for three models (or a
    ``(K, 1)`` column) is a user's mistake that must be refused with a UserError naming K, as
    every other input of the public API is (house style: public functions validate inputs);
    instead torch's raw ``expand`` RuntimeError ("The expanded size of the tensor (3) must
    match ...") escapes, which the CLI shows as a traceback."""
    pop = Population(_drop_seq(), 3)
    with pytest.raises(UserError):
        pop.set_dropout_p(p)


class _Tied(nn.Module):
    def __init__(self, tie: bool) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.c = nn.Linear(4, 4)
        if tie:
            self.c.weight = self.a.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c(torch.tanh(self.a(x)))


@pytest.mark.parametrize("first_tied", [True, False], ids=["tied-then-untied", "untied-then-tied"])
def test_from_models_refuses_or_keeps_models_that_differ_in_weight_tying(first_tied):
    """``from_models`` promises each model keeps its weights, and that models differing in
    anything but weights and dropout rates are refused. Tying is not checked: with model 0
    tied (``c.weight = a.weight``) and model 1 untied, model 1's ``a.weight`` is silently
    overwritten by its ``c.weight`` (both keys load into one stacked tensor), so
    ``unstack(1)`` computes something else than model 1; the other way round, model 1 comes
    back untied and would train its two copies apart. Either refuse (UserError) or give
    every model back as it was."""
    torch.manual_seed(0)
    models = [_Tied(first_tied), _Tied(not first_tied)]
    try:
        pop = Population.from_models(models)
    except UserError:
        return
    x = torch.randn(5, 4)
    for i, m in enumerate(models):
        back = pop.unstack(i)
        torch.testing.assert_close(back(x), m(x))
        tied_back, tied_model = back.a.weight is back.c.weight, m.a.weight is m.c.weight
        assert tied_back == tied_model, f"model {i}: tied {tied_model}, unstacked tied {tied_back}"


def test_from_models_refuses_or_keeps_models_that_differ_in_frozen_parameters():
    """A frozen parameter (``requires_grad=False``) is part of a model's setup, and the
    population promises freezing survives. ``from_models`` takes the flags of model 0 only:
    model 1's frozen feature layer is silently made trainable (or model 0's freezing is
    imposed on model 1), and ``unstack(1)`` gives a model whose flags differ from the one
    passed in. A population cannot freeze a parameter for one member only, so this must be
    refused with a UserError (or the flags kept)."""
    a = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 3))
    b = copy.deepcopy(a)
    b[0].requires_grad_(False)  # model 1: a frozen feature extractor
    try:
        pop = Population.from_models([a, b])
    except UserError:
        return
    for i, m in enumerate((a, b)):
        got = {n: p.requires_grad for n, p in pop.unstack(i).named_parameters()}
        assert got == {n: p.requires_grad for n, p in m.named_parameters()}, i


def test_batchnorm_without_running_stats_needs_no_momentum():
    """``momentum`` is only used to update running statistics; with
    ``track_running_stats=False`` torch ignores it, and ``BatchNorm1d(momentum=None,
    track_running_stats=False)`` is a common way to write "always batch statistics". The
    stacked batch norm refuses it anyway ("momentum=None is not supported ... set a
    momentum"), an error about a setting that has no effect."""
    torch.manual_seed(0)
    models = [
        nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, momentum=None, track_running_stats=False))
        for _ in range(2)
    ]
    pop = Population.from_models(models).train()
    x = torch.randn(2, 6, 4)
    torch.testing.assert_close(pop(x), torch.stack([m(x[i]) for i, m in enumerate(models)]))


def test_a_tensor_model_index_is_taken_or_refused_truthfully():
    """Picking the best member is ``pop.unstack(acc.argmax())`` — a 0-d integer tensor. It is
    refused with "model index tensor(1) is out of range for a population of 3; use 0..2", a
    message that contradicts itself (1 is in 0..2) and sends the user looking for the wrong
    problem. A 0-d integer tensor should be taken like an int (numpy ints are), or refused
    with a message that says what is wrong."""
    torch.manual_seed(0)
    models = [nn.Sequential(nn.Linear(4, 3)) for _ in range(3)]
    pop = Population.from_models(models)
    try:
        back = pop.unstack(torch.tensor(1))
    except UserError as err:
        assert "out of range" not in str(err), str(err)
        return
    x = torch.randn(2, 4)
    torch.testing.assert_close(back(x), models[1](x))


class _SparseEmb(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.e = nn.Embedding(10, 4, sparse=True)
        self.o = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.o(self.e(x).mean(1))


def test_a_sparse_embedding_trains_or_is_refused_clearly():
    """``nn.Embedding(sparse=True)`` is a plain torch layer that trains with SGD. In a
    population the backward crashes deep inside autograd with "reshape is not implemented
    for sparse tensors" — a traceback after the model was accepted. Either the gradients
    must equal each model's own, or the population must refuse the layer up front with a
    UserError naming it."""
    torch.manual_seed(0)
    models = [_SparseEmb() for _ in range(2)]
    try:
        pop = Population.from_models(models)
    except UserError:
        return
    x = torch.randint(0, 10, (2, 3, 5))
    pop(x).sum().backward()
    for i, m in enumerate(models):
        m(x[i]).sum().backward()
        torch.testing.assert_close(pop.net.e.weight.grad.to_dense()[i], m.e.weight.grad.to_dense())


def test_a_cumulative_average_batch_norm_runs_outside_the_stacked_mode():
    """``BatchNorm1d(momentum=None)`` (a cumulative running average) has no stacked twin, but
    the vmap/loop modes run it as torch does: the population must train it and match K plain
    models (it was refused, although a mode could run it)."""
    torch.manual_seed(0)
    models = [nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5, momentum=None)) for _ in range(2)]
    pop = Population.from_models([copy.deepcopy(m) for m in models]).train()
    assert pop.mode != "stacked"
    x = torch.randn(2, 6, 4)
    for step in range(3):
        if step == 0:  # torch's cumulative average reads a count in Python: the loop mode
            with pytest.warns(UserWarning, match="one after another"):
                out = pop(x)
        else:
            out = pop(x)
        for i, m in enumerate(models):
            torch.testing.assert_close(out[i], m.train()(x[i]))
    for i, m in enumerate(models):
        for n, t in m.state_dict().items():
            torch.testing.assert_close(pop.member_state(i)[n], t, msg=n)
