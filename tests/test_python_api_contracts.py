"""Adversarial review of the public Python API as a user meets it (README "From Python",
docs/ARCHITECTURE.md's surfaces): configs, train(), Population, arrays_dataset.

Every test here failed on the code it was written against, for the reason its docstring gives.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from conftest import small_config
from trainlab.config import parse_config
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.pretrain import arrays_dataset
from trainlab.train import train


def _quick(**kw):
    return train(
        small_config(train={"epochs": 1, "batch_size": 32}), write=False, progress=False, **kw
    )


# -- parse_config ------------------------------------------------------------------------------


def test_parse_config_does_not_share_lists_with_the_callers_dict():
    """``parse_config(raw)`` validates a plain dict into a ``Config``: the config is a value, and
    a later change to ``raw`` must not reach into it. A notebook sweep builds configs from one
    base dict (``raw["model"]["hidden"][0] = w; cfgs.append(parse_config(raw))``); today the
    keys of the factory sections (``model.hidden``, ``optim.betas``, ...) are the caller's
    very list objects, so every config built in the loop silently ends with the *last* width
    and betas, and the sweep trains the same models again and again."""
    raw = {
        "model": {"name": "mlp", "hidden": [8, 8]},
        "optim": {"name": "adam", "betas": [0.9, 0.99]},
    }
    cfg = parse_config(raw)
    raw["model"]["hidden"][0] = 512
    raw["optim"]["betas"][1] = 0.5
    assert cfg.model.hidden == [8, 8]
    assert list(cfg.optim.betas) == [0.9, 0.99]


# -- Population ---------------------------------------------------------------------------------


def test_population_refuses_inputs_whose_features_a_linear_layer_does_not_take():
    """A population forward is ``(K, B, ...) -> (K, B, C)``, each model computing what the
    plain model computes on its slice. The plain ``nn.Linear(4, 3)`` refuses a batch of
    5-feature samples (``mat1 and mat2 shapes cannot be multiplied``); the stacked twin
    reshapes the input to ``(K, -1, in_features)`` and silently returns ``(K, 5, 3)`` -- a
    different batch size, each "sample" made of pieces of several real ones. A user who feeds a
    population data of the wrong width (or a test split whose features differ from the
    training split's) gets garbage instead of the shape error."""
    template = nn.Sequential(nn.Linear(4, 3))
    x = torch.randn(2, 4, 5)  # K=2 models, 4 samples each, 5 features (the model takes 4)
    with pytest.raises(RuntimeError):
        template(x[0])
    pop = Population(template, 2)
    with pytest.raises((RuntimeError, ValueError)):
        out = pop(x)
        raise AssertionError(f"accepted (2, 4, 5) for Linear(4, 3): output {tuple(out.shape)}")


def test_from_models_given_one_sequential_does_not_stack_its_layers_as_models():
    """``Population.from_models(models)`` stacks a *list* of models. Passing one model by
    mistake (``from_models(net)`` for ``from_models([net])``) must be refused or taken as one
    model; an ``nn.Sequential`` is indexable, so today its layers are taken as the models, and
    a deep linear net of equal layers silently becomes a population of K=2 single layers."""
    net = nn.Sequential(nn.Linear(8, 8), nn.Linear(8, 8))
    try:
        pop = Population.from_models(net)
    except UserError:
        return
    assert pop.k == 1, f"one model became a population of {pop.k} (its layers)"
    x = torch.randn(1, 5, 8)
    torch.testing.assert_close(pop.eval()(x)[0], net(x[0]))


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: Population("mlp", 2), id="template-is-a-string"),
        pytest.param(lambda: Population(nn.Linear, 2), id="template-is-a-class"),
        pytest.param(
            lambda: Population.from_models([nn.Linear(4, 3), "model"]), id="from-models-non-module"
        ),
        pytest.param(
            lambda: Population(nn.Linear(4, 3), 2).load_member(0, nn.Linear(4, 3)),
            id="load-member-given-a-module",
        ),
    ],
)
def test_population_arguments_of_the_wrong_type_are_user_errors(make):
    """ARCHITECTURE.md: user mistakes raise ``UserError`` with a one-line message naming the
    problem and the fix (and ``Population`` already checks ``k``, seeds and indices that way).
    A template that is a model name or a class instead of an instance, or ``load_member``
    given the module instead of its ``state_dict()``, end in
    ``AttributeError: 'str' object has no attribute 'named_modules'``, ``TypeError:
    Module.named_modules() missing ... 'self'`` or ``'Linear' object has no attribute
    'items'`` from deep inside the engine."""
    with pytest.raises(UserError):
        make()


# -- train() ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, names",
    [
        pytest.param({"config": 3}, "config", id="config-is-a-number"),
        pytest.param({"model": "mlp"}, "model", id="model-is-a-string"),
        pytest.param({"model": nn.Linear}, "model", id="model-is-a-class"),
        pytest.param({"dataset": "digits"}, "dataset", id="dataset-is-a-name"),
    ],
)
def test_train_arguments_of_the_wrong_type_are_user_errors(kwargs, names):
    """``train(config, *, model=, dataset=)`` is the README's entry point. Plausible mistakes
    -- a config that is neither a Config, a dict nor a path, a model *name*
    or class for ``model=``, a dataset *name* for ``dataset=`` -- must be a ``UserError``
    naming the argument, not ``TypeError: expected str, bytes or os.PathLike object, not
    int`` / ``AttributeError: 'str' object has no attribute 'cpu'`` / ``... 'to'`` from inside
    the trainer."""
    kwargs = dict(kwargs)
    config = kwargs.pop("config", None) or small_config(train={"epochs": 1, "batch_size": 32})
    with pytest.raises(UserError) as info:
        train(config, write=False, progress=False, **kwargs)
    assert names in str(info.value)


def test_train_takes_the_plain_dict_parse_config_takes():
    """The README's raw dict passed to ``train`` without ``parse_config`` trains as if parsed
    (it crashed with ``TypeError: expected str, bytes or os.PathLike object, not dict``), and
    the caller's dict is left as it was."""
    raw = {
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [8]},
        "train": {"epochs": 1, "batch_size": 256},
    }
    before = copy.deepcopy(raw)
    got = train(raw, write=False, progress=False).summary
    want = train(parse_config(copy.deepcopy(raw)), write=False, progress=False).summary
    assert [m["final"] for m in got["models"]] == [m["final"] for m in want["models"]]
    assert raw == before


def test_a_float64_user_model_is_trained_or_refused_naming_its_dtype():
    """README: "Any ``nn.Module`` trains the same way: ``train(cfg, model=my_module)``". A
    module built after ``torch.set_default_dtype(torch.float64)`` (or ``.double()``) is
    float64 while trainlab's data is float32. It must either train or be refused naming the
    real problem (its dtype, and the fix ``model.float()``); today it is refused as a "shape
    mismatch ... check the model's settings", which sends the user looking for a wrong layer
    size that does not exist."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    finally:
        torch.set_default_dtype(before)
    try:
        result = _quick(model=model)
    except UserError as err:
        msg = str(err)
        assert "shape mismatch" not in msg, msg
        assert "float64" in msg or "Double" in msg, msg
        return
    assert result.summary["models"][0]["status"] == "ok"


# -- arrays_dataset -----------------------------------------------------------------------------


def _arrays():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 5)).astype(np.float32)
    y = np.arange(120) % 3
    xt = rng.normal(size=(30, 5)).astype(np.float32)
    yt = np.arange(30) % 3
    return x, y, xt, yt


@pytest.mark.parametrize(
    "case",
    ["y_train-shorter-than-x_train", "x_test-other-feature-count", "one-hot-labels"],
)
def test_arrays_dataset_refuses_arrays_that_do_not_fit_together(case):
    """README: "Your own data trains the same way too: ``train(cfg, dataset=ds)`` with a
    ``trainlab.data.Dataset`` (e.g. ``trainlab.pretrain.arrays_dataset(x_train, y_train,
    x_test, y_test)``)". Its docstring: labels are integers in ``[0, num_classes)``. Arrays
    that cannot be one data set -- fewer labels than inputs, a test split with another
    feature count, one-hot ``(N, C)`` labels (taken as 2 classes) -- are accepted, and the run
    later dies in ``F.cross_entropy`` with ``ValueError: Expected input batch_size (10) to
    match target batch_size (0)``. Either ``arrays_dataset`` or ``train`` must refuse them with
    a UserError naming the mismatch."""
    x, y, xt, yt = _arrays()
    if case == "y_train-shorter-than-x_train":
        y = y[:108]
    elif case == "x_test-other-feature-count":
        xt = xt[:, :4]
    else:
        y, yt = np.eye(3, dtype=np.int64)[y], np.eye(3, dtype=np.int64)[yt]
    cfg = small_config(model={"name": "mlp", "hidden": [8]}, train={"epochs": 1, "batch_size": 16})
    with pytest.raises(UserError):
        ds = arrays_dataset(x, y, xt, yt)
        train(cfg, dataset=ds, write=False, progress=False)
