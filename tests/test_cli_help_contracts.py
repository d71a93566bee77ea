"""Adversarial review: what the CLI's help (and the hints it prints) says against what it does.

Contract (issue 3's CLI, DESIGN.md principle 6 "Errors are for people"): every option a
command's ``--help`` lists exists and does what its help text says, is readable in any
terminal, and every hint the CLI prints names options that the command it was printed by
really has.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import config_file, run_cli

SMALL = """
name: helprev
model: {name: mlp, hidden: [8]}
train: {epochs: 1, batch_size: 256}
population: {seeds: [0]}
"""

#: 64 x 10^12 weights: no machine can allocate them, so the allocation fails at once
HUGE = "model.hidden=[1000000000000]"


def _options(command: str) -> set[str]:
    """Every long option name (``--x`` and ``--no-x``) that ``trainlab COMMAND`` accepts."""
    import typer.main

    from trainlab.cli import app

    cmd = typer.main.get_command(app).commands[command]
    names: set[str] = set()
    for p in cmd.params:
        names.update(o for o in (*p.opts, *p.secondary_opts) if o.startswith("--"))
    return names


def _named_options(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))


def test_help_in_a_narrow_terminal_shows_every_option_name_in_full(monkeypatch, capsys):
    """``trainlab COMMAND --help`` in a 40-column terminal (a phone's ssh client, a split tmux
    pane) must still show every option's name in full: the help exists to tell the user what
    to type. Today typer's rich help table cuts the option column with an ellipsis
    (``--devi…``, ``--diag…  --no-…``, ``--start-…``, ``--popula…``; ``--no-diagno…`` already
    at 60 columns), so the names of the very options the help documents cannot be read from
    it, in train, resume, study, diagnose and lr-find. (The plain click formatter,
    ``typer.Typer(rich_markup_mode=None)``, wraps the text column instead and keeps every
    name whole.) Checked in-process for every command and, for ``train``, as the shell runs
    it (a subprocess with COLUMNS=40 and NO_COLOR, stdout not a terminal)."""
    import os
    import subprocess
    import sys

    import typer.main

    from trainlab.cli import app

    monkeypatch.setenv("COLUMNS", "40")
    monkeypatch.setenv("NO_COLOR", "1")
    hidden = {}
    for command in sorted(typer.main.get_command(app).commands):
        code, out, err = run_cli(monkeypatch, capsys, command, "--help")
        assert code == 0 and "Traceback" not in err, (command, err)
        missing = sorted(_options(command) - _named_options(out))
        if missing:
            hidden[command] = missing
    exe = Path(sys.executable).with_name("trainlab")
    proc = subprocess.run(
        [str(exe), "train", "--help"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "COLUMNS": "40", "NO_COLOR": "1"},
    )  # fmt: skip
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-1500:]
    shell_missing = sorted(_options("train") - _named_options(proc.stdout))
    assert not hidden and not shell_missing, (
        f"at 40 columns the help hides these option names: {hidden}; "
        f"`trainlab train --help` in a shell: {shell_missing}\n{proc.stdout}"
    )


def test_diagnose_set_overrides_the_number_of_epochs_as_its_help_says(
    monkeypatch, capsys, tmp_path
):
    """``trainlab diagnose --help`` lists ``--set`` as "override: key=value", yet
    ``--set train.epochs=1`` is silently replaced by ``--epochs``' default of 3: the CLI always
    passes ``epochs=3`` to ``diagnose()``, which then overwrites ``cfg.train.epochs`` (the
    same happens to ``--set train.diagnose_every=N``, overwritten by ``--every``'s 10). A user
    who asks for a 1-epoch check of a slow model waits for three and is never told. The
    override must be honoured (``--epochs`` defaulting to None: 3 unless ``--set`` says
    otherwise), or the conflict refused with one line and exit 2."""
    cfg = config_file(tmp_path, SMALL)
    out = tmp_path / "diag"
    code, _, err = run_cli(
        monkeypatch, capsys, "diagnose", cfg, "--set", "train.epochs=1", "--out", out,
        "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert "Traceback" not in err, err[-1500:]
    if code == 2:  # refused: one line naming the key
        assert "train.epochs" in err and len(err.strip().splitlines()) <= 2, err
        return
    assert code == 0, err[-1500:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    epochs = sorted({r["epoch"] for r in rows})
    assert len(epochs) == 1, f"--set train.epochs=1 trained {len(epochs)} epochs: {epochs}"


def test_train_no_diagnose_turns_diagnostics_off(monkeypatch, capsys, tmp_path):
    """``trainlab train --help`` lists the pair ``--diagnose / --no-diagnose`` "record
    per-layer diagnostics [default: no-diagnose]". But ``--no-diagnose`` does nothing: with a
    config that sets ``train.diagnose_every`` the run still samples and writes
    ``diagnostics.jsonl`` (train_cmd only acts when ``diagnose`` is True). A user who turns
    diagnostics off for a fast run (the hooks cost up to +72% per sampled step, README) gets
    them anyway. ``--no-diagnose`` must switch them off (``train.diagnose_every`` null), or
    the option must not be offered."""
    if "--no-diagnose" not in _options("train"):
        return  # fixed by offering only --diagnose
    cfg = config_file(
        tmp_path, SMALL.replace("batch_size: 256}", "batch_size: 256, diagnose_every: 2}")
    )
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--no-diagnose", "--out", out, "--device", "cpu",
        "--no-report",
    )  # fmt: skip
    assert code == 0, err[-1500:]
    assert not (out / "diagnostics.jsonl").exists(), "--no-diagnose still recorded diagnostics"


BIG_RBM = (
    "name: big\ndata: {name: digits, scale: minmax}\n"
    "model: {kind: rbm, n_components: 1000000000000}\n"
    "train: {batch_size: 100, n_iter: 1}\nseeds: [0]\n"
)


@pytest.mark.parametrize("command", ["lr-find", "pretrain"])
def test_the_out_of_memory_hint_names_only_options_the_command_has(
    monkeypatch, capsys, tmp_path, command
):
    """When a command runs out of memory, main() prints "train fewer models (--seeds), a
    smaller model, ..." whatever the command was. ``trainlab lr-find`` and ``trainlab
    pretrain`` have no ``--seeds`` (``trainlab lr-find CFG --seeds 1`` is "No such option"),
    so the one hint the user gets sends them to an option that does not exist (lr-find's
    models come from ``population.seeds`` / ``--population``, pretrain's from ``seeds:`` in
    its config). Every option a hint names must be one of the command's own."""
    if command == "lr-find":
        cfg = config_file(tmp_path, SMALL)
        args = [cfg, "--set", HUGE, "--out", tmp_path / "lr.png", "--device", "cpu"]
    else:
        cfg = config_file(tmp_path, BIG_RBM)
        args = [cfg, "--out", tmp_path / "pre", "--device", "cpu"]
    code, _, err = run_cli(monkeypatch, capsys, command, *args)
    assert code == 2 and "memory" in err and "Traceback" not in err, err[-1500:]
    foreign = sorted(_named_options(err) - _options(command))
    assert not foreign, f"`trainlab {command}`'s hint names {foreign}, not its options: {err}"


def test_the_nan_hint_after_resume_names_only_options_resume_has(monkeypatch, capsys, tmp_path):
    """After a run in which a model stopped for NaN/Inf, the CLI prints "fix: lower optim.lr,
    or set train.clip_norm (e.g. --set train.clip_norm=1)". ``trainlab resume`` prints the same
    line, but resume has no ``--set`` (``trainlab resume DIR --set ...`` is "No such option"),
    and a resumed run refuses an edited ``train.clip_norm`` anyway (README: only
    ``train.epochs`` and settings that do not touch the models may change). The fix a resume
    offers must be one the user can apply (e.g. "train it again with --set
    train.clip_norm=1")."""
    cfg = config_file(tmp_path, SMALL)
    out = tmp_path / "run"
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "optim.name=sgd", "--set", "optim.lr=1e12",
        "--out", out, "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert code == 0, err[-1500:]
    code, stdout, err = run_cli(monkeypatch, capsys, "resume", out, "--no-report")
    assert code == 0 and "NaN" in stdout, (stdout, err[-1500:])
    hint = [line for line in stdout.splitlines() if "fix:" in line]
    foreign = sorted(_named_options(" ".join(hint)) - _options("resume"))
    assert not foreign, f"`trainlab resume` suggests {foreign}, which it does not take: {hint}"


def test_pretrain_that_runs_out_of_memory_leaves_no_folder_behind(monkeypatch, capsys, tmp_path):
    """``trainlab pretrain --help``: ``--out`` is a "run directory (must be new)", and
    run.py's ``_discarded_unless_done`` removes what a pre-training run wrote when it fails on
    the user's settings "so that the same --out can be used again" (README: an interrupted
    pretrain removes its unfinished folder; a pre-training run never resumes). An RBM too large
    for memory is reported as exactly such a user error (one line, "a smaller model", exit 2),
    but the folder stays, holding only ``config.yaml`` and ``.lock``: the cleanup catches a
    UserError or Ctrl-C, not the MemoryError that main() turns into the one line. Following
    the hint with a smaller model and the same ``--out`` is then refused, "run directory ...
    already exists". (``trainlab train`` and ``lr-find`` of a too-large model leave nothing.)"""
    big = config_file(tmp_path, BIG_RBM, "big.yaml")
    out = tmp_path / "pre"
    code, _, err = run_cli(monkeypatch, capsys, "pretrain", big, "--out", out, "--device", "cpu")
    assert code == 2 and "memory" in err, err[-1500:]
    left = sorted(p.name for p in out.iterdir()) if out.exists() else []
    assert not left, f"the failed pretrain left {out} behind with {left}"
