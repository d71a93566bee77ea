"""Mutation review of src/trainlab/pretrain/run.py (``trainlab pretrain`` / ``run_pretrain``):
the documented defaults and ranges of a pre-training config, the grid of a population, and
what the run directory records. Expected values come from the module docstring, the README,
the estimators' own documented defaults, or hand computations, never from run.py itself."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from trainlab.errors import ConfigError, UserError


def _cfg(raw=None, sets=None):
    from trainlab.pretrain.run import _validate, load_pretrain_config

    if sets is not None:
        return load_pretrain_config(None, sets)
    return _validate(raw or {}, "cfg")


# ------------------------------------------------------------------------ defaults per kind
def test_rbm_defaults_are_the_documented_ones():
    """run.py's docstring: ``model: {kind: rbm, n_components: 100, visible: bernoulli}``,
    ``train: {learning_rate: 0.06, batch_size: 10, n_iter: 10, method: pcd, k: 1}``; the
    README: "Bernoulli units: lr 0.06 and PCD"; a plain RBM has no momentum or decay."""
    cfg = _cfg()
    assert cfg.model.kind == "rbm"
    assert cfg.model.n_components == 100
    assert cfg.model.visible == "bernoulli"
    t = cfg.train
    assert (t.learning_rate, t.batch_size, t.n_iter, t.method, t.k) == (0.06, 10, 10, "pcd", 1)
    assert (t.momentum, t.weight_decay) == (0.0, 0.0)
    assert cfg.seeds == [0] and cfg.grid == {} and cfg.name == "pretrain"


def test_gaussian_rbm_defaults_are_lr_001_and_cd():
    """README: "an ``rbm`` with ``visible: gaussian``: lr 0.01 and CD-1"."""
    t = _cfg({"model": {"visible": "gaussian"}, "data": {"scale": "standardize"}}).train
    assert (t.learning_rate, t.method, t.k) == (0.01, "cd", 1)


def test_dbn_and_sdae_defaults_are_the_estimators_documented_defaults():
    """KIND_DEFAULTS: "the DBN and the stacked DAE take the defaults of DBN and
    StackedDenoisingAutoencoder" (their signatures: DBN layers (256, 256), batch 10, 30 passes,
    CD-1, momentum 0.5, no decay, lr 0.1 for Bernoulli layers; SDAE (256, 256), corruption
    0.25, lr 1e-3, batch 32, 20 passes)."""
    import inspect

    from trainlab.pretrain.autoencoder import StackedDenoisingAutoencoder
    from trainlab.pretrain.dbn import DBN

    dbn = _cfg({"model": {"kind": "dbn"}})
    sig = inspect.signature(DBN.__init__).parameters
    assert dbn.model.layers == [256, 256] == list(sig["layers"].default)
    for key, want in {"batch_size": 10, "n_iter": 30, "k": 1, "method": "cd",
                      "momentum": 0.5, "weight_decay": 0.0}.items():  # fmt: skip
        assert getattr(dbn.train, key) == want == sig[key].default, key
    assert dbn.train.learning_rate == 0.1  # "0.1 above" the Gaussian layer (run.py docstring)

    sdae = _cfg({"model": {"kind": "sdae"}})
    sig = inspect.signature(StackedDenoisingAutoencoder.__init__).parameters
    assert sdae.model.layers == [256, 256] == list(sig["layers"].default)
    assert sdae.model.corruption == 0.25 == sig["corruption"].default
    for key, want in {"learning_rate": 1e-3, "batch_size": 32, "n_iter": 20}.items():
        assert getattr(sdae.train, key) == want == sig[key].default, key


# ------------------------------------------------------------------------- documented ranges
def test_seeds_take_exactly_the_range_0_to_2_pow_32_minus_1():
    """run.py docstring: "Seeds are distinct integers in [0, 2**32 - 1]"."""
    assert _cfg({"seeds": [0, 2**32 - 1]}).seeds == [0, 2**32 - 1]
    for bad in (2**32, -1):
        with pytest.raises(ConfigError, match="seeds"):
            _cfg({"seeds": [bad]})


@pytest.mark.parametrize(
    ("axis", "ok", "bad"),
    [
        ("learning_rate", [1e-9, 5.0], [0.0]),  # > 0
        ("momentum", [0.0, 0.99], [1.0]),  # [0, 1)
        ("weight_decay", [0.0, 1e3], [-1e-9]),  # >= 0
    ],
)
def test_grid_axes_take_the_estimators_ranges(axis, ok, bad):
    """_GRID_RANGES' comment: learning_rate > 0, the others >= 0, momentum < 1 (a BernoulliRBM
    takes ``momentum`` in [0, 1) and ``learning_rate`` > 0)."""
    assert _cfg({"grid": {axis: ok}}).grid == {axis: ok}
    with pytest.raises(ConfigError, match=f"grid.{axis}"):
        _cfg({"grid": {axis: ok[:1] + bad}})


@pytest.mark.parametrize("kind", ["dbn", "sdae"])
def test_a_grid_is_refused_for_stacks(kind):
    """run.py docstring: "``rbm`` trains one population over ``seeds`` x ``grid``; ``dbn`` and
    ``sdae`` train one model per seed": a grid with them would be silently dropped."""
    with pytest.raises(ConfigError, match="grid"):
        _cfg({"model": {"kind": kind}, "grid": {"learning_rate": [0.01, 0.1]}})


@pytest.mark.parametrize("model", [{"kind": "rbm"}, {"kind": "dbn"}, {"kind": "sdae"}])
def test_standardize_with_unit_inputs_is_a_config_error(model):
    """run.py docstring: "Bernoulli visible units and ``sdae`` need data in [0, 1], so
    ``data.scale: standardize`` with them is an error" — of the config itself, before any data
    is read (``load_pretrain_config``)."""
    with pytest.raises(ConfigError, match="standardize"):
        _cfg(sets=[f"model.kind={model['kind']}", "data.scale=standardize"])


# ------------------------------------------------------------------------ the run directory
def _spike_npz(path):
    """12 training rows over 13 features: every row holds the only 3.0 of its own feature
    (1.0 elsewhere), feature 12 is 5.0 in every row; 4 test rows inside that range."""
    n = 12
    x = np.ones((n, n + 1), np.float32)
    x[np.arange(n), np.arange(n)] = 3.0
    x[:, n] = 5.0
    xt = np.full((4, n + 1), 2.0, np.float32)
    xt[:, n] = 5.0
    y = np.arange(n) % 2
    np.savez(path, x_train=x, y_train=y, x_test=xt, y_test=np.arange(4) % 2)
    return path


def test_minmax_scaling_uses_every_training_row_and_is_recorded(tmp_path):
    """run.py: minmax maps each feature to [0, 1] "by the training split's min and max", and
    "unsupervised: no validation split, its rows train too"; model.npz keeps the scaling as
    ``x' = (x - input_shift) / input_scale`` (load_module's docstring: W' = W / scale). By hand:
    every spiked feature spans [1, 3] (shift 1, scale 2) only if none of the 12 rows was held
    out; the constant feature (5.0) maps to 0 with a finite, positive scale."""
    from trainlab.pretrain.run import run_pretrain

    npz = _spike_npz(tmp_path / "d.npz")
    cfg = _cfg(
        {
            "data": {"name": "npz", "options": {"path": str(npz)}},
            "model": {"n_components": 2},
            "train": {"n_iter": 1, "batch_size": 4},
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    with np.load(out / "model.npz") as z:
        shift, scale = z["input_shift"], z["input_scale"]
        assert z["components_0"].shape == (2, 13)
    np.testing.assert_allclose(shift[:12], 1.0)
    np.testing.assert_allclose(scale[:12], 2.0)
    assert shift[12] == 5.0 and np.isfinite(scale[12]) and scale[12] > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 1 and summary["kind"] == "rbm"
    assert [m["seed"] for m in summary["models"]] == [0]


def test_a_grid_population_trains_every_grid_point_and_config_yaml_records_no_train_value(
    tmp_path,
):
    """run.py: "``rbm`` trains one population over ``seeds`` x ``grid``"; summary.json has a
    group per grid point with its overrides; config.yaml holds "every key the run used, none
    that it did not": the grid sets learning_rate per model, so train.learning_rate is absent
    (and loads back as the same config)."""
    import yaml

    from trainlab.pretrain.run import load_pretrain_config, run_pretrain

    cfg = _cfg(
        {
            "model": {"n_components": 2},
            "train": {"n_iter": 1, "batch_size": 200, "momentum": 0.5},
            "seeds": [3, 4],
            "grid": {"learning_rate": [0.02, 0.1]},
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    got = sorted((m["learning_rate"], m["seed"], m["momentum"]) for m in summary["models"])
    assert got == [(0.02, 3, 0.5), (0.02, 4, 0.5), (0.1, 3, 0.5), (0.1, 4, 0.5)]
    assert sorted(g["overrides"]["learning_rate"] for g in summary["groups"]) == [0.02, 0.1]
    assert all(g["n"] == 2 for g in summary["groups"])
    assert summary["k"] == 4  # seeds x grid
    written = yaml.safe_load((out / "config.yaml").read_text())
    assert "learning_rate" not in written["train"], written["train"]
    assert written["train"]["momentum"] == 0.5
    assert written["grid"] == {"learning_rate": [0.02, 0.1]}
    again = load_pretrain_config(out / "config.yaml")
    assert again.grid == cfg.grid and again.train.momentum == 0.5
    # more than one seed: the report compares each grid point over its seeds
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    titles = [s.get("title") for s in sections]
    assert "Grid points over seeds (final pass)" in titles, titles


def test_a_gaussian_dbn_config_yaml_writes_its_per_layer_learning_rate_as_null(tmp_path):
    """run.py: a Gaussian dbn takes ``learning_rate: null`` (0.01 for the Gaussian layer, 0.1
    above); config.yaml writes "a key the kind uses whose value is null ... as null, not left
    out"."""
    import yaml

    from trainlab.pretrain.run import run_pretrain

    cfg = _cfg(
        {
            "data": {"scale": "standardize"},
            "model": {"kind": "dbn", "layers": [3], "visible": "gaussian"},
            "train": {"n_iter": 1, "batch_size": 200},
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    written = yaml.safe_load((out / "config.yaml").read_text())
    assert "learning_rate" in written["train"] and written["train"]["learning_rate"] is None


def test_a_failed_run_in_an_empty_folder_that_existed_keeps_the_folder(tmp_path):
    """_discarded_unless_done: a run that fails removes what it wrote, but "a folder that
    existed before (empty) stays" (a Gaussian DBN at lr 0.5 diverges, as the suite's
    test_pretrain_dbn_that_diverges_leaves_no_half_made_run uses)."""
    from trainlab.pretrain.run import run_pretrain

    out = tmp_path / "run"
    out.mkdir()
    cfg = _cfg(
        {
            "data": {"scale": "standardize"},
            "model": {"kind": "dbn", "layers": [16, 4], "visible": "gaussian"},
            "train": {"learning_rate": 0.5, "n_iter": 3},
        }
    )
    with warnings.catch_warnings(), pytest.raises(UserError, match="diverged"):
        warnings.simplefilter("ignore", RuntimeWarning)
        run_pretrain(cfg, out=out, device="cpu")
    assert out.is_dir() and list(out.iterdir()) == []


# --------------------------------------------------------------- figures and their captions
def test_image_shape_follows_its_docstring():
    """``(H, W)`` of an image input, ``(C·H, W)`` of a ``(C, H, W)`` one, a square for values of
    unknown shape, None for a 1-D input (drawn as curves) even when its length is a square."""
    from trainlab.pretrain.run import _image_shape

    assert _image_shape((1, 8, 8), 64) == (8, 8)
    assert _image_shape((3, 4, 5), 60) == (12, 5)
    assert _image_shape((16,), 16) is None  # a 16-sample signal is no 4x4 image
    assert _image_shape((1, 40), 40) is None
    assert _image_shape((), 49) == (7, 7)


@pytest.mark.parametrize(
    ("h", "want"),
    [(10, "m: all 10 filters"), (64, "m: all 64 filters"), (65, "m: first 64 of 65 filters"),
     (100, "m: first 64 of 100 filters")],
)  # fmt: skip
def test_filters_caption_cuts_at_64(h, want):
    """filters_caption's docstring: ``"<whose>: first 64 of 100 filters"`` when the grid is
    cut; MAX_FILTERS: "filters drawn in a report's grid (a caption says 'first 64 of H' when
    there are more)"."""
    from trainlab.pretrain.run import filters_caption

    assert filters_caption(np.zeros((h, 4)), "m") == want


def test_filters_figure_draws_at_most_64_filters():
    from trainlab.pretrain.run import filters_figure

    fig = filters_figure(np.random.RandomState(0).rand(100, 64), (1, 8, 8))
    drawn = sum(1 for ax in fig.axes if ax.images)
    assert drawn == 64


def test_monitored_wording_at_the_1000_sample_boundary():
    """A DBN tracks each layer's curves on its input's first 1000 samples (DBN(monitor=1000)):
    all of them when there are 1000 or fewer."""
    from trainlab.pretrain.run import _monitored

    assert _monitored(1000) == "all 1000 training samples"
    assert _monitored(999) == "all 999 training samples"
    assert _monitored(1001) == "the first 1000 training samples"


def test_rbm_curves_caption_names_the_populations_monitor_size(tmp_path):
    """run_pretrain builds RBMPopulation without a ``monitor``, so the curves track its
    documented default, 1000 samples; digits' training split has 1437: the caption must say
    the first 1000."""
    import inspect

    from trainlab.pretrain import RBMPopulation
    from trainlab.pretrain.run import run_pretrain

    assert inspect.signature(RBMPopulation.__init__).parameters["monitor"].default == 1000
    cfg = _cfg({"model": {"n_components": 2}, "train": {"n_iter": 1, "batch_size": 500}})
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    caption = next(s["caption"] for s in sections if s.get("file") == "curves.png")
    assert "the first 1000 training samples" in caption, caption


# ------------------------------------------------------- final numbers, checked by sklearn
def _binary_npz(path, seed=0):
    """Binary data whose every feature takes both 0 and 1 in the training split, so that
    minmax scaling is the identity on both splits."""
    r = np.random.RandomState(seed)
    x = (r.rand(40, 9) < 0.5).astype(np.float32)
    x[0], x[1] = 0.0, 1.0
    xt = (r.rand(15, 9) < 0.5).astype(np.float32)
    np.savez(path, x_train=x, y_train=np.arange(40) % 2, x_test=xt, y_test=np.arange(15) % 2)
    return x, xt


def test_rbm_final_numbers_match_scikit_learn_on_the_saved_weights(tmp_path):
    """summary.json per model (README: final numbers): ``test_reconstruction_error`` is the
    mean squared error of the mean-field reconstruction of the test split, and
    ``test_pseudo_likelihood`` the mean of scikit-learn's stochastic pseudo-log-likelihood
    (each estimator's random_state is its seed); ``train_reconstruction_error`` is the last
    pass's, as metrics.jsonl's last line of that model. Recomputed with
    sklearn.neural_network.BernoulliRBM holding the weights of model.npz."""
    from scipy.special import expit
    from sklearn.neural_network import BernoulliRBM

    from trainlab.pretrain.run import run_pretrain

    _, xt = _binary_npz(tmp_path / "d.npz")
    cfg = _cfg(
        {
            "data": {"name": "npz", "options": {"path": str(tmp_path / "d.npz")}},
            "model": {"n_components": 3},
            "train": {"n_iter": 2, "batch_size": 8},
            "seeds": [5, 7],
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    lines = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    with np.load(out / "model.npz") as z:
        arrays = dict(z)
    assert len(summary["models"]) == 2
    for i, row in enumerate(summary["models"]):
        w, c, b = (arrays[f"{n}_{i}"] for n in ("components", "intercept_hidden",
                                                 "intercept_visible"))  # fmt: skip
        rbm = BernoulliRBM(n_components=3, random_state=row["seed"])
        rbm.components_, rbm.intercept_hidden_, rbm.intercept_visible_ = w, c, b
        recon = expit(expit(xt @ w.T + c) @ w + b)
        assert row["test_reconstruction_error"] == pytest.approx(((recon - xt) ** 2).mean(),
                                                                 rel=1e-6)  # fmt: skip
        assert row["test_pseudo_likelihood"] == pytest.approx(
            rbm.score_samples(xt.astype(np.float64)).mean(), rel=1e-6
        )
        mine = sorted((ln["epoch"], ln["reconstruction_error"]) for ln in lines
                      if ln["model"] == i)  # fmt: skip
        assert [e for e, _ in mine] == [1, 2]  # one line per pass, counted from 1
        assert row["train_reconstruction_error"] == pytest.approx(mine[-1][1], rel=1e-9)
        assert row["diverged"] is False
    assert summary["diverged"] == [] and summary["k"] == 2


def test_a_diverged_first_member_is_listed_and_the_report_shows_the_next_one(tmp_path):
    """run.py: the report draws "the filters and reconstructions of the first model that
    trained (a diverged model's NaN weights would draw blank squares)"; summary.json's
    ``diverged`` lists it and its numbers are null (RBMPopulation's own test: a Gaussian
    member at learning_rate 1000 diverges)."""
    from trainlab.pretrain.run import run_pretrain

    cfg = _cfg(
        {
            "data": {"scale": "standardize"},
            "model": {"n_components": 4, "visible": "gaussian"},
            "train": {"n_iter": 3, "batch_size": 16},
            "grid": {"learning_rate": [1000.0, 0.001]},
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diverged"] == [0]
    assert summary["models"][0]["test_reconstruction_error"] is None
    assert summary["models"][1]["test_reconstruction_error"] is not None
    sections = json.loads((out / "report_sections.json").read_text())["sections"]
    caption = next(s["caption"] for s in sections if s.get("file") == "filters.png")
    assert caption.startswith("model 1 "), caption


def test_a_grid_argument_replaces_the_configs_value_and_axis(tmp_path):
    """run_pretrain's ``grid`` (``--grid``) "replaces the config's value (as --set would): a
    run's own config.yaml re-run as a sweep": a config with train.learning_rate, or with a grid
    over learning_rate, trains the --grid values."""
    from trainlab.pretrain.run import run_pretrain

    base = {"model": {"n_components": 2}, "train": {"n_iter": 1, "batch_size": 500}}
    for extra in ({"train": {**base["train"], "learning_rate": 0.3}},
                  {"grid": {"learning_rate": [0.3]}}):  # fmt: skip
        cfg = _cfg({**base, **extra})
        out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        run_pretrain(cfg, out=out, grid={"learning_rate": [0.02, 0.05]}, device="cpu")
        summary = json.loads((out / "summary.json").read_text())
        assert sorted(m["learning_rate"] for m in summary["models"]) == [0.02, 0.05], extra


# --------------------------------------------------------------------------------- stacks
def test_dbn_final_numbers_are_the_first_layers_last_pass_and_the_stacks_reconstruction(
    tmp_path,
):
    """_stacks_into_run: ``test_reconstruction_error`` is "the mean squared error of the
    stack's mean-field reconstruction (up through every layer, then back down) of the test
    split", and the train numbers are "the first layer's last pass on its training input".
    By hand from model.npz: sigmoid up through both Bernoulli layers, sigmoid back down."""
    from scipy.special import expit

    from trainlab.pretrain.run import run_pretrain

    _, xt = _binary_npz(tmp_path / "d.npz")
    cfg = _cfg(
        {
            "data": {"name": "npz", "options": {"path": str(tmp_path / "d.npz")}},
            "model": {"kind": "dbn", "layers": [4, 3]},
            "train": {"n_iter": 2, "batch_size": 8},
            "seeds": [0, 1],
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    lines = [json.loads(s) for s in (out / "metrics.jsonl").read_text().splitlines()]
    with np.load(out / "model.npz") as z:
        a = dict(z)
    for i, row in enumerate(summary["models"]):
        sfx = "" if i == 0 else f"_model{i}"
        w = [a[f"components_{j}{sfx}"] for j in range(2)]
        c = [a[f"intercept_hidden_{j}{sfx}"] for j in range(2)]
        b = [a[f"intercept_visible_{j}{sfx}"] for j in range(2)]
        h1 = expit(xt @ w[0].T + c[0])
        h2 = expit(h1 @ w[1].T + c[1])
        recon = expit(expit(h2 @ w[1] + b[1]) @ w[0] + b[0])
        assert row["test_reconstruction_error"] == pytest.approx(((recon - xt) ** 2).mean(),
                                                                 rel=1e-6)  # fmt: skip
        first = {ln["epoch"]: ln for ln in lines if ln["model"] == i and ln["layer"] == 1}
        assert sorted(first) == [1, 2]
        assert row["train_reconstruction_error"] == pytest.approx(
            first[2]["reconstruction_error"], rel=1e-9
        )
        assert row["train_pseudo_likelihood"] == pytest.approx(
            first[2]["pseudo_likelihood"], rel=1e-9
        )


def test_gaussian_dbn_reconstruction_is_linear_at_the_visible_layer(tmp_path):
    """A Gaussian first layer reconstructs with its mean ``b + W h`` (GaussianBernoulliRBM:
    ``p(v_i | h) = N(b_i + (W h)_i, s_i^2)``, ``p(h_j = 1 | v) = sigmoid(c_j + sum_i W_ij v_i /
    s_i^2)``), not a sigmoid: inputs taken as they are (``data.scale: none``)."""
    from scipy.special import expit

    from trainlab.pretrain.run import run_pretrain

    r = np.random.RandomState(1)
    x, xt = r.randn(40, 5).astype(np.float32), r.randn(10, 5).astype(np.float32)
    np.savez(tmp_path / "d.npz", x_train=x, y_train=np.arange(40) % 2, x_test=xt,
             y_test=np.arange(10) % 2)  # fmt: skip
    cfg = _cfg(
        {
            "data": {"name": "npz", "scale": "none", "options": {"path": str(tmp_path / "d.npz")}},
            "model": {"kind": "dbn", "layers": [3], "visible": "gaussian"},
            "train": {"n_iter": 1, "batch_size": 8},
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    row = json.loads((out / "summary.json").read_text())["models"][0]
    with np.load(out / "model.npz") as z:
        w, c, b = z["components_0"], z["intercept_hidden_0"], z["intercept_visible_0"]
        s2 = np.exp(z["log_variance_0"]) if "log_variance_0" in z.files else np.ones(5)
    xt = xt.astype(np.float64)
    recon = expit((xt / s2) @ w.T + c) @ w + b
    assert row["test_reconstruction_error"] == pytest.approx(((recon - xt) ** 2).mean(), rel=1e-6)


@pytest.mark.parametrize(("rows", "legend"), [(1, True), (10, True), (11, False)])
def test_curves_figure_has_a_legend_up_to_10_lines(rows, legend):
    """curves_figure: one line per row (model or layer), labelled in a legend while there are
    at most 10 of them."""
    from trainlab.pretrain.run import curves_figure

    hist = {"epoch": [1, 2], "reconstruction_error": np.ones((rows, 2)), "pseudo_likelihood": None}
    fig = curves_figure(hist, [f"m{i}" for i in range(rows)])
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == rows
    assert (fig.axes[0].get_legend() is not None) is legend


@pytest.mark.parametrize("axis", ["momentum", "weight_decay"])
def test_a_grid_over_momentum_or_weight_decay_reaches_the_models(tmp_path, axis):
    """grid axes learning_rate, momentum, weight_decay each set that value per model."""
    from trainlab.pretrain.run import run_pretrain

    cfg = _cfg(
        {
            "model": {"n_components": 2},
            "train": {"n_iter": 1, "batch_size": 500},
            "grid": {axis: [0.0, 0.5]},
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(m[axis] for m in summary["models"]) == [0.0, 0.5]
    assert summary["k"] == 2


# ---------------------------------------------------------------- load_module, the progress bar
def _first_linear(module):
    from torch import nn

    lin = next(m for m in module.modules() if isinstance(m, nn.Linear))
    return lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()


def test_load_module_raw_inputs_folds_the_minmax_scaling_into_the_first_layer(tmp_path):
    """load_module's docstring: ``raw_inputs=True`` folds the run's scaling into the first
    layer, ``W' = W / scale``, ``b' = b - W' . shift``, so the module gives the same hidden
    pre-activations on the raw data as the run's weights on the scaled data. Scaling by hand:
    every spiked feature of _spike_npz spans [1, 3]; the constant one equals its minimum."""
    from trainlab.pretrain import load_module
    from trainlab.pretrain.run import run_pretrain

    npz = _spike_npz(tmp_path / "d.npz")
    cfg = _cfg(
        {
            "data": {"name": "npz", "options": {"path": str(npz)}},
            "model": {"n_components": 3},
            "train": {"n_iter": 1, "batch_size": 4},
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    with np.load(out / "model.npz") as z:
        w, c = z["components_0"], z["intercept_hidden_0"]
    with np.load(npz) as z:
        x = z["x_train"].astype(np.float64)
    scaled = x.copy()
    scaled[:, :12] = (x[:, :12] - 1.0) / 2.0
    scaled[:, 12] = 0.0
    w2, b2 = _first_linear(load_module(out, 2, raw_inputs=True))
    np.testing.assert_allclose(x @ w2.T + b2, scaled @ w.T + c, rtol=1e-5, atol=1e-5)
    w1, b1 = _first_linear(load_module(out, 2))  # (without: the run's own weights)
    np.testing.assert_allclose(scaled @ w1.T + b1, scaled @ w.T + c, rtol=1e-5, atol=1e-5)


def test_load_module_divides_a_gaussian_layers_weights_by_its_variance(tmp_path):
    """load_module: "a Gaussian first layer folds 1 / s^2 into its weight" (p(h_j = 1 | v) =
    sigmoid(c_j + sum_i W_ij v_i / s_i^2)); a run's DBN keeps s = 1, so model.npz is given
    log-variances log 4 by hand: the module's weights must be W / 4."""
    from trainlab.pretrain import load_module
    from trainlab.pretrain.run import run_pretrain

    r = np.random.RandomState(1)
    np.savez(tmp_path / "d.npz", x_train=r.randn(40, 5), y_train=np.arange(40) % 2,
             x_test=r.randn(10, 5), y_test=np.arange(10) % 2)  # fmt: skip
    cfg = _cfg(
        {
            "data": {"name": "npz", "scale": "none", "options": {"path": str(tmp_path / "d.npz")}},
            "model": {"kind": "dbn", "layers": [3], "visible": "gaussian"},
            "train": {"n_iter": 1, "batch_size": 8},
        }
    )
    out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    with np.load(out / "model.npz") as z:
        arrays = dict(z)
    arrays["log_variance_0"] = np.full(5, np.log(4.0))
    np.savez(out / "model.npz", **arrays)
    w, b = _first_linear(load_module(out, 2))
    np.testing.assert_allclose(w, arrays["components_0"] / 4.0, rtol=1e-6)
    np.testing.assert_allclose(b, arrays["intercept_hidden_0"], rtol=1e-6)


def test_the_progress_bar_counts_every_layers_passes_of_every_seed(tmp_path, monkeypatch):
    """README: pretrain "counts the passes over the data on a progress bar"; ``dbn`` and
    ``sdae`` train one stack per seed, one after another, each layer making ``n_iter`` passes:
    2 seeds x 2 layers x 2 passes = 8 (an rbm population's passes train all its models at
    once: n_iter)."""
    from contextlib import nullcontext

    import trainlab.pretrain.run as run_mod

    totals = []

    def counted(name, total, enabled):
        totals.append(total)
        return nullcontext()

    monkeypatch.setattr(run_mod, "passes_shown", counted)
    _binary_npz(tmp_path / "d.npz")
    data = {"name": "npz", "options": {"path": str(tmp_path / "d.npz")}}
    for i, raw in enumerate([
        {"model": {"kind": "sdae", "layers": [3, 2]}, "seeds": [0, 1]},
        {"model": {"n_components": 2}, "seeds": [0, 1, 2]},
    ]):  # fmt: skip
        cfg = _cfg({**raw, "data": data, "train": {"n_iter": 2, "batch_size": 8}})
        run_mod.run_pretrain(cfg, out=tmp_path / f"run{i}", device="cpu")
    assert totals == [8, 2]


def test_a_member_whose_training_error_overflowed_counts_as_diverged(tmp_path):
    """run.py: "inf/NaN weights, or weights so large the training error overflowed: no test
    numbers ..., left out of the grid's means". A Gaussian member at learning_rate 1e19 keeps
    finite weights (~1e18) after one pass, but its squared reconstruction error overflows
    float32 (the population's tracked error is inf): it counts as diverged."""
    from trainlab.pretrain.run import run_pretrain

    r = np.random.RandomState(0)
    np.savez(tmp_path / "d.npz", x_train=r.randn(64, 6), y_train=np.arange(64) % 2,
             x_test=r.randn(10, 6), y_test=np.arange(10) % 2)  # fmt: skip
    cfg = _cfg(
        {
            "data": {"name": "npz", "scale": "none", "options": {"path": str(tmp_path / "d.npz")}},
            "model": {"n_components": 4, "visible": "gaussian"},
            "train": {"n_iter": 1, "batch_size": 64},
            "grid": {"learning_rate": [1e19, 0.001]},
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = run_pretrain(cfg, out=tmp_path / "run", device="cpu")
    with np.load(out / "model.npz") as z:
        w0 = z["components_0"]
    assert np.isfinite(w0).all() and np.abs(w0).max() > 1e17  # finite, but huge
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diverged"] == [0]
    assert summary["models"][0]["test_reconstruction_error"] is None
    assert summary["aggregates"]["test_reconstruction_error"]["n"] == 1
