"""``distinct_curves`` (the columns of ``trainlab schedule``'s table and its legend) names each
distinct LR curve by the overrides every model on it shares; a curve whose models share none,
or whose name another curve has too, also gets its first model's index and seed (its
docstring). Checked on hand-made members and curves."""

from __future__ import annotations

import torch

from trainlab.cli.optim import distinct_curves
from trainlab.config import Member

X = [1.0, 0.5, 0.25]
Y = [2.0, 1.0, 0.5]


def _curve(*cols: list[float]) -> torch.Tensor:
    return torch.tensor(cols, dtype=torch.float64).T  # (S, K)


def test_two_curves_with_the_same_shared_overrides_get_their_first_model_and_seed():
    members = [
        Member(index=0, seed=10, overrides={"a": 1, "b": 1}),
        Member(index=1, seed=11, overrides={"a": 1, "b": 2}),
        Member(index=2, seed=12, overrides={"a": 1, "c": 1}),
        Member(index=3, seed=13, overrides={"a": 1, "c": 2}),
    ]
    firsts, labels, owner = distinct_curves(members, _curve(X, X, Y, Y))
    assert firsts == [0, 2]
    assert owner == [0, 0, 2, 2]
    assert labels == {0: "a=1 (model 0, seed 10)", 2: "a=1 (model 2, seed 12)"}


def test_curves_whose_models_share_no_override_are_named_by_model_and_seed():
    members = [
        Member(index=0, seed=5, overrides={"a": 1}),
        Member(index=1, seed=6, overrides={"b": 1}),
        Member(index=2, seed=7, overrides={}),
        Member(index=3, seed=8, overrides={}),
    ]
    firsts, labels, owner = distinct_curves(members, _curve(X, X, Y, Y))
    assert owner == [0, 0, 2, 2]
    assert labels == {0: "model 0, seed 5", 2: "default"}


def test_curves_are_listed_in_model_order_not_in_the_order_of_their_values():
    members = [Member(index=i, seed=i, overrides={"optim.lr": lr})
               for i, lr in enumerate([2.0, 1.0, 2.0])]  # fmt: skip
    firsts, labels, owner = distinct_curves(members, _curve(Y, X, Y))
    assert firsts == [0, 1]
    assert owner == [0, 1, 0]
    assert labels == {0: "optim.lr=2.0", 1: "optim.lr=1.0"}
