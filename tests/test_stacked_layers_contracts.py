"""Review of the stacked twins of torch layers (population.py's ``_twin`` and its fallbacks).

Each test builds a population of K=3 from three different plain models and compares every
member with its plain model on an input the plain model accepts (torch as the reference).
"""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainlab.errors import UserError
from trainlab.population import Population

K = 3


def _models(factory, k=K, dtype=torch.float64):
    torch.manual_seed(0)
    return [factory().to(dtype) for _ in range(k)]


def _assert_members_equal_plain(models, x, mode):
    """Forward and backward (input and parameter gradients) of each member == its plain model."""
    pop = Population.from_models([copy.deepcopy(m) for m in models])
    getattr(pop, mode)()
    xp = x.clone().requires_grad_()
    y = pop(xp)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    grads = {n: p.grad for n, p in pop.net.named_parameters()}
    for i, m in enumerate(models):
        plain = copy.deepcopy(m)
        getattr(plain, mode)()
        xi = x[i].clone().requires_grad_()
        yi = plain(xi)
        (yi * g[i]).sum().backward()
        torch.testing.assert_close(y[i], yi, msg=f"output of model {i}")
        torch.testing.assert_close(xp.grad[i], xi.grad, msg=f"input grad of model {i}")
        for n, p in plain.named_parameters():
            torch.testing.assert_close(grads[n][i], p.grad, msg=f"{n}.grad of model {i}")


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize(
    "factory, shape",
    [
        (lambda: nn.Sequential(nn.Conv1d(4, 6, 3, padding=1), nn.Tanh()), (4, 11)),
        (lambda: nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, groups=2), nn.ReLU()), (4, 9, 8)),
    ],
    ids=["conv1d_CL", "conv2d_CHW"],
)
def test_stacked_conv_takes_the_unbatched_input_the_plain_conv_takes(factory, shape, mode):
    """``nn.Conv1d`` accepts an unbatched ``(C, L)`` input and ``nn.Conv2d`` a ``(C, H, W)``
    one (torch documents both), so a model built from them may be fed one sample at a time.
    The population promises that member k computes exactly what its plain model computes on
    ``x[k]`` (the vmap path does); the stacked Conv twin instead always reads its input as
    ``(K, B, C, *S)``, takes C for the batch and the first spatial axis for the channels, and
    crashes with a grouped-convolution shape error on an input every plain member accepts."""
    models = _models(factory)
    x = torch.randn(K, *shape, dtype=torch.float64)
    _assert_members_equal_plain(models, x, mode)


class _PoolWithIndices(nn.Module):
    """A block that keeps the argmax positions of its pooling (for logging or unpooling)."""

    population_safe = True  # forward only calls submodules

    def __init__(self, pool: nn.Module, features: int) -> None:
        super().__init__()
        self.pool = pool
        self.flat = nn.Flatten()
        self.fc = nn.Linear(features, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, _indices = self.pool(x)
        return self.fc(self.flat(y))


@pytest.mark.parametrize(
    "factory, shape",
    [
        (lambda: _PoolWithIndices(nn.MaxPool1d(2, return_indices=True), 2 * 4), (5, 2, 8)),
        (
            lambda: _PoolWithIndices(nn.AdaptiveMaxPool2d(2, return_indices=True), 2 * 4),
            (5, 2, 6, 6),
        ),
    ],
    ids=["maxpool1d", "adaptive_maxpool2d"],
)
def test_max_pooling_with_return_indices_works_in_the_stacked_path(factory, shape):
    """``MaxPool*``/``AdaptiveMaxPool*`` with ``return_indices=True`` return ``(values,
    indices)``. ``_twin`` folds every pooling class into ``_Fold`` without looking at that flag,
    and ``_Fold.forward`` calls ``.reshape`` on the tuple: a population of a model that the
    plain torch runs fine dies with ``AttributeError: 'tuple' object has no attribute
    'reshape'`` at its first forward (train and eval alike). The leaf should either be folded
    element-wise over the tuple or be left to the vmap path."""
    models = _models(factory)
    x = torch.randn(K, *shape, dtype=torch.float64)
    _assert_members_equal_plain(models, x, "eval")


class _MCDropout(nn.Dropout):
    """Monte-Carlo dropout: drops at evaluation too (Gal & Ghahramani 2016), a common
    subclass of nn.Dropout with a forward of its own."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.p, training=True)


def test_a_dropout_subclass_with_its_own_forward_is_not_silently_replaced():
    """``_twin`` matches every other leaf by exact type ("a subclass has its own forward or
    state"), but dropout by ``isinstance``: a user's ``nn.Dropout`` subclass with its own
    forward (MC dropout, which keeps dropping in eval mode) is silently swapped for a
    ``SeededDropout`` that is the identity in eval. The plain model drops ~50% of units at
    evaluation; the population drops none, so its uncertainty estimates are silently wrong.
    Acceptable: refuse the model with a UserError (its F.dropout cannot be seeded per model,
    as the vmap path says), or keep dropping at evaluation at rate p."""
    net = nn.Sequential(nn.Linear(4, 256), _MCDropout(0.5))
    models = [copy.deepcopy(net) for _ in range(K)]
    x = torch.randn(K, 64, 4)
    plain = models[0].eval()
    plain_zero_rate = float((plain(x[0]) == 0).float().mean())
    assert 0.4 < plain_zero_rate < 0.6  # the plain model does drop at evaluation
    try:
        pop = Population.from_models(models)
        pop.eval()
        y = pop(x)
    except UserError:
        return  # refusing is fine
    zero_rate = float((y == 0).float().mean())
    assert 0.4 < zero_rate < 0.6, (
        f"the plain MC-dropout model drops {plain_zero_rate:.0%} of units in eval mode, "
        f"the population {zero_rate:.0%}"
    )


def _constant_axes(y: torch.Tensor) -> list[int]:
    """The axes along which the dropout mask (y == 0) never changes."""
    z = y == 0
    return [d for d in range(z.dim()) if bool((z.all(d) | (~z).all(d)).all())]


@pytest.mark.parametrize("shape", [(24, 6, 6), (96, 16)], ids=["3d", "2d"])
def test_dropout3d_masks_the_same_axis_as_torch_on_short_inputs(shape):
    """torch's ``F.dropout3d`` treats any input that is not 5-D as one unbatched sample
    (``unsqueeze(0)``), so on a 3-D ``(A, B, C)`` or 2-D ``(A, B)`` input it drops whole
    slices along axis 0 (one mask value per index of axis 0, with a deprecation warning but
    that result). ``SeededDropout._noise_shape`` only knows the 4-D unbatched case and reads
    every other input as ``(N, C, ...)``: it draws one value per ``(axis0, axis1)`` pair, i.e.
    a different, much finer dropout than the plain model's. Checked as statistics (which axes
    a mask is constant along), not bitwise masks."""
    x = torch.rand(*shape) + 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        ref = nn.Dropout3d(0.5).train()(x)
        pop = Population(nn.Sequential(nn.Dropout3d(0.5)), K)
        pop.train()
        pop.set_step(1)
        y = pop(x.expand(K, *shape))
    expected = _constant_axes(ref)
    assert expected == list(range(1, len(shape)))  # torch: one mask value per index of axis 0
    for i in range(K):
        assert _constant_axes(y[i]) == expected, (i, _constant_axes(y[i]), expected)


def test_rrelu_in_eval_mode_runs_like_the_plain_model():
    """``nn.RReLU`` has no stacked twin, so the population sends it to vmap, and the module
    docstring promises that a forward vmap cannot batch ("any op without a batching rule")
    falls back to the loop mode with a warning. In eval mode RReLU is deterministic (slope
    (lower+upper)/2), yet vmap refuses ``aten::rrelu`` with "vmap: we do not yet support
    aten::rrelu", a message ``_unbatchable`` does not recognise, so the raw RuntimeError
    propagates instead: a model the plain torch evaluates fine cannot be evaluated at all."""
    models = _models(lambda: nn.Sequential(nn.Linear(5, 4), nn.RReLU(0.1, 0.3)))
    x = torch.randn(K, 6, 5, dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fallback warning is expected
        _assert_members_equal_plain(models, x, "eval")


@pytest.mark.parametrize(
    ("layer", "shape"),
    [(lambda: nn.BatchNorm1d(3), (2, 3, 4, 5)), (lambda: nn.BatchNorm2d(3), (2, 3, 4)),
     (lambda: nn.Dropout1d(0.5), (2, 3, 4, 5))],
    ids=["bn1d-4d", "bn2d-3d", "dropout1d-4d"],
)  # fmt: skip
def test_a_stacked_layer_refuses_the_input_rank_its_plain_layer_refuses(layer, shape) -> None:
    """A per-model input the plain layer refuses (BatchNorm1d on 4-D, BatchNorm2d on 3-D,
    Dropout1d on 4-D) is refused by the population too, not silently normalised or masked over
    axes the plain layer never would."""
    plain = nn.Sequential(layer())
    with pytest.raises((ValueError, RuntimeError)):
        plain.train()(torch.randn(*shape))
    pop = Population(plain, 2).train()
    with pytest.raises((ValueError, RuntimeError), match="input"):
        pop(torch.randn(2, *shape))
