"""Review html20: the HTML report (escaping, self-containment, accessibility, numbers,
determinism). Each test fails on the code as reviewed and states the right behaviour."""

from __future__ import annotations

import json
import os
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from trainlab.report import Report, build_report


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict[str, str | None]] = []
        self.tables: list[dict[str, object]] = []

    def handle_starttag(self, tag, attrs):
        d = dict(attrs)
        if tag == "img":
            self.imgs.append(d)
        elif tag == "table":
            self.tables.append({"class": d.get("class"), "th": 0})
        elif tag == "th" and self.tables:
            self.tables[-1]["th"] += 1


def _parse(path: Path) -> _Tags:
    p = _Tags()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _tiny_run(root: Path) -> Path:
    """A finished run of 1 model x 2 epochs with training numbers only (one loss and one
    accuracy panel; no lr/grad_norm, no diagnostics: only two small figures are drawn)."""
    root.mkdir(parents=True)
    (root / "config.yaml").write_text(
        "name: tiny\ndata:\n  name: digits\nmodel:\n  name: mlp\ntrain:\n  epochs: 2\n"
    )
    models = [{"index": i, "seed": i, "overrides": {}, "group": "default"} for i in range(1)]
    (root / "population.json").write_text(json.dumps({"k": 1, "models": models}))
    rows, out = [], []
    for m in models:
        for e in (1, 2):
            rows.append(
                {
                    "model": m["index"],
                    "epoch": e,
                    "step": 10 * e,
                    "train_loss": 1.0 / e,
                    "train_acc": 0.5 + 0.1 * e,
                }  # fmt: skip
            )
        out.append({**m, "status": "ok", "stopped_step": None,
                    "final": {k: v for k, v in rows[-1].items() if "_" in k}})  # fmt: skip
    (root / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "summary.json").write_text(json.dumps({"name": "tiny", "k": 1, "epochs": 2,
                                                   "models": out}))  # fmt: skip
    return root


@pytest.mark.skipif(sys.platform != "linux", reason="needs a filesystem taking any bytes")
def test_report_builds_in_a_folder_whose_name_is_not_utf8(tmp_path):
    # html.py _header/build_report: the folder path (decoded with surrogateescape) goes into the
    # HTML and atomic_write_text's .encode("utf-8") raises UnicodeEncodeError (a traceback, also
    # at the end of `trainlab train --out $'r\xff'` after all the training); the path should be
    # shown with the bad byte replaced/escaped and the report written.
    run = tmp_path / os.fsdecode(b"run\xff")
    rep = Report(run, title="t")
    rep.add_text("hello")
    path = rep.write(include_standard=False)
    assert path.exists() and "hello" in path.read_text(encoding="utf-8")


def test_add_metrics_with_an_aggregate_lacking_std_renders(tmp_path):
    # html.py Report.add_metrics: a dict with "mean" and "n" is taken as an aggregate, but
    # tables.fmt_mean_std then reads a["std"] -> KeyError 'std' (a bare traceback); it should
    # render the mean (std unknown) like the n == 1 case does.
    rep = Report(tmp_path / "r", title="t")
    rep.add_metrics({"acc": {"mean": 0.9, "n": 3}})
    text = rep.write(include_standard=False).read_text(encoding="utf-8")
    assert "0.9000" in text


def test_standard_figures_have_descriptive_alt_text(tmp_path):
    # html.py _standard_sections/_figure_html: the accuracy-curve and diagnostics figures get
    # their file stem as alt ("curves_accuracy", "diagnostics_act_std"), and the loss figure's
    # alt never says "loss"; each <img> alt should say what the figure shows.
    run = _tiny_run(tmp_path / "run")
    imgs = _parse(build_report(run)).imgs
    assert len(imgs) == 2
    alts = [i.get("alt") or "" for i in imgs]
    assert not {"curves_loss", "curves_accuracy"} & set(alts), alts  # not a bare file stem
    assert "loss" in alts[0].lower() and "accuracy" in alts[1].lower(), alts


def test_header_key_value_table_has_header_cells(tmp_path):
    # html.py _header: the run's key/value table (run, models (K), device, data, model, ...)
    # is all <td>; its keys should be header cells (<th scope="row">) so that screen readers
    # announce which value is which, as every other table in the report has <th>.
    rep = Report(tmp_path / "r", title="A study")
    rep.add_text("x")
    tables = _parse(rep.write(include_standard=False)).tables
    kv = [t for t in tables if t["class"] == "kv"]
    assert kv and all(t["th"] > 0 for t in kv), tables


def test_report_bytes_do_not_depend_on_how_the_folder_is_spelled(tmp_path, monkeypatch):
    # html.py _header: the meta line prints str(run.path) as typed, so `trainlab report .`
    # writes "trainlab report · ." and a rebuild from another cwd changes report.html's bytes;
    # the same folder should give the same report (e.g. show its resolved path or name).
    rep = Report(tmp_path / "r", title="t")
    rep.add_text("x")
    first = rep.write(include_standard=False).read_bytes()
    monkeypatch.chdir(tmp_path / "r")
    again = build_report(".")
    assert again.read_bytes() == first
