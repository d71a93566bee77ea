"""Review diff34g: the commits 8333145..b45ce22 (config text numbers, MAX_EPOCHS, YAML messages,
watch skipped steps, figures)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch.nn as nn

from trainlab.config import load_config
from trainlab.errors import UserError

_WIDTHS = {"010": 6, "1.0": 8}


def _tagged(input_shape, num_classes, variant: str = "1.0"):
    """A registered model whose text option picks a width: '010' and '1.0' are names, not
    numbers (a checkpoint tag, a version string)."""
    w = _WIDTHS[variant]  # KeyError for 10 or 1.0
    return nn.Sequential(
        nn.Flatten(), nn.Linear(math.prod(input_shape), w), nn.ReLU(), nn.Linear(w, num_classes)
    )


@pytest.fixture
def tagged_model():
    from trainlab.models import _MODELS, register_model

    name = "tagged_diff34g"
    register_model(name)(_tagged)
    try:
        yield name
    finally:
        _MODELS._entries.pop(name, None)


def _train(cfg, out: Path) -> None:
    import trainlab

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainlab.train(cfg, out=out, device="cpu", progress=False)


# _Open._numbers_given_as_text (config.py) turns every extra text value of model/init/optim/
# schedule that YAML would read as a number into that number. The model's resolved defaults
# are written to config.yaml: a registered model whose text option defaults to "1.0" trains
# with "1.0" (the factory's default), but config.yaml now records `variant: 1.0` (a float;
# 8333145 wrote '1.0'), so the "fully resolved config" no longer holds the value the model was
# built with, and re-training from it (or resuming the run) calls the factory with 1.0 and
# crashes (KeyError 1.0). Expected: config.yaml reads back as the text the factory got, and
# training from it works, as before the change.
def test_text_default_of_a_registered_model_survives_config_yaml(
    tmp_path: Path, tagged_model: str
) -> None:
    cfg = {
        "name": "t",
        "data": {"name": "digits"},
        "model": {"name": tagged_model},
        "train": {"epochs": 1, "batch_size": 512},
    }
    _train(cfg, tmp_path / "run")
    again = load_config(tmp_path / "run" / "config.yaml")
    assert again.model.model_extra["variant"] == "1.0"
    _train(tmp_path / "run" / "config.yaml", tmp_path / "again")  # KeyError 1.0 now


# Same root cause, as written by a user: a quoted YAML scalar is text ("010" is a tag, not
# ten); 8333145 passed it to the factory as '010', now the factory gets the int 10 and the
# run crashes. There is no way left to give a factory's text option a number-like value
# (quoting and `--set model.variant='"010"'` both convert). Expected: the quoted text reaches
# the factory (convert only where the factory's parameter takes a number, or only text that a
# YAML 1.1 reader left unconverted and that was not quoted).
def test_quoted_text_option_of_a_registered_model_stays_text(
    tmp_path: Path, tagged_model: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f'name: t\ndata: {{name: digits}}\nmodel: {{name: {tagged_model}, variant: "010"}}\n'
        "train: {epochs: 1, batch_size: 512}\n"
    )
    assert load_config(path).model.model_extra["variant"] == "010"
    _train(path, tmp_path / "run")  # KeyError 10 now


# The commit refused text that is not an integer in Config's integer fields, because pydantic
# reads "0-9" (the CLI's seed range, written in a file) as the integer -9. The pre-training
# config (trainlab/pretrain/run.py) has its own _Strict models without that check: there
# `data: {seed: 0-9}` silently loads as split seed -9, and `seeds: [0-9]` is refused as
# "got -9", a number the user never wrote. Expected: both refused, naming the text '0-9'.
def test_pretrain_config_refuses_a_range_as_an_integer(tmp_path: Path) -> None:
    from trainlab.pretrain.run import load_pretrain_config

    path = tmp_path / "p.yaml"
    path.write_text("data: {seed: 0-9}\n")
    with pytest.raises(UserError):
        load_pretrain_config(path)  # data.seed == -9 now
    path.write_text("seeds: [0-9]\n")
    with pytest.raises(UserError, match="0-9"):
        load_pretrain_config(path)
