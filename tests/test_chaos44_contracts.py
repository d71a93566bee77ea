"""Review chaos44: a Ctrl-C as ``main()`` calls ``_guarded_main()`` (cli/app.py, the
first call of a command, before ``_guarded_main`` resets the command's state) is explained
with what the PREVIOUS command of the same process left behind: its ``_finished`` flag, its
interrupt note. A process that runs ``main()`` more than once (IPython's ``%run``, which
``_ignore_signals_at_exit`` supports; the test suite; a notebook) then prints a false note."""

from __future__ import annotations

import importlib

from conftest import raise_ctrl_c, run_cli_catching, small_config
from trainlab.config import dump_config


def test_ctrl_c_as_main_starts_does_not_say_the_command_had_finished(monkeypatch, capsys):
    """A first command returns (``_finished = True``); a second one is interrupted as main()
    calls ``_guarded_main()`` (app.py:231), before anything ran. The user sees "interrupted;
    the command had finished; nothing was stopped" although the command never started (the
    sweep: `trainlab train` at N=2 leaves no folder at all; "nothing was written ...; run the
    command again" is what is true)."""
    app_mod = importlib.import_module("trainlab.cli.app")  # (trainlab.cli.app: the Typer)

    code, _, err = run_cli_catching(monkeypatch, capsys, "models")
    assert code == 0, err
    with monkeypatch.context() as m:
        m.setattr(app_mod, "_guarded_main", raise_ctrl_c)
        code, _, err = run_cli_catching(monkeypatch, capsys, "models")
    assert code == 130, err
    assert "Traceback" not in err
    assert "the command had finished" not in err, err
    assert "run the command again" in err, err


def test_ctrl_c_as_main_starts_does_not_repeat_the_previous_commands_note(
    monkeypatch, capsys, tmp_path
):
    """A first `trainlab train` is interrupted after its epoch-1 checkpoint (its note: resume
    folder A); a second command is interrupted as main() calls ``_guarded_main()``
    (app.py:231). The user sees the first command's note, "trainlab resume A", for a command
    that never started: ``errors._last_note`` is cleared only inside ``_guarded_main``."""
    app_mod = importlib.import_module("trainlab.cli.app")  # (trainlab.cli.app: the Typer)
    from trainlab.runs import RunDir

    cfg = tmp_path / "c.yaml"
    cfg.write_text(dump_config(small_config(train={"epochs": 2, "batch_size": 256})))
    first = tmp_path / "first"
    orig = RunDir.save_checkpoint

    def save(self, state):
        orig(self, state)
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(RunDir, "save_checkpoint", save)
        code, _, err = run_cli_catching(
            monkeypatch, capsys, "train", cfg, "--out", first, "--device", "cpu", "--no-report"
        )
    assert code == 130 and "trainlab resume" in err, err
    with monkeypatch.context() as m:
        m.setattr(app_mod, "_guarded_main", raise_ctrl_c)
        code, _, err = run_cli_catching(monkeypatch, capsys, "models")
    assert code == 130, err
    assert "Traceback" not in err
    assert str(first) not in err and "trainlab resume" not in err, err
