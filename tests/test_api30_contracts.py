"""Review api30: the Python API as a researcher in a notebook meets it."""

from __future__ import annotations

import importlib.resources
import warnings

import pytest

import trainlab
from trainlab.config import parse_config
from trainlab.errors import ConfigError

BASE = {
    "data": {"name": "digits"},
    "model": {"name": "mlp", "hidden": [8]},
    "train": {"epochs": 1, "batch_size": 100},
    "population": {"seeds": [0]},
}


def _edit_grid_optim_name(cfg):
    cfg.population.grid["optim.name"] = ["sgd", "adam"]


def _edit_grid_train_epochs(cfg):
    cfg.population.grid["train.epochs"] = [1, 3]


def _edit_duplicate_seed(cfg):
    cfg.population.seeds.append(0)


# A Config passed to train() is used as it is (config.as_config returns it unchecked) and the
# population section is never validated again (config.resolve dumps every section but
# `population`), so a population edited in a notebook after parse_config (an in-place dict/list
# edit, or model_copy(update=...), neither of which pydantic validates) trains silently what
# parse_config refuses: a grid over optim.name trained every model with the config's one
# optimizer (adam) while summary.json labels the groups 'optim.name=sgd' / 'optim.name=adam'
# (identical losses, measured); a grid over train.epochs trains both groups 1 epoch under the
# labels 'train.epochs=1' / '=3'; a seed listed twice trains the same model twice and counts it
# twice in the group's mean and CI. run_pretrain validates its PretrainConfig again for exactly
# this reason ("the object may have been edited in place"); train() must too: the same
# ConfigError that parse_config of the same values raises.
@pytest.mark.parametrize(
    "edit", [_edit_grid_optim_name, _edit_grid_train_epochs, _edit_duplicate_seed]
)
def test_train_validates_a_config_edited_after_parse(edit):
    cfg = parse_config(BASE)
    edit(cfg)
    with pytest.raises(ConfigError):
        parse_config(cfg.model_dump())  # what the edited values are, validated
    with pytest.raises(ConfigError):
        trainlab.train(cfg, write=False, progress=False)


# cfg.model_copy(update={"train": {...}}) (the pydantic way to vary a config in a notebook)
# stores the dict unvalidated, and train() then crashes deep inside the Trainer with
# "AttributeError: 'dict' object has no attribute 'early_stopping_patience'" (a traceback, not
# a trainlab error). Validated again (as run_pretrain does its config), the dict is a valid
# train section: it trains 2 epochs, or at the least is refused with a one-line ConfigError.
def test_train_accepts_or_refuses_a_model_copy_with_a_section_dict():
    cfg = parse_config(BASE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic's serializer warning about the dict
        edited = cfg.model_copy(update={"train": {"epochs": 2, "batch_size": 100}})
        try:
            result = trainlab.train(edited, write=False, progress=False)
        except ConfigError:
            return
    assert result.summary["epochs"] == 2


# trainlab's public names are lazy (module __getattr__, PEP 562) but the package defines no
# __dir__, so dir(trainlab), which a notebook's tab completion and help() list from, shows none
# of train/resume/load_run/RunResult/Config/... (only 'Any', 'importlib', '__version__', ...).
# PEP 562's companion __dir__ returning __all__ (plus the module globals) fixes it.
def test_dir_lists_the_public_api():
    listed = set(dir(trainlab))
    missing = sorted(set(trainlab.__all__) - listed)
    assert not missing, missing


# The library is annotated throughout (every public signature) but ships no PEP 561 marker:
# src/trainlab/py.typed does not exist, so mypy/pyright on a user's code that imports trainlab
# report 'module is installed, but missing library stubs or py.typed marker' and check none of
# its calls. Fix: add an empty src/trainlab/py.typed (and list it as package data).
def test_package_ships_py_typed_marker():
    assert importlib.resources.files("trainlab").joinpath("py.typed").is_file()
