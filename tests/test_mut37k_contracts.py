"""Mutation review (mut37k) of src/trainlab/cli/optim.py: ``trainlab schedule``'s table and
parameters line, ``trainlab lr-find``'s option checks. Expected values come from
torch.optim.lr_scheduler and hand computations, never from trainlab."""

from __future__ import annotations

import importlib
import re

import pytest
import torch

from conftest import config_file, run_cli


def _config(tmp_path, schedule: str, train: str, lr: float = 0.1, population: str = "{seeds: [0]}"):
    # batch_size far above the digits training split: one step per epoch
    return config_file(
        tmp_path,
        f"""
name: mut37k
model: {{name: mlp, hidden: [8]}}
optim: {{name: sgd, lr: {lr}}}
schedule: {schedule}
train: {train}
population: {population}
""",
    )


def _rows(out: str) -> dict[int, float]:
    """``epoch -> lr`` from the schedule table (one model column)."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^\W*(\d+)\W+([0-9.eE+-]+)\W*$", line)
        if m:
            rows[int(m.group(1))] = float(m.group(2))
    return rows


def _torch_cosine(lr: float, t_max: int, epochs: int) -> list[float]:
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t_max, eta_min=0.0)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_schedule_table_spans_train_schedule_epochs_and_shows_the_last_epoch(
    tmp_path, monkeypatch, capsys
):
    """With ``train.schedule_epochs: 6`` and ``train.epochs: 3`` the cosine runs over 6 epochs
    (t_max = 6 steps at one step per epoch): the table's three rows are torch's
    CosineAnnealingLR(T_max=6) lrs at epochs 0, 1, 2 (the last row included)."""
    path = _config(
        tmp_path, "{name: cosine}", "{epochs: 3, schedule_epochs: 6, batch_size: 100000}", lr=0.123
    )
    code, out, err = run_cli(monkeypatch, capsys, "schedule", path)
    assert code == 0, err
    rows = _rows(out)
    expected = _torch_cosine(0.123, 6, 3)
    assert sorted(rows) == [0, 1, 2], out
    for e, want in enumerate(expected):
        assert rows[e] == pytest.approx(want, rel=1e-3), (e, out)
    assert re.search(r"t_max=6 \(default\)", out), out


def test_schedule_parameters_line_writes_given_floats_in_full_and_unmarked(
    tmp_path, monkeypatch, capsys
):
    """``eta_min: 0.00012345`` is shown as given (``%g``: 0.00012345), without '(default)';
    the left-out ``t_max`` is marked '(default)'."""
    path = _config(
        tmp_path, "{name: cosine, eta_min: 0.00012345}", "{epochs: 2, batch_size: 100000}"
    )
    code, out, err = run_cli(monkeypatch, capsys, "schedule", path)
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("parameters:"))
    assert "eta_min=0.00012345" in line and "eta_min=0.00012345 (default)" not in line, line
    assert "t_max=2 (default)" in line, line


def test_schedule_parameters_line_shows_warmup_steps_the_config_gives_even_when_zero(
    tmp_path, monkeypatch, capsys
):
    """A parameter the config writes (``warmup_steps: 0``) is a parameter the schedule used:
    the parameters line shows it, unmarked."""
    path = _config(tmp_path, "{name: cosine, warmup_steps: 0}", "{epochs: 2, batch_size: 100000}")
    code, out, err = run_cli(monkeypatch, capsys, "schedule", path)
    assert code == 0, err
    line = next(ln for ln in out.splitlines() if ln.startswith("parameters:"))
    assert re.search(r"warmup_steps=0(,|$)", line), line


def _grid_config(tmp_path, lrs: list[float]):
    grid = "{seeds: [0], grid: {optim.lr: " + str(lrs) + "}}"
    return _config(tmp_path, "{name: cosine}", "{epochs: 2, batch_size: 100000}", population=grid)


def _wide(monkeypatch, width: int = 250):
    import importlib

    monkeypatch.setattr(importlib.import_module("trainlab.cli.app").console, "_width", width)


def test_schedule_table_shows_six_distinct_curves_on_a_wide_console(tmp_path, monkeypatch, capsys):
    """Six lrs of a grid are six distinct curves: on a wide console all six are columns (the
    table shows up to six), and no 'not shown' note follows."""
    lrs = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    path = _grid_config(tmp_path, lrs)
    _wide(monkeypatch)
    code, out, err = run_cli(monkeypatch, capsys, "schedule", path)
    assert code == 0, err
    for lr in lrs:
        assert f"optim.lr={lr}" in out, out
    assert "not shown" not in out, out


def test_schedule_note_names_the_one_curve_left_out(tmp_path, monkeypatch, capsys):
    """Seven distinct curves, six columns: the note says one curve (singular) is not shown and
    that --plot draws all."""
    path = _grid_config(tmp_path, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    _wide(monkeypatch)
    code, out, err = run_cli(monkeypatch, capsys, "schedule", path)
    assert code == 0, err
    assert "(1 more curve is not shown in this table; --plot draws all)" in out, out
    assert "optim.lr=0.7" not in out, out


@pytest.mark.parametrize("width, shown", [(39, 2), (38, 1)])
def test_schedule_columns_fit_the_console_exactly(tmp_path, monkeypatch, capsys, width, shown):
    """Hand count of rich's boxed table: 1 + (5 + 3) for the epoch column, + (12 + 3) for each
    'optim.lr=0.1'-wide column: two curves need exactly 39 characters. At 39 both are shown;
    at 38 only the first, and the note counts the other."""
    path = _grid_config(tmp_path, [0.1, 0.2])
    _wide(monkeypatch, width)
    code, out, err = run_cli(monkeypatch, capsys, "schedule", path)
    assert code == 0, err
    assert ("optim.lr=0.2" in out) == (shown == 2), out
    assert ("1 more curve is not shown" in out) == (shown == 1), out
    table = [ln for ln in out.splitlines() if ln[:1] in "┏┃┡│└"]
    assert table and max(len(ln) for ln in table) <= width, out


class _Stop(Exception):
    pass


def _capture(monkeypatch, name: str) -> dict:
    """Replace trainlab.optim.lr_find.<name> by a recorder that stops the command."""
    lf = importlib.import_module("trainlab.optim.lr_find")

    seen: dict = {}

    def fake(*args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        raise _Stop

    monkeypatch.setattr(lf, name, fake)
    return seen


def _lr_find(tmp_path, monkeypatch, capsys, *args):
    monkeypatch.chdir(tmp_path)
    path = _config(tmp_path, "{name: none}", "{epochs: 5, batch_size: 64}")
    try:
        return run_cli(monkeypatch, capsys, "lr-find", path, "--out", tmp_path / "p.png", *args)
    except _Stop:
        return None


def test_lr_find_defaults_are_the_documented_ones(tmp_path, monkeypatch, capsys):
    """--help: first LR 1e-7, last LR 10, 100 steps by default."""
    seen = _capture(monkeypatch, "lr_find")
    _lr_find(tmp_path, monkeypatch, capsys)
    kw = seen["kwargs"]
    assert kw["start_lr"] == 1e-7 and kw["end_lr"] == 10.0 and kw["num_steps"] == 100, kw


def test_lr_find_population_epochs_default_to_1_not_the_configs_epochs(
    tmp_path, monkeypatch, capsys
):
    """--help: '--epochs [default: 1, or --set train.epochs]': the config file's
    ``train.epochs: 5`` is not used; ``--set train.epochs=3`` is."""
    seen = _capture(monkeypatch, "lr_sweep")
    _lr_find(tmp_path, monkeypatch, capsys, "--population", "2")
    assert seen["kwargs"]["epochs"] == 1, seen
    seen.clear()
    _lr_find(tmp_path, monkeypatch, capsys, "--population", "2", "--set", "train.epochs=3")
    assert seen["kwargs"]["epochs"] == 3, seen


def test_lr_find_population_bounds(tmp_path, monkeypatch, capsys):
    """--population takes 2 to 100000 models: 1 is refused, 100000 passes the check (a bad
    --device then stops it before any training)."""
    code, out, err = _lr_find(tmp_path, monkeypatch, capsys, "--population", "1")
    assert code != 0 and "--population needs 2 to 100000 models, got 1" in out + err
    code, out, err = _lr_find(
        tmp_path, monkeypatch, capsys, "--population", "100000", "--device", "bogus"
    )
    assert code != 0 and "--population" not in out + err, out + err


def test_lr_find_refuses_the_other_variants_option(tmp_path, monkeypatch, capsys):
    code, out, err = _lr_find(tmp_path, monkeypatch, capsys, "--population", "2", "--steps", "5")
    assert code != 0 and "--steps is the range test's" in out + err, out + err
    code, out, err = _lr_find(tmp_path, monkeypatch, capsys, "--epochs", "2")
    assert code != 0 and "--epochs is the --population variant's" in out + err, out + err


def test_schedule_note_with_plot_says_the_plot_draws_all(tmp_path, monkeypatch, capsys):
    path = _grid_config(tmp_path, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
    _wide(monkeypatch)
    code, out, err = run_cli(monkeypatch, capsys, "schedule", path, "--out", tmp_path / "s.png")
    assert code == 0, err
    assert "(1 more curve is not shown in this table; the plot draws all)" in out, out


def _figure():
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1))
    fig.subplots()
    return fig


def _fake(monkeypatch, name: str, **fields):
    import types

    lf = importlib.import_module("trainlab.optim.lr_find")

    res = types.SimpleNamespace(plot=_figure, **fields)
    monkeypatch.setattr(lf, name, lambda *a, **k: res)


def test_lr_find_prints_each_suggestion_in_its_column_and_the_single_models_suggestion(
    tmp_path, monkeypatch, capsys
):
    """A range test result (hand-made): steep 0.0123456, min/10 unknown -> the row reads
    '0.0123' under steep and '—' under min/10, the one model's suggestion is 0.0123 (3
    significant digits), and the '—' note follows."""
    _fake(
        monkeypatch,
        "lr_find",
        groups=["default"],
        suggestions=[{"steep": 0.0123456, "min/10": None}],
        stop_reasons=["diverged"],
        suggestion=0.0123456,
    )
    _wide(monkeypatch, 200)
    code, out, err = _lr_find(tmp_path, monkeypatch, capsys)
    assert code == 0, err
    row = next(ln for ln in out.splitlines() if "default" in ln and "diverged" in ln)
    cells = [c.strip() for c in re.split(r"[│┃|]", row) if c.strip()]
    assert cells == ["default", "0.0123", "—", "diverged"], row
    assert "suggested lr (steepest smoothed descent): 0.0123\n" in out, out
    assert "(—: the smoothed loss never fell below its first value" in out, out


def test_lr_find_population_rows_and_best_line(tmp_path, monkeypatch, capsys):
    """A sweep result (hand-made): rows read lr, train_loss, val_loss in that order; the best
    line names the validation loss when best_metric is val_loss."""
    _fake(
        monkeypatch,
        "lr_sweep",
        lrs=[0.001, 0.1],
        train_loss=[1.5, 2.25],
        val_loss=[1.75, 2.5],
        best_lr=0.001,
        best_metric="val_loss",
    )
    _wide(monkeypatch, 200)
    code, out, err = _lr_find(tmp_path, monkeypatch, capsys, "--population", "2")
    assert code == 0, err
    row = next(ln for ln in out.splitlines() if "0.001" in ln and "1.5" in ln)
    cells = [c.strip() for c in re.split(r"[│┃|]", row) if c.strip()]
    assert cells == ["0.001", "1.5", "1.75"], row
    assert "best validation loss at lr 0.001" in out, out


def test_schedule_curve_of_models_sharing_no_override_is_named_by_its_first_model(
    tmp_path, monkeypatch, capsys
):
    """Two variants (init schemes) on one lr share one curve but no override: the column is
    not 'default' (they are not plain models), it is named by its first model and seed."""
    pop = "{seeds: [3], variants: [{init.scheme: he_normal}, {init.scheme: xavier_uniform}]}"
    path = _config(tmp_path, "{name: cosine}", "{epochs: 2, batch_size: 100000}", population=pop)
    _wide(monkeypatch)
    code, out, err = run_cli(monkeypatch, capsys, "schedule", path)
    assert code == 0, err
    assert "model 0, seed 3" in out and "default" not in out.split("parameters:")[0], out


def test_lr_find_out_without_suffix_gets_png(tmp_path, monkeypatch, capsys):
    """--out PLOT (no suffix) writes PLOT.png, as matplotlib's savefig names it."""
    _fake(
        monkeypatch,
        "lr_find",
        groups=["default"],
        suggestions=[{"steep": 0.01, "min/10": 0.02}],
        stop_reasons=["end"],
        suggestion=0.01,
    )
    monkeypatch.chdir(tmp_path)
    path = _config(tmp_path, "{name: none}", "{epochs: 1, batch_size: 64}")
    code, out, err = run_cli(monkeypatch, capsys, "lr-find", path, "--out", tmp_path / "plot")
    assert code == 0, err
    assert (tmp_path / "plot.png").is_file() and not (tmp_path / "plot").exists()
