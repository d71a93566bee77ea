"""Review diff20: defects in today's changes (0922dc8..HEAD), one failing test each."""

from __future__ import annotations

import errno
import warnings

import numpy as np
import pytest
import yaml

from conftest import config_file, run_cli

SMALL = """\
name: d20
data: {name: digits}
model: {name: mlp, hidden: [8]}
optim: {name: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 256}
population: {seeds: [0]}
"""


def _disk_full(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_hint_escapes_markup_of_the_run_path(tmp_path, monkeypatch, capsys):
    # wrong: app.py prints the __notes__ hint ("continue the run with `trainlab resume DIR`")
    # unescaped as rich markup: a run folder named 'a[/]b' crashes with MarkupError (traceback),
    # 'a[red]b' is shown as 'ab'; right: exit 2, the command naming the folder as typed
    import trainlab.train as T

    monkeypatch.setattr(T.Trainer, "fit", _disk_full)
    out = tmp_path / "a[/]b"
    code, _, err = run_cli(monkeypatch, capsys, "train", config_file(tmp_path, SMALL), "--out", out,
                           "--no-report")  # fmt: skip
    assert code == 2 and "a[/]b" in err


def test_disk_full_in_a_study_does_not_offer_resume_of_a_cell(tmp_path, monkeypatch, capsys):
    # wrong: a study whose cell hits a full disk says "then continue the run with `trainlab
    # resume OUT/cells/<cell>`" (the cell's note); studies do not resume, resuming a cell leaves
    # the study incomplete; right: the study's own advice (run it again, another --out)
    import trainlab.train as T

    monkeypatch.setattr(T.Trainer, "fit", _disk_full)
    code, _, err = run_cli(monkeypatch, capsys, "study", "clipping", "--quick", "--out",
                           tmp_path / "st")  # fmt: skip
    assert code == 2
    assert "trainlab resume" not in err


def test_disk_full_while_writing_the_report_names_trainlab_report(tmp_path, monkeypatch, capsys):
    # wrong: the run is complete but a full disk in the report step says "then run it again"
    # (the rerun is refused: the folder exists); right: as the Ctrl-C note there says,
    # `trainlab report DIR` writes it
    import trainlab.report

    def boom(run_dir):
        raise OSError(errno.ENOSPC, "No space left on device", f"{run_dir}/report.html")

    monkeypatch.setattr(trainlab.report, "build_report", boom)
    code, _, err = run_cli(monkeypatch, capsys, "train", config_file(tmp_path, SMALL), "--out",
                           tmp_path / "r")  # fmt: skip
    assert code == 2
    assert "trainlab report" in err


def _sched_config(tmp_path, schedule, population):
    raw = yaml.safe_load(SMALL)
    raw["schedule"], raw["population"] = schedule, {"seeds": [0], **population}
    from trainlab.config import load_config

    return load_config(config_file(tmp_path, yaml.safe_dump(raw)), [])


def test_cyclic_step_size_down_kept_default_follows_each_models_step_size_up(tmp_path):
    # wrong: a model keeping step_size_down's default (= its own step_size_up) while the grid
    # varies step_size_up gets the whole (K,) tensor put in its slot: "step_size_down must be a
    # number or a list of numbers ..., got [3, 3, tensor(...), tensor(...)]"; right: it builds,
    # that model's step_size_down equal to its step_size_up
    import torch

    from trainlab.config import members, schedule_kwargs
    from trainlab.optim import create_schedule

    cfg = _sched_config(
        tmp_path,
        {"name": "cyclic", "max_lr": 0.5},
        {"grid": {"schedule.step_size_up": [2, 4]},
         "variants": [{"schedule.step_size_down": 3}, {}]},
    )  # fmt: skip
    mems = members(cfg)
    sched = create_schedule(
        "cyclic", torch.full((len(mems),), 0.1, dtype=torch.float64), total_steps=40,
        steps_per_epoch=10, **schedule_kwargs(cfg, mems),
    )  # fmt: skip
    down, up = sched.resolved["step_size_down"], sched.resolved["step_size_up"]
    for m in mems:
        want = 3 if "schedule.step_size_down" in m.overrides else up[m.index]
        assert down[m.index] == want


@pytest.mark.parametrize(
    ("schedule", "variants", "needs"),
    [
        ({"name": "step"}, [{"schedule.step_size": 2}, {}], "step_size"),
        ({"name": "cosine"}, [{"schedule.warmup_steps": 3}, {}], "warmup_steps"),
    ],
)
def test_schedule_errors_do_not_show_the_keep_default_sentinel(tmp_path, schedule, variants,
                                                               needs):  # fmt: skip
    # wrong: a schedule key set by some variants only is refused with the internal sentinel in
    # the message ("got [2, KEEP_DEFAULT]"); right: a message in the user's terms (which models
    # lack the required value / that it cannot vary), no KEEP_DEFAULT
    from trainlab.cli.optim import schedule_curves
    from trainlab.errors import ConfigError

    cfg = _sched_config(tmp_path, schedule, {"variants": variants})
    with pytest.raises(ConfigError) as info:
        schedule_curves(cfg)
    assert needs in str(info.value) and "KEEP_DEFAULT" not in str(info.value)


def test_resume_with_more_epochs_of_a_run_whose_variant_keeps_a_schedule_default(tmp_path):
    # wrong: the model keeping cosine's default t_max (the run's length in steps) has that
    # resolved value recorded as its override, so raising train.epochs (which resume allows)
    # is refused: "config.yaml no longer describes the models in population.json (seeds or
    # overrides changed)"; right: the run resumes (with the note that the schedule spans the
    # new length)
    import trainlab

    text = SMALL.replace(
        "population: {seeds: [0]}",
        "schedule: {name: cosine}\npopulation: {seeds: [0], variants: [{schedule.t_max: 5}, {}]}",
    )
    run = trainlab.train(config_file(tmp_path, text), out=tmp_path / "r", progress=False).run_dir
    cfg = run / "config.yaml"
    cfg.write_text(cfg.read_text().replace("epochs: 1", "epochs: 2"))
    res = trainlab.resume(run, progress=False, on_note=lambda _: None)
    assert res.summary["models"][0]["final"] is not None


def test_pretrain_on_npz_with_own_val_split_does_not_warn_about_val_fraction(tmp_path):
    # wrong: pretrain passes val_fraction=0.0 itself, so every pretrain on an npz with x_val
    # warns "data.val_fraction=0 is ignored ... leave it out" though the user never set it;
    # right: no such warning (the user cannot leave out what they did not write)
    from trainlab.pretrain.run import _data, _validate

    g = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=g.random((40, 4)), y_train=g.integers(0, 2, 40),
             x_test=g.random((5, 4)), y_test=g.integers(0, 2, 5),
             x_val=g.random((6, 4)), y_val=g.integers(0, 2, 6))  # fmt: skip
    cfg = _validate({"data": {"name": "npz", "options": {"path": str(path)}},
                     "model": {"kind": "rbm", "n_components": 3}}, "x")  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _data(cfg)
    assert not [w for w in caught if "val_fraction" in str(w.message)]


def test_npz_near_miss_warning_skips_names_the_file_already_has(tmp_path):
    # wrong: an extra array y_train_onehot beside y_train warns "did you mean y_train?" (the
    # file has y_train, nothing is "made another way"); right: near misses are only of names
    # the file lacks (x_valid for a missing x_val)
    from trainlab.data.readers import read_npz

    g = np.random.default_rng(0)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=g.random((20, 4)), y_train=g.integers(0, 2, 20),
             x_test=g.random((5, 4)), y_test=g.integers(0, 2, 5),
             y_train_onehot=np.eye(2)[g.integers(0, 2, 20)])  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_npz(path)
    assert not [w for w in caught if "did you mean" in str(w.message)]


def test_sdae_refuses_a_bool_count_as_the_rbms_do():
    # wrong: StackedDenoisingAutoencoder(n_iter=True) trains one pass (True read as 1) while
    # BernoulliRBM / DBN now refuse a bool for a count; right: InvalidParameterError
    from sklearn.utils._param_validation import InvalidParameterError

    from trainlab.pretrain import StackedDenoisingAutoencoder

    x = np.random.default_rng(0).random((20, 6))
    with pytest.raises(InvalidParameterError):
        StackedDenoisingAutoencoder(layers=[3], n_iter=True).fit(x)


def test_resume_nan_fix_with_clipping_still_says_new_train_run(tmp_path, capsys):
    # wrong: _finish's conditional binds as `A if clips else (B if has_set else C)`: for
    # `trainlab resume` of a run that already clips, the fix reads "lower optim.lr" without
    # "in a new `trainlab train` run" (a resumed run refuses a changed lr); right: it says so
    from trainlab.cli.core import _finish

    run = tmp_path / "r"
    run.mkdir()
    (run / "config.yaml").write_text("train:\n  clip_norm: 1.0\n")
    summary = {"name": "r", "k": 1, "epochs": 1, "models": [], "groups": [],
               "nan_models": [{"index": 0, "seed": 0, "group": "default", "step": 3}]}  # fmt: skip
    _finish(run, summary, report=False, has_set=False)
    out = " ".join(capsys.readouterr().out.split())
    assert "new `trainlab train` run" in out
