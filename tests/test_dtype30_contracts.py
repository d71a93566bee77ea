"""Review dtype30: dtypes of user modules and data through the trainer.

Each test fails on the current code and states the behaviour that is right.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import wide_float16_case
from trainlab import data
from trainlab.config import parse_config
from trainlab.data import Dataset
from trainlab.errors import UserError
from trainlab.train import train


def _cfg(lr=0.05, **train_over):
    return parse_config(
        {
            "name": "dt30",
            "init": {"scheme": "keep"},
            "optim": {"name": "sgd", "lr": lr},
            "train": {"epochs": 1, "batch_size": 32, **train_over},
            "population": {"seeds": [0]},
        }
    )


def _digits_as(dtype: torch.dtype, scale: float = 1.0) -> Dataset:
    ds = data.load("digits")
    return Dataset(
        name="digits_dt",
        x_train=(ds.x_train * scale).to(dtype),
        y_train=ds.y_train,
        x_val=(ds.x_val * scale).to(dtype),
        y_val=ds.y_val,
        x_test=(ds.x_test * scale).to(dtype),
        y_test=ds.y_test,
        input_shape=ds.input_shape,
        num_classes=ds.num_classes,
    )


class _BagOfTokens(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(x).mean(1))


# train.py Trainer.__init__ refuses any model whose float parameters' dtype differs from
# x_train's dtype. For integer inputs that check is wrong: an nn.Embedding model (which the
# README names among the "any nn.Module trains the same way" models, and whose int64 token ids
# init.lsuv_ explicitly keeps as integers) has float32 parameters and int64 inputs by design.
# It is refused with "cast the model to the data's dtype", i.e. model.to(torch.int64), which is
# impossible. With the check limited to floating inputs the same run trains (both models end
# with finite metrics, ~80% test accuracy on this toy task).
def test_an_embedding_model_on_int64_token_ids_trains():
    g = torch.Generator().manual_seed(0)

    def split(n):
        x = torch.randint(0, 50, (n, 8), generator=g)
        return x, (x < 25).sum(1).gt(4).long()

    (xt, yt), (xv, yv), (xe, ye) = split(200), split(50), split(50)
    ds = Dataset(
        name="tokens", x_train=xt, y_train=yt, x_val=xv, y_val=yv, x_test=xe, y_test=ye,
        input_shape=(8,), num_classes=2,
    )  # fmt: skip
    torch.manual_seed(0)
    res = train(_cfg(), model=_BagOfTokens(), dataset=ds, write=False, progress=False, device="cpu")
    final = res.summary["models"][0]["final"]
    assert res.summary["models"][0]["status"] == "ok"
    assert final["test_acc"] is not None and final["test_acc"] > 0.5


# The same check, for uint8 image inputs and an nn.Linear model, tells the user to "cast the
# model to the data's dtype (e.g. model.float() ...)": a model cannot be cast to uint8 (and
# model.float() is what it already is). The fix is on the data side: x.float() (scaled by
# 1/255 for pixels). The message must name casting the inputs to float, not the model.
def test_uint8_inputs_to_a_float_model_are_refused_naming_the_inputs_cast():
    ds = _digits_as(torch.uint8, scale=16.0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    with pytest.raises(UserError) as err:
        train(_cfg(), model=model, dataset=ds, write=False, progress=False, device="cpu")
    msg = str(err.value)
    assert "cast the model" not in msg, msg
    assert "float" in msg and "input" in msg, msg


# train.py _dataset_record hashes a given dataset with t.numpy(), which raises
# "TypeError: Got unsupported ScalarType BFloat16": a bfloat16 model on bfloat16 data trains
# with write=False, but any run that writes its directory (the default, and the CLI's way)
# dies with a traceback before the first step. Hashing the tensors' raw bytes (e.g. through
# t.view(torch.int16) or t.untyped_storage()) works for every dtype.
def test_a_bfloat16_dataset_run_writes_its_directory(tmp_path):
    ds = _digits_as(torch.bfloat16)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10)).to(torch.bfloat16)
    res = train(_cfg(), model=model, dataset=ds, out=tmp_path / "run", progress=False, device="cpu")
    assert res.summary["models"][0]["status"] == "ok"
    assert (tmp_path / "run" / "summary.json").exists()


# train.py _grad_norms takes torch.linalg.vector_norm of float16 gradients in float16: a
# gradient whose elements are all finite (max |g| ~716) but whose norm (~94,800, computed in
# float32) is above float16's 65,504 gets the norm inf, and the trainer marks the model
# "nan" (stopped at step 0, all metrics None) although its loss (9.4) and gradients are finite
# and the same torch.optim.SGD step moves the weights to finite values. Elsewhere the library
# takes 16-bit norms in float32 (diagnostics.stats.norms, watch._grad_norm); so should this
# check (vector_norm(..., dtype=torch.float32) for float16/bfloat16 gradients).
def test_a_float16_model_with_finite_gradients_of_norm_above_65504_is_not_stopped():
    ds, model = wide_float16_case()

    # the premise: finite loss and gradients, a float32 norm above float16's range, and a
    # plain torch step that stays finite
    ref = model()
    loss = F.cross_entropy(ref(ds.x_train).float(), ds.y_train)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(ref.weight.grad).all()
    assert torch.linalg.vector_norm(ref.weight.grad.float()) > 65504
    torch.optim.SGD(ref.parameters(), lr=1e-6).step()
    assert all(torch.isfinite(p).all() for p in ref.parameters())

    res = train(
        _cfg(lr=1e-6, batch_size=16),
        model=model(),
        dataset=ds,
        write=False,
        progress=False,
        device="cpu",
    )
    assert res.summary["models"][0]["status"] == "ok", res.summary["models"][0]
