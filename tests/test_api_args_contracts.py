"""Python API arguments of the wrong kind are one clear UserError (found by the python_api
review): an all-frozen model, an unknown split, float seeds, a non-Generator generator, a run
folder that is not a path."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from conftest import small_config
from trainlab import init
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.train import Trainer, resume


def test_a_model_with_no_trainable_parameter_is_refused():
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    model.requires_grad_(False)
    with pytest.raises(UserError, match="no trainable parameters"):
        Trainer(small_config(init={"scheme": "keep"}), model=model, device="cpu")


def test_evaluate_names_the_splits():
    trainer = Trainer(small_config(), device="cpu")
    with pytest.raises(UserError, match="unknown split 'valid'"):
        trainer.evaluate("valid")


def test_population_seeds_must_be_integers():
    with pytest.raises(UserError, match="seeds must be integers"):
        Population(nn.Linear(3, 2), 2, seeds=[0.5, 1.5])  # were truncated to 0 and 1
    assert Population(nn.Linear(3, 2), 2, seeds=torch.tensor([4, 5])).seeds.tolist() == [4, 5]


def test_init_apply_generator_must_be_a_generator():
    with pytest.raises(UserError, match="torch.Generator"):
        init.apply(nn.Linear(3, 2), "xavier_uniform", generator=0)


def test_resume_run_dir_must_be_a_path():
    with pytest.raises(UserError, match="folder path"):
        resume(3, progress=False)


def test_a_module_with_hook_based_weight_norm_is_refused_in_one_line():
    """torch's deprecated hook-based ``nn.utils.weight_norm`` cannot be deep-copied: training
    such a module died with torch's deepcopy RuntimeError; it is one line naming the
    parametrized replacement (which trains)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own deprecation warning
        model = nn.Sequential(nn.Flatten(), nn.utils.weight_norm(nn.Linear(64, 10)))
    with pytest.raises(UserError, match="layer '1' uses torch.nn.utils.weight_norm"):
        Trainer(small_config(init={"scheme": "keep"}), model=model, device="cpu")
    with pytest.raises(UserError, match="parametrizations.weight_norm"):
        Population(model, 2)
