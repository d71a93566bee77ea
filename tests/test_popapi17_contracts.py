"""Review (popapi17): the public Population surface, getting model i out of a run, and the small
utility modules (atomic). Each test fails on the code it was written against."""

from __future__ import annotations

import os

import pytest
import torch
from torch import nn

from conftest import small_config
from trainlab import models
from trainlab.atomic import atomic_write_text
from trainlab.config import load_config
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.train import load_dataset, train


def test_model_i_of_a_dropout_grid_run_loads_by_the_architecture_doc_recipe(tmp_path):
    # docs/ARCHITECTURE.md: model i of a checkpoint is Population(template, k) +
    # load_state_dict(ck["population"]) + unstack(i), "with template built as the run's
    # config.yaml says"; for a per-model dropout grid over a base model.dropout of 0 (the default)
    # config.yaml's template has no dropout layer and the load fails with "Unexpected key(s)
    # net.drop1.seed, net.drop1.p". Right: a public loader (trainlab.load_run) gives model i of
    # such a run, with its own rate, as the run's result did; the doc's hand recipe works with
    # the template at the largest rate
    import trainlab

    cfg = small_config(
        train={"epochs": 1, "batch_size": 256},
        population={"seeds": [0], "grid": {"model.dropout": [0.0, 0.3]}},
    )
    result = train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    loaded = trainlab.load_run(tmp_path / "run")
    assert loaded.summary == result.summary
    saved = load_config(tmp_path / "run" / "config.yaml")
    data = load_dataset(saved)
    x = data.x_test[:32]
    want = result.model(1).eval()(x)
    assert torch.equal(loaded.model(1).eval()(x), want)
    ck = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    template = models.create(
        saved.model.name,
        input_shape=tuple(data.input_shape),
        num_classes=data.num_classes,
        **{**saved.model.kwargs("name"), "dropout": 0.3},  # the largest per-model rate
    )
    pop = Population(template, 2)
    pop.load_state_dict(ck["population"])
    assert torch.equal(pop.unstack(1).eval()(x), want)


def test_load_run_refuses_a_run_without_a_checkpoint(tmp_path):
    import shutil

    import trainlab

    out = tmp_path / "run"
    train(small_config(train={"epochs": 1, "batch_size": 256}), out=out, progress=False,
          device="cpu")  # fmt: skip
    shutil.rmtree(out / "checkpoints")
    (out / "summary.json").unlink()
    with pytest.raises(UserError, match="no checkpoint yet"):
        trainlab.load_run(out)


def test_set_frozen_with_a_mask_of_the_wrong_length_is_a_user_error_at_the_call():
    # Population.set_frozen takes a (K,) bool mask but checks nothing: a 2-model mask on a
    # population of 3 is taken and fails later inside a forward with torch's "size of tensor a
    # (3) must match ... (2)" (a 1-element mask silently freezes every model). Right: a
    # UserError naming the (K,) shape, as set_dropout_p gives.
    template = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    pop = Population(template, 3)
    with pytest.raises(UserError):
        pop.set_frozen(torch.tensor([True, False]))


def test_a_seed_that_does_not_fit_in_64_bits_is_a_user_error():
    # Population(template, 1, seeds=[2**63]) raises torch's bare "Overflow when unpacking long
    # long" (a plain ValueError); other bad seeds get "seeds must be integers". Right: a
    # UserError saying seeds must fit in 64 bits, as the config's own check says.
    with pytest.raises(UserError):
        Population(nn.Linear(2, 2), 1, seeds=[2**63])


def test_an_atomic_rewrite_keeps_an_existing_files_permissions(tmp_path):
    # trainlab.atomic says the file gets "the permissions a plain open() would give it"; a plain
    # open() of an existing file keeps its mode, but every atomic rewrite (last.pt each
    # checkpoint, summary.json, report.html) resets a 0640/0600 file to 0666 & ~umask (0644).
    # Right: rewriting an existing file keeps its permission bits.
    path = tmp_path / "summary.json"
    path.write_text("{}")
    os.chmod(path, 0o640)
    atomic_write_text(path, '{"k": 1}')
    assert path.stat().st_mode & 0o777 == 0o640
