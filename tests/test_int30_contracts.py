"""Review int30: models on integer inputs (nn.Embedding token ids) through the trainer.

Each test fails on the current code and states the behaviour that is right.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from trainlab.config import parse_config
from trainlab.data import Dataset
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.pretrain import arrays_dataset
from trainlab.train import train

V = 50


class _Bag(nn.Module):
    def __init__(self, vocab: int = V) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, 8)
        self.out = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(x).mean(1))


def _cfg() -> object:
    return parse_config(
        {
            "name": "int30",
            "init": {"scheme": "keep"},
            "optim": {"name": "sgd", "lr": 0.05},
            "train": {"epochs": 1, "batch_size": 32},
            "population": {"seeds": [0]},
        }
    )


def _tokens(dtype: torch.dtype = torch.int64) -> Dataset:
    g = torch.Generator().manual_seed(0)

    def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randint(0, V, (n, 8), generator=g)
        return x.to(dtype), (x < 25).sum(1).gt(4).long()

    (xt, yt), (xv, yv), (xe, ye) = split(200), split(50), split(50)
    return Dataset(
        name="tokens", x_train=xt, y_train=yt, x_val=xv, y_val=yv, x_test=xe, y_test=ye,
        input_shape=(8,), num_classes=2,
    )  # fmt: skip


# train.py Trainer._check_fits: any integer-input failure gets "cast the inputs to float (e.g.
# x.float() / 255 for 8-bit pixels)". For an nn.Embedding model given uint8 (or int16) token
# ids that fix is wrong: torch's embedding takes only int64/int32 indices, and after x.float()
# the same model fails again (then as a "shape mismatch"). The error must name the cast that
# works for indices: x.long() (int64).
@pytest.mark.parametrize("dtype", [torch.uint8, torch.int16])
def test_an_embedding_model_on_small_int_ids_is_told_to_cast_to_int64(dtype):
    with pytest.raises(UserError) as err:
        train(_cfg(), model=_Bag(), dataset=_tokens(dtype), write=False, progress=False,
              device="cpu")  # fmt: skip
    msg = str(err.value)
    assert "x.long()" in msg or "int64" in msg, msg


# arrays_dataset (the README's way to train on one's own arrays) turns integer token ids into
# float32; an nn.Embedding model then gets float indices and train() says "shape mismatch: the
# model does not accept data 'arrays' of shape (8,) ...; check the model's settings": the shape
# (8,) is exactly right, and nothing in the model's settings is wrong: the inputs' dtype is.
# Right: either arrays_dataset keeps integer inputs integer (and the run trains), or the
# refusal names the dtype (float32) and not a shape mismatch.
def test_arrays_dataset_token_ids_train_or_are_refused_naming_the_dtype():
    ds = _tokens()
    ad = arrays_dataset(ds.x_train.numpy(), ds.y_train.numpy(), ds.x_test.numpy(),
                        ds.y_test.numpy())  # fmt: skip
    try:
        res = train(_cfg(), model=_Bag(), dataset=ad, write=False, progress=False, device="cpu")
    except UserError as err:
        msg = str(err)
        assert "shape mismatch" not in msg, msg
        assert "float32" in msg.split("(")[0] or "dtype" in msg.split("(")[0], msg
    else:
        assert res.summary["models"][0]["status"] == "ok"


# population.py vmap mode: torch.vmap's embedding batching rule looks the ids up in the K
# models' weights flattened to (K·V, D), offsetting model k's ids by k·V. An id out of range
# for model k (here 5 with V=4) therefore silently reads another model's row (model 0's id 5
# is model 1's row 1) instead of raising as the plain module does (IndexError "index out of
# range in self"): a model's output depends on K and on its neighbours' weights (principle 2),
# and in training the gradient lands in the other model's table. The population must refuse
# the ids as the plain model does.
def test_a_vmap_population_refuses_out_of_range_token_ids_as_one_model_does():
    torch.manual_seed(0)
    template = nn.Embedding(4, 2)
    x = torch.tensor([[5], [5], [0]])  # (K=3, B=1): id 5 is out of range for 4 rows
    with pytest.raises(IndexError):
        template(x[0])  # the plain model refuses it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(template, 3)
    with pytest.raises((IndexError, RuntimeError, UserError)):
        pop(x)


# train.py _check_fits probes the model with (RuntimeError, ValueError) only: token ids beyond
# the embedding's num_embeddings (an off-by-one vocabulary) in the first training rows escape
# as torch's raw "IndexError: index out of range in self" traceback from train(), where every
# other data/model mismatch is a one-line UserError naming the data (and on CUDA this is a
# device-side assert that poisons the process). Right: a UserError.
def test_token_ids_beyond_the_embedding_are_a_user_error():
    with pytest.raises(UserError):
        train(_cfg(), model=_Bag(vocab=40), dataset=_tokens(), write=False, progress=False,
              device="cpu")  # fmt: skip


# ids past the embedding anywhere in the data (here one test row), not only in the rows the
# model is first tried on: refused before training, naming the split
def test_an_out_of_range_id_in_a_later_split_is_refused_before_training():
    ds = _tokens()
    x_test = ds.x_test.clone()
    x_test[-1, 0] = V  # one id past the table
    ds = Dataset(name=ds.name, x_train=ds.x_train, y_train=ds.y_train, x_val=ds.x_val,
                 y_val=ds.y_val, x_test=x_test, y_test=ds.y_test, input_shape=ds.input_shape,
                 num_classes=ds.num_classes)  # fmt: skip
    with pytest.raises(UserError, match="test inputs"):
        train(_cfg(), model=_Bag(), dataset=ds, write=False, progress=False, device="cpu")
