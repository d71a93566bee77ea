"""Review lifecycle35: a long-lived Python session using trainlab's public API."""

from __future__ import annotations

import torch

import trainlab
from trainlab.pretrain import arrays_dataset

_CFG = {
    "model": {"name": "mlp", "hidden": [8]},
    "train": {"epochs": 1, "batch_size": 20},
    "population": {"seeds": [0]},
}


def _dataset():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(120, 6, generator=g)
    y = (x[:, 0] > 0).long()
    return arrays_dataset(x[:100].numpy(), y[:100].numpy(), x[100:].numpy(), y[100:].numpy())


def _weights(result) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in result.model(0).parameters()])


# train() called inside a caller's `torch.autocast("cpu", dtype=torch.bfloat16)` block (a
# notebook cell that also evaluates in mixed precision) silently trains in bfloat16: the
# trainer's context (train.py `_trainer_context`/`_in_context`) neutralizes the caller's
# no_grad/inference_mode, default dtype and matmul precision, but not autocast. The weights
# then differ (~1e-3 here, ~1e-2 on digits) from the same config trained outside the block,
# although "a model's result depends only on its own config and seed" (README) and nothing in
# config.yaml or the checkpoint records the precision (a resume outside the block continues
# in float32). Expected: the weights of the same config trained outside autocast, bitwise
# (the CPU run is deterministic, as the no_grad/inference_mode/float64-default cases are).
def test_train_inside_autocast_trains_in_float32() -> None:
    ds = _dataset()
    plain = trainlab.train(_CFG, dataset=ds, write=False, progress=False)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = trainlab.train(_CFG, dataset=ds, write=False, progress=False)
    assert torch.equal(_weights(plain), _weights(inside))
    assert (
        inside.summary["models"][0]["final"]["test_loss"]
        == plain.summary["models"][0]["final"]["test_loss"]
    )


# init.apply(model, "lsuv", data=...) inside a caller's `torch.autocast("cpu",
# dtype=torch.bfloat16)` measured each layer's output variance on bfloat16 outputs and left
# the layers unscaled (weights as the orthogonal draw, output variance 0.23 on digits, with
# only a warning). Data-driven initialization is the model's own float32 computation, as the
# trainer's is: expected the same weights as outside the autocast region (found with
# lifecycle35's autocast finding, 2026-12-01).
def test_lsuv_inside_autocast_scales_as_outside() -> None:
    from trainlab import init

    g = torch.Generator().manual_seed(1)
    x = torch.rand(100, 64, generator=g)

    def lsuv(autocast: bool) -> list[torch.Tensor]:
        m = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        torch.manual_seed(0)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            init.apply(m, "lsuv", data=x)
        return [p.detach().clone() for p in m.parameters()]

    for a, b in zip(lsuv(False), lsuv(True), strict=True):
        assert torch.equal(a, b)


# StackedDenoisingAutoencoder.fit inside a caller's torch.autocast trained its layers in
# bfloat16 (codes differed by ~5e-3 from the same fit outside the region): an estimator's fit
# depends only on its settings, random_state and data. Expected: the same codes, bitwise.
def test_sdae_fit_inside_autocast_equals_outside() -> None:
    from trainlab.pretrain import StackedDenoisingAutoencoder

    x = torch.rand(200, 12, generator=torch.Generator().manual_seed(2)).numpy()

    def codes():
        sdae = StackedDenoisingAutoencoder(layers=[6], n_iter=2, random_state=0)
        return sdae.fit(x).transform(x)

    outside = codes()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        inside = codes()
    assert (outside == inside).all()
