"""Review (pretrainrun20): `trainlab pretrain` run directories, load_module and report figures."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from trainlab.errors import UserError
from trainlab.pretrain.run import filters_figure, load_module, load_pretrain_config


@pytest.mark.parametrize(
    "sets",
    [["data.options.stratify=false"], ["data.name=mnist1d", "data.options.shuffle_seq=true"]],
)
def test_pretrain_config_accepts_boolean_dataset_options(sets):
    # wrong: the "no bool for a number" validator recurses into data.options and rejects every
    # boolean dataset option ("data: Value error, expected a number, got {...}"); right: accept
    # them, as `trainlab train` does (digits' stratify, mnist1d's shuffle_seq are booleans)
    cfg = load_pretrain_config(None, sets)
    assert any(isinstance(v, bool) for v in cfg.data.options.values())


def _fake_dbn_run(tmp_path, first_weight):
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(
        json.dumps({"kind": "dbn", "k": 1, "models": [{"index": 0, "seed": 0}], "diverged": []})
    )
    np.savez(
        run / "model.npz",
        components_0=first_weight,
        intercept_hidden_0=np.zeros(4, np.float32),
        intercept_visible_0=np.zeros(6, np.float32),
    )
    return run


@pytest.mark.parametrize(
    "weight", [np.zeros(6, np.float32), np.full((4, 6), "x")], ids=["1-d", "strings"]
)
def test_load_module_damaged_weight_array_is_one_clear_error(tmp_path, weight):
    # wrong: a model.npz whose weight is not a 2-D float array escapes as IndexError ("tuple
    # index out of range") / TypeError tracebacks; right: a UserError naming model.npz
    run = _fake_dbn_run(tmp_path, weight)
    with pytest.raises(UserError, match="model.npz"):
        load_module(run, 3)


def test_filters_figure_does_not_scramble_multichannel_images():
    # wrong: a (4, 8, 8) input (256 values) is drawn as a 16x16 image, so each drawn row holds
    # two image rows of one channel side by side; right: rows of width 8 (channels stacked, or
    # one channel) or curves, never a square reshape of C x H x W
    fig = filters_figure(np.random.RandomState(0).rand(2, 256), (4, 8, 8))
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert all(im.get_array().shape[-1] == 8 for im in images)
