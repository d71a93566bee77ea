"""Review diff30b: the integer-input checks, the vmap id guard and 16-bit clipping (346413f..HEAD).

Each test fails on the current code and states the behaviour that is right.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from trainlab.config import parse_config
from trainlab.data import Dataset
from trainlab.optim import clip_grad_norm_
from trainlab.population import Population
from trainlab.train import train

V = 50


def _cfg(**train_opts: object) -> object:
    return parse_config(
        {
            "name": "diff30b",
            "init": {"scheme": "keep"},
            "optim": {"name": "sgd", "lr": 0.05},
            "train": {"epochs": 1, "batch_size": 32, **train_opts},
            "population": {"seeds": [0]},
        }
    )


def _tokens(*, empty_val: bool = False) -> Dataset:
    g = torch.Generator().manual_seed(0)

    def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randint(0, V, (n, 8), generator=g)
        return x, (x < 25).sum(1).gt(4).long()

    (xt, yt), (xv, yv), (xe, ye) = split(200), split(50), split(100)
    if empty_val:
        xv, yv = xt[:0], yt[:0]
    return Dataset(
        name="tokens", x_train=xt, y_train=yt, x_val=xv, y_val=yv, x_test=xe, y_test=ye,
        input_shape=(8,), num_classes=2,
    )  # fmt: skip


class _KwEmbedding(nn.Module):
    """Calls its embedding with the keyword ``input=`` (legal for any nn.Module call)."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.emb(input=x).mean(1))


# population.py _ids_in_range: its forward pre-hook does `ids, *rest = args`, but a pre-hook
# registered without with_kwargs sees only the positional arguments: a model that calls its
# embedding as `self.emb(input=x)` (valid torch; it ran before this commit) now crashes every
# vmap forward with "ValueError: not enough values to unpack (expected at least 1, got 0)".
# Right: the population runs it, each member giving what the plain template gives (all members
# start from the template's weights).
def test_a_vmap_population_runs_an_embedding_called_with_a_keyword_input():
    torch.manual_seed(0)
    template = _KwEmbedding()
    x = torch.randint(0, 10, (3, 5, 7))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(template, 3)
        out = pop(x)
    for i in range(3):
        torch.testing.assert_close(out[i], template(x[i]))


class _BagSum(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.EmbeddingBag(10, 4, mode="sum")
        self.out = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape
        return self.out(self.emb(x.reshape(-1), torch.arange(0, b * t, t)))


# population.py _ids_in_range replaces an out-of-range id by K·V before the lookup, so an
# EmbeddingBag's error names the replacement, not the user's id: id 10 in a table of 10 rows
# (K=3) is reported as "takes value 30 which is not in the valid range [0, 10)", a value that
# is nowhere in the data. The plain module says "takes value 10"; the population should name
# the id the data holds.
def test_an_embedding_bag_population_names_the_out_of_range_id_the_data_holds():
    torch.manual_seed(0)
    x = torch.randint(0, 10, (3, 5, 7))
    x[1, 0, 0] = 10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(_BagSum(), 3)
        with pytest.raises((IndexError, RuntimeError)) as err:
            pop(x)
    assert "30" not in str(err.value), str(err.value)


class _Flatten(nn.Module):
    """Embedding, then a per-sample flatten with view(B, -1): valid for any batch of >= 1."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(V, 4)
        self.out = nn.Linear(32, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.emb(x)
        return self.out(h.view(h.size(0), -1))


# train.py Trainer._check_ids runs every split through the model, an empty one too:
# torch.empty(0, 8).split(4096) yields one (0, 8) chunk, and view(0, -1) raises "cannot reshape
# tensor of 0 elements ..." as a raw RuntimeError traceback. The trainer itself never runs the
# model on an empty split (evaluate returns NaN for n == 0), and this run trained before the
# commit. Right: an empty split has no ids to check; the run trains.
def test_an_empty_val_split_does_not_break_the_id_check():
    res = train(_cfg(), model=_Flatten(), dataset=_tokens(empty_val=True), write=False,
                progress=False, device="cpu")  # fmt: skip
    assert res.summary["models"][0]["status"] == "ok"


class _NeedsSmallBatches(nn.Module):
    """Stands for a model whose activations only fit in memory for batches of <= 64 (e.g. a
    long-sequence transformer): it raises the CPU allocator's error beyond that."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(V, 4)
        self.out = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2] > 64:
            raise RuntimeError(
                "[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: not enough memory: "
                "you tried to allocate 34359738368 bytes."
            )
        return self.out(self.emb(x).mean(-2))


# train.py Trainer._check_ids runs the data through the model in hard-coded chunks of 4096
# samples, ignoring train.eval_batch_size, the knob the user sets so that evaluation fits in
# memory (a 512-token transformer at 4096 samples needs ~34 GB for one attention matrix). With
# batch_size 32 and eval_batch_size 64 the trainer never runs more than 64 samples at once,
# and this run trained before the commit; now the check runs 200 at once and dies. Right: the
# check's chunks are no larger than train.eval_batch_size; the run trains.
def test_the_id_check_respects_eval_batch_size():
    res = train(_cfg(eval_batch_size=64), model=_NeedsSmallBatches(), dataset=_tokens(),
                write=False, progress=False, device="cpu")  # fmt: skip
    assert res.summary["models"][0]["status"] == "ok"


# optim/clip.py clip_grad_norm_: for float16 gradients whose norm passes 65504 the docstring
# promises "here they are clipped by their float32 norm", but the coefficient max_norm/norm is
# rounded to float16 (coef.to(narrow)) before the multiply: below float16's normal range it
# keeps a few bits (norm 1.9e6: clipped norm 1.018 instead of 1) and under 2.98e-8 it is 0
# (norm 3.8e7: every gradient zeroed, as torch's inf norm does). Each clipped element here
# (60000 · max_norm/norm = 0.0316 or 0.00158) is a normal float16, so clipping with the float32
# coefficient leaves the norm at max_norm to float16's rounding of the elements (< 0.1%).
@pytest.mark.parametrize("n", [1000, 400_000])
def test_float16_gradients_past_their_range_are_clipped_to_max_norm(n):
    p = torch.zeros(1, n, dtype=torch.float16, requires_grad=True)
    p.grad = torch.full((1, n), 60000.0, dtype=torch.float16)
    norms, clipped = clip_grad_norm_([p], 1.0, k=1)
    assert bool(clipped[0])
    assert float(norms[0]) == pytest.approx(60000.0 * n**0.5, rel=1e-3)
    assert float(p.grad.float().norm()) == pytest.approx(1.0, rel=2e-3)
