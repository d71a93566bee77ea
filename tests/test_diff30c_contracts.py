"""Review diff30c: this session's changes as a whole (the integer-input id checks against the
rest of the trainer and the population).

Each test fails on the current code and states the behaviour that is right.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from trainlab.config import parse_config
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.train import train


class _NeedsFourAxes(nn.Module):
    """A float model (no embedding) whose forward reads a 5th axis the data does not have:
    ``x.shape[4]`` raises Python's ``IndexError('tuple index out of range')``, a plain shape
    mismatch."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _ = x.shape[4]
        return self.fc(x.reshape(len(x), -1))


# train.py Trainer._check_fits now probes with IndexError too and sends every error whose text
# contains "index out of range" (_out_of_range) to _ids_error, without asking whether the
# inputs are ids or the model has an embedding at all. A float model on float data whose
# forward indexes a missing axis (Python's "tuple index out of range", the commonest shape
# slip) is told: "the training inputs of data 'digits' hold ids the model's embedding has no
# row for (...; ids from 0 to 1); give each nn.Embedding num_embeddings above ...": there is
# no embedding, no ids, and 0..1 are float pixel values truncated by int(). Right: the
# shape-mismatch UserError every other model/data mismatch gets, naming no embedding ids
# (fix: take the ids branch only for integer inputs of a model with an nn.Embedding/Bag, and
# match torch's own lookup messages, "index out of range in self" / "not in the valid range").
def test_a_float_model_indexing_a_missing_axis_is_not_told_about_embedding_ids():
    cfg = parse_config({"name": "diff30c", "init": {"scheme": "keep"}, "train": {"epochs": 1}})
    with pytest.raises(UserError) as err:
        train(cfg, model=_NeedsFourAxes(), write=False, progress=False, device="cpu")
    msg = str(err.value)
    assert "embedding" not in msg.lower(), msg
    assert "ids" not in msg, msg


class _EmbeddingThenListSlip(nn.Module):
    """Ids all in range; the forward's own bug is a Python list index past its end."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.out = nn.Linear(4, 2)
        self.extra: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.emb(x).mean(1)
        return self.out(h) + self.extra[0]  # IndexError: list index out of range


# population.py _ids_in_range wraps the whole vmap forward and rewrites ANY IndexError or
# RuntimeError whose text contains "index out of range" into "an nn.Embedding/EmbeddingBag of
# the model got an id outside [0, num_embeddings)". Here every id (0) is inside [0, 10); the
# plain model raises its own "IndexError: list index out of range", and the population reports
# a problem with the ids that does not exist, hiding the real line. Principle: a population
# refuses what one model refuses, as one model does. Right: the forward's own error (its
# "list index out of range") comes through; only a lookup of an id that is out of range
# becomes the embedding message (fix: translate only torch's lookup errors, e.g. the id K*V the
# hook put in, or check the stashed ids when an error comes).
def test_a_population_does_not_blame_embedding_ids_for_the_forwards_own_index_error():
    x = torch.zeros(5, 3, dtype=torch.long)  # every id in range
    with pytest.raises(IndexError, match="list index out of range"):
        _EmbeddingThenListSlip()(x)  # the plain model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(_EmbeddingThenListSlip(), 2)
    with pytest.raises(IndexError) as err:
        pop(torch.stack([x, x]))
    assert "list index out of range" in str(err.value), str(err.value)
    assert "num_embeddings" not in str(err.value), str(err.value)
