"""Reports and figures: diagnostics figures keep zero values (marked on log axes, counted in
the means), damaged diagnostics lines are one-line errors, a killed run flags a model stopped
for an infinite gradient, long figure names rebuild, and the verdict flags a flat first layer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_user_error, run_cli, small_config
from trainlab.report import Report, build_report, plots
from trainlab.report.rundata import read_run
from trainlab.report.tables import diagnostics_table, nan_flags
from trainlab.runs import RunDir
from trainlab.train import train


# -- helpers -----------------------------------------------------------------------------------
def _synthetic_run(root: Path, diag: list[dict], k: int = 2, epochs: int = 2) -> Path:
    """A finished run directory of ``k`` default-group models with ``diag`` as
    diagnostics.jsonl (file formats as `trainlab train` writes them)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(f"name: review\ntrain:\n  epochs: {epochs}\n")
    models = [{"index": i, "seed": i, "overrides": {}, "group": "default"} for i in range(k)]
    (root / "population.json").write_text(json.dumps({"k": k, "models": models}))
    rows = []
    for i in range(k):
        for e in range(1, epochs + 1):
            rows.append(
                {
                    "model": i, "epoch": e, "step": 10 * e, "train_loss": 1.0 / e,
                    "train_acc": 0.5, "val_loss": 1.1 / e, "val_acc": 0.5, "test_loss": 1.2 / e,
                    "test_acc": 0.5, "lr": 0.1, "grad_norm": 1.0, "time": 0.1,
                }
            )  # fmt: skip
    (root / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    final = {k_: rows[-1][k_] for k_ in ("train_loss", "val_loss", "val_acc", "test_loss")}
    summary = {
        "name": "review", "k": k, "epochs": epochs, "device": "cpu",
        "models": [
            {**m, "status": "ok", "stopped_step": None, "final": {**final, "test_acc": 0.5}}
            for m in models
        ],
        "aggregates": {}, "groups": [],
    }  # fmt: skip
    (root / "summary.json").write_text(json.dumps(summary))
    (root / "diagnostics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in diag))
    return root


def _diag(model: int, step: int, layer: str, order: int, **stats) -> dict:
    rec = {
        "model": model, "layer": layer, "step": step, "kind": "linear", "order": order,
        "act_mean": 0.0, "act_std": 1.0, "dead_fraction": None, "saturated_fraction": None,
        "nonfinite": False, "grad_norm": 0.1, "out_grad_norm": 0.1, "weight_norm": 1.0,
        "update_ratio": 1e-3,
    }  # fmt: skip
    rec.update(stats)
    return rec


def _panel_labels(ax) -> set[str]:
    """Labels of every line and collection drawn in a panel."""
    return {a.get_label() for a in [*ax.get_lines(), *ax.collections]}


# -- a real `trainlab train --diagnose` run with zero-initialized models ----------------------
@pytest.fixture(scope="module")
def zeros_run(tmp_path_factory):
    """The demo's population in small: default init and ``init.scheme=zeros``, 2 seeds each,
    diagnostics every 2 steps. The zeros models' hidden layers output exactly 0 at every step
    (symmetry never breaks), so their ``act_std`` is 0.0 in diagnostics.jsonl."""
    out = tmp_path_factory.mktemp("zeros") / "run"
    train(
        small_config(
            train={"epochs": 1, "batch_size": 256, "diagnose_every": 2},
            population={"seeds": [0, 1], "variants": [{}, {"init.scheme": "zeros"}]},
        ),
        out=out,
        progress=False,
        device="cpu",
    )
    return out


def test_diagnostics_figure_shows_layers_whose_activation_std_is_zero(zeros_run):
    """The Diagnostics section's per-layer figures have "one panel per group, one line per
    layer". On the log-scaled statistics (act_std, grad_norm, update_ratio) every value <= 0 is
    silently dropped, so a layer whose activations collapsed to exactly 0 — the zeros-init
    model of the demo, a fully dead ReLU layer — vanishes from its group's panel: the figure
    hides precisely the pathology it is there to show (the table below it lists act_std 0 for
    those layers, and layer_profile marks such zeros at the axis edge). Every layer that
    diagnostics.jsonl records a finite act_std for must be drawn in its group's panel."""
    run = read_run(zeros_run)
    zeros_models = {m["index"] for m in run.models if m["group"] == "init.scheme=zeros"}
    recorded = {
        r["layer"]
        for r in run.diagnostics
        if r["model"] in zeros_models and isinstance(r.get("act_std"), float | int)
    }
    # the file says the hidden layers collapsed: std exactly 0 at every sampled step
    assert {"fc1", "act1"} <= recorded
    assert all(
        r["act_std"] == 0.0
        for r in run.diagnostics
        if r["model"] in zeros_models and r["layer"] in ("fc1", "act1")
    )
    fig = plots.diagnostics_figure(run, "act_std")
    panel = next(ax for ax in fig.axes if ax.get_title() == "init.scheme=zeros")
    missing = recorded - _panel_labels(panel)
    assert not missing, f"layers recorded in diagnostics.jsonl but not drawn: {sorted(missing)}"


def test_diagnostics_figure_mean_over_seeds_counts_zero_values(tmp_path):
    """Each line of a diagnostics figure is documented as "the mean over the group's seeds".
    On log-scaled statistics a seed whose value is 0 (a layer with zero gradient, an
    early-stopped model's update_ratio of 0) is dropped before averaging, so the plotted mean
    is the mean of the other seeds only: here seeds 0.0 and 0.02 plot as 0.02 instead of 0.01,
    while the per-layer table of the same report (and diagnostics.jsonl) says 0.01."""
    diag = []
    for step in (0, 10):
        diag += [
            _diag(0, step, "fc1", 0, grad_norm=0.0),
            _diag(1, step, "fc1", 0, grad_norm=0.02),
            _diag(0, step, "fc2", 1, grad_norm=0.1),
            _diag(1, step, "fc2", 1, grad_norm=0.1),
        ]
    run = read_run(_synthetic_run(tmp_path / "run", diag))
    cols, rows = diagnostics_table(run)
    fc1 = next(r for r in rows if r[1] == "fc1")
    assert float(fc1[cols.index("grad_norm")]) == pytest.approx(0.01)  # the table: the mean
    fig = plots.diagnostics_figure(run, "grad_norm")
    line = next(ln for ax in fig.axes for ln in ax.get_lines() if ln.get_label() == "fc1")
    assert np.asarray(line.get_ydata(), dtype=float) == pytest.approx([0.01, 0.01])


# -- damaged and killed runs -----------------------------------------------------------------
@pytest.mark.parametrize("bad_model", ["x", None])
def test_report_on_a_corrupt_diagnostics_model_field_is_one_line_and_exit_2(
    monkeypatch, capsys, tmp_path, bad_model
):
    """read_run checks that every diagnostics.jsonl record's ``step`` is a number (and every
    metrics.jsonl record's ``model``), but not a diagnostics record's ``model``: a damaged line
    ``"model": "x"`` (or null) passes and `trainlab report` dies with a ValueError/TypeError
    traceback from int() deep in the verdict, instead of one line naming the file and line
    with exit status 2 (the CLI's error policy for corrupt run files)."""
    diag = [_diag(m, s, "fc1", 0) for s in (0, 10) for m in (0, 1)]
    diag[1]["model"] = bad_model
    run = _synthetic_run(tmp_path / "run", diag)
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert_user_error(code, err, "diagnostics.jsonl")


class _Killed(BaseException):
    """What ``kill -9`` does to the process, raised where the kill lands."""


def test_killed_run_report_flags_the_model_the_trainer_stopped_for_an_infinite_gradient(
    tmp_path, monkeypatch
):
    """The trainer stops a model when its loss *or its gradient norm* becomes NaN/Inf (the
    finished run's summary.json then says status "nan"). A model initialized with std 1e9 has a
    finite loss (~4e28) but an infinite gradient norm at step 0: metrics.jsonl records
    ``grad_norm: null`` and the model is frozen from then on. The report of the same run
    killed after epoch 1 (no summary.json yet) infers the status from ``train_loss`` only, so
    it calls the stopped model "incomplete", lists no NaN/Inf stop, and puts its frozen,
    exploded numbers into its group's statistics — contradicting what the run itself
    decided."""
    cfg = small_config(
        model={"hidden": [16, 16]},
        train={"epochs": 3, "batch_size": 256},
        population={"seeds": [0], "variants": [{}, {"init.scheme": "normal", "init.std": 1e9}]},
    )

    def killed(self, state):
        raise _Killed

    monkeypatch.setattr(RunDir, "save_checkpoint", killed)
    with pytest.raises(_Killed):
        train(cfg, out=tmp_path / "killed", progress=False, device="cpu")
    monkeypatch.undo()
    text = (tmp_path / "killed" / "metrics.jsonl").read_text()
    rows = [json.loads(x) for x in text.splitlines()]
    bad = next(r for r in rows if r["model"] == 1)
    assert bad["grad_norm"] is None and bad["train_loss"] is not None  # what the file says
    # what the trainer decides for the same run, uninterrupted
    full = train(cfg, out=tmp_path / "full", progress=False, device="cpu").summary
    assert full["models"][1]["status"] == "nan"

    run = read_run(tmp_path / "killed")
    assert run.model_results()[1]["status"] == "nan"
    assert any(f.startswith("model 1 ") for f in nan_flags(run))


def test_a_figure_name_that_add_figure_accepts_can_be_written_and_rebuilt(tmp_path):
    """``Report.add_figure`` accepts names of up to 100 characters and saves
    ``figures/<name>.png``, but the renderer validates the stored *file* name (name + ".png")
    against the same 100-character pattern, so a 97–100 character name (e.g. one a study
    builds from its grid cell) makes ``write()`` fail with "names a bad figure file" — after
    report_sections.json has been persisted, so every later ``trainlab report DIR`` fails too
    until the user edits the file by hand."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2))
    fig.subplots().plot([0, 1], [1, 0])
    rep = Report(tmp_path / "study", title="long names")
    name = "curves_" + "x" * 90  # 97 characters: accepted by add_figure
    png = rep.add_figure(name, fig, caption="a figure")
    assert png.is_file()
    html = rep.write(include_standard=False).read_text()
    assert "data:image/png;base64," in html
    assert build_report(tmp_path / "study").read_text() == html


def test_the_verdict_flags_a_net_whose_first_layer_is_flat(zeros_run):
    """A zeros-initialized net's first layer outputs std 0; the activation check compared every
    layer with the first one, could form no ratio, and said nothing about the most collapsed
    net there is."""
    from trainlab.diagnostics import verdict

    run = read_run(zeros_run)
    zeros_models = {m["index"] for m in run.models if m["group"] == "init.scheme=zeros"}
    found = [
        f for f in verdict(run.diagnostics) if f.check == "activations" and f.model in zeros_models
    ]
    assert found and all(f.status == "warn" and "std 0" in f.message for f in found), found
