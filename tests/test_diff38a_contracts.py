"""Review of the f9d2f8a..HEAD changes (console, verdict_table, arrays_dataset): failing
contracts found by the diff38a review."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console


def test_verdict_table_layer_name_with_spaces_keeps_detail_whole():
    """verdict_table's docstring: on a console too narrow for the table "with every word whole
    (check, status, models and layer unwrapped, the detail wrapped between words)" it prints
    one line per row instead; a folded column must not split ``0.3416``.

    TableOrLines(wrap=True) measures a no_wrap column by its longest *word* (rich's
    Measurement ignores no_wrap), so a layer name with spaces (a ModuleDict key such as
    "encoder block 1", a valid module name) under-counts: at width 55 the table is chosen and
    the detail folds to 1-3 characters a line ("0.3", "416"); at width 50 the detail column is
    0 wide and the message is gone. Expected: "0.3416" and "dead ReLU units" intact in the
    output; got: the number split / the detail missing."""
    from trainlab.diagnostics import verdict_table
    from trainlab.diagnostics.verdict import Finding

    fs = [
        Finding(
            "dead_relu",
            "warn",
            0,
            "dead ReLU units: 0.3416 of units at step 150",
            layer="encoder block 1",
        )
    ]
    for width in (55, 50):
        c = Console(file=io.StringIO(), width=width, color_system=None)
        c.print(verdict_table(fs))
        out = c.file.getvalue()
        assert "0.3416" in out, f"width {width}:\n{out}"  # (whole: not split over lines)
        said = " ".join(out.split())  # (one line per row wraps between words)
        assert "dead ReLU units: 0.3416 of units at step 150" in said, f"width {width}:\n{out}"


def test_cli_console_keeps_a_line_whole_in_a_pipe_with_force_color(monkeypatch):
    """README: "in a log file or a pipe each line stays whole"; CliConsole's docstring: "in a
    log file or a pipe a long line stays one line (a path, a summary line: whole for grep)".

    CliConsole.soft_wrap is ``not self.is_terminal``, and rich's is_terminal is True for any
    stream when FORCE_COLOR (or TTY_COMPATIBLE=1) is set, as CI jobs commonly do to get
    colour in their logs: the CLI's output to a log file then wraps at rich's default 80
    columns (a path or summary line broken over lines). Before this change soft_wrap was
    always True. Expected: a 300-character line written to a non-tty stream stays 1 line;
    got: 4 lines."""
    from trainlab.console import CliConsole

    monkeypatch.setenv("FORCE_COLOR", "1")
    stream = io.StringIO()  # not a tty: a log file / pipe
    c = CliConsole(file=stream, emoji=False)
    line = " ".join(f"word{i}" for i in range(50))
    c.print(line, highlight=False)
    text = stream.getvalue()
    assert text.count("\n") == 1, text


def test_arrays_dataset_tiny_split_error_names_a_fix_that_works():
    """arrays_dataset now holds out at least one row for any val_fraction > 0 (as
    trainlab.data). With 2 rows of classes 0 and 1 (which trained before: round(0.2) = 0
    held out) the training split is 1 row, one class, whatever the order or the fraction;
    the error says "shuffle the rows first ... or lower val_fraction", and both fail
    (val_fraction=0.01 gives the same error). House rule: one line naming the problem and a
    fix that works; expected: the message names val_fraction=0 (the only value that keeps
    both rows for training); got: only "shuffle"/"lower val_fraction"."""
    from trainlab.errors import UserError
    from trainlab.pretrain.dbn import arrays_dataset

    x = np.random.default_rng(0).random((2, 4)).astype(np.float32)
    y = np.array([0, 1])
    with pytest.raises(UserError) as info:
        arrays_dataset(x, y, None, None, val_fraction=0.01)
    assert "val_fraction=0" in str(info.value).replace("val_fraction=0.01", "")
