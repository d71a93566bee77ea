"""Adversarial review of the model zoo (mlp/convnet/resnet) on the population engine's stacked
path: inherited population_safe declarations, empty batches, and unstack in evaluation."""

from __future__ import annotations

import copy

import pytest
import torch

from trainlab.models import ConvNet, ResNet, create
from trainlab.population import Population


class LogProbResNet(ResNet):
    """A user's ResNet that returns log-probabilities (for nn.NLLLoss): it overrides forward."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).log_softmax(dim=1)  # (B, C): normalize over classes


class LogProbConvNet(ConvNet):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).log_softmax(dim=1)


@pytest.mark.parametrize(
    "factory, shape",
    [
        (lambda: LogProbResNet((1, 8, 8), 5, widths=(4, 8)), (1, 8, 8)),
        (lambda: LogProbConvNet((1, 40), 5, channels=(4,)), (1, 40)),
    ],
    ids=["resnet-subclass", "convnet-subclass"],
)
def test_a_zoo_subclass_with_its_own_forward_is_each_models_own(factory, shape):
    """A subclass of ResNet/ConvNet that overrides ``forward`` (here: ``log_softmax(dim=1)`` over
    the classes, the usual way to feed NLLLoss) did not declare ``population_safe``; it only
    inherits the attribute. The stacked path is documented for containers that *declare* the
    flag because their forward only calls submodules and elementwise ops; this forward is not
    such code (dim 1 is the batch axis once K is in front). A population must still compute
    each model's own output (the vmap path would); instead it normalizes over the batch and
    silently returns wrong log-probabilities, so a user's loss and accuracy are wrong."""
    torch.manual_seed(0)
    models = [factory().double().eval() for _ in range(2)]
    pop = Population.from_models([copy.deepcopy(m) for m in models]).eval()
    x = torch.randn(2, 6, *shape, dtype=torch.float64)
    y = pop(x)
    for i, m in enumerate(models):
        torch.testing.assert_close(
            y[i], m(x[i]), rtol=1e-9, atol=1e-9, msg=f"model {i} in {pop.mode} mode"
        )


@pytest.mark.parametrize(
    "name, shape, kwargs",
    [
        ("convnet", (1, 8, 8), {"channels": (4,)}),
        ("convnet", (1, 40), {"channels": (4,), "batch_norm": True}),
        ("resnet", (1, 40), {"widths": (4, 8)}),
    ],
)
def test_an_empty_batch_gives_empty_outputs_as_the_plain_model(name, shape, kwargs):
    """The population maps ``(K, B, ...)`` to ``(K, B, C)`` and each plain zoo model maps an
    empty batch ``(0, ...)`` to ``(0, C)`` (so does the vmap path, and the stacked MLP). The
    stacked convolution, batch norm and pooling/Flatten folds reshape with ``-1`` next to a
    zero-sized batch axis, which torch refuses as ambiguous: predicting on an empty selection
    (e.g. the samples of a class that a filter left empty) crashes with a RuntimeError only
    when the model is a convnet or resnet inside a population."""
    torch.manual_seed(0)
    m = create(name, input_shape=shape, num_classes=3, **kwargs).eval()
    assert m(torch.randn(0, *shape)).shape == (0, 3)
    pop = Population(m, 2).eval()
    assert pop.mode == "stacked"
    with torch.no_grad():
        out = pop(torch.randn(2, 0, *shape))
    assert out.shape == (2, 0, 3)


def test_unstack_of_an_evaluating_population_evaluates_like_its_slice():
    """``pop.unstack(i)`` gives model i back as a plain module. After ``pop.eval()`` the
    population normalizes with each model's running statistics; the module unstacked from it
    must compute the same outputs (and not overwrite its running statistics with a test batch).
    In the stacked mode it comes back in whatever mode the template had when the population was
    built (training), so ``pop.eval(); best = pop.unstack(i); best(x_test)`` silently uses batch
    statistics; in the vmap mode the same call returns an eval-mode module after an evaluation
    forward. The result depends on the engine's path and call history, not on the model."""
    torch.manual_seed(0)
    template = create(
        "convnet", input_shape=(1, 8, 8), num_classes=3, channels=(4,), batch_norm=True
    ).double()
    pop = Population(template, 2)
    pop.train()
    with torch.no_grad():  # give the models running statistics that differ from any batch's
        pop(torch.randn(2, 16, 1, 8, 8, dtype=torch.float64) * 3 + 1)
    pop.eval()
    x = torch.randn(2, 5, 1, 8, 8, dtype=torch.float64)
    with torch.no_grad():
        want = pop(x)
        back = pop.unstack(1)
        stats = back.bn1.running_mean.clone()
        got = back(x[1])
    torch.testing.assert_close(got, want[1], rtol=1e-9, atol=1e-9, msg="unstack(1) vs slice 1")
    assert torch.equal(back.bn1.running_mean, stats), "unstacked model changed its statistics"
