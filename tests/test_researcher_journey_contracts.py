"""A researcher's ablation journey: a grid written in YAML, read with plain PyYAML (as most
scripts do), handed to ``trainlab.train.train`` as the dict the README says it takes."""

from __future__ import annotations

import pytest
import yaml

from trainlab.errors import UserError
from trainlab.train import train

#: a README-style config; PyYAML (YAML 1.1) reads ``1e-3`` and ``3e-3`` as the text "1e-3",
#: "3e-3" (trainlab's own loader reads them as numbers), ``0.001`` as a number
_CONFIG = """
name: rj
model: {name: mlp, hidden: [8]}
init: {scheme: xavier_uniform}
optim: {name: adam, lr: 0.01}
train: {epochs: 1, batch_size: 64}
population:
  seeds: [0, 1]
  grid:
    optim.lr: %s
"""


def test_a_grid_listing_one_learning_rate_twice_is_refused_also_when_one_is_text():
    """``population.grid`` must list each value once: ``[1e-3, 0.001]`` "would train the same
    models twice, and their seeds would count twice in the group's mean and confidence
    interval" (``config._check_distinct``), and trainlab refuses it when the YAML file is read
    by its own loader. ``train()`` takes a plain dict too (README), and a dict read with
    ``yaml.safe_load`` holds ``["1e-3", 0.001]``: pydantic accepts the text "1e-3" as the
    learning rate 0.001, so both grid points train exactly the same models, yet the duplicate
    check compares the raw values and lets it through. The researcher then gets two "groups"
    (``optim.lr=1e-3`` and ``optim.lr=0.001``) of identical models, a silently doubled run and
    a misleading comparison. The duplicate must be refused, as it is for the file."""
    raw = yaml.safe_load(_CONFIG % "[1e-3, 0.001]")
    assert raw["population"]["grid"]["optim.lr"] == ["1e-3", 0.001]  # what PyYAML gives
    with pytest.raises(UserError, match="twice"):
        result = train(raw, write=False, progress=False, device="cpu")
        groups = [(g["group"], g["n"]) for g in result.summary["groups"]]
        finals = [m["final"]["test_acc"] for m in result.summary["models"]]
        pytest.fail(f"trained the same models twice as groups {groups}: test_acc {finals}")


def test_summary_overrides_hold_the_learning_rate_each_model_trained_with():
    """``summary.json`` records per model its ``overrides`` (README: "Scripts rely on these
    names"), which a researcher's script reads to plot test accuracy against the learning
    rate. The same grid gives the numbers ``0.001``/``0.003`` when the file is read by trainlab
    (``train("file.yaml")``), but when the dict comes from ``yaml.safe_load`` the overrides and
    the group labels keep the raw text ``"1e-3"``/``"3e-3"``, although the models trained with
    the floats 0.001 and 0.003 (pydantic converted them). So summary.json's numbers for the very
    same models depend on how the YAML was parsed, and a script's ``sorted(lrs)`` or log-scale
    plot breaks on text. The overrides must record the value the model trained with."""
    raw = yaml.safe_load(_CONFIG % "[1e-3, 3e-3]")
    summary = train(raw, write=False, progress=False, device="cpu").summary
    lrs = [m["overrides"]["optim.lr"] for m in summary["models"]]
    assert all(isinstance(v, float) for v in lrs), lrs
    assert lrs == [0.001, 0.001, 0.003, 0.003]
    assert [g["group"] for g in summary["groups"]] == ["optim.lr=0.001", "optim.lr=0.003"]
