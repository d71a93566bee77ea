"""Study ``pretraining`` (shrunk to seconds) and the ``trainlab pretrain`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from trainlab.cli import app
from trainlab.studies import pretraining


def test_label_subset_is_stratified_and_seeded():
    y = np.repeat(np.arange(10), 30)
    idx = pretraining.label_subset(y, 0.01, seed=0)
    assert len(idx) == 10 and set(y[idx]) == set(range(10))  # at least one per class
    idx10 = pretraining.label_subset(y, 0.1, seed=0)
    assert np.bincount(y[idx10]).tolist() == [3] * 10
    assert (pretraining.label_subset(y, 0.1, seed=0) == idx10).all()
    assert not (pretraining.label_subset(y, 0.1, seed=1) == idx10).all()


def test_quick_mode_is_digits_only_and_full_adds_mnist1d():
    assert pretraining.SETTINGS["quick"]["datasets"] == ["digits"]
    assert pretraining.SETTINGS["full"]["datasets"] == ["digits", "mnist1d"]


def _toy_dataset(x_train, x_val, x_test):
    from trainlab.data import Dataset

    def y(x):
        return torch.zeros(len(x), dtype=torch.int64)

    return Dataset(
        name="toy",
        x_train=x_train,
        y_train=y(x_train),
        x_val=x_val,
        y_val=y(x_val),
        x_test=x_test,
        y_test=y(x_test),
        input_shape=tuple(x_train.shape[1:]),
        num_classes=1,
    )


def test_scale_unit_uses_train_min_max_and_clips_val_test():
    x_train = torch.tensor([[[-2.0, 5.0, 3.0]], [[2.0, 7.0, 3.0]]])  # (2, 1, 3)
    x_val = torch.tensor([[[0.0, 9.0, 3.0]]])
    x_test = torch.tensor([[[-4.0, 6.0, 1.0]]])
    out = pretraining.scale_unit(_toy_dataset(x_train, x_val, x_test))
    assert torch.allclose(out.x_train, torch.tensor([[[0.0, 0.0, 0.0]], [[1.0, 1.0, 0.0]]]))
    assert torch.allclose(out.x_val, torch.tensor([[[0.5, 1.0, 0.0]]]))  # 9 -> 2.0, clipped
    assert torch.allclose(out.x_test, torch.tensor([[[0.0, 0.5, 0.0]]]))  # -4 -> -0.5, clipped
    assert out.y_train is not None and out.input_shape == (1, 3)
    unit = _toy_dataset(out.x_train, out.x_val, out.x_test)
    assert pretraining.scale_unit(unit) is unit  # already in [0, 1]: unchanged


def test_scale_unit_brings_mnist1d_into_unit_interval():
    from trainlab.data import load

    ds = load("mnist1d", seed=0)
    assert ds.x_train.min() < 0  # real-valued signals: the reason for scaling
    out = pretraining.scale_unit(ds)
    for x in (out.x_train, out.x_val, out.x_test):
        assert x.min() >= 0 and x.max() <= 1
    assert torch.allclose(out.x_train.amin(dim=0), torch.zeros(ds.input_shape))
    assert torch.equal(out.y_test, ds.y_test)


def test_study_runs_and_reports(tmp_path, monkeypatch):
    tiny = {
        "datasets": list(pretraining.SETTINGS["quick"]["datasets"]),
        "depths": [2],
        "width": 8,
        "steps": 12,
        "seeds": 2,
        "dbn_iter": 1,
        "sdae_iter": 1,
    }
    monkeypatch.setitem(pretraining.SETTINGS, "quick", tiny)
    out = pretraining.run(tmp_path / "study", quick=True, device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    cells = summary["cells"]
    assert len(cells) == 2 * 3 * 3  # activations x label fractions x methods
    assert summary["datasets"] == ["digits"] and {c["data"] for c in cells} == {"digits"}
    assert {c["method"] for c in cells} == {"random", "dbn", "sdae"}
    assert all(c["n"] == 2 and 0.0 <= c["test_acc_mean"] <= 1.0 for c in cells)
    assert "Erhan" in summary["expectation"] and summary["verdict"].startswith("Measured")
    assert len(summary["models"]) == 2 * 3 * 3 * 2
    html = (out / "report.html").read_text()
    assert "Erhan" in html and (out / "figures" / "accuracy_vs_labels.png").exists()


def test_pretrain_command_writes_run_with_figures(tmp_path):
    cfg = tmp_path / "rbm.yaml"
    cfg.write_text("name: t\nmodel: {kind: rbm, n_components: 8}\ntrain: {n_iter: 2}\n")
    out = tmp_path / "run"
    res = CliRunner().invoke(
        app, ["pretrain", str(cfg), "--grid", "learning_rate=0.01,0.1", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 2
    assert [m["learning_rate"] for m in summary["models"]] == [0.01, 0.1]
    for fig in ("filters", "reconstructions", "curves"):
        assert (out / "figures" / f"{fig}.png").exists()
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 * 2 and "pseudo_likelihood" in json.loads(lines[0])


@pytest.mark.parametrize("kind", ["dbn", "sdae"])
def test_pretrain_stacks_from_config(tmp_path, kind):
    from trainlab.pretrain.run import PretrainConfig, run_pretrain

    cfg = PretrainConfig.model_validate(
        {"model": {"kind": kind, "layers": [8, 4]}, "train": {"n_iter": 1}}
    )
    out = run_pretrain(cfg, out=tmp_path / kind, device="cpu")
    assert (out / "figures" / "filters.png").exists() and (out / "model.npz").exists()


def test_pretrain_config_errors(tmp_path):
    from trainlab.errors import ConfigError
    from trainlab.pretrain.run import load_pretrain_config, parse_grid

    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {kinds: rbm}\n")
    with pytest.raises(ConfigError, match="did you mean 'kind'"):
        load_pretrain_config(bad)
    with pytest.raises(ConfigError, match="key=v1,v2"):
        parse_grid(["learning_rate"])
    with pytest.raises(ConfigError, match="not found"):
        load_pretrain_config(tmp_path / "missing.yaml")
