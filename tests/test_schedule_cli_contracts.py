"""Adversarial review of ``trainlab schedule`` and ``trainlab lr-find`` (src/trainlab/cli/optim.py
over trainlab.optim.schedules and trainlab.optim.lr_find): labels, output paths, the population
sweep's plot."""

from __future__ import annotations

import importlib

import pytest

from conftest import assert_user_error, config_file, run_cli, small_config

SMALL = """
name: review
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 256}
population: {seeds: [0]}
"""


@pytest.fixture
def small(tmp_path):
    return config_file(tmp_path, SMALL)


def _pairs(label: str) -> list[str]:
    """The ``key=value`` overrides a label names (its ``(seed N)`` part dropped)."""
    plain = label.rsplit(" (seed ", 1)[0]
    return [] if plain == "default" else [p.strip() for p in plain.split(",")]


def test_a_curve_shared_by_several_override_groups_is_not_labelled_with_one_groups_overrides():
    """``trainlab schedule`` (table columns and plot legend, both from ``distinct_curves``) shows
    one entry per distinct LR curve; the models that follow a curve are drawn under that one
    label. A label must therefore only name overrides that *every* model on the curve has.
    With a grid ``init.scheme × optim.lr`` (the init study's shape) the curve of lr 0.1 is
    shared by the he_normal and the xavier_uniform models, but it is labelled
    ``init.scheme=he_normal, optim.lr=0.1``: the table and legend read as if only he_normal
    models were in the run and the xavier_uniform ones had vanished, and they attribute the
    curve to an override that has no effect on the LR at all."""
    from trainlab.cli.optim import distinct_curves, schedule_curves

    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        schedule={"name": "cosine"},
        train={"epochs": 2, "batch_size": 500},
        population={
            "seeds": [0],
            "grid": {"init.scheme": ["he_normal", "xavier_uniform"], "optim.lr": [0.1, 0.01]},
        },
    )
    mems, _, curve, _ = schedule_curves(cfg)
    groups = [m.group for m in mems]
    firsts, labels, owner = distinct_curves(mems, curve)
    assert len(firsts) == 2  # one curve per lr
    for f in firsts:
        followers = [groups[j] for j in range(len(groups)) if owner[j] == f]
        for pair in _pairs(labels[f]):
            missing = [g for g in followers if pair not in _pairs(g)]
            assert not missing, (
                f"curve labelled {labels[f]!r} is also the curve of {missing}, which do not "
                f"have {pair!r}"
            )


def test_lr_find_labels_do_not_name_schedule_values_the_range_test_replaces():
    """``lr_find`` replaces every model's schedule with the same exponential LR sweep
    (``trainer.lr_override``), so a config's per-model schedule values play no part in the
    range test. Yet its labels (table rows of ``trainlab lr-find`` and the plot legend) come
    from ``trainer.members``, whose overrides the Trainer extends with ``schedule.<key>=...``:
    with seeds [0, 1] and ``gamma: [0.5, 0.1]`` the rows read ``schedule.gamma=0.5`` and
    ``schedule.gamma=0.1`` — naming a difference the test never applied and hiding the one it
    did (the seed)."""
    from trainlab.optim.lr_find import lr_find

    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        schedule={"name": "step", "step_size": 1, "gamma": [0.5, 0.1]},
        train={"epochs": 1, "batch_size": 256},
        population={"seeds": [0, 1]},
    )
    res = lr_find(cfg, start_lr=1e-3, end_lr=1.0, num_steps=5, check_every=5, device="cpu")
    assert not any("schedule." in g for g in res.groups), res.groups
    assert "0" in res.groups[0] and "1" in res.groups[1], res.groups


@pytest.mark.parametrize(
    "cmd", [["schedule", "--plot"], ["lr-find", "--steps", "5", "--device", "cpu"]]
)
def test_out_dot_is_not_a_traceback(monkeypatch, capsys, tmp_path, small, cmd):
    """``--out .`` is a plausible thing to type for "put the plot here". The CLI promise
    (issue 3, item 8; DESIGN "Errors are for people") is that a user error prints one clear
    line and exits 2 — or the command works and writes its PNG. ``_png`` calls
    ``Path('.').with_name('.png')``, which raises ``ValueError: PosixPath('.') has an empty
    name``: a traceback and exit 1, for both ``schedule --plot`` and ``lr-find``."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    try:
        code, _, err = run_cli(monkeypatch, capsys, cmd[0], small, *cmd[1:], "--out", ".")
    except ValueError as exc:  # what main() lets through
        pytest.fail(f"--out .: uncaught {type(exc).__name__}: {exc}")
    assert "Traceback" not in err, err[-1500:]
    if code == 0:  # accepted: the plot went into the folder
        assert list(work.glob("*.png")), "exit 0 but no PNG written"
    else:
        assert_user_error(code, err)


def test_lr_find_refuses_an_out_that_is_a_folder_before_it_trains(
    monkeypatch, capsys, tmp_path, small
):
    """``_png`` checks ``--out`` "before any training" so that a bad path does not cost the
    user a whole range test (or a multi-epoch ``--population`` sweep) and then lose its plot
    (tests/test_cli.py asserts this for an unknown suffix and a path under a file). An
    ``--out`` that is an existing folder (``lr.png/``) passes the check, the test runs to the
    end, and only the final write fails with "cannot use lr.png: Is a directory" — after the
    work is done, and with no plot kept (the population variant writes no run directory)."""
    lr_find_module = importlib.import_module("trainlab.optim.lr_find")

    def never(*args, **kwargs):
        raise AssertionError("lr-find ran before its --out was checked")

    monkeypatch.setattr(lr_find_module, "lr_find", never)
    monkeypatch.setattr(lr_find_module, "lr_sweep", never)
    folder = tmp_path / "lr.png"
    folder.mkdir()
    for extra in ([], ["--population", "3"]):
        try:
            code, _, err = run_cli(monkeypatch, capsys, "lr-find", small, "--out", folder, *extra)
        except AssertionError as exc:
            pytest.fail(f"lr-find {' '.join(extra)}: {exc}")
        assert_user_error(code, err, "lr.png")


def test_lr_sweep_plot_draws_the_loss_curve_in_lr_order():
    """``lr_sweep`` accepts any list of distinct LRs (its docstring: "a list, a numpy or torch
    array"), e.g. a coarse grid with a point added at the end, and its plot is "final losses
    against LR (log-log)". The plot joins the points with a line in the *given* order, so for
    ``[0.01, 0.3, 0.001]`` the "curve" runs right, then back left across the axis: a zig-zag
    that is not the loss-vs-LR curve. The line must follow increasing LR."""
    from trainlab.optim.lr_find import lr_sweep

    cfg = small_config(train={"epochs": 1, "batch_size": 256})
    res = lr_sweep(cfg, [0.01, 0.3, 0.001], device="cpu")
    fig = res.plot()
    ax = fig.axes[0]
    for line in ax.get_lines():
        if line.get_linestyle() in ("None", "", " "):  # markers only (the diverged ×)
            continue
        xs = [float(x) for x in line.get_xdata()]
        assert xs == sorted(xs), f"{line.get_label()!r} joins its points in the order {xs}"


def test_lr_find_labels_leave_out_the_lr_the_range_test_replaces():
    """A grid over optim.lr: the range test sweeps one lr for every model, so labels name
    the models by seed, not by a learning rate that was never used (and the models that
    differed only in it are one model: the grid is dropped, with a warning)."""
    from trainlab.optim.lr_find import lr_find

    cfg = small_config(population={"seeds": [0, 1], "grid": {"optim.lr": [0.1, 0.01]}})
    with pytest.warns(UserWarning, match="per-model optim.lr of population.grid is dropped"):
        res = lr_find(cfg, num_steps=5, device="cpu")
    assert not any("optim.lr" in g for g in res.groups), res.groups
    assert res.groups == ["seed 0", "seed 1"], res.groups  # one label per model
