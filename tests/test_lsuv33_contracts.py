"""Review (lsuv33): trainlab.init.lsuv_ / init.apply(..., "lsuv")."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

import trainlab
from trainlab import init
from trainlab.data.datasets import Dataset


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _ids_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Embedding(10, 8), nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))


# lsuv_ refuses any batch with data.dim() < 2, but a batch of B single token ids has shape
# (B,) = (B, *input_shape) with input_shape == () and B = 64 >= 2: the model accepts it (every
# other scheme trains on such a Dataset, which Dataset.checked() accepts), and the message
# "pass data= a tensor (B, *input_shape) with B >= 2" describes exactly what was passed. The
# variance of the Linear's output is well defined (64*16 elements), so LSUV must rescale it to 1.
def test_lsuv_accepts_a_batch_of_single_token_ids() -> None:
    model = _ids_model()
    ids = torch.randint(0, 10, (64,), generator=gen(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the embedding is left unchanged: apply says so
        init.apply(model, "lsuv", generator=gen(0), data=ids, tol=0.05)
    with torch.no_grad():
        assert abs(float(model[1](model[0](ids)).var()) - 1.0) < 0.05
        assert abs(float(model(ids).var()) - 1.0) < 0.05


# The same defect from a run: a hand-built Dataset of single token ids (input_shape ()) trains
# with he_normal, but init.scheme: lsuv fails with "lsuv needs a data batch: pass data= ..." (a
# message about an argument the user of train() never passes). Expected: it trains as well.
def test_a_run_with_lsuv_on_single_token_ids_trains_like_other_schemes() -> None:
    x = torch.randint(0, 10, (96,), generator=gen(2))
    xv = torch.randint(0, 10, (16,), generator=gen(3))
    ds = Dataset("ids", x, x % 3, xv, xv % 3, xv, xv % 3, (), 3).checked()
    cfg = {
        "train": {"epochs": 1, "batch_size": 16},
        "optim": {"name": "sgd", "lr": 0.1},
        "population": {"seeds": [0, 1]},
        "init": {"scheme": "lsuv"},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainlab.train(cfg, model=_ids_model(), dataset=ds, write=False, progress=False)


class _TiedLM(nn.Module):
    """Tied input/output embeddings (Press & Wolf 2017), the usual language-model layout."""

    def __init__(self, v: int = 50, d: int = 16) -> None:
        super().__init__()
        self.emb = nn.Embedding(v, d)
        self.hid = nn.Linear(d, d)
        self.out = nn.Linear(d, v, bias=False)
        self.out.weight = self.emb.weight

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.out(torch.tanh(self.hid(self.emb(ids))))


# lsuv_ documents its return value as "each layer's output variance as it is left". With a
# weight shared by a later layer (tied embeddings), rescaling `out` also rescales the embedding
# that feeds `hid`, so `hid`'s output variance as left is ~4.8, yet lsuv_ returns 1.0 for it
# and warns about nothing. Expected: the returned variances are those of the model as it is
# left (measured here directly on the same batch), or at least a warning that `hid` is no
# longer at unit variance. The test checks the documented return value.
def test_lsuv_returns_the_variances_the_model_is_left_with_when_weights_are_tied() -> None:
    torch.manual_seed(0)
    model = _TiedLM()
    ids = torch.randint(0, 50, (64, 4), generator=gen(1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.apply(model, "orthogonal", generator=gen(0))
        returned = init.lsuv_(model, ids)
    with torch.no_grad():
        hid = float(model.hid(model.emb(ids)).var())
        out = float(model(ids).var())
    warned = any("hid" in str(w.message) for w in caught if "lsuv" in str(w.message))
    assert warned or returned == pytest.approx([hid, out], rel=1e-4)


# The docstring promises that layers the forward pass does not call are "named in a
# UserWarning" (as layers=None does), but with layers= given (a documented keyword), a layer
# the eval-mode forward skips (an auxiliary head used only in training) makes lsuv_ crash
# with a bare RuntimeError traceback ("lsuv: the layer was not called by the forward pass").
# Expected: the called layers are rescaled and the skipped one is named in a warning.
class _Aux(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b, self.aux = nn.Linear(8, 8), nn.Linear(8, 2), nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.a(x))
        return self.b(h) + (self.aux(h) if self.training else 0)


def test_lsuv_with_layers_given_warns_for_a_layer_the_forward_does_not_call() -> None:
    torch.manual_seed(0)
    model = _Aux()
    x = torch.randn(64, 8, generator=gen(1)) * 3
    with pytest.warns(UserWarning, match="aux"):
        init.lsuv_(model, x, layers=[model.a, model.aux, model.b])
    with torch.no_grad():
        assert abs(float(model.a(x).var()) - 1.0) < 0.1
