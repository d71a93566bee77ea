"""Review: large populations, as a researcher running hundreds to a thousand seeds would.

One shared run (module fixture): ``trainlab train`` of a digits MLP (hidden [8], SGD, 1 epoch,
batch 256) over a ``population.grid`` of 300 learning rates, one seed each, where the top 30%
of the rates diverge (NaN/Inf). Measured on the 2-core review machine: this run trains in
~4 s; the same config as a 1000-value grid in ~26 s, and ``--seeds 0-999`` in ~11 s (peak RSS
~640 MB, checkpoint 7.4 MB = Adam's 3 x K x 610 parameters, report 2-8 s).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sys

import numpy as np
import pytest

from conftest import assert_user_error, run_cli

#: 210 rates that train (1e-2 .. 10) and 90 that diverge (1e25 .. 1e38): 300 groups, ~30% NaN
LRS = [float(f"{x:.4g}") for x in np.logspace(-2, 1, 210)] + [
    float(f"{x:.4g}") for x in np.logspace(25, 38, 90)
]

CONFIG = """name: big
model: {{name: mlp, hidden: [8]}}
optim: {{name: sgd, lr: 0.01}}
train: {{epochs: 1, batch_size: 256}}
population:
  seeds: [0]
  grid: {{optim.lr: {lrs}}}
"""


@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    """``trainlab train`` of the 300-group grid, as the shell runs it: (run dir, stdout,
    config path)."""
    from trainlab.cli import main

    root = tmp_path_factory.mktemp("grid")
    cfg = root / "grid.yaml"
    cfg.write_text(CONFIG.format(lrs=LRS))
    run = root / "run"
    argv = ["trainlab", "train", str(cfg), "--out", str(run), "--device", "cpu", "--no-report"]
    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = argv
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                assert exc.code in (0, None), err.getvalue()[-2000:]
    finally:
        sys.argv = old
    return run, out.getvalue(), cfg


def test_train_of_hundreds_of_groups_does_not_flood_the_terminal(grid_run):
    """After training, the terminal gets a short summary: the NaN lines are capped at
    ``MAX_NAN_LINES`` because "hundreds ... would scroll the summary table away", but the summary
    table itself prints one row per override group, so a 300-value lr grid (one seed per value,
    a common LR sweep) prints 300+ table rows, and the 1000-value grid prints 1009 lines
    (measured) — a per-model flood in all but name, with every row already in summary.json and
    the report. The table should show a bounded number of groups (e.g. the best and worst, or
    the first N) and say how many more there are and where to find them."""
    _, out, _ = grid_run
    lines = out.strip().splitlines()
    assert len(lines) <= 80, f"{len(lines)} lines of terminal output; the first 12:\n" + "\n".join(
        lines[:12]
    )


def test_report_folds_a_long_list_of_nan_models(grid_run):
    """report.html folds every table longer than ``FOLD_ROWS`` (30) rows into a ``<details>``
    block (the 300-row group table, the model table) so that the report stays readable at large
    K, but the "Models stopped for NaN/Inf" list is written open at the top of the report, one
    ``<li>`` per model: with 30% of a 300-model population diverging, ~90 bullet lines come
    before the training curves (300 at K=1000). The list should fold (or be cut, saying how
    many more) like the long tables."""
    from trainlab.report import build_report
    from trainlab.report.html import FOLD_ROWS

    run, _, _ = grid_run
    page = build_report(run).read_text()
    n_nan = page.count(": loss or gradient became NaN/Inf")
    assert n_nan > FOLD_ROWS, f"the fixture should stop > {FOLD_ROWS} models, stopped {n_nan}"
    open_part = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    shown = open_part.count(": loss or gradient became NaN/Inf")
    assert shown <= FOLD_ROWS, (
        f"{shown} NaN/Inf bullet lines are shown unfolded (of {n_nan}); tables fold above "
        f"{FOLD_ROWS} rows"
    )


def test_resume_refusal_of_an_edited_grid_is_one_short_line(
    grid_run, tmp_path, monkeypatch, capsys
):
    """``trainlab resume`` refuses a config.yaml edited since the checkpoint "in one line naming
    the keys" (``_config_changes`` shows ``key: old -> new``). For a population key that is a
    list — ``population.grid.optim.lr`` of a 300-value sweep, or ``population.seeds`` of a
    ``--seeds 0-999`` run (measured: a 9,988-character message) — it prints both whole lists,
    so one changed value is buried in thousands of characters that a terminal wraps into
    ~100 rows. A user error must be one clear line: name the key and what changed (e.g.
    "value 57 0.1 -> 0.2", or "300 values, 1 changed"), not dump the lists."""
    run, _, _ = grid_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    cfg = copy / "config.yaml"
    text = cfg.read_text()
    first = f"- {LRS[0]}\n"
    assert first in text, text[:2000]
    cfg.write_text(text.replace(first, f"- {LRS[0] * 1.5:.4g}\n", 1))
    code, _, err = run_cli(monkeypatch, capsys, "resume", copy, "--device", "cpu")
    assert_user_error(code, err, "population.grid")
    assert len(err) <= 600, f"a {len(err)}-character error: {err[:300]} …"


def test_duplicate_seed_in_a_thousand_seed_config_is_one_short_line(tmp_path, monkeypatch, capsys):
    """A config whose ``population.seeds`` (written by a script: 0..999) repeats one seed is
    refused with the right reason ("seed 5 appears 2 times"), but the message then appends
    ``(got [0, 1, 2, …, 999, 5])``: 4,982 characters on one line (measured; a 300-value grid
    that repeats one lr: 2,191), which a terminal wraps into ~60 rows. A user error must be one
    clear line: the offending value, not the whole list."""
    cfg = tmp_path / "dup.yaml"
    seeds = [*range(1000), 5]
    cfg.write_text(
        "name: dup\nmodel: {name: mlp, hidden: [8]}\ntrain: {epochs: 1, batch_size: 256}\n"
        f"population: {{seeds: {seeds}}}\n"
    )
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--out", tmp_path / "run", "--device", "cpu"
    )
    assert_user_error(code, err, "seed 5")
    assert len(err) <= 600, f"a {len(err)}-character error: {err[:300]} …"
    assert not (tmp_path / "run").exists()


def test_curve_legend_of_hundreds_of_groups_names_the_colors_drawn(grid_run):
    """The training-curve figure gives each override group one color (a sampled turbo map past
    20 groups) and, past 20 groups, a legend of the *first* 20 plus "… N more groups". With
    hundreds of groups the first 20 are all one navy blue (turbo 0.05–0.11), while the figure
    draws the other groups in cyan, green, yellow and red: most lines have a color that no
    legend entry comes near (RGB distance > 0.25), so a reader cannot tell which group (here:
    which learning rate) a curve is. At 300 groups, entries spread over the groups (every
    15th) would leave every line within 0.15 of a legend color. The truncated legend should
    sample the groups across the color range (or draw a colorbar of the swept value)."""
    from matplotlib.colors import to_rgb

    from trainlab.report import plots
    from trainlab.report.rundata import read_run

    run, _, _ = grid_run
    fig = plots.curve_figure(read_run(run), "loss")
    legend = fig.legends[0]
    handles = getattr(legend, "legend_handles", None) or legend.legendHandles
    shown = [np.array(to_rgb(h.get_color())) for h in handles if h.get_color() != "none"]
    lines = [ln for ln in fig.axes[0].get_lines() if not ln.get_label().startswith("_")]
    assert len(lines) > 100, len(lines)
    far = [
        ln.get_label()
        for ln in lines
        if min(np.linalg.norm(np.array(to_rgb(ln.get_color())) - c) for c in shown) > 0.25
    ]
    assert not far, (
        f"{len(far)} of {len(lines)} group curves have a color no legend entry is near, e.g. "
        f"{far[:3]} … {far[-2:]}"
    )
