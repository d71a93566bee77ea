"""Adversarial review of report.html for training runs (src/trainlab/report/*, cli/core.py)."""

from __future__ import annotations

import html as html_mod
import json
import re
from pathlib import Path

import pytest

from conftest import run_cli


def _text(h: str) -> str:
    return html_mod.unescape(re.sub(r"<[^>]+>", " ", h))


def _tables_after(h: str, heading: str) -> str:
    i = h.index(heading)
    j = h.index("</table>", i)
    return h[i:j]


def _rows(table_html: str) -> tuple[list[str], list[list[str]]]:
    cols = [html_mod.unescape(c) for c in re.findall(r"<th>(.*?)</th>", table_html)]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", table_html.split("<tbody>", 1)[1]):
        rows.append([html_mod.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr)])
    return cols, rows


def _fake_run(d: Path, groups: list[str], seeds: int = 1) -> Path:
    """A finished-looking population run folder written by hand (population.json, metrics)."""
    d.mkdir()
    models, rows, idx = [], [], 0
    for g in groups:
        for s in range(seeds):
            lr = float(g.split("=")[1]) if "=" in g else None
            models.append(
                {"index": idx, "seed": s, "overrides": {"optim.lr": lr} if lr else {}, "group": g}
            )
            for e in (1, 2):
                rows.append({"model": idx, "epoch": e, "step": 10 * e,
                             "train_loss": 2.0 - 0.1 * e + 0.01 * idx, "train_acc": 0.3,
                             "val_loss": 2.1, "val_acc": 0.3, "test_loss": 2.1,
                             "test_acc": 0.3})  # fmt: skip
            idx += 1
    (d / "population.json").write_text(json.dumps({"k": idx, "models": models}))
    (d / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def test_legend_every_nth_text_matches_the_entries_shown(tmp_path):
    """With more than 20 groups the curve legend shows 20 evenly picked entries and a line
    "… N more groups (every ~Kth shown)". That line is the only way a reader knows how the
    shown entries relate to the hidden ones, so K must be the spacing actually used. With 39
    groups the picked entries are groups 0, 2, 4, …, 38 (every 2nd), but the text says
    "every ~1th shown" because it computes ``n // len(pick)`` (39 // 20 = 1)."""
    from trainlab.report import plots
    from trainlab.report.rundata import read_run

    n = 39
    groups = [f"optim.lr={0.001 * (i + 1):g}" for i in range(n)]
    run = read_run(_fake_run(tmp_path / "run", groups))
    fig = plots.curve_figure(run, "loss")
    assert fig is not None and fig.legends
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    shown = [groups.index(lab) for lab in labels if lab in groups]
    gaps = {b - a for a, b in zip(shown, shown[1:], strict=False)}
    assert gaps == {2}, (shown, gaps)  # the pick itself is even
    note = labels[-1]
    m = re.search(r"one in ~(\d+) shown", note)
    assert m, note
    assert int(m.group(1)) == 2, f"legend says {note!r} but every 2nd group is shown"


@pytest.mark.parametrize("fmt", ["encoded", "old_bare_tokens"])
def test_diagnostics_table_marks_nonfinite_values(tmp_path, fmt):
    """diagnostics.jsonl keeps NaN/Inf statistics as evidence: this version writes them as null
    named in ``nonfinite_values`` (jsonl.py: "a NaN gradient is not a missing one"), older
    versions as bare NaN/Infinity tokens. The report's per-layer table must show those cells as
    nan/inf, not as "—", which its caption defines as "a statistic not defined for the layer".
    Today ``diagnostics_table`` averages with ``aggregate`` (finite values only), so a layer
    whose gradient norm is NaN in every seed reads "—", i.e. the blow-up is hidden as
    'not recorded' (and when every seed's value is non-finite the whole column is dropped)."""
    from trainlab.report import build_report

    d = _fake_run(tmp_path / "run", ["default"], seeds=2)
    lines = []
    for m in (0, 1):
        for step in (0, 20):
            rec = {"model": m, "layer": "fc1", "step": step, "kind": "linear", "act_mean": 0.1,
                   "act_std": 0.5, "grad_norm": 0.3, "update_ratio": 1e-3}  # fmt: skip
            if step == 20:
                if fmt == "encoded":
                    rec.update(grad_norm=None, act_std=None,
                               nonfinite_values={"grad_norm": "nan", "act_std": "inf"})  # fmt: skip
                    lines.append(json.dumps(rec, allow_nan=False))
                else:
                    rec.update(grad_norm=float("nan"), act_std=float("inf"))
                    lines.append(json.dumps(rec))
            else:
                lines.append(json.dumps(rec))
    (d / "diagnostics.jsonl").write_text("\n".join(lines) + "\n")
    h = build_report(d).read_text()
    cols, rows = _rows(_tables_after(h, "Per-layer statistics at the last recorded step"))
    (row,) = [r for r in rows if r[1] == "fc1"]
    cell = dict(zip(cols, row, strict=True))
    # the columns must not vanish either (DIAGNOSTIC_COLUMNS drops columns "with no values",
    # and today a column whose every last-step value is NaN counts as having none)
    assert "grad_norm" in cols and "act_std" in cols, f"columns {cols} hide the NaN/Inf layer"
    assert cell["step"] == "20"
    assert cell["act_mean"] == "0.1000" or float(cell["act_mean"]) == pytest.approx(0.1)
    assert cell["grad_norm"].lower() == "nan", cell
    assert cell["act_std"].lower() in ("inf", "+inf"), cell


def test_report_without_test_split_is_not_silently_empty(tmp_path, monkeypatch, capsys):
    """With ``data.test_fraction: 0`` the CLI's summary table switches to validation numbers and
    says "no test split" (cli/core.py summary_table). report.html's "Summary by group" still
    shows test_acc/test_loss columns that are all "—" with n = 0, and nothing on the page says
    why, so a reader sees a run with no results (or thinks every model failed). The report must
    either show validation numbers in their place or say that the run has no test split."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: nt\ndata: {name: digits, test_fraction: 0}\nmodel: {name: mlp, hidden: [8]}\n"
        "optim: {name: sgd, lr: 0.05}\ntrain: {epochs: 1, batch_size: 64}\n"
        "population: {seeds: [0, 1]}\n"
    )
    out = tmp_path / "run"
    code, stdout, err = run_cli(monkeypatch, capsys, "train", cfg, "--out", out, "--device", "cpu")
    assert code == 0, err[-1500:]
    assert "no test split" in stdout  # the CLI says so
    h = (out / "report.html").read_text()
    cols, rows = _rows(_tables_after(h, "<h2>Summary by group</h2>"))
    empty_test = [
        c for i, c in enumerate(cols)
        if c.startswith("test_") and "mean" in c and all(r[i] == "—" for r in rows)
    ]  # fmt: skip
    explained = "test split" in _text(h).lower()
    assert not empty_test or explained, (
        f"report.html shows empty columns {empty_test} and never says the run has no test split"
    )
