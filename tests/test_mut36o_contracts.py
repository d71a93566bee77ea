"""Mutation review (mut36o) of src/trainlab/cli/: boundaries and messages the other tests
left free. Expected values come from parse_seeds' docstring, MAX_SEEDS' comment ("--seeds
never expands to more models than this") and README/--help text, never from running trainlab."""

from __future__ import annotations

import pytest

from trainlab.cli.app import MAX_SEEDS, parse_seeds, whole_number
from trainlab.errors import UserError


# kills app.py parse_seeds `if count > MAX_SEEDS:` -> `>=`: a count of exactly MAX_SEEDS
# (100,000 = config.MAX_MODELS) is "never more than" the limit, so it is allowed; one more is not.
def test_seed_count_at_the_limit_is_allowed_one_more_is_refused():
    assert MAX_SEEDS == 100_000
    seeds = parse_seeds(str(MAX_SEEDS))
    assert seeds == list(range(100_000))
    with pytest.raises(UserError, match="more than 100000"):
        parse_seeds(str(MAX_SEEDS + 1))


# kills app.py parse_seeds `hi - lo + 1 + len(seeds) > MAX_SEEDS` -> `hi - lo + len(seeds) >`:
# '0-100000' names 100,001 seeds (both ends included, as '0-3' -> [0, 1, 2, 3]), one over the
# limit; '0-99999' names exactly 100,000, which is allowed.
def test_seed_range_one_over_the_limit_is_refused():
    assert len(parse_seeds("0-99999")) == 100_000
    with pytest.raises(UserError, match="more than 100000"):
        parse_seeds("0-100000")


# kills app.py parse_seeds `if hi < lo:` -> `if hi <= lo:`: a one-seed range 'N-N' is the
# error message's own advice ("seed 0 alone: '0-0'"), so it must parse to [N].
def test_one_seed_range_parses():
    assert parse_seeds("0-0") == [0]
    assert parse_seeds("7-7") == [7]
    assert parse_seeds("1,4-4") == [1, 4]


# kills app.py parse_seeds `if seed in seen:` -> `if False:`: a seed named twice would train
# the same model twice (an identical duplicate in the population's statistics); it is refused.
@pytest.mark.parametrize("text", ["1,1", "0-2,2", "0-3,2-5"])
def test_a_seed_named_twice_is_refused(text):
    with pytest.raises(UserError, match="twice"):
        parse_seeds(text)


# kills app.py parse_seeds count regex `[+-]?\d+` -> `\d+`: the docstring says a lone number is
# a count, and the code's comment says "-5: refused as one"; with the mutant '-5' became the
# single seed -5 (a one-model run nobody asked for).
def test_negative_lone_number_is_a_refused_count_not_a_seed():
    with pytest.raises(UserError, match="count needs at least 1"):
        parse_seeds("-5")


# kills app.py whole_number `[0-9]+` -> `[0-9]*`: an empty count ('--steps ""', '--seeds " "')
# is a user error (one line, exit 2), not int('')'s ValueError traceback.
@pytest.mark.parametrize("text", ["", "  "])
def test_whole_number_refuses_an_empty_value(text):
    with pytest.raises(UserError, match="whole number"):
        whole_number("--steps", text)
    assert whole_number("--steps", " 12 ") == 12


# kills app.py _main's FileNotFoundError branch `sys.exit(2)` -> `sys.exit(1)`: main()'s
# policy (its docstring, and the brief's "2 for user errors"): a file the user named that is
# missing is one line naming it and exit status 2, not status 1 or a traceback.
def test_missing_file_met_by_a_command_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    import errno
    import os

    import trainlab.report as report_mod
    from conftest import run_cli

    gone = str(tmp_path / "gone" / "metrics.jsonl")

    def missing(run_dir):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), gone)

    monkeypatch.setattr(report_mod, "build_report", missing)
    code, _, err = run_cli(monkeypatch, capsys, "report", tmp_path)
    assert code == 2, err
    assert "Traceback" not in err
    assert "file not found" in err


# BUG (current code fails): app.py _main's FileNotFoundError branch prints without
# soft_wrap=True (every other error line passes it), so a long path is cut mid-name onto a
# second line ("…/gone/metrics.jso" + "nl"): the path cannot be copied, and assert_user_error's
# "one line naming it" is broken. Expected (console's comment in app.py: "a long path stays on
# one line in a log file"): the full path on the error line. Fix: add soft_wrap=True there.
def test_missing_file_path_is_printed_whole(monkeypatch, capsys, tmp_path):
    import errno
    import os

    import trainlab.report as report_mod
    from conftest import run_cli

    gone = str(tmp_path / ("a_long_folder_name_" * 4) / "metrics.jsonl")

    def missing(run_dir):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), gone)

    monkeypatch.setattr(report_mod, "build_report", missing)
    code, _, err = run_cli(monkeypatch, capsys, "report", tmp_path)
    assert code == 2
    assert f"error: file not found: {gone}" in err.splitlines(), err


def _small(tmp_path, extra_train: str = ""):
    from conftest import config_file

    text = (
        "name: cli\nmodel: {name: mlp, hidden: [8]}\n"
        f"train: {{epochs: 1, batch_size: 128{extra_train}}}\npopulation: {{seeds: [0]}}\n"
    )
    return config_file(tmp_path, text)


# kills core.py train_cmd `cfg.train.diagnose_every = 50` -> 100: `trainlab train --help` says
# --diagnose records "every 50 steps unless train.diagnose_every says otherwise".
def test_diagnose_flag_without_a_config_value_samples_every_50_steps(monkeypatch, capsys, tmp_path):
    import yaml

    from conftest import run_cli

    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", _small(tmp_path), "--diagnose", "--out", out,
        "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert code == 0, err
    assert yaml.safe_load((out / "config.yaml").read_text())["train"]["diagnose_every"] == 50


# kills core.py train_cmd `elif diagnose is False:` -> `elif not diagnose:`: without either
# flag the config's own train.diagnose_every is kept (the flag is "or not even if the config
# asks" only when --no-diagnose is given); --no-diagnose turns it off.
def test_no_flag_keeps_the_config_diagnose_every_and_no_diagnose_drops_it(
    monkeypatch, capsys, tmp_path
):
    import yaml

    from conftest import run_cli

    cfg = _small(tmp_path, ", diagnose_every: 4")
    for flag, want in (([], 4), (["--no-diagnose"], None)):
        out = tmp_path / f"run{len(flag)}"
        code, _, err = run_cli(
            monkeypatch, capsys, "train", cfg, *flag, "--out", out, "--device", "cpu",
            "--no-report",
        )  # fmt: skip
        assert code == 0, err
        got = yaml.safe_load((out / "config.yaml").read_text())["train"].get("diagnose_every")
        assert got == want, (flag, got)


def _summary(nan_steps=(), groups=None, steps=100, epochs=10):
    """A summary.json-shaped dict: one group of 12 models (or ``groups``), NaN stops at
    ``nan_steps``."""
    acc = {"n": 2, "mean": 0.5, "std": 0.1, "ci95": 0.9}
    loss = {"n": 2, "mean": 1.0, "std": 0.2}
    groups = groups or [{"group": "default", "n": 12,
                         "aggregates": {"test_acc": acc, "test_loss": loss}}]  # fmt: skip
    nans = [{"index": i, "seed": i, "group": "default", "step": s} for i, s in enumerate(nan_steps)]
    return {"name": "r", "k": 12, "epochs": epochs, "steps": steps, "groups": groups,
            "nan_models": nans}  # fmt: skip


def _finish_text(capsys, summary) -> str:
    from trainlab.cli.core import _finish

    capsys.readouterr()
    _finish(None, summary, False)
    return capsys.readouterr().out


# kills core.py `MAX_NAN_LINES = 10` -> 11 and `len(nan_models) > MAX_NAN_LINES` -> `>=`:
# the NaN stops are listed one per line up to 10 (MAX_NAN_LINES' comment); 11 stops show 10
# lines and "… and 1 more"; exactly 10 show all 10 and no "more" line.
def test_nan_stops_listed_up_to_ten_then_counted(capsys):
    text = _finish_text(capsys, _summary(nan_steps=[5] * 11))
    assert text.count("stopped: loss or gradient became NaN/Inf") == 10
    assert "and 1 more models stopped" in text
    text = _finish_text(capsys, _summary(nan_steps=[5] * 10))
    assert text.count("stopped: loss or gradient became NaN/Inf") == 10
    assert "more models stopped" not in text


# kills core.py _epochs_to `need = first // (steps // epochs) + 1` -> without `+ 1`, and
# `need > DEFAULT_EPOCHS` -> `>=`: 100 steps over 10 epochs = 10 steps per epoch; step 30 is
# in the 4th epoch (steps 30-39), beyond diagnose's default 3 epochs -> "--epochs 4"; step 25
# is in the 3rd epoch, which the default reaches -> no --epochs.
def test_diagnose_hint_names_enough_epochs_to_reach_the_first_nan(capsys):
    assert "`trainlab diagnose CONFIG --epochs 4`" in _finish_text(capsys, _summary([30, 60]))
    assert "`trainlab diagnose CONFIG`" in _finish_text(capsys, _summary([25]))


# kills core.py `if at_start == len(nan_models):` -> `if at_start:`: with one model stopped at
# step 0 and one later, the fix names both: the lr/clipping advice, and for the step-0 one the
# init/input advice (the lr cannot have acted before the first step).
def test_mixed_nan_stops_give_both_fixes(capsys):
    text = " ".join(_finish_text(capsys, _summary([0, 7])).split())
    assert "lower optim.lr, or set train.clip_norm" in text
    assert "for the 1 stopped at step 0" in text
    only = " ".join(_finish_text(capsys, _summary([0])).split())
    assert "lower optim.lr" not in only and "a smaller init" in only


def _lines(table) -> str:
    return "\n".join(str(t) for t in table.lines)


# kills core.py summary_table `if not has_test and has_val:` -> `if not has_test:`: a run
# with neither a test nor a validation split shows the training numbers and says so.
def test_summary_without_val_or_test_shows_training_numbers():
    from trainlab.cli.core import summary_table

    agg = {"n": 1, "mean": 0.75}
    s = _summary(groups=[{"group": "default", "n": 1,
                          "aggregates": {"train_acc": agg, "train_loss": agg}}])  # fmt: skip
    text = _lines(summary_table(s, has_test=False, has_val=False))
    assert "(no validation or test split: training numbers)" in text
    assert "train_acc 0.7500" in text


# kills core.py summary_table `n = str(used) if used == g["n"] else f"{used} of {g['n']}"` ->
# `str(used)`: the docstring: n reads "9 of 10" when some models stopped and are left out.
def test_summary_n_says_how_many_of_the_group_were_measured():
    from trainlab.cli.core import summary_table

    acc = {"n": 9, "mean": 0.5, "std": 0.1, "ci95": 0.05}
    s = _summary(groups=[{"group": "g", "n": 10,
                          "aggregates": {"test_acc": acc, "test_loss": acc}}])  # fmt: skip
    assert "g: n 9 of 10," in _lines(summary_table(s, has_test=True, has_val=True))


# kills core.py `MAX_GROUP_ROWS = 30` -> 20 and the best-first sort `-mean_acc` -> `mean_acc`:
# 31 groups with accuracies 0.00..0.30 show the 30 best (all but the 0.00 one), in order.
def test_long_sweep_shows_its_30_best_groups():
    from trainlab.cli.core import summary_table

    groups = [{"group": f"g{i}", "n": 1,
               "aggregates": {"test_acc": {"n": 1, "mean": i / 100},
                              "test_loss": {"n": 1, "mean": 1.0}}} for i in range(31)]  # fmt: skip
    table = summary_table(_summary(groups=groups), has_test=True, has_val=True)
    shown = [str(t).split(":")[0] for t in table.lines[1:-1]]
    assert shown == [f"g{i}" for i in range(1, 31)]
    assert "the 30 groups with the best mean test_acc of 31" in str(table.lines[-1])


def _lr_find_args(monkeypatch, capsys, tmp_path, *args, yaml_text=None):
    """`trainlab lr-find CONFIG ARGS` up to the work: the exit code, stderr and the arguments
    ``_lr_find_run`` was called with (None when refused before)."""
    import trainlab.cli.optim as optim_cli
    from conftest import config_file, run_cli

    seen = {}

    def record(cfg, out, population, start_lr, end_lr, steps, epochs, device):
        seen.update(out=out, population=population, start_lr=start_lr, end_lr=end_lr,
                    steps=steps, epochs=epochs)  # fmt: skip

    monkeypatch.setattr(optim_cli, "_lr_find_run", record)
    text = yaml_text or (
        "name: cli\nmodel: {name: mlp, hidden: [8]}\ntrain: {epochs: 5, batch_size: 128}\n"
        "population: {seeds: [0]}\n"
    )
    cfg = config_file(tmp_path, text)
    code, _, err = run_cli(monkeypatch, capsys, "lr-find", cfg, "--device", "cpu", *args)
    return code, err, (seen or None)


# kills optim.py lr-find defaults: `start_lr = 1e-7` -> 1e-6, `end_lr = 10.0` -> 1.0,
# `n_steps = 100 if n_steps is None` -> 50, the range-test (population 0) default, and
# _png's `.png` added to a suffix-less --out. Expected: the README (lr-find is Smith's range
# test from 1e-7 to 10) and --help ("number of steps ... [default: 100]", "--out ... PNG",
# "as matplotlib's savefig does": a name without a suffix gets .png).
def test_lr_find_defaults(monkeypatch, capsys, tmp_path):
    code, err, seen = _lr_find_args(monkeypatch, capsys, tmp_path, "--out", tmp_path / "curve")
    assert code == 0, err
    assert seen["start_lr"] == 1e-7 and seen["end_lr"] == 10.0
    assert seen["steps"] == 100 and seen["population"] == 0
    assert seen["out"] == tmp_path / "curve.png"


# kills optim.py `n_epochs = cfg.train.epochs if "train.epochs" in keys_given(set_) else 1`
# -> `cfg.train.epochs`: --help says "[default: 1, or --set train.epochs]": the config file's
# own train.epochs (5 here) is not used; a --set train.epochs=3 is.
def test_lr_find_population_epochs_default(monkeypatch, capsys, tmp_path):
    out = tmp_path / "a.png"
    code, err, seen = _lr_find_args(monkeypatch, capsys, tmp_path, "--population", "3",
                                    "--out", out)  # fmt: skip
    assert code == 0, err
    assert seen["epochs"] == 1 and seen["population"] == 3
    (tmp_path / "b").mkdir()
    extra = ("--population", "3", "--set", "train.epochs=3", "--out", tmp_path / "b.png")
    code, err, seen = _lr_find_args(monkeypatch, capsys, tmp_path / "b", *extra)
    assert code == 0, err
    assert seen["epochs"] == 3


# kills optim.py `not 2 <= n_models <= MAX_SEEDS` -> `1 <=` / `< MAX_SEEDS`: the message says
# "--population needs 2 to 100000 models": 1 and 100001 are refused, 2 and 100000 are not.
@pytest.mark.parametrize(("n", "ok"), [("1", False), ("2", True), ("100000", True),
                                       ("100001", False)])  # fmt: skip
def test_lr_find_population_bounds(monkeypatch, capsys, tmp_path, n, ok):
    from conftest import assert_user_error

    code, err, seen = _lr_find_args(monkeypatch, capsys, tmp_path, "--population", n,
                                    "--out", tmp_path / "p.png")  # fmt: skip
    if ok:
        assert code == 0 and seen["population"] == int(n), err
    else:
        assert_user_error(code, err, "--population needs 2 to 100000 models")
        assert seen is None


# kills optim.py `if n_models and n_steps is not None:` / `if not n_models and n_epochs is not
# None:` -> `if False:`: an option that would change nothing is refused (one line, exit 2).
@pytest.mark.parametrize(("args", "needle"), [
    (["--population", "3", "--steps", "5"], "--steps is the range test's"),
    (["--epochs", "2"], "--epochs is the --population variant's"),
])  # fmt: skip
def test_lr_find_refuses_an_option_of_the_other_variant(monkeypatch, capsys, tmp_path, args,
                                                        needle):  # fmt: skip
    from conftest import assert_user_error

    code, err, seen = _lr_find_args(monkeypatch, capsys, tmp_path, *args,
                                    "--out", tmp_path / "x.png")  # fmt: skip
    assert_user_error(code, err, needle)
    assert seen is None


_SCHED_YAML = (
    "name: s\nmodel: {name: mlp, hidden: [8]}\noptim: {name: sgd, lr: 1.0}\n"
    "schedule: {name: exponential, gamma: 0.5}\ntrain: {epochs: 3, batch_size: 128}\n"
    "population: {seeds: [0]}\n"
)


# kills optim.py _schedule_show `at = [min(e * spe, steps - 1) ...]` -> `(e + 1) * spe`: the
# table is "lr at the start of each epoch"; exponential with gamma 0.5 from lr 1 is
# 1 · 0.5^e: 1, 0.5, 0.25 at epochs 0, 1, 2 (hand computation).
def test_schedule_table_is_the_lr_at_each_epoch_start(monkeypatch, capsys, tmp_path):
    import re

    from conftest import config_file, run_cli

    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(monkeypatch, capsys, "schedule", config_file(tmp_path, _SCHED_YAML))
    assert code == 0, err
    rows = {m[1]: m[2] for m in re.finditer(r"│\s*(\d+)\s*│\s*([0-9.e+-]+)\s*│", out)}
    assert rows == {"0": "1", "1": "0.5", "2": "0.25"}, out


# kills optim.py `plot = plot or out is not None` -> `plot = plot`: the README: "`schedule
# --out` implies `--plot`": the PNG is written without --plot.
def test_schedule_out_implies_plot(monkeypatch, capsys, tmp_path):
    from conftest import config_file, run_cli

    png = tmp_path / "sub" / "lr.png"
    code, out, err = run_cli(monkeypatch, capsys, "schedule", config_file(tmp_path, _SCHED_YAML),
                             "--out", png)  # fmt: skip
    assert code == 0, err
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# kills optim.py schedule_figure `peaks.max() / peaks.min() >= 10.0` -> `> 10.0`: the docstring:
# the axis is logarithmic "when the models' peak LRs span a decade or more": 0.01 and 0.1 span
# exactly one decade.
def test_schedule_figure_log_axis_at_exactly_one_decade():
    import torch

    from trainlab.cli.optim import schedule_figure
    from trainlab.config import Member

    mems = [Member(index=i, seed=0, overrides={"optim.lr": lr}) for i, lr in enumerate([0.01, 0.1])]
    curve = torch.tensor([[0.01, 0.1], [0.01, 0.1]], dtype=torch.float64)
    fig = schedule_figure("constant", mems, curve, 1)
    assert fig.axes[0].get_yscale() == "log"
    curve = torch.tensor([[0.02, 0.1], [0.02, 0.1]], dtype=torch.float64)
    assert schedule_figure("constant", mems, curve, 1).axes[0].get_yscale() == "linear"


# kills core.py study_cmd `count > MAX_SEEDS` -> `>=`: --seeds is a count per cell "never more
# than" MAX_SEEDS (100,000): exactly 100000 reaches the study, 100001 is refused (exit 2).
def test_study_seeds_count_bound(monkeypatch, capsys, tmp_path):
    import trainlab.studies as studies
    from conftest import assert_user_error, run_cli

    got = {}

    def fake(name, out, *, quick, seeds, device, progress):
        got["seeds"] = seeds
        return tmp_path

    monkeypatch.setattr(studies, "run_study", fake)
    code, out, err = run_cli(monkeypatch, capsys, "study", "optimizers", "--seeds", "100000")
    assert code == 0 and got["seeds"] == 100_000, err
    got.clear()
    code, _, err = run_cli(monkeypatch, capsys, "study", "optimizers", "--seeds", "100001")
    assert_user_error(code, err, "more than 100000")
    assert not got


# kills pretrain.py `diverged[:10]` -> `[:5]` and `len(diverged) > 10` -> `>=`: the diverged
# models are named up to 10, with ", …" only when more were left out.
@pytest.mark.parametrize("n", [10, 11])
def test_pretrain_names_up_to_ten_diverged_models(monkeypatch, capsys, tmp_path, n):
    import json

    import trainlab.pretrain.run as run_mod
    from conftest import run_cli

    def fake(config, *, out, grid, device, sets, progress):
        (tmp_path / "summary.json").write_text(json.dumps({"diverged": list(range(n))}))
        return tmp_path

    monkeypatch.setattr(run_mod, "run_pretrain", fake)
    code, out, err = run_cli(monkeypatch, capsys, "pretrain")
    flat = " ".join(out.split())
    assert code == 0, err
    shown = ", ".join(map(str, range(10)))
    assert f"{n} model(s) diverged" in flat
    assert f": {shown}" + (", …" if n > 10 else ";") in flat, flat
