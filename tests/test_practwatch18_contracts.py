"""practwatch18 review: trainlab.diagnostics.watch on a practitioner's own modules."""

import torch
from torch import nn

from trainlab.diagnostics import verdict, watch


class _PairFirstNone(nn.Linear):
    """A layer returning ``(None, y)`` (e.g. an optional aux output first)."""

    def forward(self, x):
        return (None, super().forward(x))


class _DictOut(nn.Linear):
    """A layer returning ``{"out": y}``."""

    def forward(self, x):
        return {"out": super().forward(x)}


def test_layer_returning_tuple_with_a_leading_none_is_measured_on_its_first_tensor():
    # watch.py hook takes output[0] (None) and records nothing (calls=0); the doc promises
    # "the first tensor of a tuple output": act_mean/act_std of y and calls == 1
    torch.manual_seed(0)
    m = _PairFirstNone(4, 3)
    x = torch.randn(5, 4)
    with watch(m) as w:
        _, y = m(x)
        y.sum().backward()
    r = w.records()[0]
    assert r["calls"] == 1
    assert r["act_mean"] is not None and abs(r["act_mean"] - y.mean().item()) < 1e-5


def test_layer_returning_a_dict_is_measured_and_its_call_counted():
    # a layer whose output is a dict gets calls=0, order None and no statistics although it
    # ran (the root's outputs are walked through dicts, layer outputs are not); right: its
    # tensor is measured and calls == 1
    torch.manual_seed(0)
    m = _DictOut(4, 3)
    x = torch.randn(5, 4)
    with watch(m) as w:
        y = m(x)["out"]
        y.sum().backward()
    r = w.records()[0]
    assert r["calls"] == 1
    assert r["act_std"] is not None and abs(r["act_std"] - y.std(unbiased=False).item()) < 1e-5


def test_update_ratio_of_an_embedding_with_row_sparse_update_is_not_zero():
    # the >32768-entry subset estimate reads 0.0 when the rows a batch touched hold no sampled
    # chunk (rows 1 and 3 of a 5000x64 table, SGD), and verdict says "no update (model
    # stopped or frozen)"; right: a non-zero ratio near the true one (2e-3)
    torch.manual_seed(0)
    emb = nn.Embedding(5000, 64)
    opt = torch.optim.SGD(emb.parameters(), lr=0.1)
    with watch(emb) as w:
        before = emb.weight.detach().clone()
        emb(torch.tensor([1, 3])).sum().backward()
        opt.step()
    true = ((emb.weight.detach() - before).norm() / before.norm()).item()
    rec = w.records()[0]["update_ratio"]
    assert rec is not None and 0.5 * true < rec < 2 * true
    (upd,) = [f for f in verdict(w.records()) if f.check == "update_ratio"]
    assert "no update" not in upd.message
