"""Study ``pretraining`` (shrunk to seconds) and the ``trainlab pretrain`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml
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


def tiny_study(tmp_path, monkeypatch):
    """The quick study shrunk (depth 2, width 8, 12 steps, 2 seeds, 1 pass per layer): the same
    code path in about 2 s; returns its folder."""
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
    return pretraining.run(tmp_path / "study", quick=True, device="cpu")


def test_study_runs_and_reports(tmp_path, monkeypatch):
    out = tiny_study(tmp_path, monkeypatch)
    summary = json.loads((out / "summary.json").read_text())
    cells = summary["cells"]
    assert len(cells) == 2 * 3 * 3  # activations x label fractions x methods
    assert summary["datasets"] == ["digits"] and {c["data"] for c in cells} == {"digits"}
    assert {c["method"] for c in cells} == {"random", "dbn", "sdae"}
    assert all(c["n"] == 2 and 0.0 <= c["test_acc_mean"] <= 1.0 for c in cells)
    assert "Erhan" in summary["expectation"]
    assert summary["verdict"].startswith("Measured, claim by claim")
    assert len(summary["models"]) == 2 * 3 * 3 * 2
    html = (out / "report.html").read_text()
    assert "Erhan" in html and (out / "figures" / "accuracy_vs_labels.png").exists()
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    setup = next(s["text"] for s in sections if s["kind"] == "text" and "Set-up" in s["text"])
    assert "width 8" in setup and "12 steps" in setup and "2 seeds" in setup
    # its claims are a table, counted at the end as the other studies' are (it printed none)
    from trainlab.studies import claims_summary

    claims = next(s for s in sections if s.get("title", "").startswith("Claims"))
    assert claims["columns"][-1] == "verdict" and len(claims["rows"]) == 4
    assert claims_summary(out).startswith("claims, by verdict: ")


def test_setup_text_says_what_ran_and_what_quick_mode_leaves_out():
    quick = pretraining.setup_text(True, [0, 1, 2], [0.01, 0.1, 1.0])
    ran, left = quick.split("**Quick mode leaves out**")
    assert "digits" in ran and "mnist1d" not in ran and "width 64" in ran and "150 steps" in ran
    assert "mnist1d (not run)" in left and "depth 4" in left and "depth 5" in left
    assert "5 seeds (ran 3)" in left and "fine-tuning steps 600 (ran 150)" in left
    full = pretraining.setup_text(False, list(range(5)), [0.01, 0.1, 1.0])
    assert "Quick mode" not in full and "mnist1d" in full and "depth 3, 4, 5" in full


def _cells(acc: dict[tuple[str, float], dict[str, float]], std: float = 0.01) -> list[dict]:
    """Study rows for one dataset and depth 3: ``acc[(activation, labels)][method]``."""
    return [
        {"data": "digits", "activation": act, "depth": 3, "labels": frac, "method": m,
         "test_acc_mean": a, "test_acc_std": std, "n": 5}
        for (act, frac), by_method in acc.items()
        for m, a in by_method.items()
    ]  # fmt: skip


def test_study_judges_each_claim_on_its_own():
    # sigmoid: pre-training +10 points with 1% labels, +1 with all; ReLU: it hurts by 20
    acc = {
        ("sigmoid", 0.01): {"random": 0.5, "dbn": 0.6, "sdae": 0.6},
        ("sigmoid", 1.0): {"random": 0.9, "dbn": 0.91, "sdae": 0.91},
        ("relu", 0.01): {"random": 0.6, "dbn": 0.4, "sdae": 0.4},
        ("relu", 1.0): {"random": 0.9, "dbn": 0.9, "sdae": 0.9},
    }
    _, verdicts, table = pretraining._claims(_cells(acc), ["digits"], [3], [0.01, 0.1, 1.0])
    helps, scarce, depth, narrows = verdicts
    assert [r["verdict"] for r in table] == ["confirmed", "confirmed", "not tested", "contradicted"]
    assert table[2]["detail"] == "one depth, 3" and table[3]["detail"].startswith("it reverses")
    assert all(
        v.startswith(f"on digits, {r['claim']}: ") for v, r in zip(verdicts, table, strict=True)
    )
    assert "helps deep sigmoid nets" in helps and helps.endswith("confirmed")
    assert "scarce" in scarce and scarce.endswith("confirmed")
    assert depth.endswith("not tested (one depth, 3)")
    assert "contradicted: it reverses" in narrows
    # the same gains with seed noise far larger than them: nothing is confirmed
    _, noisy = pretraining._findings(_cells(acc, std=0.5), ["digits"], [3], [0.01, 0.1, 1.0])
    assert all("confirmed" not in v and "contradicted" not in v for v in noisy[:2])
    assert noisy[0].endswith("inconclusive (within seed noise)")


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
        {"model": {"kind": kind, "layers": [8, 4]}, "train": {"n_iter": 2}, "seeds": [0, 1]}
    )
    out = run_pretrain(cfg, out=tmp_path / kind, device="cpu")
    for fig in ("filters", "reconstructions", "curves"):
        assert (out / "figures" / f"{fig}.png").exists()
    assert (out / "model.npz").exists()
    # training curves: one line per model, layer and pass
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [(r["model"], r["layer"], r["epoch"]) for r in lines] == [
        (i, layer, e) for i in (0, 1) for layer in (1, 2) for e in (1, 2)
    ]
    keys = {"dbn": {"reconstruction_error", "pseudo_likelihood"}, "sdae": {"reconstruction_loss"}}
    assert all(set(r) - {"model", "layer", "epoch"} == keys[kind] for r in lines)
    assert all(np.isfinite(r[k]) for r in lines for k in keys[kind])


def test_rbm_monitor_records_curves_without_changing_the_fit():
    """``monitor`` tracks reconstruction error and pseudo-likelihood per pass on the first
    samples; training is bit for bit the same as without it. A DBN passes it to each layer."""
    from sklearn.datasets import load_digits

    from trainlab.pretrain import DBN, BernoulliRBM, GaussianBernoulliRBM

    x = load_digits().data[:300] / 16.0
    kw = {"n_components": 16, "n_iter": 3, "random_state": 0}
    plain, watched = BernoulliRBM(**kw).fit(x), BernoulliRBM(**kw, monitor=100).fit(x)
    assert np.array_equal(plain.components_, watched.components_)
    assert plain.history_ == {"epoch": [], "reconstruction_error": [], "pseudo_likelihood": []}
    hist = watched.history_
    assert hist["epoch"] == [1, 2, 3] and len(hist["pseudo_likelihood"]) == 3
    assert hist["reconstruction_error"][-1] < hist["reconstruction_error"][0]
    gauss = GaussianBernoulliRBM(**kw, monitor=50).fit((x - x.mean(0)) / (x.std(0) + 1e-3))
    assert (
        len(gauss.history_["reconstruction_error"]) == 3 and not gauss.history_["pseudo_likelihood"]
    )
    dbn = DBN([16, 8], n_iter=2, random_state=0, monitor=100).fit(x)
    assert [len(h["reconstruction_error"]) for h in dbn.history_] == [2, 2]


def test_pretrain_config_fills_kind_defaults_and_rejects_unused_keys(tmp_path):
    from trainlab.errors import ConfigError
    from trainlab.pretrain import DBN, StackedDenoisingAutoencoder
    from trainlab.pretrain.run import KIND_DEFAULTS, PretrainConfig, load_pretrain_config

    # the table's DBN and SDAE defaults are the estimators' own
    for kind, est in (("dbn", DBN()), ("sdae", StackedDenoisingAutoencoder())):
        params = est.get_params()
        for section in ("model", "train"):
            for key, value in KIND_DEFAULTS[kind][section].items():
                got = params[key]
                if (kind, key) == ("dbn", "learning_rate"):  # (None: 0.1 for Bernoulli layers)
                    assert got is None
                    got = DBN()._layer(1, 4, 0).learning_rate
                assert list(np.atleast_1d(got)) == list(np.atleast_1d(value)), (kind, key)
    sdae = PretrainConfig.model_validate({"model": {"kind": "sdae"}})
    assert sdae.train.learning_rate == 1e-3 and sdae.train.momentum is None
    assert sdae.model.layers == [256, 256] and sdae.model.n_components is None
    for raw, match in [
        ({"model": {"kind": "sdae"}, "train": {"momentum": 0.5}}, "train.momentum does not apply"),
        ({"model": {"kind": "dbn", "n_components": 5}}, "model.n_components does not apply"),
        ({"model": {"kind": "rbm", "layers": [4]}}, "model.layers does not apply"),
        ({"model": {"kind": "dbn"}, "grid": {"momentum": [0.1]}}, "grid works with"),
    ]:
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump(raw))
        with pytest.raises(ConfigError, match=match):
            load_pretrain_config(path)


def test_pretrain_stack_trains_one_model_per_seed_with_the_config_values(tmp_path):
    from trainlab.pretrain.run import load_pretrain_config, run_pretrain

    cfg = tmp_path / "sdae.yaml"
    cfg.write_text(
        "model: {kind: sdae, layers: [6, 3]}\ntrain: {n_iter: 1, learning_rate: 0.5}\n"
        "seeds: [0, 1]\n"
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 2 and [m["seed"] for m in summary["models"]] == [0, 1]
    weights = np.load(out / "model.npz")
    assert {"weight_0", "weight_1", "weight_0_model1", "weight_1_model1"} <= set(weights.files)
    assert not np.array_equal(weights["weight_0"], weights["weight_0_model1"])
    resolved = load_pretrain_config(out / "config.yaml")  # the written config loads back
    assert resolved.train.learning_rate == 0.5 and resolved.train.batch_size == 32
    assert resolved.seeds == [0, 1] and resolved.model.corruption == 0.25


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
