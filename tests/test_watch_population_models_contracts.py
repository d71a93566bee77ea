"""Adversarial review: ``watch()`` on populations, model by model.

Checked and found to hold (not kept as tests): the records of each model of a stacked (MLP with
batch norm and dropout, convnet, resnet), vmap (a user module with batch norm, dropout and
tanh/ReLU/sigmoid) and loop (LSTM) population trained by ``train`` with per-model lr / init /
dropout overrides equal those of the same member trained alone (K=1), for ``every`` 1, 3 and
10 (up to float rounding, and the known Adam drift of a bias placed before batch norm, whose
gradient is rounding noise); a model stopped for NaN leaves the others' records and verdicts
as they are alone; ``trainlab train --diagnose`` writes exactly ``train(write=False)``'s
records; ``verdict`` names the model with init std 1e-4 (collapsing/vanishing) or a bias of
-5 (dead ReLU) and no other; the vmap/loop re-run draws the forward's dropout masks; the
histograms equal numpy's on the strided sample; a killed and resumed ``--diagnose`` run
(stacked, vmap and loop; every 3, 4 and 10) writes the uninterrupted run's rows.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.population import Population


def _conv_relu() -> nn.Module:
    # a CIFAR-sized first block: 32 channels on 32x32 images
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(32, 10),
    )  # fmt: skip


def test_act_std_of_a_large_layer_is_torchs_std_whatever_k():
    """``act_std`` is documented as the population std (``correction=0``) of the layer's
    output, per model, and a model's statistics must not depend on K or its slot (DESIGN.md
    principle 2, "to float rounding"). For a CIFAR-sized layer (a 32-channel conv on 32x32
    images, batch 32: about one million values per model) the watch's ``act_std`` of the ReLU
    after it is off by ~0.1% alone and by ~0.4% as model 0 of a stacked K=3 population, while
    ``torch.std(y, correction=0)`` of the very same float32 tensor is exact to ~1e-8: the std
    comes from ``‖y − c‖²/n − mean²`` with ``‖y − c‖`` a float32 ``linalg.vector_norm``, whose
    accumulation loses ~1e-4..1e-3 of the norm on such sizes (worse on the population's
    non-contiguous ``(K, B, C, H, W)`` view), and the subtraction amplifies it. A user who
    compares runs of different K, or the watch with ``torch.std``, sees the third digit move."""
    torch.manual_seed(0)
    plains = [_conv_relu() for _ in range(3)]
    g = torch.Generator().manual_seed(1)
    x = torch.randn(32, 3, 32, 32, generator=g)
    with torch.no_grad():
        conv = plains[0][0](x)  # float32, exactly what the population computes for model 0
        relu = torch.relu(conv)
    truth = {"0": conv.std(correction=0).item(), "1": relu.std(correction=0).item()}
    got: dict[int, dict[str, float]] = {}
    for k in (1, 3):
        pop = Population.from_models([copy.deepcopy(p) for p in plains[:k]])
        assert pop.mode == "stacked"
        with watch(pop) as w:
            pop(x.expand(k, *x.shape)).pow(2).sum().backward()
        got[k] = {r["layer"]: r["act_std"] for r in w.records() if r["model"] == 0}
    for k in (1, 3):
        for layer, ref in truth.items():
            assert got[k][layer] == pytest.approx(ref, rel=1e-4), (k, layer, got[k][layer], ref)
    for layer in truth:
        assert got[3][layer] == pytest.approx(got[1][layer], rel=1e-4), layer
