"""Review findings (models31): trainlab.models.create("mlp", ...) and its init/config seams."""

from __future__ import annotations

import pytest
import yaml

from trainlab import init
from trainlab.errors import UserError


# The mlp's own activations include "elu" and "gelu", and a user naturally writes the same name
# as init.nonlinearity (he_normal/he_uniform). torch.nn.init.calculate_gain has no gain for
# either, and trainlab's error then hints "did you mean 'selu'?": SELU's gain is 3/4, so
# following the hint gives Var(W) = 0.5625/fan_in, 3.6x below He's 2/fan_in for these
# ReLU-like units (deep nets' activations shrink layer by layer). A name that is one of the
# model's activations is not a typo of 'selu': the message must not steer to it.
@pytest.mark.parametrize("name", ["elu", "gelu"])
def test_gain_of_model_activation_does_not_suggest_selu(name):
    with pytest.raises(UserError) as info:
        init.gain(name)
    assert "did you mean 'selu'" not in str(info.value)


# README "Configs": "every default, the model's, init scheme's and optimizer's included, is
# written to the run's config.yaml" (config.with_factory_defaults: "config.yaml records the
# whole run even if a default changes later"). For the default mlp the file says
# `hidden: null, depth: null, width: null`: the widths the run was built with, (256, 256)
# (MLP.__init__ resolves None to them inside), are recorded nowhere in config.yaml.
def test_config_yaml_records_the_mlp_hidden_widths():
    # (train() writes config.yaml as dump_config(with_factory_defaults(config)), train.py)
    from trainlab import models
    from trainlab.config import dump_config, parse_config, with_factory_defaults

    cfg = parse_config({"data": {"name": "digits"}, "model": {"name": "mlp"}})
    built = models.create("mlp", input_shape=(1, 8, 8), num_classes=10, **cfg.model.kwargs("name"))
    assert built.hidden == (256, 256)
    model = yaml.safe_load(dump_config(with_factory_defaults(cfg)))["model"]
    explicit = model.get("hidden") == [256, 256] or (
        model.get("depth") == 2 and model.get("width") == 256
    )
    assert explicit, f"config.yaml does not record the widths: {model}"


# A run recorded before the widths were written out (config.yaml, population.json and the
# checkpoint's config all say hidden: null) still resumes: null and [256, 256] are one model.
def test_run_recorded_with_null_widths_still_resumes(tmp_path):
    import json

    import torch

    from trainlab.config import parse_config
    from trainlab.train import resume, train

    cfg = parse_config(
        {"model": {"name": "mlp"}, "train": {"epochs": 1, "batch_size": 256}, "name": "w"}
    )
    run = train(cfg, out=tmp_path / "r", progress=False).run_dir
    text = (run / "config.yaml").read_text()
    assert "- 256" in text
    raw = yaml.safe_load(text)
    raw["model"]["hidden"] = None
    (run / "config.yaml").write_text(yaml.safe_dump(raw))
    pop = json.loads((run / "population.json").read_text())
    pop["config"]["model"]["hidden"] = None
    (run / "population.json").write_text(json.dumps(pop))
    ckpt = run / "checkpoints" / "last.pt"
    state = torch.load(ckpt, weights_only=True)
    old = json.loads(state["config"])
    old["model"]["hidden"] = None
    state["config"] = json.dumps(old)
    torch.save(state, ckpt)
    raw["train"]["epochs"] = 2
    (run / "config.yaml").write_text(yaml.safe_dump(raw))
    out = resume(run, progress=False)
    assert out.summary["epochs"] == 2
