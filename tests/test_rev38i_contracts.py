"""Review rev38i: what the CLI prints in a narrow terminal (COLUMNS=40 / 60).

Every test here (but the log-file one, which keeps what was right) failed on the code it was
written against."""

from __future__ import annotations

import io

import pytest


def _findings():
    from trainlab.diagnostics.verdict import Finding

    return [
        Finding(
            "nonfinite", "fail", 0, "NaN/Inf first in the output of 'net.3' (Linear) at step 120",
            step=120, layer="net.3",
        ),
        Finding("nonfinite", "ok", 1, "all outputs and gradients finite"),
        Finding(
            "update_ratio", "warn", 1,
            "‖Δθ‖/‖θ‖ = 0.3416 in 'fc1.weight' at step 40 (> 0.1): too fast",
            step=40, layer="fc1.weight",
        ),
        Finding("update_ratio", "ok", 0, "‖Δθ‖/‖θ‖ within [1e-05, 0.1]"),
    ]  # fmt: skip


@pytest.mark.parametrize("width", [40, 60])
def test_verdict_table_keeps_numbers_and_words_whole_in_a_narrow_terminal(width):
    """diagnostics/verdict.py verdict_table (printed by `trainlab diagnose`, cli/diagnose.py
    print_diagnose) makes every column overflow="fold": in a terminal narrower than the table
    rich cuts cells at any character. At COLUMNS=40 the header reads "statu"/"s",
    "model"/"s", the number 0.3416 in a detail reads "0.341"/"6" and a real run's ok row
    "[1e-"/"05," ; at COLUMNS=60 the check name reads "update_rati"/"o" and the layer in the
    detail "'fc1.weight"/"'". The summary table avoids exactly this (cli/core.py
    TableOrLines: "a folded table split 0.8914 ± 0.0079 into lines that read as other
    numbers"). Expected: the status word, check name, layer and every number of the detail whole
    on one line (as in the finding's message); got them split across lines."""
    from rich.console import Console

    from trainlab.diagnostics.verdict import verdict_table

    buf = io.StringIO()
    Console(width=width, file=buf, color_system=None, emoji=False).print(
        verdict_table(_findings(), title="training health: run")
    )
    text = buf.getvalue()
    lines = text.splitlines()
    assert all(len(x) <= width for x in lines), text  # (it fits the terminal)
    for whole in ("fail", "warn", "update_ratio", "0.3416", "fc1.weight"):
        assert any(whole in x for x in lines), f"{whole!r} cut:\n{text}"


def _summary():
    """A `trainlab train` summary (summary.json) of 2 groups, 2 seeds each."""

    def agg(mean, std, ci95):
        return {"mean": mean, "std": std, "ci95": ci95, "n": 2}

    groups = [
        {
            "group": f"optim.lr={lr}",
            "n": 2,
            "aggregates": {
                "test_acc": agg(0.0947075, 0.0512110, 0.4601132),
                "test_loss": agg(2.3086363, 0.0042016, 0.0377506),
            },
        }
        for lr in (0.001, 0.003)
    ]
    return {"name": "tiny", "k": 4, "epochs": 1, "groups": groups, "nan_models": []}


class _Terminal(io.StringIO):
    """A stream that is a terminal (its ``isatty`` says so)."""

    def isatty(self) -> bool:
        return True


def _cli_console_on(monkeypatch, buf, *, terminal: bool):
    """The console the CLI prints with (module ``trainlab.cli.app``; ``trainlab.cli.app`` as
    an attribute is the Typer app), as it is with its output going to ``buf``: a 40-column
    terminal, or a log file."""
    import importlib

    console = importlib.import_module("trainlab.cli.app").console
    assert buf.isatty() == terminal
    monkeypatch.setattr(console, "_file", buf)  # (not ``file``: undo would pin sys.stdout)
    monkeypatch.setattr(console, "_width", 40)
    monkeypatch.setattr(console, "_force_terminal", terminal)
    monkeypatch.setattr(console, "_color_system", None)
    return console


def test_summary_lines_wrap_between_words_in_a_narrow_terminal(monkeypatch):
    """cli/core.py TableOrLines (the summary `trainlab train` prints) gives up the table in a
    narrow console for "lines (one per row, wrapped between words)", so that no number is
    cut; but the CLI's console is soft_wrap=True (cli/app.py), which never wraps them: in a
    40-column terminal each line is 93 characters, and the terminal breaks it at column 40:
    "optim.lr=0.001: n 2, test_acc 0.0947 ± 0" / ".0512 (95% CI ± 0.4601), ...", the very
    mid-number split the lines were meant to avoid (lr-find's lines and the schedule's
    "parameters: ... t_max=1" / "8" alike). Expected: every printed line within 40
    characters, each number whole on one line; got 93-character lines."""
    from trainlab.cli import core

    buf = _Terminal()
    _cli_console_on(monkeypatch, buf, terminal=True)  # a 40-column terminal
    core._finish(None, _summary(), report=False)
    lines = buf.getvalue().splitlines()
    assert lines, "nothing printed"
    too_long = [x for x in lines if len(x) > 40]
    assert not too_long, "\n".join(too_long)
    for number in ("0.0947", "0.0512", "0.4601", "2.3086", "0.0042"):
        assert any(number in x for x in lines), f"{number} cut:\n" + "\n".join(lines)


def test_summary_lines_stay_whole_in_a_log_file(monkeypatch):
    """In a log file or a pipe (not a terminal) the CLI's console keeps a long line on one
    line (cli/app.py: a path or summary line whole for grep): the fallback lines are not
    wrapped at the console's width there."""
    from trainlab.cli import core

    buf = io.StringIO()
    log = _cli_console_on(monkeypatch, buf, terminal=False)
    assert not log.is_terminal
    core._finish(None, _summary(), report=False)
    lines = buf.getvalue().splitlines()
    assert any(
        x.startswith("optim.lr=0.001: n 2, test_acc 0.0947 ± 0.0512") and x.endswith("± 0.0042")
        for x in lines
    ), "\n".join(lines)
