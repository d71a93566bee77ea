"""Mutation review mut37f: ``trainlab.studies.cells``, ``evidence``, the package's
``run_study`` / text helpers and the ``activations`` study, fed hand-made inputs. Expected values
come from hand computations, numpy, scipy.stats and the modules' docstrings / README, never from
trainlab itself.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from trainlab.studies import cells, evidence


def _model(status: str = "ok", **final: float) -> dict:
    return {"status": status, "final": final}


# kills cells.py:88 dropping `m.get("status") == "nan" or`: a NaN-stopped model keeps the
# finite `final` numbers of its last finite epoch (README), yet counts as +inf loss / 0 acc.
def test_final_values_counts_a_nan_stopped_model_with_finite_finals_as_diverged() -> None:
    models = [_model(train_loss=0.5, test_acc=0.9), _model("nan", train_loss=0.2, test_acc=0.95)]
    assert cells.final_values(models, "train_loss") == [0.5, math.inf]
    assert cells.final_values(models, "test_acc") == [0.9, 0.0]


# kills cells.py:96 `len(finite) < len(vals) or not finite` -> `not finite` and
# `return math.inf, 0.0` -> `return math.nan, 0.0`: a cell with one diverged seed scores +inf
# (the optimizers study picks the best LR by the lowest mean, so it can never be that LR).
def test_mean_std_of_a_cell_with_a_diverged_seed_is_inf() -> None:
    assert cells.mean_std([1.0, math.inf, 3.0]) == (math.inf, 0.0)
    assert cells.mean_std([math.inf]) == (math.inf, 0.0)
    m, s = cells.mean_std([1.0, 2.0, 4.0])
    assert m == pytest.approx(np.mean([1.0, 2.0, 4.0]))
    assert s == pytest.approx(np.std([1.0, 2.0, 4.0], ddof=1))


def _rows() -> list[dict]:
    # models 0, 1, 2; model 2 is not asked for; model 1 has a NaN at epoch 2
    data = {0: [3.0, 2.0, 1.0], 1: [5.0, math.nan, 2.0], 2: [100.0, 100.0, 100.0]}
    return [{"model": m, "epoch": e + 1, "train_loss": v}
            for m, vs in data.items() for e, v in enumerate(vs)]  # fmt: skip


# kills cells.py:110 dropping `r["model"] in indices` and cells.py:116 `len - 1` -> `len`
# (the band is the sample std, ddof 1, as every other spread of the studies).
def test_curves_mean_and_sample_std_over_the_given_models_only() -> None:
    ep, mu, sd = cells.curves({"metrics": _rows()}, [0, 1])
    assert ep == [1, 2, 3]
    assert mu == pytest.approx([4.0, 2.0, 1.5])
    assert sd == pytest.approx([np.std([3.0, 5.0], ddof=1), 0.0, np.std([1.0, 2.0], ddof=1)])


# kills cells.py:145 `len(lrs) < 2` -> `< 1`
def test_grid_edge_of_a_one_lr_grid_says_it_was_the_only_lr() -> None:
    assert cells.grid_edge([0.1], 0.1) == "the only LR tried"
    assert cells.grid_edge([0.1, 0.3], 0.3) == "largest LR of the grid"
    assert cells.grid_edge([0.1, 0.3], 0.1) == "smallest LR of the grid"


# kills cells.py:41 default `n: int = 1` -> 2 (the docstring's measured 1-thread default)
def test_cpu_threads_default_is_one_thread_on_the_cpu_and_restores() -> None:
    before = torch.get_num_threads()
    with cells.cpu_threads("cpu"):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# kills cells.py:129 `pm(final_values(...), digits)` -> `pm(final_values(...))`
def test_pm_final_uses_the_digits_it_is_given() -> None:
    vals = [0.25, 0.75]
    models = [_model(test_acc=v) for v in vals]
    sd = np.std(vals, ddof=1)
    ci = stats.t.ppf(0.975, 1) * sd / math.sqrt(2)
    assert cells.pm_final(models, "test_acc", digits=1) == f"0.5 ± {sd:.1f} (n=2, CI ± {ci:.1f})"
    assert cells.pm_final(models, "test_acc") == f"0.500 ± {sd:.3f} (n=2, CI ± {ci:.3f})"


# kills evidence.py:51 `return 0.0, math.inf` -> `return 0.0, 0.0`: cells whose seeds all
# agree are "no spread", not "one seed per cell" (module docstring, judge's docstring)
def test_zero_spread_cells_are_judged_as_no_spread_not_as_one_seed() -> None:
    se, dof = evidence.welch([(0.0, 3), (0.0, 3)])
    assert se == 0.0
    assert evidence.judge(0.5, se, dof) == evidence.NO_SPREAD
    assert evidence.bound_text(se, dof) == "every seed agrees exactly: no noise estimate"


# kills evidence.py:62 dropping `dof` from the NaN check (judge's docstring: nothing is judged
# "when a number is NaN"; t.ppf(., nan) is NaN and every comparison with it is False)
def test_judge_with_a_nan_dof_is_not_judged() -> None:
    assert evidence.judge(1.0, 0.1, math.nan) == evidence.NOT_FINITE


# kills evidence.py:80 `dof < 1` -> `dof <= 1`, :82 `se == 0.0` -> `se < 0.0`, :84 the bound
# `t * se` and the dof format `.1f`: bound = scipy's two-sided 95% t quantile times se
@pytest.mark.parametrize("se,dof", [(0.5, 4.3), (0.02, 1.0), (1.5, 17.26)])
def test_bound_text_is_t_times_se_with_welch_dof_to_one_decimal(se: float, dof: float) -> None:
    bound = stats.t.ppf(0.975, dof) * se
    assert evidence.bound_text(se, dof) == f"95% bound ±{bound:.4f} (Welch dof {dof:.1f})"


def test_bound_text_without_a_noise_estimate() -> None:
    assert evidence.bound_text(0.0, 4.0) == "every seed agrees exactly: no noise estimate"
    assert evidence.bound_text(0.3, 0.0) == "one seed per cell: no noise estimate"


# kills evidence.py:91 `diff >= 0` -> `diff > 0`: no difference reads "Δ +0", not "Δ -0"
def test_delta_text_signs() -> None:
    num = "{:.2f}".format
    bound = stats.t.ppf(0.975, 2.0) * 0.1
    assert (
        evidence.delta_text(0.0, 0.1, 2.0, num)
        == f"Δ +0.00, 95% bound ±{bound:.2f} (Welch dof 2.0)"
    )
    assert evidence.delta_text(-0.25, 0.1, 2.0, num).startswith("Δ -0.25, ")
    assert evidence.delta_text(0.25, 0.1, 2.0, num).startswith("Δ +0.25, ")


# ---- run_study / claim_study_dir (the study's own run replaced by a stub that records)
from pathlib import Path  # noqa: E402

from trainlab.errors import UserError  # noqa: E402
from trainlab.studies import activations as act_study  # noqa: E402
from trainlab.studies import claim_study_dir, run_study  # noqa: E402
from trainlab.studies.cells import SHOW_PROGRESS  # noqa: E402


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    calls: list[dict] = []

    def run(out, **kwargs):
        calls.append({"out": Path(out), "progress": SHOW_PROGRESS.get(), **kwargs})
        return Path(out)

    monkeypatch.setattr(act_study, "run", run)
    return calls


# kills __init__.py:107 `seeds < 1` -> `seeds < 0` and dropping `isinstance(seeds, bool)`:
# "--seeds must be at least 1 (whole models per cell)", refused before the study starts
@pytest.mark.parametrize("seeds", [0, -2, True, False, 1.5])
def test_run_study_refuses_seeds_that_are_not_a_whole_number_from_one(
    seeds, stub: list[dict], tmp_path: Path
) -> None:
    with pytest.raises(UserError, match="at least 1"):
        run_study("activations", tmp_path / "s", seeds=seeds, device="cpu")
    assert stub == []


def test_run_study_passes_its_arguments_and_progress_to_the_study(
    stub: list[dict], tmp_path: Path
) -> None:
    run_study("activations", tmp_path / "a", quick=True, seeds=2, device="cpu")
    run_study("activations", tmp_path / "b", device="cpu", progress=True)
    assert [
        (c["out"].name, c["quick"], c["seeds"], c["progress"], c["renumber"]) for c in stub
    ] == [
        ("a", True, 2, False, False),  # the user's --out is never renumbered
        ("b", False, None, True, False),
    ]
    assert SHOW_PROGRESS.get() is False  # restored


# kills __init__.py:112 dropping `'-quick' if quick`: default folder runs/study-<name>[-quick]
def test_run_study_default_folder_names(
    stub: list[dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run_study("activations", quick=True, device="cpu")
    run_study("activations", device="cpu")
    assert [c["out"] for c in stub] == [Path("runs/study-activations-quick"),
                                        Path("runs/study-activations")]  # fmt: skip
    assert [c["renumber"] for c in stub] == [True, True]


# kills __init__.py:102 dropping `resolve_device(device)`: a bad --device is refused before
# the study runs (and makes a folder)
def test_run_study_refuses_a_bad_device_before_the_study(stub: list[dict], tmp_path: Path) -> None:
    with pytest.raises(UserError, match="device"):
        run_study("activations", tmp_path / "s", device="bogus")
    assert stub == [] and not (tmp_path / "s").exists()


# kills __init__.py:64 dropping the `checkpoints/` rmdir (the module docstring: removed,
# `.lock` stays)
def test_claim_study_dir_leaves_no_checkpoints_folder(tmp_path: Path) -> None:
    rd = claim_study_dir(tmp_path / "s")
    assert rd.path == tmp_path / "s"
    assert not (rd.path / "checkpoints").exists()
    assert (rd.path / ".lock").exists()
    with pytest.raises(UserError):
        (rd.path / "x.txt").write_text("x")
        claim_study_dir(tmp_path / "s")  # never an existing non-empty folder


# ---- activations.measure against a hand-built torch reference (torch.nn.init.normal_ drawn
# from the seed's generator after its input, as measure's docstring orders them)
def _reference(activation: str, std: float, width: int, batch: int, depth: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, width, generator=g)
    layers = []
    for _ in range(depth):
        w = torch.nn.init.normal_(torch.empty(width, width), std=std, generator=g)
        x = (torch.tanh if activation == "tanh" else torch.relu)(x @ w.T)  # W rows = outputs
        layers.append(x.flatten().double().numpy())
    return layers


# kills activations.py: std `var.sqrt()` -> `var`, second moment `pow(2)` -> `abs()`, zero
# `== 0` -> `<= 0`, `w.transpose(1, 2)` -> `w`, input `randn` -> `rand`, the histogram's ReLU
# zero filter, its range over all layers, `bins + 1` edges, and seed 0's activations only
# (ReLU at std 0.1 collapses: its smallest shown value lies in the last layer, not the first)
@pytest.mark.parametrize("activation,std", [("relu", 0.4), ("relu", 0.1), ("tanh", 0.4)])
def test_measure_matches_a_hand_built_forward(activation: str, std: float) -> None:
    width, batch, depth, seeds = 16, 8, 3, [0, 5]
    # max_bytes of one weight matrix: one seed per chunk, so seed 5 runs in a second chunk
    m = measure_ = act_study.measure(
        activation, "normal", {"std": std}, width=width, seeds=seeds, depth=depth, batch=batch,
        max_bytes=4 * width * width,
    )  # fmt: skip
    refs = {s: _reference(activation, std, width, batch, depth, s) for s in seeds}
    for j, s in enumerate(seeds):
        for layer, a in enumerate(refs[s]):
            assert m["mean"][layer][j] == pytest.approx(a.mean(), rel=1e-5, abs=1e-7)
            assert m["std"][layer][j] == pytest.approx(a.std(ddof=1), rel=1e-5)
            assert m["second_moment"][layer][j] == pytest.approx((a**2).mean(), rel=1e-5)
            assert m["zero"][layer][j] == pytest.approx((a == 0).mean())
            assert m["saturated"][layer][j] == pytest.approx((np.abs(a) > 0.9).mean())
    # histograms: seed 0 only, one per layer, one shared range (min..max over the layers of the
    # values shown); ReLU leaves out its exact zeros
    shown = [a[a != 0] if activation == "relu" else a for a in refs[0]]
    lo, hi = min(a.min() for a in shown), max(a.max() for a in shown)
    assert len(measure_["hist"]) == depth
    for h, a in zip(m["hist"], shown, strict=True):
        assert len(h["edges"]) == 51 and len(h["counts"]) == 50
        assert h["edges"][0] == pytest.approx(lo, rel=1e-5) and h["edges"][-1] == pytest.approx(
            hi, rel=1e-5
        )
        counts, _ = np.histogram(a, bins=50, range=(lo, hi))
        assert sum(h["counts"]) == a.size
        assert np.abs(np.array(h["counts"]) - counts).sum() <= 2  # (float32 edge rounding)
    if activation == "relu":
        assert all(z > 0.2 for z in m["zero"][0])  # there are zeros to leave out


# kills activations.py `if n_seeds < 1` -> `< 0` (run called directly, not via run_study)
def test_activations_run_refuses_zero_seeds_before_claiming_a_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="at least 1"):
        act_study.run(tmp_path / "s", quick=True, seeds=0, device="cpu")
    assert not (tmp_path / "s").exists()


# kills activations.py `sat[-1] > 0.5` -> `> 0.4` / `>= 0.5`: "saturates" = MORE than half of
# layer 7 with |a| > 0.9 (module docstring)
def test_saturates_needs_strictly_more_than_half() -> None:
    ones = [1.0] * 7
    assert not act_study._verdict("tanh", "N(0, 0.05²)", ones, [0.45] * 7, None)[2]
    assert not act_study._verdict("tanh", "N(0, 0.05²)", ones, [0.5] * 7, None)[2]
    assert act_study._verdict("tanh", "N(0, 0.05²)", ones, [0.51] * 7, None)[2]


# kills activations.py `std**2 * width` -> `std * width`: σ²·n by hand
def test_sigma2n_by_hand() -> None:
    assert act_study._sigma2n("normal", {"std": 0.05}, 4096) == pytest.approx(0.05**2 * 4096)
    assert act_study._sigma2n("he_normal", {}, 64) == pytest.approx(2.0)
    assert act_study._sigma2n("xavier_normal", {}, 64) == pytest.approx(1.0)


@pytest.fixture
def fake_measure(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """measure replaced by a recorder returning per-seed numbers std = (layer+1)(1 + s/10);
    the figures by an empty one."""
    from trainlab.report.plots import subplots

    calls: list[dict] = []

    def fake(activation, scheme, kwargs, *, width, seeds, batch, device, **_kw):
        calls.append({"activation": activation, "scheme": scheme, "kwargs": dict(kwargs),
                      "width": width, "seeds": list(seeds), "batch": batch})  # fmt: skip
        stdv = [[(layer + 1) * (1 + s / 10) for s in seeds] for layer in range(7)]
        half = [[0.5] * len(seeds) for _ in range(7)]
        hist = [{"edges": [0.0, 1.0], "counts": [1.0]}] * 7
        return {"mean": half, "std": stdv, "second_moment": half, "saturated": half,
                "zero": half, "hist": hist}  # fmt: skip

    monkeypatch.setattr(act_study, "measure", fake)
    monkeypatch.setattr(act_study, "_histogram_grid", lambda results: subplots(1, 1)[0])
    monkeypatch.setattr(act_study, "_std_figure", lambda results: subplots(1, 1)[0])
    return calls


def _sections(out: Path) -> list[dict]:
    import json

    return json.loads((out / "report_sections.json").read_text())["sections"]


# kills activations.py: quick width 512, quick seeds 5, quick batch 128, the √(4096/n) scaling
# of both fixed stds (`* scale`, `sqrt`), σ·√n, the scaled label, seeds 0..n-1
def test_quick_mode_set_up_as_documented(fake_measure: list[dict], tmp_path: Path) -> None:
    import json

    out = act_study.run(tmp_path / "q", quick=True, device="cpu")
    assert len(fake_measure) == 8
    assert {(c["width"], c["batch"]) for c in fake_measure} == {(512, 128)}
    assert all(c["seeds"] == [0, 1, 2, 3, 4] for c in fake_measure)
    fixed = [c["kwargs"]["std"] for c in fake_measure if c["scheme"] == "normal"]
    assert fixed == pytest.approx([0.01 * math.sqrt(8), 0.05 * math.sqrt(8)] * 2)
    data = json.loads((out / "results.json").read_text())
    assert (data["width"], data["batch"], data["seeds"]) == (512, 128, [0, 1, 2, 3, 4])
    by = {(r["activation"], r["init_config"]): r for r in data["results"]}
    # σ·√n = 0.01·√8·√512 = 0.64 (= 0.01·√4096), He √2, Xavier 1
    assert by[("relu", "N(0, 0.01²)")]["sigma_sqrt_n"] == pytest.approx(0.64)
    assert by[("relu", "N(0, 0.05²)")]["sigma_sqrt_n"] == pytest.approx(3.2)
    assert by[("relu", "He")]["sigma_sqrt_n"] == pytest.approx(math.sqrt(2))
    assert by[("tanh", "N(0, 0.01²)")]["init"] == "N(0, 0.0283²) = 0.01·√(4096/512)"
    assert by[("tanh", "N(0, 0.05²)")]["init"] == "N(0, 0.141²) = 0.05·√(4096/512)"
    setup = _sections(out)[0]["text"]
    assert "5 seeds (seeds 0..4)" in setup and "width 512" in setup


# kills `if not scaled or width == FULL_WIDTH` -> `if not scaled`, and the full-mode defaults
# (10 seeds, batch 64); the stds are then the nominal ones
def test_full_mode_set_up_as_documented(fake_measure: list[dict], tmp_path: Path) -> None:
    import json

    out = act_study.run(tmp_path / "f", device="cpu")
    assert {(c["width"], c["batch"]) for c in fake_measure} == {(4096, 64)}
    assert all(c["seeds"] == list(range(10)) for c in fake_measure)
    fixed = [c["kwargs"]["std"] for c in fake_measure if c["scheme"] == "normal"]
    assert fixed == pytest.approx([0.01, 0.05] * 2)
    inits = [r["init"] for r in json.loads((out / "results.json").read_text())["results"]]
    assert inits == ["N(0, 0.01²)", "N(0, 0.05²)", "Xavier", "He"] * 2


# kills the per-layer table's `a["n"] > 1` -> `>= 1` (one seed: no "± 0") and checks its
# numbers: mean ± sample std of (layer+1)(1 + s/10) over seeds 0, 1
@pytest.mark.parametrize("seeds", [1, 2])
def test_per_layer_std_table(fake_measure: list[dict], tmp_path: Path, seeds: int) -> None:
    out = act_study.run(tmp_path / "t", quick=True, seeds=seeds, device="cpu")
    table = next(
        s for s in _sections(out) if s.get("title", "").startswith("Per-layer activation std")
    )
    row = table["rows"][0]
    for layer in range(7):
        vals = [(layer + 1) * (1 + s / 10) for s in range(seeds)]
        want = f"{np.mean(vals):.3g}" + (f" ± {np.std(vals, ddof=1):.2g}" if seeds > 1 else "")
        assert row[2 + layer] == want


# kills cells.py by_override `.append(m)` -> `.insert(0, m)`: groups keep member order (seeds
# innermost, README "Member order"); a model without the override groups under None
def test_by_override_groups_in_member_order() -> None:
    models = [{"index": i, "overrides": ({"optim.lr": lr} if lr else {})}
              for i, lr in enumerate([0.1, 0.1, 0.2, 0.2, None])]  # fmt: skip
    groups = cells.by_override({"summary": {"models": models}}, "optim.lr")
    assert {k: [m["index"] for m in v] for k, v in groups.items()} == {
        0.1: [0, 1],
        0.2: [2, 3],
        None: [4],
    }
    assert list(groups) == [0.1, 0.2, None]
