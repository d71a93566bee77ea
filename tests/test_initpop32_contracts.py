"""Review initpop32: per-model init overrides inside populations."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch
from torch import nn

import trainlab
from trainlab import init
from trainlab.errors import UserError


# he_normal/he_uniform accept `negative_slope` but silently ignore it unless
# `nonlinearity: leaky_relu` is also given (src/trainlab/init.py `_he_normal`/`_he_uniform` pass
# a=0.0 for any other nonlinearity). torch.nn.init.kaiming_normal_(w, a=0.2), whose default
# nonlinearity is leaky_relu, draws with gain sqrt(2/(1+0.2^2)); trainlab draws with sqrt(2),
# while population.json records "negative_slope": 0.2 as if it applied. A given option must either
# take effect (torch's draws for the same generator, as the docs promise) or be refused.
def test_he_normal_negative_slope_is_not_silently_ignored():
    layer = nn.Linear(64, 32)
    try:
        init.apply(
            layer, "he_normal", negative_slope=0.2, generator=torch.Generator().manual_seed(0)
        )
    except UserError:
        return  # refused with a clear message: fine
    want = torch.empty(32, 64)
    torch.nn.init.kaiming_normal_(want, a=0.2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(layer.weight.detach(), want)
    assert init.expected_std("he_normal", layer, negative_slope=0.2) == pytest.approx(
        math.sqrt(2 / 1.04) / math.sqrt(64)
    )


# population.json records, for a model whose init.scheme is `keep`, "bias": 0.0
# (src/trainlab/train.py `_member_init`: InitConfig's default bias refills what `resolve`
# dropped). But `keep` leaves the module's biases as they are (init.apply refuses a bias for it,
# and scheme_options("keep") is empty), so the record claims biases of 0 that the model does not
# have. The record of a keep model should carry no bias.
def test_population_json_keep_model_records_no_bias(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))
    cfg = {
        "data": {"name": "digits"},
        "init": {"scheme": "he_normal", "bias": 0.01},
        "train": {"epochs": 1, "batch_size": 500},
        "population": {"seeds": [0], "variants": [{"init.scheme": "keep"}, {}]},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = trainlab.train(cfg, out=tmp_path / "r", device="cpu", model=net, progress=False)
    # the keep model really started from the module's (non-zero) biases
    assert not torch.all(net[1].bias == 0)
    rec = json.loads((tmp_path / "r" / "population.json").read_text())["models"]
    keep = next(m for m in rec if m["init"]["scheme"] == "keep")
    other = next(m for m in rec if m["init"]["scheme"] == "he_normal")
    assert other["init"]["bias"] == 0.01
    assert "bias" not in keep["init"], keep["init"]
    del result
