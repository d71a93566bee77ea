"""Review diff30a: this session's own changes (018f40b..HEAD), cases their fixes left out.

Each test fails on the current code and states the behaviour that is right.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from conftest import wide_float16_case
from trainlab.config import parse_config
from trainlab.data import Dataset
from trainlab.diagnostics import verdict
from trainlab.errors import UserError
from trainlab.train import train


def _cfg(lr=0.05, **train_over):
    return parse_config(
        {
            "name": "d30a",
            "init": {"scheme": "keep"},
            "optim": {"name": "sgd", "lr": lr},
            "train": {"epochs": 1, "batch_size": 32, **train_over},
            "population": {"seeds": [0]},
        }
    )


# Wrong: commit c1fd76b takes 16-bit gradient norms in float32 in train._grad_norms, so that a
# float16 model whose finite gradients have a norm above 65504 is not stopped as NaN. With
# train.clip_norm set the trainer takes the norms from optim.clip.clip_grad_norm_ ->
# grad_norms instead, which still computes vector_norm in float16: the norm (94,787 in float32)
# reads inf, `isfinite(gnorm)` fails, and the model is stopped with status "nan" at step 0 -
# the very bug the commit fixed, on the path people take precisely when gradients are large.
# Right: the norm is finite, the gradient is clipped to norm 1 and the model trains ("ok"), as
# it does without clip_norm. Fix: grad_norms takes vector_norm(..., dtype=float32) for
# float16/bfloat16 gradients (and the clip coefficient in float32).
def test_float16_gradients_of_norm_above_65504_with_clip_norm_are_not_stopped_as_nan():
    ds, model = wide_float16_case()

    ref = model()  # the premise: finite loss and gradients, a float32 norm above 65504
    loss = F.cross_entropy(ref(ds.x_train).float(), ds.y_train)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(ref.weight.grad).all()
    assert torch.linalg.vector_norm(ref.weight.grad.float()) > 65504

    res = train(
        _cfg(lr=1e-6, batch_size=16, clip_norm=1.0),
        model=model(),
        dataset=ds,
        write=False,
        progress=False,
        device="cpu",
    )
    assert res.summary["models"][0]["status"] == "ok", res.summary["models"][0]


class _Tokens(nn.Module):
    """An nn.Embedding model over sequences of ``length`` token ids."""

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length = length
        self.emb = nn.Embedding(50, 8)
        self.out = nn.Linear(8 * length, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(x).reshape(len(x), 8 * self.length))


# Wrong: commit c1fd76b lets integer inputs (token ids) through and, in Trainer._check_fits,
# turns ANY probe error on integer inputs into "the model does not accept data ... of dtype
# torch.int64 (...); cast the inputs to float (e.g. x.float() / 255 for 8-bit pixels)". For an
# nn.Embedding model built for sequences of 6 tokens given sequences of 8 the error is a shape
# mismatch ("shape '[2, 48]' is invalid for input of size 128"); casting token ids to float
# would break the embedding lookup entirely. Right: as for float inputs, a shape mismatch is
# called one ("shape mismatch: ... of shape ..."), and the cast is advised only when it is the
# dtype that the model refuses (e.g. when the probe passes on x.float(), or the model has no
# module that takes integer inputs).
def test_integer_input_shape_mismatch_is_not_reported_as_a_dtype_to_cast():
    g = torch.Generator().manual_seed(0)

    def split(n):
        x = torch.randint(0, 50, (n, 8), generator=g)
        return x, (x < 25).sum(1).gt(4).long()

    (xt, yt), (xv, yv), (xe, ye) = split(64), split(16), split(16)
    ds = Dataset(
        name="tokens", x_train=xt, y_train=yt, x_val=xv, y_val=yv, x_test=xe, y_test=ye,
        input_shape=(8,), num_classes=2,
    )  # fmt: skip
    try:
        train(_cfg(), model=_Tokens(6), dataset=ds, write=False, progress=False, device="cpu")
    except UserError as err:
        msg = str(err)
    else:  # pragma: no cover - the mismatch must be refused
        raise AssertionError("a model for 6 tokens trained on sequences of 8")
    assert "cast the inputs to float" not in msg, msg
    assert "shape" in msg, msg


def _rec(step, layer, order, **kw):
    r = {
        "model": 0, "step": step, "layer": layer, "kind": "linear", "order": order,
        "nonfinite": False, "act_std": 1.0,
    }  # fmt: skip
    r.update(kw)
    return r


# Wrong: commit c9ea252 says the "at step S it was too large ..., which can kill or saturate
# units" note is given "only for slow layers that had moved by then" (a zeros-init layer must
# not be blamed on another layer's later step). The check it added asks whether ANY slow layer
# moved by the early step, but the note is attached to the reported (worst) layer. Here fc1 is
# stuck from step 0 (weight 0, gradient 0, update 0), 'out' took a too-large step (0.5) at step
# 10 and then slowed to 1e-7 (so 'out' is a slow layer that moved): the finding reads
# "too small: 0.0e+00 in 'fc1' (bound 1e-05); at step 10 it was too large: 5.0e-01 in 'out'
# ..., which can kill or saturate units" - fc1 blamed on a step 10 steps after it was already
# stuck, the exact message the commit's own test forbids. Right: the note goes with a layer that
# moved before the early step; a finding naming fc1 carries no such note.
def test_update_note_is_not_attached_to_a_layer_that_never_moved():
    ratios = {  # step -> (fc1, fc2, out) update ratios
        0: (0.0, 1e-3, 1e-3),
        5: (0.0, 1e-3, 1e-3),
        10: (0.0, 1e-3, 0.5),
        15: (0.0, 1e-7, 1e-7),
        20: (0.0, 1e-7, 1e-7),
    }
    recs = []
    for step, rs in ratios.items():
        for order, (layer, ratio) in enumerate(zip(("fc1", "fc2", "out"), rs, strict=True)):
            stuck = layer == "fc1"
            g = 0.0 if stuck else 0.5
            recs.append(_rec(step, layer, order, grad_norm=g, out_grad_norm=g,
                             weight_norm=0.0 if stuck else 10.0, update_ratio=ratio))  # fmt: skip
    f = next(f for f in verdict(recs) if f.check == "update_ratio")
    assert f.status == "warn", f
    assert not (f.layer == "fc1" and "kill or saturate" in f.message), f.message
