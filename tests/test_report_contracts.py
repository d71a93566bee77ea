"""What a training run writes (summary.json, metrics.jsonl) and how it is reported (report.html,
figures, ``trainlab report``), on real runs of tiny digits MLPs: the checks that
tests/test_report.py (synthetic run directories), test_train.py and test_cli.py do not make."""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml
from scipy import stats

from conftest import run_cli, small_config
from trainlab.config import load_yaml
from trainlab.report import aggregate, build_report
from trainlab.report.plots import curve_figure
from trainlab.report.rundata import read_run
from trainlab.report.tables import group_table
from trainlab.runs import RunDir
from trainlab.train import resume, train

#: larger than digits' training split: one step per epoch (full-batch gradient descent)
FULL_BATCH = 5000


def _train(out, **sections):
    return train(small_config(**sections), out=out, progress=False, device="cpu")


def _metrics(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _legend_labels(fig) -> list[str]:
    return [t.get_text() for leg in fig.legends for t in leg.get_texts()]


def _section(html: str, start: str, end: str) -> str:
    i = html.index(start) + len(start)
    return html[i : html.index(end, i)]


_cli = run_cli


# -- stopped models, legends, extended runs -----------------------------------------------
@pytest.fixture(scope="module")
def full_batch_nan_run(tmp_path_factory):
    """Full-batch SGD, lr 0.1 (fine) and 1e30 (its first step blows the weights up, so the
    loss of step 1, the first step of epoch 2, is NaN/Inf)."""
    out = tmp_path_factory.mktemp("fullbatch") / "run"
    result = _train(
        out,
        optim={"name": "sgd", "lr": 0.1},
        train={"epochs": 3, "batch_size": FULL_BATCH},
        population={"seeds": [0], "grid": {"optim.lr": [0.1, 1e30]}},
    )
    return out, result.summary


def test_the_last_good_epoch_of_a_nan_model_is_plotted(full_batch_nan_run):
    """``stopped_step`` of a NaN model is the step that failed, counted from 0 (= the steps
    completed before it); a metrics row's ``step`` counts the steps completed by its epoch's
    end. The epoch that ended at step 1 is the trainer's own last good epoch (its ``final``),
    and it is plotted (with one step per epoch, a NaN model would otherwise vanish)."""
    out, summary = full_batch_nan_run
    nan_model = summary["models"][1]
    assert (nan_model["status"], nan_model["stopped_step"]) == ("nan", 1)
    epoch1 = next(r for r in _metrics(out) if r["model"] == 1 and r["epoch"] == 1)
    assert epoch1["step"] == 1
    # the trainer: epoch 1 was the NaN model's last good epoch
    assert nan_model["final"]["train_loss"] == epoch1["train_loss"]
    run = read_run(out)
    assert [r["epoch"] for r in run.plot_curves()[1]] == [1]  # is []
    assert "optim.lr=1e+30" in _legend_labels(curve_figure(run, "loss"))


@pytest.fixture(scope="module")
def plain_run(tmp_path_factory):
    """Two seeds, no per-model overrides, a run name with HTML in it."""
    out = tmp_path_factory.mktemp("plain") / "run"
    _train(out, name='<img src=x onerror=alert(1)> & "q"', population={"seeds": [0, 1]})
    build_report(out)
    return out


def test_a_run_without_overrides_gets_no_legend(plain_run):
    """No legend when the only group is the default one (``Member.group``: ``"default"``)."""
    run = read_run(plain_run)
    assert list(run.groups()) == ["default"]
    assert _legend_labels(curve_figure(run, "loss")) == []


def test_a_run_whose_models_all_turned_nan_says_why_it_has_no_curves(tmp_path):
    """Every model stops for NaN/Inf at step 1, inside epoch 1: no epoch has a value to plot,
    and the report's "Training curves" section says so."""
    out = tmp_path / "run"
    summary = _train(out, optim={"name": "sgd", "lr": 1e30}, population={"seeds": [0, 1]}).summary
    assert [m["status"] for m in summary["models"]] == ["nan", "nan"]
    html = build_report(out).read_text()
    assert "loss or gradient became NaN/Inf at step 1" in html
    curves = _section(html, "<h2>Training curves</h2>", "<h2>Summary by group</h2>")
    assert curves.strip(), "the section is empty: no figure and no explanation"


class _Killed(BaseException):
    """What ``kill -9`` does to the process, raised where the kill lands."""


def test_a_killed_extension_of_a_finished_run_is_not_reported_complete(tmp_path, monkeypatch):
    """README: ``train.epochs`` may be raised in config.yaml "to train a finished run longer".
    ``resume`` then removes the old summary.json, so that an extension killed after epoch 2's
    metrics (or still running) is not reported complete with the 1-epoch summary."""
    out = tmp_path / "run"
    _train(out, train={"epochs": 1})
    cfg = load_yaml((out / "config.yaml").read_text())
    cfg["train"]["epochs"] = 3
    (out / "config.yaml").write_text(yaml.safe_dump(cfg))

    def killed(self, state):
        raise _Killed

    monkeypatch.setattr(RunDir, "save_checkpoint", killed)
    with pytest.raises(_Killed):
        resume(out, progress=False, device="cpu", on_note=lambda note: None)
    monkeypatch.undo()
    reached = [r for r in _metrics(out) if r["model"] == 0]
    assert [r["epoch"] for r in reached] == [1, 2]
    html = build_report(out).read_text()
    banner = re.search(r'<div class="banner[^"]*">(.*?)</div>', html).group(1)
    assert "Incomplete run" in banner, banner  # is "Run complete."
    models = _section(html, "<h2>Models</h2>", "</table>")
    assert f"{reached[-1]['test_acc']:.4f}" in models  # the last epoch reached, not epoch 1


# -- groups, final values, self-contained reports ----------------------------------------
def test_summary_groups_of_variants_times_grid_and_final_is_the_last_metrics_line(tmp_path):
    """2 variants × 2 grid points × 3 seeds: each group's aggregates are taken over its own
    three seeds only (mean, ddof=1 std, Student-t 95% CI), the report's group table agrees,
    and each model's ``final`` is its last line of metrics.jsonl."""
    out = tmp_path / "run"
    summary = _train(
        out,
        train={"epochs": 1},
        population={
            "seeds": [0, 1, 2],
            "variants": [{}, {"init.scheme": "he_normal"}],
            "grid": {"optim.lr": [0.01, 0.03]},
        },
    ).summary
    last = {r["model"]: r for r in _metrics(out)}
    for m in summary["models"]:
        for key, value in m["final"].items():
            assert last[m["index"]][key] == value, (m["index"], key)
    groups = {g["group"]: g for g in summary["groups"]}
    assert list(groups) == [
        "optim.lr=0.01",
        "optim.lr=0.03",
        "init.scheme=he_normal, optim.lr=0.01",
        "init.scheme=he_normal, optim.lr=0.03",
    ]
    _, rows = group_table(read_run(out))
    for (name, g), row in zip(groups.items(), rows, strict=True):
        accs = [m["final"]["test_acc"] for m in summary["models"] if m["group"] == name]
        assert g["n"] == 3 and len(accs) == 3
        a = g["aggregates"]["test_acc"]
        assert a == aggregate(accs)
        lo, hi = stats.t.interval(0.95, 2, loc=a["mean"], scale=stats.sem(accs))
        assert a["ci95"] == pytest.approx((hi - lo) / 2)
        assert row[0] == name and row[3] == f"{a['mean']:.4f} ± {a['std']:.4f}"


def test_the_report_of_a_real_run_is_self_contained_and_escapes_the_name(plain_run):
    html = (plain_run / "report.html").read_text()
    assert "<img src=x" not in html
    assert "<h1>&lt;img src=x onerror=alert(1)&gt; &amp; &quot;q&quot;</h1>" in html
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    assert len(refs) == 3  # loss, accuracy, learning rate / gradient norm
    for ref in refs:
        assert base64.b64decode(ref.split(",", 1)[1])[:4] == b"\x89PNG"
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_a_run_without_a_validation_split_reports_its_test_metrics(tmp_path):
    out = tmp_path / "run"
    summary = _train(out, data={"val_fraction": 0.0}, population={"seeds": [0, 1]}).summary
    assert summary["aggregates"]["val_acc"] == {"mean": None, "std": None, "ci95": None, "n": 0}
    assert summary["aggregates"]["test_acc"]["n"] == 2
    cols, rows = group_table(read_run(out))
    assert rows[0][cols.index("val_acc n")] == 0 and rows[0][cols.index("test_acc n")] == 2
    html = build_report(out).read_text()
    assert "Run complete." in html and (out / "figures" / "curves_loss.png").is_file()


@pytest.mark.parametrize("kind", ["empty folder", "file", "missing"])
def test_report_on_what_is_not_a_run_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path, kind):
    path = tmp_path / "x"
    if kind == "empty folder":
        path.mkdir()
    elif kind == "file":
        path.write_text("hello")
    code, _, err = _cli(monkeypatch, capsys, "report", path)
    assert code == 2 and "Traceback" not in err
    assert "not a run directory" in err and len(err.strip().splitlines()) <= 2, err
