"""trainlab.pretrain's contracts: population members against solo fits, estimator contracts,
and ``trainlab pretrain`` runs (what a failed run leaves behind, what model.npz holds)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

from trainlab.pretrain import (
    BernoulliRBM,
    GaussianBernoulliRBM,
    RBMPopulation,
    ais_log_partition,
    exact_log_partition,
)


@pytest.fixture(scope="module")
def digits01():
    return load_digits().data / 16.0


def _pretrain(tmp_path, monkeypatch, capsys, text: str, *args: str):
    """``trainlab pretrain`` as the shell runs it (``main()``); returns (exit code, stderr,
    run directory). Only SystemExit is caught: any other exception is a traceback."""
    from trainlab.cli import main

    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["trainlab", "pretrain", str(cfg), "--out", str(out), *args])
    code = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy overflow of diverged weights
        try:
            main()
        except SystemExit as exc:
            code = exc.code
    return code, capsys.readouterr().err, out


# -- members sample like solo fits; runs that fail leave nothing; model.npz is complete -------
@pytest.mark.parametrize("cls, scale", [(BernoulliRBM, False), (GaussianBernoulliRBM, True)])
def test_population_member_samples_like_its_solo_fit(digits01, cls, scale):
    """A population member "reproduces that solo fit", also in what ``gibbs`` draws next: it
    keeps the generator its weights were drawn from as ``random_state_``, as a solo fit does."""
    X = digits01[:200]
    if scale:
        X = (X - X.mean(0)) / (X.std(0) + 1e-3)
    visible = "gaussian" if scale else "bernoulli"
    pop = RBMPopulation(
        8, seeds=[4], learning_rate=0.01, method="pcd", n_iter=2, visible=visible, monitor=0
    ).fit(X)
    solo = cls(8, learning_rate=0.01, method="pcd", n_iter=2, random_state=4).fit(X)
    member = pop.estimators_[0]
    np.testing.assert_allclose(member.components_, solo.components_, atol=1e-5)
    got, want = member.gibbs(X[:50]), solo.gibbs(X[:50])
    if scale:  # real-valued visibles: the weights agree to float32 rounding, not bitwise
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    else:
        np.testing.assert_array_equal(got, want)


def test_pretrain_dbn_that_diverges_leaves_no_half_made_run(tmp_path, monkeypatch, capsys):
    """A DBN layer that diverges (found only while training, after the run directory exists)
    is one line and exit 2, and leaves no half-made run: the same --out works again."""
    text = (
        "data: {scale: standardize}\n"
        "model: {kind: dbn, layers: [16, 4], visible: gaussian}\n"
        "train: {learning_rate: 0.5, n_iter: 3}\n"
    )
    code, err, out = _pretrain(tmp_path, monkeypatch, capsys, text)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "diverged" in err and not out.exists()
    code, err, out = _pretrain(tmp_path, monkeypatch, capsys, text.replace("0.5", "0.001"))
    assert code == 0 and (out / "summary.json").is_file(), err


def test_pretrain_with_an_empty_test_split_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    """``trainlab.data.load`` accepts ``test_fraction: 0``; the pre-training report needs a
    test split, so that is one line naming the key, exit 2, and no run directory."""
    text = "data: {options: {test_fraction: 0}}\nmodel: {n_components: 4}\ntrain: {n_iter: 1}\n"
    code, err, out = _pretrain(tmp_path, monkeypatch, capsys, text)
    assert code == 2 and len(err.strip().splitlines()) == 1 and not out.exists(), err
    assert "test_fraction" in err


@pytest.mark.parametrize("kind", ["dbn", "sdae"])
def test_pretrain_model_npz_holds_the_hidden_biases_of_stacks(tmp_path, kind):
    """model.npz holds every layer's weights and both biases, so that the network that
    ``to_module()`` builds (weights *and* hidden biases) can be restored from the run."""
    from trainlab.pretrain import run as run_mod

    cfg = run_mod.PretrainConfig.model_validate(
        {"model": {"kind": kind, "layers": [6, 3]}, "train": {"n_iter": 1}, "seeds": [0]}
    )
    out = run_mod.run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    saved = dict(np.load(out / "model.npz"))
    xtr, xte, _, _ = run_mod._data(cfg)
    est, _ = run_mod._fit_stack(cfg, 0, xtr, xte[:10])  # the same fit (seed 0)
    if kind == "dbn":
        want = {
            f"{name}_{j}": getattr(r, f"{name}_")
            for j, r in enumerate(est.rbms_)
            for name in ("components", "intercept_hidden", "intercept_visible")
        }
    else:
        want = {
            f"{name}_{j}": a
            for j, layer in enumerate(est.layers_)
            for name, a in zip(("weight", "hidden_bias", "visible_bias"), layer, strict=True)
        }
    assert saved.keys() == want.keys() | {"input_shift", "input_scale"}  # (data.scale minmax)
    for key, a in want.items():
        np.testing.assert_allclose(saved[key], a, err_msg=key)


# -- members against solo fits, estimator contracts, bad runs -----------------------------------
_SOLO_CASES = {
    # name: (population options, solo options, member index, data rows)
    "remainder-batch": ({"batch_size": 7}, {"batch_size": 7}, 1, 303),
    "cd-k2": ({"method": "cd", "k": 2}, {"method": "cd", "k": 2}, 1, 300),
    "momentum-grid": ({"momentum": [0.0, 0.5]}, {"momentum": 0.5}, 3, 300),
    "decay-grid": ({"weight_decay": [0.0, 0.01]}, {"weight_decay": 0.01}, 3, 300),
    "float32": ({"dtype": np.float32}, {}, 1, 300),
    "chunked": ({}, {}, 1, 1000),  # more than one noise chunk per pass
}


@pytest.mark.parametrize("case", list(_SOLO_CASES))
def test_population_members_match_solo_fits_in_every_configuration(digits01, case):
    pop_kw, solo_kw, idx, n = _SOLO_CASES[case]
    pop_kw = dict(pop_kw)
    X = digits01[:n].astype(pop_kw.pop("dtype", np.float64))
    pop = RBMPopulation(8, seeds=[3, 4], n_iter=2, monitor=0, **pop_kw).fit(X)
    solo = BernoulliRBM(8, n_iter=2, random_state=4, **solo_kw).fit(X)
    member = pop.estimators_[idx]
    assert member.random_state == 4 and member.components_.dtype == X.dtype
    for attr in ("components_", "intercept_hidden_", "intercept_visible_"):
        np.testing.assert_allclose(getattr(member, attr), getattr(solo, attr), atol=5e-5)
    member.partial_fit(X[:10])  # and it continues like the solo model
    solo.partial_fit(X[:10])
    np.testing.assert_allclose(member.components_, solo.components_, atol=5e-5)


def test_fit_is_not_warm_and_random_state_forms_agree(digits01):
    X = digits01[:200]
    kw = dict(n_components=6, n_iter=2, momentum=0.5)
    ref = BernoulliRBM(random_state=0, **kw).fit(X).components_
    est = BernoulliRBM(random_state=0, **kw)
    est.partial_fit(X[:10])
    np.testing.assert_array_equal(est.fit(X).components_, ref)  # fit restarts
    np.testing.assert_array_equal(est.fit(X).components_, ref)  # and again
    by_state = BernoulliRBM(random_state=np.random.RandomState(0), **kw).fit(X)
    np.testing.assert_array_equal(by_state.components_, ref)


def test_ais_agrees_with_exact_log_z_when_the_visible_layer_is_enumerated():
    rng = np.random.default_rng(0)
    rbm = BernoulliRBM(n_components=12, n_iter=0).fit(np.zeros((2, 6)))
    rbm.components_ = rng.normal(0, 1.0, (12, 6))
    rbm.intercept_visible_ = rng.normal(0, 0.5, 6)
    rbm.intercept_hidden_ = rng.normal(0, 0.5, 12)
    exact = exact_log_partition(rbm)  # V = 6 < H = 12: sums over v
    res = ais_log_partition(rbm, n_betas=1000, n_runs=100, random_state=0)
    assert res.log_z_low <= exact <= res.log_z_high and abs(res.log_z - exact) < 0.05


@pytest.mark.parametrize(
    "text, args, match",
    [
        ("model: {n_components: 4}\n", ["--grid", "batch_size=10,20"], "grid key 'batch_size'"),
        ("grid: {n_iter: [1, 2]}\n", [], "grid key 'n_iter'"),
        ("model: {n_components: 4}\n", ["--grid", "learning_rate=,"], "needs one or more"),
        ("model: {n_components: 4}\n", ["--grid", "learning_rate=0.1,inf"], "learning_rate"),
        ("data: {name: npz, options: {path: /nonexistent/x.npz}}\n", [], "file not found"),
    ],
)
def test_pretrain_bad_grids_and_data_are_one_line_errors(
    tmp_path, monkeypatch, capsys, text, args, match
):
    code, err, out = _pretrain(tmp_path, monkeypatch, capsys, text, *args)
    assert code == 2 and len(err.strip().splitlines()) == 1 and match in err, err
    assert not out.exists()


def test_pretrain_never_writes_into_an_existing_run(tmp_path, monkeypatch, capsys):
    old = tmp_path / "run"
    old.mkdir()
    (old / "config.yaml").write_text("keep\n")
    code, err, _ = _pretrain(tmp_path, monkeypatch, capsys, "model: {n_components: 4}\n")
    assert code == 2 and "already exists" in err
    assert [p.name for p in old.iterdir()] == ["config.yaml"]
    assert (old / "config.yaml").read_text() == "keep\n"
