"""Review of the reports after today's changes (src/trainlab/report/*, the sections that
``trainlab pretrain`` writes): killed runs (no ``summary.json``), run directories written by
the code before today (git ceec0c2: accuracies of NaN logits counted as class 0), and the
pre-training tables against ``summary.json``."""

from __future__ import annotations

import html as html_mod
import json
import re
import shutil

import numpy as np
import pytest

from trainlab.config import parse_config

NAN_GROUP = "optim.lr=1e+30"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished tiny run: 2 seeds x lr {0.1, 1e30}; the 1e30 models turn NaN at step 1."""
    from trainlab.train import train

    out = tmp_path_factory.mktemp("report_today") / "run"
    cfg = parse_config(
        {
            "name": "review",
            "model": {"name": "mlp", "hidden": [8]},
            "optim": {"name": "sgd", "lr": 0.1},
            "train": {"epochs": 2, "batch_size": 100},
            "population": {"seeds": [0, 1], "grid": {"optim.lr": [0.1, 1e30]}},
        }
    )
    train(cfg, out=out, device="cpu", progress=False)
    summary = json.loads((out / "summary.json").read_text())
    assert [m["status"] for m in summary["models"]] == ["ok", "ok", "nan", "nan"]
    return out


def _killed_copy(run, dest):
    """The run as a kill before ``summary.json`` was written leaves it (metrics of every epoch
    appended, no summary)."""
    shutil.copytree(run, dest)
    (dest / "summary.json").unlink()
    return dest


def _lines(fig):
    """(panel title, line label, x, y) of every plotted line of a figure."""
    out = []
    for ax in fig.axes:
        for line in ax.get_lines():
            out.append(
                (
                    ax.get_title(),
                    str(line.get_label()),
                    np.asarray(line.get_xdata(), dtype=float).tolist(),
                    np.asarray(line.get_ydata(), dtype=float).tolist(),
                )
            )
    return out


def test_a_killed_run_made_before_today_plots_no_accuracy_of_nan_logits(finished_run, tmp_path):
    """Today's contract (README, metrics.jsonl): "an accuracy is null where the loss is not
    finite" -- NaN logits argmax to class 0, so such an "accuracy" is not a measurement. A run
    directory written by the code of git ceec0c2 still holds those numbers (a NaN model's rows
    have ``train_loss: null`` with ``train_acc 0.013, val_acc 0.0, test_acc 0.0028``; rows copied
    from such a run). Its report must still leave them out: for a finished run it does (the
    rows are cut at ``stopped_step``), but for a killed one (no summary.json, the state a user
    runs ``trainlab report`` on before ``trainlab resume``) ``plot_curves`` keeps the failing
    epoch's row, so the accuracy figure draws the NaN group's mean accuracy of NaN logits
    (val 0.05) and marks it with an x, as if those models had trained to chance level."""
    from trainlab.report import plots
    from trainlab.report.rundata import read_run

    run = _killed_copy(finished_run, tmp_path / "killed_old")
    path = run / "metrics.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    old = {2: (0.013076924718916416, 0.0, 0.002785515272989869),
           3: (0.09808511286973953, 0.1041666641831398, 0.10027854889631271)}  # fmt: skip
    for r in rows:  # what ceec0c2 wrote for the NaN models' rows
        if r["model"] in old and r["train_loss"] is None:
            r["train_acc"], r["val_acc"], r["test_acc"] = old[r["model"]]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    data = read_run(run)
    assert {r["index"]: r["status"] for r in data.model_results()}[2] == "nan"
    drawn = [
        (title, label, ys)
        for title, label, _, ys in _lines(plots.curve_figure(data, "acc"))
        if label == NAN_GROUP or label.startswith("_")  # the group's mean line, its x marks
    ]
    assert not drawn, f"accuracy of NaN logits plotted for the NaN models: {drawn}"


def test_a_killed_runs_learning_rate_panel_draws_what_the_finished_run_draws(
    finished_run, tmp_path
):
    """The dynamics figure ("learning rate at the end of each epoch") of a run must not depend
    on whether ``summary.json`` was written yet: the same metrics.jsonl rows, reported after a
    kill and after the end, are the same training. For the finished run the NaN models' rows
    are cut at their ``stopped_step`` (their frozen rows have ``lr`` 0, "not training",
    ``RunData.plot_curves``); for the killed run the failing epoch's row is kept, so the
    figure draws an ``lr`` of 0.0 for the ``optim.lr=1e+30`` group -- a rate no model trained
    with -- and a 0 in the data also turns a log-scaled lr axis linear."""
    from trainlab.report import plots
    from trainlab.report.rundata import read_run

    killed = _killed_copy(finished_run, tmp_path / "killed")
    done = [x for x in _lines(plots.dynamics_figure(read_run(finished_run))) if "learning" in x[0]]
    cut = [x for x in _lines(plots.dynamics_figure(read_run(killed))) if "learning" in x[0]]
    assert cut == done, f"killed run's lr lines {cut} != finished run's {done}"


# ------------------------------------------------------------------------------ pretrain
@pytest.fixture(scope="module")
def pretrain_run(tmp_path_factory):
    """Gaussian RBMs, 2 seeds x learning_rate {0.01, 1000}: the 1000 models diverge."""
    from trainlab.pretrain.run import PretrainConfig, run_pretrain

    cfg = PretrainConfig.model_validate(
        {
            "data": {"scale": "standardize"},
            "model": {"kind": "rbm", "n_components": 4, "visible": "gaussian"},
            "train": {"n_iter": 2, "batch_size": 50},
            "seeds": [0, 1],
            "grid": {"learning_rate": [0.01, 1000.0]},
        }
    )
    out = run_pretrain(cfg, out=tmp_path_factory.mktemp("pretrain_today") / "run", device="cpu")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["diverged"] == [2, 3], summary["diverged"]
    return out


def _report_table(run, title):
    """The header and body rows (cell texts) of the report table titled ``title``."""
    text = (run / "report.html").read_text()
    m = re.search(
        rf"<h3>{re.escape(html_mod.escape(title))}</h3>\s*(<table class=\"data\">.*?</table>)",
        text,
        re.S,
    )
    assert m, f"no table {title!r} in report.html"
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)
    cells = [
        [html_mod.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
        for r in rows
    ]
    return cells[0], cells[1:]


def test_a_diverged_rbms_numbers_are_blank_in_the_report_as_null_in_summary(pretrain_run):
    """``trainlab pretrain``'s "Models (final pass)" table and ``summary.json`` describe the
    same models: a diverged RBM's numbers are ``null`` in summary.json (the code says "inf/NaN
    weights; its numbers are null"), and a missing number renders as ``—`` everywhere else in
    the report (tables.fmt). The report table writes the literal text ``nan`` instead (the
    rows keep float NaN, which ``Report.add_table`` stores as the string "nan"), so the report
    and the data file disagree, and a rebuilt report keeps it."""
    from trainlab.report import build_report

    build_report(pretrain_run)  # `trainlab report DIR`
    summary = json.loads((pretrain_run / "summary.json").read_text())
    cols, rows = _report_table(pretrain_run, "Models (final pass)")
    for model in summary["models"]:
        if not model["diverged"]:
            continue
        row = dict(zip(cols, rows[model["index"]], strict=True))
        for key in ("train_reconstruction_error", "test_reconstruction_error"):
            assert model[key] is None
            assert row[key] in ("—", ""), (model["index"], key, row[key])


def test_the_grid_table_shows_the_seed_spread_that_summary_json_holds(pretrain_run):
    """The pre-training report's new "Grid points over seeds" table is the report's view of
    summary.json's ``groups`` (mean ± std and the 95% CI per grid point). It formats them with
    3 fixed decimals, so a spread below 5e-4 -- summary.json: std 3.5e-5 and CI ± 3.2e-4 for
    the reconstruction error -- is shown as ``± 0.000 (… CI ± 0.000)``: the report claims the
    seeds agree exactly, which the data file contradicts. (The run's own group table,
    tables.fmt_fixed, switches to scientific notation below 1e-3 for this reason.)"""
    summary = json.loads((pretrain_run / "summary.json").read_text())
    groups = {g["group"]: g for g in summary["groups"]}
    cols, rows = _report_table(pretrain_run, "Grid points over seeds (final pass)")
    checked = 0
    for row in rows:
        cells = dict(zip(cols, row, strict=True))
        agg = groups[cells["group"]]["aggregates"]
        for key, text in cells.items():
            if key == "group" or text in ("—", ""):
                continue
            m = re.match(r"^(\S+) ± (\S+) \(n=(\d+), CI ± (\S+)\)$", text)
            assert m, text
            std, ci = float(m.group(2)), float(m.group(4))
            want = agg[key]
            assert want["std"] > 0
            assert std == pytest.approx(want["std"], rel=0.05), (key, text, want)
            assert ci == pytest.approx(want["ci95"], rel=0.05), (key, text, want)
            checked += 1
    assert checked, rows
