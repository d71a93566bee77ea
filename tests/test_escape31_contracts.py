"""Review escape31: unusual names and text flowing through trainlab (run names, paths, labels).

Every test here fails on the code it was written against."""

from __future__ import annotations

from conftest import run_cli_on_streams

TINY = "name: t\nmodel: {name: mlp, hidden: [4]}\ntrain: {epochs: 2, batch_size: 256}\n"


def _cli_on_latin1_streams(monkeypatch, *args):
    """``trainlab ARGS`` with stdout and stderr in Latin-1, as a Latin-1 locale (or Windows'
    cp1252 with the output redirected to a file) gives them: (exit code, stdout, stderr)."""
    return run_cli_on_streams(monkeypatch, "latin-1", "strict", *args)


# A run named in Japanese (or any text the output stream cannot encode: a data path with CJK
# characters, an emoji) kills the training run after its first epoch when stdout is not UTF-8:
# the per-epoch progress line (train.py _fit, bar.console.print) raises UnicodeEncodeError out
# of rich's write, FailSafeConsole._write_buffer catches only OSError, and the run is left
# incomplete with a traceback (exit 1). console.py promises that when output cannot be written
# "the command goes on: a run finishes and writes its results". A name is only printed text;
# it must not decide whether training completes (the characters it cannot show should be
# replaced/escaped, e.g. a stream reconfigured with errors="backslashreplace").
def test_a_run_named_in_japanese_trains_to_the_end_on_a_latin1_stdout(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "c.yaml").write_text(TINY)
    code, _, err = _cli_on_latin1_streams(
        monkeypatch, "train", "c.yaml", "--set", "name=日本", "--no-report", "--device", "cpu"
    )
    assert "UnicodeEncodeError" not in err, err[-800:]
    assert code in (0, None), (code, err[-800:])
    assert (tmp_path / "runs" / "日本" / "summary.json").is_file()


# The same on stderr: an error message that names a folder the stream cannot encode (here a
# missing run folder) ends in a UnicodeEncodeError traceback instead of the one-line
# "error: ..." (exit 2) that every other UserError gives (cli/app.py prints it with
# err_console, whose write raises).
def test_an_error_naming_a_japanese_folder_is_one_line_on_a_latin1_stderr(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _, err = _cli_on_latin1_streams(monkeypatch, "report", "日本")
    assert "UnicodeEncodeError" not in err, err[-800:]
    assert "Traceback" not in err, err[-800:]
    assert code == 2, (code, err[-800:])
    assert "error:" in err
