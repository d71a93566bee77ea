"""`trainlab diagnose`, the diagnostics figures and `trainlab schedule` / `lr-find` plots on
the cases a practitioner debugging a run hits: NaN mid-run, dead layers, per-model schedules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from trainlab.diagnostics.figures import histogram_grid, layer_profile

LAYERS = [
    ("fc1", "linear"),
    ("act1", "relu"),
    ("fc2", "linear"),
    ("act2", "relu"),
    ("out", "linear"),
]


def _records(step: int, std: dict[str, float | None], nonfinite: tuple[str, ...] = ()):
    """Synthetic watch() records of one step; ``std[layer]`` None for a NaN/Inf statistic."""
    out = []
    for order, (layer, kind) in enumerate(LAYERS):
        s = std[layer]
        out.append({
            "model": 0, "step": step, "layer": layer, "kind": kind, "order": order,
            "act_mean": None if s is None else 0.1, "act_std": s,
            "hist": [1, 2, 1], "hist_edges": [-1.0, -0.3, 0.3, 1.0], "hist_under": 0,
            "hist_over": 0, "nonfinite": layer in nonfinite,
            "grad_norm": None if kind == "relu" or s is None else 0.1,
            "out_grad_norm": None if s is None else 0.05,
            "weight_norm": None if kind == "relu" else 1.0,
            "update_ratio": None if kind == "relu" or s is None else 1e-3,
        })  # fmt: skip
    return out


def _line_points(ax, label: str) -> dict[str, float]:
    """{x tick label: y} of the line ``label`` in ``ax``."""
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    line = next(ln for ln in ax.get_lines() if ln.get_label() == label)
    return {ticks[int(x)]: float(y) for x, y in zip(*line.get_data(), strict=True)}


def test_layer_profile_keeps_each_layer_at_its_own_x_position():
    """A layer whose std is 0 at the last step (dead ReLUs) cannot be drawn on a log axis; it
    was dropped and the remaining points slid left under the wrong tick labels ('out' drawn
    above 'fc2'), and the last step's ticks replaced the first step's."""
    first = {"fc1": 1.0, "act1": 0.5, "fc2": 0.8, "act2": 0.4, "out": 0.3}
    last = {"fc1": 60.0, "act1": 0.0, "fc2": 12.0, "act2": 0.0, "out": 0.2}
    fig = layer_profile(_records(0, first) + _records(30, last))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [name for name, _ in LAYERS]
    pts0 = _line_points(ax, "step 0")
    assert pts0 == pytest.approx(first)
    pts = _line_points(ax, "step 30")
    assert pts["fc1"] == 60.0 and pts["fc2"] == 12.0 and pts["out"] == 0.2
    assert all(v != v for k, v in pts.items() if k in ("act1", "act2"))  # gaps (NaN), not zeros


def test_figures_of_a_run_that_turned_nan(tmp_path):
    """NaN/Inf statistics are JSON nulls: histogram_grid formatted `None:.2g` and raised
    TypeError, so `trainlab diagnose` died after training without printing its verdict."""
    ok = {"fc1": 1.0, "act1": 0.5, "fc2": 0.8, "act2": 0.4, "out": 0.3}
    bad = {"fc1": 5.0, "act1": 3.0, "fc2": None, "act2": None, "out": None}
    recs = _records(0, ok) + _records(10, bad, nonfinite=("fc2", "act2", "out"))
    fig = histogram_grid(recs)
    fig.savefig(tmp_path / "h.png")
    titles = [a.get_title() for a in fig.axes if a.axison]
    assert any("σ=nan" in t for t in titles)
    prof = layer_profile(recs)
    prof.savefig(tmp_path / "p.png")
    pts = _line_points(prof.axes[0], "step 10")
    assert pts["fc1"] == 5.0 and pts["act1"] == 3.0
    assert "NaN/Inf" in prof.axes[0].get_xlabel()


NAN_CONFIG = """
name: nanrun
data: {name: digits}
model: {name: mlp, hidden: [32, 32], activation: leaky_relu}
optim: {name: sgd, lr: 100}
train: {epochs: 1, batch_size: 100}
"""


def test_diagnose_a_run_that_turns_nan_names_the_first_layer(tmp_path):
    """SGD at lr 100: the outputs overflow at step 3 in the last layer, then from fc2 on."""
    from typer.testing import CliRunner

    from trainlab.cli import app

    cfg = tmp_path / "nan.yaml"
    cfg.write_text(NAN_CONFIG)
    out = tmp_path / "run"
    res = CliRunner().invoke(app, ["diagnose", str(cfg), "--every", "1", "--epochs", "1",
                                   "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output + repr(res.exception)
    assert "nonfinite" in res.output and "fail" in res.output
    found = {f["check"]: f for f in json.loads((out / "verdict.json").read_text())}
    nf = found["nonfinite"]
    assert nf["status"] == "fail" and nf["layer"] and nf["step"] is not None
    lines = [json.loads(s) for s in (out / "diagnostics.jsonl").read_text().splitlines()]
    first = min(r["step"] for r in lines if r["nonfinite"])
    at = sorted((r for r in lines if r["step"] == first and r["nonfinite"]),
                key=lambda r: r["order"])  # fmt: skip
    assert nf["step"] == first and nf["layer"] == at[0]["layer"]
    assert (out / "figures" / "diag_histograms.png").is_file()
    assert (out / "figures" / "diag_profile.png").is_file()


# -- schedule ------------------------------------------------------------------------------------
PER_MODEL = """
name: sched
data: {name: blobs}
model: {name: mlp, hidden: [4]}
optim: {name: sgd, lr: 0.1}
schedule: {name: step, step_size: 2, gamma: [0.1, 0.5, 0.9]}
train: {epochs: 6}
population: {seeds: [0, 1, 2]}
"""


def _run(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from trainlab.cli import app

    res = CliRunner().invoke(app, list(args), terminal_width=200)
    return res.exit_code, res.output + ("" if res.exception is None else repr(res.exception))


def test_schedule_table_shows_models_with_per_model_schedule_parameters(tmp_path):
    """gamma per model: the three seeds share the override group 'default', and the table
    showed one column (gamma 0.1) as if seeds never changed the LR."""
    cfg = tmp_path / "s.yaml"
    cfg.write_text(PER_MODEL)
    code, out = _run("schedule", str(cfg))
    assert code == 0, out
    row4 = next(line for line in out.splitlines() if line.strip("│ ").startswith("4 "))
    for lr in ("0.001", "0.025", "0.081"):  # 0.1 · γ² for γ = 0.1, 0.5, 0.9
        assert lr in row4, out


def test_schedule_plot_of_an_lr_grid_has_a_legend_per_curve_and_a_log_axis():
    """25 models (5 LRs × 5 seeds): the legend was dropped (> 12 models) though there are only
    5 distinct curves, and a linear LR axis flattened the three smallest LRs onto 0."""
    from trainlab.cli.optim import distinct_curves, schedule_figure
    from trainlab.config import Member
    from trainlab.optim import create_schedule

    lrs = [0.001, 0.003, 0.01, 0.03, 0.1]
    base = torch.tensor([lr for lr in lrs for _ in range(5)], dtype=torch.float64)
    mems = [
        Member(index=5 * i + s, seed=s, overrides={"optim.lr": lr})
        for i, lr in enumerate(lrs)
        for s in range(5)
    ]
    curve = create_schedule("cosine", base, total_steps=40, steps_per_epoch=4).curve()
    firsts, labels, owner = distinct_curves(mems, curve)
    assert firsts == [0, 5, 10, 15, 20] and owner[7] == 5 and labels[5] == "optim.lr=0.003"
    ax = schedule_figure("cosine", mems, curve, 4).axes[0]
    assert ax.get_legend_handles_labels()[1] == [f"optim.lr={lr}" for lr in lrs]
    assert ax.get_yscale() == "log" and "log" in ax.get_ylabel() and ax.get_xlabel() == "epoch"
    one = create_schedule("cosine", torch.tensor([0.1]), total_steps=40, steps_per_epoch=4)
    ax1 = schedule_figure("cosine", [Member(index=0, seed=0, overrides={})], one.curve(), 4)
    ax1 = ax1.axes[0]
    assert ax1.get_yscale() == "linear"  # one model's decay to 0: a linear axis


@pytest.mark.skipif(shutil.which("xelatex") is not None, reason="xelatex can write .pgf here")
def test_plot_path_whose_format_needs_a_missing_program_is_refused_before_the_run(tmp_path):
    """`.pgf` is in matplotlib's list but needs xelatex: it raised a traceback after the whole
    lr-find run; now it is a one-line error before any work."""
    from trainlab.cli.optim import _png
    from trainlab.errors import UserError

    with pytest.raises(UserError, match="cannot be written here"):
        _png(Path(tmp_path / "lr.pgf"))
    assert _png(Path(tmp_path / "lr"))[0] == tmp_path / "lr.png"


def test_diagnose_fails_nonfinite_when_the_trainer_stopped_a_model_between_samples(tmp_path):
    """SGD at lr 100, sampled every 50 steps: the trainer stops the model for NaN at step 4, no
    sampled output is non-finite, and the verdict said `nonfinite: ok, all outputs finite`."""
    from trainlab.diagnostics.run import diagnose

    cfg = tmp_path / "nan.yaml"
    cfg.write_text(NAN_CONFIG)
    res = diagnose(cfg, out=tmp_path / "run", every=50, epochs=5, device="cpu", progress=False,
                   report=False)  # fmt: skip
    stop = json.loads((tmp_path / "run" / "summary.json").read_text())["models"][0]
    assert stop["status"] == "nan"
    nf = next(f for f in res.findings if f.check == "nonfinite")
    assert nf.status == "fail" and nf.step == stop["stopped_step"]
    assert f"step {stop['stopped_step']}" in nf.message and "--every 1" in nf.message
    saved = json.loads((tmp_path / "run" / "verdict.json").read_text())
    assert saved[0]["check"] == "nonfinite" and saved[0]["status"] == "fail"


def test_with_trainer_stops_keeps_an_earlier_origin_and_notes_a_later_one():
    from trainlab.diagnostics.run import with_trainer_stops
    from trainlab.diagnostics.verdict import Finding

    early = Finding("nonfinite", "fail", 0, "NaN/Inf first appears at step 3", step=3, layer="a")
    late = Finding("nonfinite", "fail", 1, "NaN/Inf first appears at step 10", step=10, layer="b")
    grads = Finding("gradients", "ok", 2, "fine")
    out = with_trainer_stops([early, late, grads], {0: 4, 1: 4, 2: 7})
    assert out[0] is early  # the records saw it first: unchanged
    assert out[1].layer == "b" and "stopped it at step 4" in out[1].message
    assert late.message == "NaN/Inf first appears at step 10"  # inputs are not modified
    assert [(f.model, f.check, f.status) for f in out[2:]] == [
        (2, "nonfinite", "fail"),
        (2, "gradients", "ok"),
    ]
