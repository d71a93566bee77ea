"""DBN and stacked DAE: unrolled modules reproduce the stacks; fine-tuning via the trainer;
RBM populations reproduce solo fits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from trainlab.pretrain import (
    DBN,
    BernoulliRBM,
    RBMPopulation,
    StackedDenoisingAutoencoder,
    arrays_dataset,
    fine_tune,
)


def _hidden(module, x):
    """Every activation output act{i} of an unrolled MLP."""
    out, h = [], torch.as_tensor(x, dtype=torch.float32)
    for name, layer in module.named_children():
        h = layer(h)
        if name.startswith("act"):
            out.append(h.detach().numpy())
    return out


def test_dbn_unrolled_module_matches_rbm_stack(digits):
    X, _ = digits
    dbn = DBN(layers=[20, 12, 7], n_iter=2, random_state=0).fit(X[:300])
    module = dbn.to_module(n_classes=10)
    names = [n for n, _ in module.named_children()]
    assert names == ["flatten", "fc1", "act1", "fc2", "act2", "fc3", "act3", "out"]
    assert isinstance(module.act1, torch.nn.Sigmoid)
    stack = dbn.hidden_activations(X[:50])
    for got, want in zip(_hidden(module, X[:50]), stack, strict=True):
        np.testing.assert_allclose(got, want, atol=2e-6)
    np.testing.assert_allclose(stack[-1], dbn.transform(X[:50]))
    # and the layers really were pre-trained (not the MLP's default init)
    np.testing.assert_allclose(module.fc2.weight.detach().numpy(), dbn.rbms_[1].components_, 1e-6)


def test_gaussian_dbn_folds_variance_into_first_layer(digits):
    X, _ = digits
    Xs = (X[:200] - X[:200].mean(0)) / (X[:200].std(0) + 1e-3)
    dbn = DBN(layers=[10, 6], visible="gaussian", learning_rate=0.01, n_iter=2, random_state=1)
    dbn.fit(Xs)
    dbn.rbms_[0].log_variance_ = np.full(64, np.log(0.5))  # a non-unit variance
    module = dbn.to_module(n_classes=3)
    for got, want in zip(_hidden(module, Xs[:20]), dbn.hidden_activations(Xs[:20]), strict=True):
        np.testing.assert_allclose(got, want, atol=2e-6)


def test_sdae_unrolled_module_matches_encoders(digits):
    X, _ = digits
    sdae = StackedDenoisingAutoencoder(layers=[16, 8], n_iter=3, random_state=0).fit(X[:300])
    loss = sdae.history_["loss"][0]
    assert loss[-1] < loss[0]  # reconstruction improves
    module = sdae.to_module(n_classes=10, activation="sigmoid")
    np.testing.assert_allclose(_hidden(module, X[:30])[-1], sdae.transform(X[:30]), atol=2e-6)
    assert sdae.reconstruct(X[:5]).shape == (5, 64)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        StackedDenoisingAutoencoder(layers=[4]).fit(X[:10] * 3)


def test_dbn_fine_tunes_through_the_trainer(digits):
    X, y = digits
    dbn = DBN(layers=[64, 64], learning_rate=0.05, n_iter=3, random_state=0).fit(X[:1200])
    ds = arrays_dataset(X[:1200], y[:1200], X[1200:], y[1200:])
    modules = [dbn.to_module(10), dbn.to_module(10)]
    summary = fine_tune(modules, ds, seeds=[0, 1], epochs=8, lr=1e-2, batch_size=32)
    accs = [m["final"]["test_acc"] for m in summary["models"]]
    assert len(accs) == 2 and min(accs) > 0.8, accs  # measured 0.88 after 10 epochs


def test_population_member_reproduces_solo_fit(digits):
    X, _ = digits
    Xb = X[:150]
    pop = RBMPopulation(
        8, seeds=[3, 4], learning_rate=[0.05, 0.1], batch_size=10, n_iter=1, monitor=100
    ).fit(Xb)
    assert len(pop.estimators_) == 4
    assert pop.history_["reconstruction_error"].shape == (4, 1)
    assert pop.history_["pseudo_likelihood"].shape == (4, 1)
    m = pop.members_[3]
    assert (m.seed, m.learning_rate) == (4, 0.1) and m.group == "learning_rate=0.1"
    solo = BernoulliRBM(8, learning_rate=0.1, batch_size=10, n_iter=1, random_state=4).fit(Xb)
    np.testing.assert_allclose(pop.estimators_[3].components_, solo.components_, atol=1e-5)
    assert not np.allclose(pop.estimators_[2].components_, solo.components_, atol=1e-3)


def test_population_training_lowers_reconstruction_error(digits):
    X, _ = digits
    pop = RBMPopulation(16, seeds=[0, 1], learning_rate=0.1, n_iter=4, monitor=300).fit(X[:600])
    rec = pop.history_["reconstruction_error"]
    untrained = BernoulliRBM(16, n_iter=0, random_state=0).fit(X[:300])
    mean_v = 1 / (1 + np.exp(-(untrained.transform(X[:300]) @ untrained.components_)))
    assert (rec[:, -1] < 0.5 * ((mean_v - X[:300]) ** 2).mean()).all(), rec
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        RBMPopulation(4, n_iter=1).fit(X[:20] * 2)


@pytest.mark.parametrize(
    "options, match",
    [
        ({"momentum": 1.5}, "'momentum' parameter"),
        ({"k": 0}, "'k' parameter"),
        ({"learning_rate": -1.0}, "'learning_rate' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"n_components": 0}, "'n_components' parameter"),
        ({"monitor": -5}, "monitor must be"),
        ({"seeds": [1.5]}, "seeds must be integers"),
        ({"learning_rate": "fast"}, "learning_rate must be a number"),
    ],
)
def test_population_rejects_bad_settings(options, match):
    from trainlab.errors import UserError

    with pytest.raises(UserError, match=match):
        RBMPopulation(**{"n_components": 4, **options})


def test_population_takes_numpy_seeds_and_values(digits):
    X, _ = digits
    pop = RBMPopulation(4, seeds=np.arange(2), learning_rate=np.float32(0.1), n_iter=1)
    assert len(pop.fit(X[:50]).estimators_) == 2


def test_stacks_take_one_width_and_name_their_features(digits):
    from trainlab.errors import UserError

    X, _ = digits
    dbn = DBN(8, n_iter=1, random_state=0).fit(X[:100])
    assert dbn.transform(X[:2]).shape == (2, 8)
    assert list(dbn.get_feature_names_out()[:2]) == ["dbn0", "dbn1"]
    sdae = StackedDenoisingAutoencoder([6, 3], n_iter=1, random_state=0).fit(X[:100])
    assert len(sdae.get_feature_names_out()) == 3
    with pytest.raises(UserError, match="positive width"):
        DBN([8, 0]).fit(X[:100])
    with pytest.raises(ValueError, match="'batch_size' parameter"):
        StackedDenoisingAutoencoder(4, batch_size=0).fit(X[:100])


def test_dbn_passes_sklearn_checks_that_do_not_feed_data_outside_the_unit_range():
    """With a Gaussian first layer every generic check applies; the DBN accepts sparse input
    (its first RBM densifies it), so its tags must say so."""
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    est = DBN([4, 3], n_iter=2, visible="gaussian", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    bad = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not bad, bad


# ------------------------------------------------------------------ trainlab pretrain CONFIG
def _pretrain(tmp_path, monkeypatch, capsys, text: str, *args: str):
    """Run ``trainlab pretrain`` as the shell does (``main()``: errors -> one line, exit 2)."""
    import sys

    from trainlab.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["trainlab", "pretrain", str(cfg), "--out", str(out), *args])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    return code, " ".join(capsys.readouterr().err.split()), out


@pytest.mark.parametrize(
    "text, args, match",
    [
        ("model: {kind: rbm}\n", ["--grid", "learning_rate=0.1,-1"], r"grid.learning_rate .*> 0"),
        ("grid: {momentum: [0.5, 1.0]}\n", [], r"grid.momentum .*< 1.0, got \[0.5, 1.0\]"),
        ("grid: {learning_rate: []}\n", [], "grid.learning_rate needs one or more values"),
        ("model: {kind: dbn, layers: [8, 0]}\n", [], "model.layers.1: .*greater than or equal"),
        (
            "data: {scale: standardize}\nmodel: {kind: rbm}\n",
            [],
            "data.scale 'standardize' .*use data.scale: minmax \\(or model.visible: gaussian\\)",
        ),
        ("data: {scale: standardize}\nmodel: {kind: sdae}\n", [], "model.kind 'sdae' cannot"),
        ("device: cpu\n", ["--device", "cuda:7" if torch.cuda.is_available() else "cuda"], "cuda"),
        ("seeds: [-1]\nmodel: {kind: dbn}\n", [], r"seeds: .*\[0, 2\*\*32 - 1\], got -1"),
        ("seeds: [-1]\nmodel: {kind: sdae}\n", [], r"seeds: .*got -1"),
        ("seeds: [3, 0, 3]\n", [], "seeds: .*distinct; seed 3 appears 2 times"),
        (
            "model: {kind: rbm}\n",
            ["--grid", "learning_rate=0.1", "--grid", "learning_rate=0.2"],
            "--grid learning_rate is given twice",
        ),
    ],
)
def test_pretrain_mistakes_are_one_line_errors_that_leave_no_run_behind(
    tmp_path, monkeypatch, capsys, text, args, match
):
    import re

    code, err, out = _pretrain(tmp_path, monkeypatch, capsys, text, *args)
    assert code == 2 and "Traceback" not in err
    assert re.search(match, err), err
    assert not out.exists()  # checked before the run directory is made: --out stays free


def test_pretrain_checks_the_test_split_range_before_making_the_run(tmp_path, monkeypatch, capsys):
    """The report transforms the test split: a test value outside [0, 1] is refused up front,
    not after training with a half-made run left behind."""
    from trainlab.pretrain import run as run_mod

    def test_out_of_range(cfg):
        x = load_digits().data / 16.0
        xte = x[200:260].copy()
        xte[0, 5] = 1.5
        return x[:200], xte, (64,), None

    monkeypatch.setattr(run_mod, "_data", test_out_of_range)
    code, err, out = _pretrain(tmp_path, monkeypatch, capsys, "data: {scale: none}\n")
    assert code == 2, err
    assert "has values in [0, 1.5], but model.visible 'bernoulli' needs them in [0, 1]" in err
    assert not out.exists()


def test_pretrain_rejects_data_outside_the_unit_range_before_making_the_run(
    tmp_path, monkeypatch, capsys
):
    """``data.scale: none`` keeps the data's own range, which Bernoulli units may not take."""
    from trainlab.pretrain import run as run_mod

    def raw_digits(cfg):
        x = load_digits().data
        return x[:200], x[200:260], (64,), None

    monkeypatch.setattr(run_mod, "_data", raw_digits)
    text = "data: {scale: none}\nmodel: {kind: dbn, layers: [4]}\n"
    code, err, out = _pretrain(tmp_path, monkeypatch, capsys, text)
    assert code == 2, err
    assert "has values in [0, 16], but model.visible 'bernoulli' needs them in [0, 1]" in err
    assert not out.exists()


def test_sdae_takes_sparse_input_like_the_rbms(digits):
    import scipy.sparse as sp

    X = digits[0][:120]
    dense = StackedDenoisingAutoencoder([6], n_iter=1, random_state=0).fit(X)
    sparse = StackedDenoisingAutoencoder([6], n_iter=1, random_state=0).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(dense.layers_[0][0], sparse.layers_[0][0])
    np.testing.assert_array_equal(dense.transform(X), sparse.transform(sp.csc_matrix(X)))


def test_dbn_records_the_feature_names_it_was_fitted_on(digits):
    pd = pytest.importorskip("pandas")
    X = digits[0][:60]
    df = pd.DataFrame(X, columns=[f"px{i}" for i in range(64)])
    dbn = DBN([4], n_iter=1, random_state=0).fit(df)
    assert list(dbn.feature_names_in_) == list(df.columns)
    assert not hasattr(dbn.fit(X), "feature_names_in_")


def test_pretrain_names_the_population_members_that_diverged(tmp_path, monkeypatch, capsys):
    """A learning rate that sends one RBM's weights to inf/NaN: the others are kept, the run
    ends normally, and the CLI and summary.json name the diverged member."""
    import json
    import warnings

    from trainlab.cli import main

    cfg, out = tmp_path / "c.yaml", tmp_path / "run"
    cfg.write_text(
        "data: {scale: standardize}\nmodel: {kind: rbm, visible: gaussian, n_components: 8}\n"
        "train: {n_iter: 2, method: pcd}\n"
    )
    argv = ["trainlab", "pretrain", str(cfg), "--out", str(out), "--grid", "learning_rate=1e-3,0.5"]
    monkeypatch.setattr("sys.argv", argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy overflow in the report's numbers
        main()  # no SystemExit: the run itself succeeded
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diverged"] == [1]
    assert [m["diverged"] for m in summary["models"]] == [False, True]
    said = " ".join(capsys.readouterr().out.split())
    said_line = (
        "1 model(s) diverged (inf/NaN weights or training error): 1; lower their learning_rate"
    )
    assert said_line in said


def test_dbn_errors_say_which_layer_of_the_dbn_they_come_from():
    X = (np.random.default_rng(0).random((30, 6)) < 0.5).astype(float)
    with pytest.raises(ValueError, match=r"^DBN layer 1 of 2: The 'learning_rate' parameter"):
        DBN(layers=[4, 3], n_iter=1, learning_rate=-1.0).fit(X)
    dbn = DBN(layers=[4, 3], n_iter=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"^DBN layer 1 of 2: X has 5 features, but .* 6"):
        dbn.transform(X[:, :5])
