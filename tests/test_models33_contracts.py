"""Review of trainlab.models (mlp, convnet, resnet) by models33."""

from __future__ import annotations

import yaml

from trainlab.train import train


# config.yaml promises to record every model default (README "Configs"; with_factory_defaults:
# "config.yaml records the whole run even if a default changes later"). For an mlp the
# signature's None is resolved and recorded (with_default_widths writes hidden: [256, 256]), but a
# convnet's `channels: None` is resolved inside ConvNet from the input shape and config.yaml keeps
# `channels: null`, so the run directory does not say which architecture was trained (and a later
# change of default_stages would rebuild a different net from the same config.yaml). MNIST-1D
# inputs are (1, 40): the documented default is 3 blocks of 32, 64, 128 channels, which is what
# the trained model has (model.channels).
def test_convnet_config_yaml_records_the_default_channels_built(tmp_path):
    cfg = {
        "name": "cnn",
        "data": {"name": "mnist1d", "options": {"n_samples": 300}},
        "model": {"name": "convnet"},
        "train": {"epochs": 1},
    }
    out = tmp_path / "run"
    result = train(cfg, out=out, device="cpu", progress=False)
    built = list(result.model(0).channels)
    assert built == [32, 64, 128]
    recorded = yaml.safe_load((out / "config.yaml").read_text())["model"]
    assert recorded["channels"] == built
