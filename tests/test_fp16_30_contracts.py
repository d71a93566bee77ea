"""Review fp16_30: float16/bfloat16 user models and datasets trained end to end on the CPU.

Each test fails on the current code and states the behaviour that is right.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from conftest import wide_float16_case
from trainlab.config import parse_config
from trainlab.data import Dataset
from trainlab.train import train


def _cfg(lr=1e-6, batch_size=16, epochs=1, optim="sgd", seeds=(0,), **train_over):
    return parse_config(
        {
            "name": "fp16_30",
            "init": {"scheme": "keep"},
            "optim": {"name": optim, "lr": lr},
            "train": {"epochs": epochs, "batch_size": batch_size, **train_over},
            "population": {"seeds": list(seeds)},
        }
    )


def _ds(x_train, y_train, x_val, y_val, x_test, y_test, d, name="fp16_30"):
    return Dataset(
        name=name, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
        x_test=x_test, y_test=y_test, input_shape=(d,), num_classes=2,
    )  # fmt: skip


# optim/clip.py grad_norms (the train.clip_norm path of Trainer._step_kernels) takes
# torch.linalg.vector_norm of float16 gradients in float16, so a gradient whose elements are
# all finite (max |g| ~716) but whose norm (~94,800 in float32) passes float16's 65,504 gets
# the norm inf: the trainer then marks the model "nan" at step 0. That is exactly the
# gradient clipping is there for; without clip_norm the same run is "ok" (train.py
# _grad_norms takes 16-bit norms in float32 since the dtype30 fix), and clip_value is "ok"
# too. Clipping to 1.0 in float32 gives finite gradients (g * 1/94800). Fix: take the
# per-parameter norms in float32 for 16-bit gradients (vector_norm(..., dtype=float32)), as
# _grad_norms does, and compute the coefficient from that.
def test_clip_norm_does_not_stop_a_float16_model_whose_finite_gradient_norm_passes_65504():
    ds, model = wide_float16_case()

    ref = model()
    F.cross_entropy(ref(ds.x_train).float(), ds.y_train).backward()
    assert torch.isfinite(ref.weight.grad).all()
    assert torch.linalg.vector_norm(ref.weight.grad.float()) > 65504  # the premise

    res = train(
        _cfg(clip_norm=1.0), model=model(), dataset=ds, write=False, progress=False, device="cpu"
    )
    assert res.summary["models"][0]["status"] == "ok", res.summary["models"][0]


# train.py Trainer._step_kernels sums the epoch's training loss as
# ``self._sum_loss += loss * b``: ``loss`` is the float16 mean loss of the step and ``b`` a
# Python int, so ``loss * b`` is computed and rounded in float16 before it reaches the float64
# accumulator. With a batch of 8192 samples and a mean loss of ~10 that product (81,910) passes
# float16's 65,504 and becomes inf: summary.json's final train_loss is None (inf) and
# train_acc None, while the model is "ok", its val_loss (the same data distribution, summed in
# float64 by evaluate) is 9.9988 and the float64 recomputation of the training loss is 9.9988.
# Fix: widen before multiplying (loss.to(self._sum_loss.dtype) * b), or sum the per-sample
# losses in float64 as evaluate does.
def test_a_float16_epoch_loss_sum_of_a_large_batch_does_not_overflow():
    b, d = 8192, 4
    g = torch.Generator().manual_seed(0)

    def split(n):
        x = torch.rand(n, d, generator=g).half()
        y = torch.ones(n, dtype=torch.int64)
        y[0] = 0
        return x, y

    ds = _ds(*split(b), *split(64), *split(64), d=d)
    m = nn.Linear(d, 2)
    with torch.no_grad():
        m.weight.zero_()
        m.bias.copy_(torch.tensor([5.0, -5.0]))
    m = m.half()
    with torch.no_grad():
        logits = m(ds.x_train).double()
    want_loss = F.cross_entropy(logits, ds.y_train).item()  # ~9.9988
    want_acc = (logits.argmax(-1) == ds.y_train).double().mean().item()

    res = train(_cfg(batch_size=b), model=m, dataset=ds, write=False, progress=False, device="cpu")
    final = res.summary["models"][0]["final"]
    assert res.summary["models"][0]["status"] == "ok"
    assert final["train_loss"] is not None and math.isclose(
        final["train_loss"], want_loss, rel_tol=2e-3
    ), final
    assert final["train_acc"] == want_acc, final


# The same root cause as the clip_norm test above, on ordinary gradients: with train.clip_norm
# set, the grad_norm metric (metrics.jsonl) is optim/clip.py grad_norms' float16 value
# (rounded to 11 bits), without it train.py _grad_norms' float32 value. A clip_norm of 1e6
# never binds (coefficient clamped to 1: the trajectory is bitwise the same), yet the logged
# norm changes from 0.461101 (float32, equal to a float64 recomputation of the norm of the
# same float16 gradients to 1e-7) to 0.461182. The metric must not depend on a clip threshold
# that does not act.
def test_a_non_binding_clip_norm_does_not_change_the_logged_float16_grad_norm(tmp_path):
    import json

    d = 16
    g = torch.Generator().manual_seed(0)

    def split(n):
        x = torch.randn(n, d, generator=g).half()
        return x, (x.float().sum(1) > 0).long()

    ds = _ds(*split(64), *split(16), *split(16), d=d)

    def model():
        torch.manual_seed(1)
        return nn.Sequential(nn.Linear(d, 32), nn.Tanh(), nn.Linear(32, 2)).half()

    norms = []
    for i, over in enumerate([{}, {"clip_norm": 1e6}]):
        out = tmp_path / f"r{i}"
        train(
            _cfg(lr=0.1, batch_size=64, **over), model=model(), dataset=ds, out=out,
            progress=False, device="cpu",
        )  # fmt: skip
        norms.append(json.loads((out / "metrics.jsonl").read_text().splitlines()[0])["grad_norm"])
    assert norms[1] == norms[0], norms
