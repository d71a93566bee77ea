"""Review of `trainlab pretrain` after the Gaussian-RBM defaults and its re-emitted warnings."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import yaml

from trainlab.pretrain.run import load_pretrain_config, run_pretrain


# pretrain `_data` records the loader's warnings (catch_warnings(record=True)) and re-emits them
# only after data.load returns: when loading then fails (here: non-integer labels), the warnings
# it gave before failing are lost. data.load itself (and so `trainlab train`) shows the near-miss
# warning "x_valid, y_valid are not read (did you mean x_val, y_val?)" before the error, so
# pretrain must too (re-emit in a finally/except, then re-raise).
def test_loader_warnings_survive_a_failing_load(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((30, 16))
    y = rng.integers(0, 3, 30).astype(float)
    y[0] = 0.5  # non-integer label: a DataError after the near-miss warning
    path = tmp_path / "d.npz"
    np.savez(path, x_train=x[:20], y_train=y[:20], x_test=x[20:25], y_test=y[20:25],
             x_valid=x[25:], y_valid=y[25:])  # fmt: skip
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({
        "data": {"name": "npz", "options": {"path": str(path)}},
        "model": {"kind": "rbm", "n_components": 2},
        "train": {"n_iter": 1},
    }))  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Exception, match="integer class indices"):
            run_pretrain(cfg, out=tmp_path / "run")
    assert any("x_valid" in str(w.message) and "not read" in str(w.message) for w in caught)


# `run_pretrain(cfg_object, sets=...)` applies --set to `_given(cfg)`, which drops every value
# equal to the kind's default for the *current* visible type, so a learning_rate/method the
# YAML gives explicitly (0.01, cd with visible: gaussian) is dropped and
# `--set model.visible=bernoulli` then gives Bernoulli's 0.06/PCD; the same YAML passed as a
# path with the same --set keeps the given 0.01/cd (the file gives them). One config and one
# --set must train the same models either way: the given keys must stay.
def test_set_visible_on_a_loaded_config_keeps_given_lr_and_method(tmp_path):
    cfg = tmp_path / "g.yaml"
    cfg.write_text(yaml.safe_dump({
        "data": {"name": "digits", "scale": "minmax"},
        "model": {"kind": "rbm", "n_components": 2, "visible": "gaussian"},
        "train": {"n_iter": 1, "learning_rate": 0.01, "method": "cd"},
    }))  # fmt: skip
    sets = ["model.visible=bernoulli"]
    by_path = run_pretrain(cfg, sets=sets, out=tmp_path / "a")
    by_object = run_pretrain(load_pretrain_config(cfg), sets=sets, out=tmp_path / "b")
    train_a = yaml.safe_load((by_path / "config.yaml").read_text())["train"]
    train_b = yaml.safe_load((by_object / "config.yaml").read_text())["train"]
    assert (train_a["learning_rate"], train_a["method"]) == (0.01, "cd")
    assert (train_b["learning_rate"], train_b["method"]) == (0.01, "cd")
