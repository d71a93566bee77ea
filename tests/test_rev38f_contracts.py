"""Review rev38f: what trainlab prints while and after it trains (progress bar, the line per
epoch in a log, the CLI's summary).

Every test here failed on the code it was written against."""

from __future__ import annotations

import io
import re
import sys

import pytest

from conftest import run_cli_on_streams

TINY = (
    "name: {name}\n"
    "data: {{name: digits}}\n"
    "model: {{name: mlp, hidden: [8]}}\n"
    "optim: {{name: sgd, lr: 0.1}}\n"
    "train: {{epochs: 2, batch_size: 256}}\n"
    "population: {{seeds: [0, 1]{grid}}}\n"
)


def _final_bar_line(text: str) -> str:
    """The bar's last frame as a log gets it (the only line that names the 'steps' unit)."""
    lines = [x for x in text.splitlines() if " steps " in x or x.rstrip().endswith("steps")]
    assert lines, text
    return lines[-1]


@pytest.mark.parametrize(
    ("columns", "name", "grid"),
    [
        (40, "tiny", ""),  # the brief's narrow terminal
        # the default 80 columns of a log, with a study cell's name and several groups (as
        # `trainlab study preprocessing --quick` prints: "... ━━━━ 246… steps 0:0… ETA 0:00:…")
        (80, "linear-standardize-Adam", ", grid: {optim.lr: [0.05, 0.1, 0.2]}"),
    ],
)
def test_progress_bar_keeps_step_count_and_eta_when_the_line_is_narrow(
    monkeypatch, capsys, tmp_path, columns, name, grid
):
    """train.py _progress: the bar's description (run name + "val_acc 0.167 (mean of N
    groups)") takes the width first and rich squeezes the step count, elapsed time and ETA
    into "…" instead: at COLUMNS=40 the final bar reads
    "tiny val_acc 0.167 ━━ 1… steps … ETA 0:…", and at the default 80 columns a study
    cell's reads "linear-… (mean of 3 groups) ━━━ 1… steps 0:0… ETA 0:…". The key
    information of a progress bar with ETA (README) is the count of steps and the ETA.
    Expected: "12/12" and "ETA 0:00:00" whole in the bar's last frame (the description, not
    the numbers, gives way); got them truncated with "…"."""
    from trainlab.config import load_config
    from trainlab.train import train

    monkeypatch.setenv("COLUMNS", str(columns))
    path = tmp_path / "c.yaml"
    path.write_text(TINY.format(name=name, grid=grid))
    train(load_config(path), out=tmp_path / "run", device="cpu", progress=True)
    bar = _final_bar_line(capsys.readouterr().out)
    assert "12/12 steps" in bar, bar
    assert re.search(r"ETA \d+:\d\d:\d\d", bar), bar


def _cli_on_ascii_streams(monkeypatch, *args):
    """``trainlab ARGS`` with stdout as Python sets it up in the C/POSIX locale when UTF-8 mode
    is off (``LANG=C PYTHONUTF8=0``, or ``PYTHONIOENCODING=ascii:surrogateescape``): ASCII
    with errors="surrogateescape". Returns (exit code, stdout, stderr)."""
    return run_cli_on_streams(monkeypatch, "ascii", "surrogateescape", *args)


def test_train_summary_on_an_ascii_locale_stdout_does_not_crash(monkeypatch, tmp_path):
    """cli/app.py main() makes a non-UTF-8 stream escape what it cannot encode only when its
    errors handler is "strict"; in the C/POSIX locale without UTF-8 mode (``LANG=C
    PYTHONUTF8=0 trainlab train ... > log``) Python opens stdout as ASCII with
    "surrogateescape", which is left alone, and the summary table's "±" (cli/core.py
    summary_table, via report.tables.fmt_mean_std) raises UnicodeEncodeError: a traceback and
    exit 1 after training, and no "run directory:" line (nor report.html, built after the
    table). Expected: exit 0, the summary and "run directory: ..." printed (± escaped or
    spelled +/-); got UnicodeEncodeError '\\xb1'."""
    (tmp_path / "c.yaml").write_text(TINY.format(name="tiny", grid=""))
    code, out, err = _cli_on_ascii_streams(
        monkeypatch,
        "train",
        tmp_path / "c.yaml",
        "--out",
        tmp_path / "run",
        "--no-report",
        "--device",
        "cpu",
    )
    assert "UnicodeEncodeError" not in err, err[-800:]
    assert code in (0, None), (code, err[-800:])
    assert "run directory:" in out, out


def test_main_with_stdout_redirected_to_a_stringio_runs():
    """A notebook or script that captures the CLI with ``contextlib.redirect_stdout(
    io.StringIO())``: a StringIO's ``encoding`` is None, and the stream check in main() must
    not call ``codecs.lookup(None)`` (TypeError: a traceback before the command ran)."""
    import contextlib

    from trainlab.cli import main

    buf = io.StringIO()
    argv = sys.argv
    sys.argv = ["trainlab", "datasets"]
    code = 0
    try:
        with contextlib.redirect_stdout(buf):
            main()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = argv
    assert code in (0, None)
    assert "digits" in buf.getvalue()
