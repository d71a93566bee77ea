"""Docs drift after the changes since 971d6ed: what the README, the docstrings and the CLI's own
messages now say about interrupted runs and ``--set`` parsing, checked against what the code
does (the advice a message prints must work; a value ``--set`` documents as YAML must read as
YAML reads it)."""

from __future__ import annotations

import pytest
from torch import nn

from conftest import TINY_PRETRAIN, config_file, ctrl_c_in_second_epoch, raise_ctrl_c, run_cli


# ------------------------------------------------ pretrain: "`trainlab report DIR` writes it"
def test_the_report_command_a_pretrain_interrupt_names_writes_the_report(
    tmp_path, monkeypatch, capsys
):
    """A Ctrl-C (or a batch system's SIGTERM) while ``trainlab pretrain`` renders its report,
    after the RBMs trained and ``model.npz``/``summary.json`` were written, now keeps the run
    (pretrain/run.py) and ends with the line "interrupted; the run D is complete but has no
    report yet: `trainlab report D` writes it". Following that advice fails: ``trainlab
    report D`` answers "not a run directory: D (no population.json or report_sections.json)
    ... (a pretrain run killed before its report has none: run it again)", and running it
    again is refused too ("run directory D already exists"). The one command the CLI names
    must write the report of a finished pre-training run (or the CLI must not name it)."""
    import trainlab.report

    cfg = config_file(tmp_path, TINY_PRETRAIN, "p.yaml")
    out = tmp_path / "D"
    interrupted = raise_ctrl_c  # Ctrl-C while the report's figures render

    with monkeypatch.context() as m:
        m.setattr(trainlab.report, "build_report", interrupted)  # (the render, after the run)
        m.setattr(trainlab.report.Report, "write", interrupted)  # (sections and render)
        code, _, err = run_cli(
            monkeypatch, capsys, "pretrain", cfg, "--out", out, "--device", "cpu"
        )
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (code, err[-1500:])
    assert (out / "model.npz").is_file()  # the finished run was kept
    assert f"trainlab report {out}" in line, line  # the advice this test follows

    code, _, err = run_cli(monkeypatch, capsys, "report", out)
    assert code == 0, (
        f"the interrupt said {line!r}, but `trainlab report {out.name}` answers: {err.strip()!r}"
    )
    assert (out / "report.html").is_file()


# ------------------------------------------- --set: "values parse as YAML" (quoted text with #)
@pytest.mark.parametrize("quote", ["'", '"'], ids=["single", "double"])
def test_set_a_yaml_quoted_value_with_a_hash_is_the_quoted_text(quote):
    """README: "`--set a.b=value` overrides any key (values parse as YAML ...)", and
    ``config._set_value`` keeps ``#`` as text "after a scalar" so that nothing after it is lost.
    Quoting is how YAML (and a user) keeps a value as one string, and a path with `` #`` in it
    (``runs #3/data.npz``) is exactly what a user quotes. For a key that is not a declared
    string field (``data.options.path``, any ``model.*``/``optim.*`` option), the new rule sees
    the `` #`` in the typed text and returns the text itself, *quotes included*:
    ``--set "data.options.path='my data #1.npz'"`` names the file ``'my data #1.npz'`` with
    literal quote characters (file not found), where YAML and the old code gave
    ``my data #1.npz``. (A declared string field such as ``name`` unquotes it correctly.)"""
    from trainlab.config import load_config

    cfg = load_config(None, [f"data.options.path={quote}my data #1.npz{quote}"])
    assert cfg.data.options["path"] == "my data #1.npz", (
        f"--set data.options.path={quote}my data #1.npz{quote} gave {cfg.data.options['path']!r}"
    )


# --------------------------------------------- fine_tune: Ctrl-C says how the run continues
def test_an_interrupted_fine_tune_run_says_how_to_continue_it(tmp_path, monkeypatch):
    """``fine_tune(modules, dataset, out=DIR)`` writes a resumable training run (a checkpoint
    per epoch; ``trainlab.train.resume(DIR, model=modules[0], dataset=dataset)`` continues it),
    and the change that made "Ctrl-C of a run given its own module or data name the Python
    resume" (``train._noted_fit`` through ``errors.on_interrupt``: "what became of the work,
    what to run next") covers ``train()`` and ``resume()`` but not ``fine_tune``, which calls
    ``Trainer.fit`` itself: its ``KeyboardInterrupt`` carries no note at all, so a user who
    stops a long fine-tuning is not told that the run folder can be continued, nor how
    (``trainlab resume DIR`` refuses a run trained on a module passed in)."""
    from trainlab.data import load
    from trainlab.pretrain import fine_tune

    ds = load("digits")
    mods = [nn.Sequential(nn.Flatten(), nn.Linear(64, 8), nn.ReLU(), nn.Linear(8, 10))]
    ctrl_c_in_second_epoch(monkeypatch)
    run = tmp_path / "ft"
    with pytest.raises(KeyboardInterrupt) as info:
        fine_tune(mods, ds, epochs=3, out=str(run))
    assert (run / "checkpoints" / "last.pt").is_file()  # a run that can be continued
    note = " ".join(getattr(info.value, "__notes__", []))
    assert "trainlab.train.resume(" in note and "model=" in note, (
        f"the interrupted fine-tuning run {run.name} says nothing on how to continue it: "
        f"notes {note!r}"
    )
