"""Mutation review (mut38h) of ``trainlab.studies.init_study`` outside ``_claims``: the cells of
quick and full mode, the population config, ``unit_symmetry`` against a hand-built forward, and
the report helpers (``_fmt``, ``quick_note``, ``_final_rows``, ``_symmetry_rows``,
``_bar_figure``). Expected values come from the module docstring / README / issue 4, He et al.
2015 and hand computations; nothing here trains a model."""

from __future__ import annotations

import math

import pytest
import torch

from trainlab import init as tl_init
from trainlab.models import create
from trainlab.studies import init_study

ALL = ["zeros", "constant 0.1", "N(0, 0.01²)", "N(0, 1)", "Xavier", "He", "orthogonal", "LSUV"]


# --- the cells (docstring: full = {mnist1d, digits} x depth {4, 30} x {ReLU, tanh}, every scheme,
# 20 epochs; quick = digits, ReLU, depth 4 every scheme 10 epochs, depth 30 Xavier/He/LSUV) ---


def test_full_mode_cells_cover_both_datasets_depths_and_activations_with_every_scheme() -> None:
    cells = init_study._cells(False)
    keys = sorted((c["data"], c["depth"], c["act"]) for c in cells)
    want = sorted(
        (d, n, a) for d in ("mnist1d", "digits") for n in (4, 30) for a in ("relu", "tanh")
    )
    assert keys == want
    for c in cells:
        assert c["schemes"] == ALL and c["epochs"] == 20


def test_quick_mode_cells() -> None:
    cells = init_study._cells(True)
    assert [(c["data"], c["depth"], c["act"]) for c in cells] == [
        ("digits", 4, "relu"),
        ("digits", 30, "relu"),
    ]
    shallow, deep = cells
    assert shallow["schemes"] == ALL and shallow["epochs"] == 10
    # the lr was chosen on digits, depth 30, width 64, 20 epochs (the module's own note)
    assert deep["schemes"] == ["Xavier", "He", "LSUV"] and deep["epochs"] == 20


def test_widths_and_seed_counts() -> None:
    # docstring: full mode width 128, 5 seeds (issue 4: >= 5 seeds); quick width 64, 3 seeds
    assert (init_study.WIDTH, init_study.QUICK_WIDTH) == (128, 64)
    assert (init_study.SEEDS, init_study.QUICK_SEEDS) == (5, 3)
    assert init_study.SYMMETRIC == ("zeros", "constant 0.1")


@pytest.mark.parametrize("quick", [True, False])
def test_config_is_sgd_momentum_batch_32_standardized_bias_0(quick: bool) -> None:
    cell = init_study._cells(quick)[-1]
    width = 64 if quick else 128
    cfg = init_study._config(cell, width, [0, 1, 2]).model_dump()
    assert cfg["data"]["name"] == cell["data"] and cfg["data"]["preprocess"] == "standardize"
    assert cfg["model"]["name"] == "mlp"
    assert cfg["model"]["depth"] == cell["depth"] and cfg["model"]["width"] == width
    assert cfg["model"]["activation"] == cell["act"]
    assert cfg["init"]["bias"] == 0.0
    # He et al. 2015 trained with SGD + momentum 0.9; the module's lr note: 0.003, batch 32
    assert cfg["optim"]["name"] == "sgd"
    assert cfg["optim"]["momentum"] == 0.9 and cfg["optim"]["lr"] == 0.003
    assert cfg["optim"]["weight_decay"] == 0.0
    assert cfg["train"]["batch_size"] == 32 and cfg["train"]["epochs"] == cell["epochs"]
    assert cfg["population"]["seeds"] == [0, 1, 2]
    assert len(cfg["population"]["variants"]) == len(cell["schemes"])


def _init_layer(label: str, fan_in: int = 256, fan_out: int = 128) -> torch.Tensor:
    """The weight the study's variant ``label`` draws for one Linear(fan_in, fan_out)."""
    kwargs = {k.removeprefix("init."): v for k, v in init_study.SCHEMES[label].items()}
    scheme = kwargs.pop("scheme")
    m = create("mlp", input_shape=(fan_in,), num_classes=fan_out, hidden=())
    g = torch.Generator().manual_seed(0)
    data = torch.randn(512, fan_in, generator=g) if scheme == "lsuv" else None
    tl_init.apply(m, scheme, generator=g, data=data, **kwargs)
    return m.out.weight.detach()


def test_scheme_labels_draw_what_they_name() -> None:
    fan_in, fan_out = 256, 128
    assert torch.all(_init_layer("zeros") == 0)
    assert torch.allclose(_init_layer("constant 0.1"), torch.full((128, 256), 0.1))
    for label, std in (("N(0, 0.01²)", 0.01), ("N(0, 1)", 1.0)):
        w = _init_layer(label)
        assert float(w.std()) == pytest.approx(std, rel=0.03), label
        assert float(w.abs().max()) > 3.0 * std  # Gaussian tails, not a uniform's
    # He et al. 2015: zero-mean Gaussian, std sqrt(2 / fan_in); Xavier: Var = 2/(fan_in+fan_out)
    # (LITERATURE); both Gaussian (a uniform of that variance stops at sqrt(3)·std)
    for label, std in (
        ("He", math.sqrt(2 / fan_in)),
        ("Xavier", math.sqrt(2 / (fan_in + fan_out))),
    ):
        w = _init_layer(label)
        assert float(w.std()) == pytest.approx(std, rel=0.03), label
        assert float(w.abs().max()) > 2.0 * std, label
    w = _init_layer("orthogonal")  # gain 1: orthonormal rows
    assert torch.allclose(w @ w.T, torch.eye(fan_out), atol=1e-4)


def test_lsuv_label_gives_unit_output_variance() -> None:
    # Mishkin & Matas 2016: every layer's output has variance 1 on the calibration batch
    fan_in = 64
    m = create("mlp", input_shape=(fan_in,), num_classes=10, depth=3, width=32)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(512, fan_in, generator=g)
    kwargs = {k.removeprefix("init."): v for k, v in init_study.SCHEMES["LSUV"].items()}
    tl_init.apply(m, kwargs.pop("scheme"), generator=g, data=x, **kwargs)
    with torch.no_grad():
        h = x
        for i in (1, 2, 3):
            z = h @ m.get_submodule(f"fc{i}").weight.T + m.get_submodule(f"fc{i}").bias
            assert float(z.var()) == pytest.approx(1.0, abs=0.1), i
            h = torch.relu(z)


# --- unit_symmetry against a hand-built forward ---


def _hand_symmetry(m: torch.nn.Module, x: torch.Tensor, act) -> dict[str, float]:
    w_diff, o_diff, scale = 0.0, 0.0, 0.0
    h = x
    i = 1
    with torch.no_grad():
        while hasattr(m, f"fc{i}"):
            fc = m.get_submodule(f"fc{i}")
            wb = torch.cat([fc.weight, fc.bias[:, None]], dim=1)  # (units, inputs + 1)
            w_diff = max(w_diff, float((wb.max(0).values - wb.min(0).values).max()))
            scale = max(scale, float(wb.abs().max()))
            h = act(h @ fc.weight.T + fc.bias)  # (B, units)
            o_diff = max(o_diff, float((h.max(1).values - h.min(1).values).max()))
            i += 1
    return {"weight_diff": w_diff, "output_diff": o_diff, "weight_scale": scale}


@pytest.mark.parametrize("activation,act", [("relu", torch.relu), ("tanh", torch.tanh)])
def test_unit_symmetry_matches_a_hand_built_forward(activation: str, act) -> None:
    torch.manual_seed(0)
    m = create("mlp", input_shape=(6,), num_classes=3, hidden=(5, 4), activation=activation)
    with torch.no_grad():  # the output layer is far more spread than the hidden ones: left out
        m.out.weight.mul_(100.0)
        m.out.bias.fill_(-50.0)
        m.fc2.weight[0, 0] = -3.0  # largest |W| is a negative entry
    x = torch.randn(20, 6, generator=torch.Generator().manual_seed(1))
    got = init_study.unit_symmetry(m, x)
    want = _hand_symmetry(m, x, act)
    assert got["finite"] is True
    for key, val in want.items():
        assert got[key] == pytest.approx(val, rel=1e-5, abs=1e-7), key
    assert got["weight_scale"] == pytest.approx(3.0)


def test_unit_symmetry_measures_in_eval_mode_and_restores_training_mode() -> None:
    torch.manual_seed(0)
    m = create("mlp", input_shape=(6,), num_classes=3, hidden=(5, 4), dropout=0.5)
    m.train()
    with torch.no_grad():  # the second layer's outputs spread most: dropout in front would show
        m.fc2.weight.mul_(10.0)
    x = torch.randn(20, 6, generator=torch.Generator().manual_seed(1))
    got = init_study.unit_symmetry(m, x)
    # dropout is off when measuring (eval), so the outputs are the deterministic forward; the
    # hook sits on the activation, before the dropout
    want = _hand_symmetry(m, x, torch.relu)
    assert got["output_diff"] == pytest.approx(want["output_diff"], rel=1e-5)
    assert m.training


# --- _fmt / _final_rows / _symmetry_rows / _bar_figure / quick_note ---


def test_fmt_mean_pm_sample_std_and_one_seed_and_none() -> None:
    # [0.5, 0.7]: mean 0.6, sample std sqrt(0.02) = 0.1414
    assert init_study._fmt(init_study._stat([0.5, 0.7])) == "0.600 ± 0.141"
    assert init_study._fmt(init_study._stat([0.5, 0.7]), digits=2) == "0.60 ± 0.14"
    assert init_study._fmt(init_study._stat([0.25])) == "0.250"
    assert init_study._fmt(init_study._stat([])) == "—"
    assert init_study._fmt(init_study._stat([math.nan])) == "—"


def _model(scheme: str, acc: float, loss: float, status: str = "ok", sym=None) -> dict:
    sym = sym or {"weight_diff": 0.0, "output_diff": 0.0, "weight_scale": 0.1, "finite": True}
    return {"scheme": scheme, "status": status, "final": {"test_acc": acc, "train_loss": loss},
            "symmetry": sym}  # fmt: skip


def _cell() -> dict:
    s = lambda w, o, sc: {"weight_diff": w, "output_diff": o, "weight_scale": sc, "finite": True}  # noqa: E731
    return {
        "name": "digits-depth30-relu",
        "schemes": ["He", "Xavier"],
        "models": [
            _model("He", 0.9, 0.2, sym=s(0.3, 1.0, 0.5)),
            _model("He", 0.7, 0.4, sym=s(0.5, math.nan, 2.0)),
            _model("He", math.nan, math.nan, status="nan", sym=s(math.nan, math.nan, 0.1)),
            _model("Xavier", 0.1, 2.3, sym=s(0.2, 0.05, 0.3)),
        ],
    }


def test_final_rows_leave_diverged_models_out_of_the_means_and_count_them() -> None:
    rows = {r["scheme"]: r for r in init_study._final_rows([_cell()])}
    he = rows["He"]
    assert he["cell"] == "digits-depth30-relu"
    assert he["n"] == 3 and he["nan"] == 1
    assert he["test acc"] == "0.800 ± 0.141"  # mean of 0.9, 0.7; sample std 0.1414
    assert he["train loss"] == "0.300 ± 0.141"
    assert rows["Xavier"]["n"] == 1 and rows["Xavier"]["nan"] == 0
    assert rows["Xavier"]["test acc"] == "0.100"


def test_symmetry_rows_take_the_largest_over_seeds_ignoring_nan() -> None:
    rows = {r["scheme"]: r for r in init_study._symmetry_rows([_cell()])}
    assert rows["He"]["weight Δ"] == 0.5
    assert rows["He"]["output Δ"] == 1.0
    assert rows["He"]["|W| max"] == 2.0
    assert rows["Xavier"]["weight Δ"] == 0.2 and rows["Xavier"]["output Δ"] == 0.05


def test_bar_figure_bars_are_means_over_finite_seeds_with_sample_std_and_chance_line() -> None:
    cell = _cell()
    cell["models"].append(_model("Xavier", math.nan, 2.3))  # finite status, NaN accuracy
    cell["models"].append(_model("Xavier", 0.12, 2.3))
    cell["schemes"].append("LSUV")  # its one model finished with a NaN accuracy: no bar
    cell["models"].append(_model("LSUV", math.nan, 2.3))
    fig = init_study._bar_figure([cell, _cell()])
    axes = [a for a in fig.axes]
    assert len(axes) == 2
    ax = axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.8, 0.11])
    bars = [c for c in ax.containers if hasattr(c, "errorbar")]
    segs = [c.errorbar.lines[2][0].get_segments()[0] for c in bars]
    half = [abs(s[1][1] - s[0][1]) / 2 for s in segs]
    assert half == pytest.approx([math.sqrt(0.02), math.sqrt(0.0002)], rel=1e-6)
    chance = [ln for ln in ax.lines if list(ln.get_ydata()) == [0.1, 0.1]]
    assert chance, "no chance line at 0.1 (10 classes)"
    assert ax.get_ylim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["He", "Xavier", "LSUV"]


def test_quick_note_lists_what_quick_mode_leaves_out() -> None:
    note = init_study.quick_note(64, 3)
    assert "dataset mnist1d not tested (only digits ran)" in note
    assert "activation tanh not tested (only relu ran)" in note
    assert (
        "at depth 30 only Xavier, He, LSUV ran (zeros, constant 0.1, N(0, 0.01²), N(0, 1), "
        "orthogonal not tested at depth 30)" in note
    )
    assert "depth 4 trained 10 epochs, not 20" in note
    assert "depth 30 trained" not in note  # 20 epochs in both modes
    assert "width 64, not 128" in note and "3 seeds, not 5" in note
    full_size = init_study.quick_note(128, 5)
    assert "width" not in full_size and "seeds, not" not in full_size
    assert "4 seeds, not 5" in init_study.quick_note(128, 4)
    assert "1 seed, not 5" in init_study.quick_note(128, 1)
