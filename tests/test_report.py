"""Tests for trainlab.report: aggregation, the standard report, study sections, bad files."""

from __future__ import annotations

import base64
import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from trainlab.errors import UserError
from trainlab.report import Report, aggregate, build_report
from trainlab.report.html import render_text
from trainlab.report.rundata import read_run
from trainlab.report.tables import group_table


def test_aggregate_matches_scipy_t_interval():
    x = [0.5, 0.6, 0.7, 0.65, 0.61]
    a = aggregate(x)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    assert a["n"] == 5
    assert a["mean"] == pytest.approx(np.mean(x))
    assert a["std"] == pytest.approx(np.std(x, ddof=1))
    assert a["ci95"] == pytest.approx((hi - lo) / 2)


def test_aggregate_edge_cases():
    assert aggregate([0.3]) == {"mean": 0.3, "std": 0.0, "ci95": None, "n": 1}
    assert aggregate([]) == {"mean": None, "std": None, "ci95": None, "n": 0}
    # None / NaN / Inf are left out and not counted
    a = aggregate([1.0, None, math.nan, math.inf, 3.0])
    assert a["n"] == 2 and a["mean"] == 2.0 and a["std"] == pytest.approx(math.sqrt(2))
    with pytest.raises(TypeError, match="needs numbers"):
        aggregate([1.0, "abc"])


# -- a synthetic run directory, written per docs/ARCHITECTURE.md -----------------------------------

STEPS_PER_EPOCH = 100
LAYERS = ["net.0", "net.2", "net.4"]


def _acc(seed: int, lr: float, epoch: int) -> float:
    return round(0.5 + 0.08 * epoch - 0.01 * seed + (0.02 if lr < 1 else 0.0), 6)


def make_run(
    root: Path,
    *,
    lrs=(0.01, 10.0),
    seeds=(0, 1, 2),
    epochs=5,
    nan_model: int | None = 3,
    nan_step: int = 412,
    complete: bool = True,
    diagnostics: bool = True,
) -> tuple[Path, dict]:
    """Write config.yaml, population.json, metrics.jsonl (+ summary.json, diagnostics.jsonl)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.yaml").write_text(
        "name: synthetic\ndata:\n  name: digits\nmodel:\n  name: mlp\n"
        f"optim:\n  name: adam\n  lr: 0.001\ntrain:\n  epochs: {epochs}\n"
    )
    models = []
    for lr in lrs:
        for s in seeds:
            i = len(models)
            models.append(
                {"index": i, "seed": s, "overrides": {"optim.lr": lr}, "group": f"optim.lr={lr}"}
            )
    (root / "population.json").write_text(json.dumps({"k": len(models), "models": models}))
    rows, diag, finals = [], [], {}
    for m in models:
        i, s, lr = m["index"], m["seed"], m["overrides"]["optim.lr"]
        for e in range(1, epochs + 1):
            step = e * STEPS_PER_EPOCH
            dead = nan_model == i and step > nan_step
            acc = _acc(s, lr, e)
            row = {
                "model": i, "epoch": e, "step": step,
                "train_loss": None if dead else 2.0 / e + 0.01 * s,
                "train_acc": None if dead else acc + 0.05,
                "val_loss": None if dead else 2.2 / e, "val_acc": None if dead else acc + 0.01,
                "test_loss": None if dead else 2.3 / e + 0.01 * s,
                "test_acc": None if dead else acc,
                "lr": lr, "grad_norm": 1.0, "time": 0.1 * e,
            }  # fmt: skip
            rows.append(row)
            if diagnostics:
                for d, layer in enumerate(LAYERS):
                    diag.append(
                        {
                            "model": i, "layer": layer, "step": step, "act_mean": 0.0,
                            "act_std": 0.5 ** (d + 1), "dead_fraction": 0.1 * d,
                            "saturated_fraction": None, "grad_norm": 0.1 * (d + 1),
                            "weight_norm": 3.0, "update_ratio": 1e-3 * (d + 1),
                            "nonfinite": False,
                        }
                    )  # fmt: skip
        last = [r for r in rows if r["model"] == i and r["train_loss"] is not None][-1]
        finals[i] = {
            k: last[k] for k in ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")
        }
    with open(root / "metrics.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    if diagnostics:
        with open(root / "diagnostics.jsonl", "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in diag)
    if complete:
        summary = {
            "name": "synthetic", "k": len(models), "epochs": epochs, "device": "cpu",
            "models": [
                {**m, "status": "nan" if m["index"] == nan_model else "ok",
                 "stopped_step": nan_step if m["index"] == nan_model else None,
                 "final": finals[m["index"]]}
                for m in models
            ],
            "aggregates": {}, "groups": [],
        }  # fmt: skip
        (root / "summary.json").write_text(json.dumps(summary))
    return root, {"models": models, "finals": finals}


def _check_self_contained(text: str) -> None:
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", text)
    assert refs, "the report has no images"
    for ref in refs:
        assert ref.startswith("data:image/png;base64,"), ref[:80]
        assert base64.b64decode(ref.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text.lower() and "<link" not in text.lower()


def test_full_report_is_self_contained_with_tables_and_nan_flag(tmp_path):
    run, info = make_run(tmp_path / "run")
    out = build_report(run)
    assert out == run / "report.html"
    text = out.read_text()
    _check_self_contained(text)
    names = ["curves_loss", "curves_accuracy", "curves_dynamics"]
    names += [f"diagnostics_{s}" for s in ("act_std", "dead_fraction", "grad_norm", "update_ratio")]
    for name in names:
        png = run / "figures" / f"{name}.png"
        assert png.read_bytes()[:4] == b"\x89PNG", name
    # saturated_fraction is None everywhere: no figure
    assert not (run / "figures" / "diagnostics_saturated_fraction.png").exists()
    # header
    assert "synthetic" in text and "cpu" in text and "Run complete" in text
    assert "<details><summary>config.yaml" in text
    # the NaN flag with the model's seed, overrides and step
    assert "model 3 (seed 0, optim.lr=10.0): loss or gradient became NaN/Inf at step 412" in text
    # group table: mean ± std of final test_acc; the NaN model is left out of group 2
    g1 = aggregate([info["finals"][i]["test_acc"] for i in (0, 1, 2)])
    g2 = aggregate([info["finals"][i]["test_acc"] for i in (4, 5)])
    assert g2["n"] == 2
    for a in (g1, g2):
        assert f"{a['mean']:.4f} ± {a['std']:.4f}" in text
        assert f"{a['ci95']:.4f}" in text
    # model table: per-model final metric and status
    assert f"{info['finals'][1]['test_acc']:.4f}" in text
    assert "nan (step 412)" in text
    # diagnostics table: last step, mean over seeds; all-None statistics get no column
    i = text.index("Per-layer statistics at the last recorded step")
    table = text[i : text.index("</table>", i)]
    assert "<th>update_ratio</th>" in table and "<th>saturated_fraction</th>" not in table
    row = '<tr><td>optim.lr=0.01</td><td>net.4</td><td class="num">500</td>'
    assert row + '<td class="num">3</td><td class="num">0</td><td class="num">0.125</td>' in table
    # the health verdict of `trainlab diagnose`, over the models: net.4's dead fraction 0.2 is
    # below the 0.25 bound; the trainer's NaN stop at step 412 fails the nonfinite check
    i = text.index("<h3>Health verdict</h3>")
    verdict = text[i : text.index("</table>", i)]
    assert "<td>nonfinite</td><td>fail</td><td>1/6</td>" in verdict
    assert "model 3: stopped by the trainer at step 412" in verdict
    assert "<td>dead_relu</td><td>ok</td><td>0/6</td>" in verdict


def test_nan_model_left_out_and_curves_cut(tmp_path):
    run, info = make_run(tmp_path / "run", diagnostics=False)
    data = read_run(run)
    # like the trainer, the NaN model's "final" is its last good epoch: finite, yet not counted
    assert info["finals"][3]["test_acc"] is not None
    cols, rows = group_table(data)
    assert rows[1][cols.index("test_acc n")] == 2 and rows[1][cols.index("stopped (NaN/Inf)")] == 1
    assert [r["epoch"] for r in data.plot_curves()[3]] == [1, 2, 3, 4]  # step 400 < 412
    assert len(data.plot_curves()[4]) == 5


def test_the_header_names_the_layer_sizes_and_skips_unset_options(tmp_path):
    run, _ = make_run(tmp_path / "run", diagnostics=False)
    (run / "config.yaml").write_text(
        "name: synthetic\nmodel:\n  name: mlp\n  hidden: [32, 16]\n  depth: null\n"
        "  activation: relu\noptim:\n  name: adam\n  betas: [0.9, 0.999]\n"
    )
    text = build_report(run).read_text()
    assert "<td>mlp, hidden=[32, 16], activation=relu</td>" in text
    assert "<td>adam, betas=[0.9, 0.999]</td>" in text


def test_incomplete_run_with_truncated_last_line(tmp_path):
    run, _ = make_run(tmp_path / "run", complete=False, nan_model=None, diagnostics=False)
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    keep = [json.loads(x) for x in lines if json.loads(x)["epoch"] <= 2]
    text = (
        "".join(json.dumps(r) + "\n" for r in keep) + json.dumps(keep[0])[:25]
    )  # killed mid-write
    (run / "metrics.jsonl").write_text(text)
    html = build_report(run).read_text()
    _check_self_contained(html)
    assert "Incomplete run" in html and "after 2 of 5 epochs" in html
    assert "incomplete (2 epochs)" in html
    assert "trainlab resume" in html
    # final values are the last epoch reached
    assert f"{_acc(1, 0.01, 2):.4f}" in html


def test_incomplete_run_detects_nan_from_metrics(tmp_path):
    run, _ = make_run(tmp_path / "run", complete=False, nan_model=4, nan_step=250)
    html = build_report(run).read_text()
    assert "model 4 (seed 1, optim.lr=10.0): loss or gradient became NaN/Inf by step 300" in html


def test_run_killed_before_first_epoch(tmp_path):
    run, _ = make_run(tmp_path / "run", complete=False, diagnostics=False)
    (run / "metrics.jsonl").unlink()
    html = build_report(run).read_text()
    assert "Incomplete run" in html and "No metrics yet" in html
    assert "not started" in html


def test_corrupt_middle_line_is_an_error(tmp_path):
    run, _ = make_run(tmp_path / "run", diagnostics=False)
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    lines[1] = '{"model": 0, "epo\n'
    (run / "metrics.jsonl").write_text("".join(lines))
    with pytest.raises(UserError, match=r"metrics\.jsonl line 2 is corrupt"):
        build_report(run)


@pytest.mark.parametrize(
    "breakit, pattern",
    [
        (lambda r: (r / "population.json").unlink(), r"not a run directory: .* \(no population"),
        (lambda r: (r / "population.json").write_text("{"), r"population\.json is corrupt"),
        (lambda r: (r / "population.json").write_text("[1]"), r"population\.json is not a pop"),
        (lambda r: (r / "summary.json").write_text("{\"k\": "), r"summary\.json is corrupt"),
        (lambda r: (r / "config.yaml").write_text("a: [\n"), r"config\.yaml is corrupt"),
        (lambda r: (r / "metrics.jsonl").write_text('{"epoch": 1}\n'), r"line 1 lacks model"),
        (lambda r: (r / "report_sections.json").write_text("{}"), r"not a report-sections file"),
        (lambda r: (r / "metrics.jsonl").write_text('{"model": "a", "epoch": 1}\n'), "a number"),
    ],
)  # fmt: skip
def test_bad_files_raise_user_error_naming_the_file(tmp_path, breakit, pattern):
    run, _ = make_run(tmp_path / "run", diagnostics=False)
    breakit(run)
    with pytest.raises(UserError, match=pattern):
        build_report(run)


def test_missing_directory(tmp_path):
    with pytest.raises(UserError, match="not a run directory"):
        build_report(tmp_path / "nope")


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.plot([0, 1, 2], [1, 0.5, 0.2])
    return fig


def test_study_sections_survive_rebuild(tmp_path):
    run, _ = make_run(tmp_path / "run", diagnostics=False)
    rep = Report(run, title="Init study")
    rep.add_text("## Expected\nHe init **trains**; Xavier stalls.\n\n- one <b>two</b>\n- three")
    png = rep.add_figure("final_acc", _figure(), caption="final accuracy per scheme")
    rep.add_table(
        "Accuracy", [{"scheme": "he", "acc": 0.91234567}, {"scheme": "xavier", "acc": 0.1}]
    )
    rep.add_table("Plain", [[1, 2.5], [3, float("nan")]], columns=["a", "b"], caption="c **x**")
    rep.add_metrics({"speedup": 3.2, "acc": aggregate([0.9, 0.92, 0.94])}, title="Numbers")
    assert png == run / "figures" / "final_acc.png" and png.exists()
    first = rep.write()
    text1 = first.read_text()
    first.unlink()
    text2 = build_report(run).read_text()
    assert text1 == text2  # the rebuild holds the same study sections
    _check_self_contained(text2)
    assert "<h1>Init study</h1>" in text2 and "<h3>Expected</h3>" in text2
    assert "He init <strong>trains</strong>; Xavier stalls." in text2
    assert "<li>one &lt;b&gt;two&lt;/b&gt;</li>" in text2 and "<b>two</b>" not in text2
    assert "0.9123" in text2 and "xavier" in text2 and "nan" in text2
    assert "0.9200 ± 0.0200 (95% CI ± 0.0497), n=3" in text2
    assert "final accuracy per scheme" in text2
    assert "Training curves" in text2  # the standard sections come after
    assert text2.index("Init study") < text2.index("Expected") < text2.index("Training curves")
    # load() continues the persisted sections
    rep2 = Report.load(run)
    assert len(rep2.sections) == 5 and rep2.title == "Init study"


def test_study_without_population(tmp_path):
    out = tmp_path / "study-optimizers-2d"
    rep = Report(out, title="Optimizers in 2-D")
    rep.add_text("Trajectories of SGD and Adam on the Rosenbrock function.")
    rep.add_figure("trajectories", _figure())
    path = rep.write(include_standard=False)
    text = build_report(out).read_text()
    assert path.read_text() == text
    _check_self_contained(text)
    assert "Rosenbrock" in text and "Training curves" not in text and "Incomplete" not in text
    # include_standard=True is also fine when the run files are absent
    rep.write(include_standard=True)
    assert "Training curves" not in (out / "report.html").read_text()


def test_add_figure_and_table_validation(tmp_path):
    rep = Report(tmp_path / "r")
    with pytest.raises(ValueError, match="letters, digits"):
        rep.add_figure("../evil", _figure())
    with pytest.raises(ValueError, match="standard report"):
        rep.add_figure("curves_loss", _figure())
    rep.add_figure("a", _figure())
    with pytest.raises(ValueError, match="already added"):
        rep.add_figure("a.png", _figure())
    with pytest.raises(TypeError, match="matplotlib Figure"):
        rep.add_figure("b", object())
    with pytest.raises(ValueError, match="row 1 has 1 cells but there are 2 columns"):
        rep.add_table("t", [[1, 2], [3]], columns=["x", "y"])
    rep.add_table("arr", np.array([[1.5, 2.0], [3.0, 4.0]]), columns=["x", "y"])
    assert rep.sections[-1]["rows"] == [[1.5, 2.0], [3.0, 4.0]]
    rep.add_table("np scalars", [{"a": np.float32(0.5), "b": np.int64(3)}])
    assert rep.sections[-1]["rows"] == [[0.5, 3]]
    with pytest.raises(TypeError, match="all dicts or all lists"):
        rep.add_table("t", [{"a": 1}, [1]])


def test_pyplot_figures_are_closed(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2])
    Report(tmp_path / "r").add_figure("p", fig)
    assert not plt.fignum_exists(fig.number)


def test_render_text():
    h = render_text("# Title\npara one\nstill one\n\n1. a\n2. b\n   more b\n\n`x<y` and *it*")
    assert "<h2>Title</h2>" in h
    assert "<p>para one still one</p>" in h
    assert "<ol><li>a</li><li>b more b</li></ol>" in h
    assert "<code>x&lt;y</code>" in h and "<em>it</em>" in h
    # docstrings write code spans with double backticks
    h = render_text("``max_norm`` (``trainlab.optim.clip_grad_norm_``) and `k`")
    assert "<code>max_norm</code> (<code>trainlab.optim.clip_grad_norm_</code>)" in h
    assert "<code>k</code>" in h and "`" not in h


def test_hundred_models_report_fast(tmp_path):
    run, _ = make_run(
        tmp_path / "big", lrs=tuple(10.0 ** -k for k in range(5)), seeds=tuple(range(20)),
        epochs=15, nan_model=None, diagnostics=False,
    )  # fmt: skip
    t0 = time.perf_counter()
    html = build_report(run).read_text()
    dt = time.perf_counter() - t0
    assert "show all 100 rows" in html
    assert dt < 15.0, f"report of 100 models x 15 epochs took {dt:.1f}s"


def test_build_report_leaves_pyplot_and_torch_alone(tmp_path):
    import subprocess
    import sys

    run, _ = make_run(tmp_path / "run", diagnostics=False)
    code = (
        "import sys; from trainlab.report import build_report; "
        f"build_report({str(run)!r}); "
        "print('pyplot' if 'matplotlib.pyplot' in sys.modules else 'no-pyplot', "
        "'torch' if 'torch' in sys.modules else 'no-torch')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["no-pyplot", "no-torch"]
