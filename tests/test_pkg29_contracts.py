"""Review pkg29: packaging, dependency lower bounds, the CLI's exit paths."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
import typer

ROOT = Path(__file__).resolve().parents[1]


def _run_main(monkeypatch, capsys, *args):
    """``trainlab ARGS`` through ``main()``; an exception that escapes main() (a traceback in
    the shell) is returned as exit code 1 with its type in stderr instead of erroring out."""
    from trainlab.cli import main

    monkeypatch.setattr(sys, "argv", ["trainlab", *map(str, args)])
    code = 0
    escaped = None
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:  # noqa: BLE001 - what the shell would show as a traceback
        code, escaped = 1, exc
    out = capsys.readouterr()
    err = out.err + (f"\nTraceback: {type(escaped).__name__}" if escaped is not None else "")
    return code, out.out, err


# What is wrong: cli/app.py `_main` has `except typer.Abort: _exit_interrupted()`, but click's
# Abort subclasses RuntimeError, and the earlier clause `except (MemoryError, RuntimeError)`
# catches it first and re-raises it (it is not out of memory). So the Abort clause never runs.
# With click < 8.2 (allowed: typer>=0.9 takes any click 8), click turns Ctrl-C / SIGTERM
# inside a command into Abort: `trainlab train ...` killed with SIGTERM under typer 0.12.4 +
# click 8.1.7 printed a `click.exceptions.Abort` traceback and exited 1, with no
# `trainlab resume DIR` line (README: "Ctrl-C (exit status 130) ... stops a run with one line
# naming the command"). Current typer also raises Abort for an EOFError in a command.
# Expected: an Abort ends as Ctrl-C does: exit 130, the one "interrupted; ..." line, no
# traceback. Fix: put `except typer.Abort` before the RuntimeError clause.
def test_an_abort_from_click_ends_like_ctrl_c(monkeypatch, capsys):
    import trainlab.data

    def aborted(*args, **kwargs):
        raise typer.Abort()

    monkeypatch.setattr(trainlab.data, "list_datasets", aborted)
    code, _, err = _run_main(monkeypatch, capsys, "datasets")
    assert "Traceback" not in err, err
    assert code == 130, (code, err)
    assert err.strip() == (
        "interrupted; nothing was written to continue from; run the command again"
    ), err


def _lower_bound(name: str) -> tuple[int, ...]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)\s*(,.*)?", dep)
        if m and m[1].lower() == name:
            return tuple(int(p) for p in m[2].split("."))
    raise AssertionError(f"{name} has no '>=' lower bound in pyproject.toml: {deps}")


# What is wrong: pyproject.toml says typer>=0.9, but every command's signature uses PEP 604
# unions (`str | None`, `Path | None`, `list[str] | None`), which typer only reads from 0.12.4:
# with the wheel installed beside typer 0.9.0, 0.10.0, 0.11.0, 0.12.1 or 0.12.3 (click 8.1.7),
# `python -m trainlab datasets` (any command, --help too) dies with
# "RuntimeError: Type not yet supported: str | None". Checked by installing each version;
# 0.12.4 runs `datasets` and a tiny `train`. (typer < ~0.15.4 also crashes on --help with
# click >= 8.2, and with click < 8.2 Ctrl-C hits the Abort bug above: a bound of 0.16 is safer.)
def test_typer_lower_bound_supports_the_annotations_the_cli_uses():
    assert _lower_bound("typer") >= (0, 12, 4)


# What is wrong: pyproject.toml says rich>=13.0, but trainlab relies on rich features that
# came later. Checked with the wheel and rich 13.0.0 / 13.4.2: stdout on a full disk
# (`trainlab train ... > /dev/full`) ends the run with "error: cannot write ... free space"
# instead of dropping stdout (FailSafeConsole overrides rich internals that 13.0 lacks;
# tests/test_pipe29_contracts.py fails 3 tests), and up to rich 14.0.0 `TTY_INTERACTIVE=0`
# (read by train._redraws through console.is_interactive) is ignored, so a CI log with
# FORCE_COLOR=1 gets no per-epoch lines (tests/test_cli29_contracts.py). rich 14.1.0 passes
# both. Expected: the declared minimum is one the package works with.
def test_rich_lower_bound_has_the_features_trainlab_uses():
    assert _lower_bound("rich") >= (14, 1)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
