"""diff33b review: today's later changes (54a2f4d..f84957b)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
import torch
import yaml

from conftest import nan_run_folder


def _as_old_convnet_run(run: Path) -> None:
    """Make a convnet run folder look as one written before f84957b: ``model.channels: null``
    in config.yaml, population.json and the checkpoint's config (the defaults were not
    recorded then)."""
    from trainlab.runs import RunDir

    cfg = yaml.safe_load((run / "config.yaml").read_text())
    cfg["model"]["channels"] = None
    (run / "config.yaml").write_text(yaml.safe_dump(cfg))
    info = json.loads((run / "population.json").read_text())
    info["config"]["model"]["channels"] = None
    (run / "population.json").write_text(json.dumps(info))
    rd = RunDir(run)
    state = rd.load_checkpoint()
    conf = json.loads(state["config"])
    conf["model"]["channels"] = None
    state["config"] = json.dumps(conf, sort_keys=True)
    rd.save_checkpoint(state)


# An OLD convnet run (config.yaml, population.json and checkpoint all say channels: null) can
# be resumed once with the new code, but that resume's checkpoint records the built channels
# (Trainer.built_options -> _config_json, src/trainlab/train.py) while population.json and
# config.yaml still say null. From then on _foreign_keys (train.py) reads model.channels as
# differing and every later resume / load_run refuses: "checkpoints/last.pt is not this run's
# checkpoint (its model.channels differ ...)". A run killed again during its first resume can
# no longer be continued. null and the default the convnet builds from the data are the same
# architecture (as with_default_widths treats an mlp's null widths): load_run must work.
def test_old_convnet_run_resumed_once_still_loads(tmp_path: Path) -> None:
    import trainlab

    cfg = {
        "data": {"name": "digits"},
        "model": {"name": "convnet"},
        "train": {"epochs": 1, "batch_size": 512},
    }
    run = tmp_path / "run"
    trainlab.train(cfg, out=run, device="cpu", progress=False)
    _as_old_convnet_run(run)
    # trained longer (train.epochs may change on resume): the new code writes a checkpoint
    text = (run / "config.yaml").read_text().replace("epochs: 1", "epochs: 2")
    (run / "config.yaml").write_text(text)
    trainlab.resume(run, device="cpu", progress=False)
    loaded = trainlab.load_run(run)  # refused on the current code
    assert isinstance(loaded.model(0), torch.nn.Module)


# 7363235 makes _SigtermAsInterrupt.__exit__ (src/trainlab/cli/app.py) set SIGINT and SIGTERM
# to SIG_IGN whenever main() leaves with SystemExit(130/143), on the assumption that the
# process is exiting. main() run in a process that goes on (`%run -m trainlab train ...` in
# IPython, runpy.run_module, a script or notebook that calls trainlab.cli.main() and catches
# SystemExit, as tests/conftest.py's run_cli does) leaves that process deaf to Ctrl-C and
# SIGTERM for good: a later main() in it does not even install its handler (SIGINT is no
# longer default_int_handler), so a second training cannot be interrupted at all. The class's
# own docstring promises "the previous handler comes back afterwards". Ignoring the signals
# belongs to the process's exit (the console-script / __main__ entry, or an atexit hook), not
# to main() returning control to its caller: after main(), the handlers are as before.
def test_main_in_process_after_ctrl_c_restores_signal_handlers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import sys

    import trainlab.train as t
    from trainlab.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt  # Ctrl-C in the middle of the training

    monkeypatch.setattr(t, "train", interrupted)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("data: {name: digits}\ntrain: {epochs: 1}\n")
    monkeypatch.setattr(sys, "argv", ["trainlab", "train", str(cfg), "--out", str(tmp_path / "r")])
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(SystemExit) as exc:
        main()
    assert exc.value.code == 130
    assert "interrupted" in capsys.readouterr().err
    after = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    assert after == before


# db3c2cb: report/tables.diagnostics_table promises that a seed stopped for NaN/Inf before the
# row's step "is counted in models as stopped, never averaged in with its last finite,
# pre-failure record". That holds only for runs written since e8dd44d (the trainer's
# _own_records drops a NaN model's records after its failing epoch). A run written before
# (the brief's "old runs whose NaN models have records after their failure") still has the
# NaN model's frozen records at the last step; RunData.diagnostics_held keeps them, so the
# row reads "models 2, grad_norm 0.125": the stopped seed's frozen pre-failure weights
# averaged in, and the same training reports differently by trainer version. The report can
# drop them as the trainer now does (summary's stopped_step 3, 13 steps per epoch from
# metrics.jsonl: nothing of model 1 after step 13), giving the new run's row: model 0 alone.
def test_old_run_nan_model_frozen_records_not_averaged_in_table(tmp_path: Path) -> None:
    from trainlab.report import tables

    run = nan_run_folder(tmp_path, frozen_after_stop=True)
    cols, rows = tables.diagnostics_table(run)
    (row,) = [r for r in rows if r[cols.index("step")] == 50]
    assert row[cols.index("grad_norm")] == tables.fmt(0.0), (cols, row)
    assert str(row[cols.index("models")]).startswith("1"), (cols, row)
