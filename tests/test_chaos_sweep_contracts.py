"""A Ctrl-C at any point of ``trainlab train``: a small, deterministic sample of the sweep that
found the windows of test_chaos41/42 (there: several hundred points of train, resume, pretrain
and report).

A tracer counts the line events of trainlab's own source during one ``trainlab train`` and
raises KeyboardInterrupt at the N-th (postponed to the next line that calls something: a signal
is delivered at a call or a loop's jump, never at a bare ``try:``). Whatever N, the command must
end with exit status 130 and one line ``interrupted; <note>`` (no traceback), and the note must
be true: what it says to run works (``trainlab resume DIR`` reaches the uninterrupted run's
weights bit for bit; running the command again is not refused and trains the same weights), and
what it says is there is there.
"""

from __future__ import annotations

import linecache
import sys
from pathlib import Path

import pytest
import torch

import trainlab
from conftest import run_cli_catching, small_config
from trainlab.config import dump_config

SRC = str(Path(trainlab.__file__).parent)
#: where in the run (fractions of its line events) the interrupts land: densely at its start
#: (the folder claimed, config.yaml and population.json written) and its end (summary.json,
#: the table it prints), where the windows were; a few through the epochs and checkpoints
POINTS = (
    *(round(0.001 * i, 4) for i in range(1, 16)),
    0.03, 0.06, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 0.98,
    *(round(0.985 + 0.001 * i, 4) for i in range(15)),
)  # fmt: skip


class _CtrlCAt:
    """``sys.settrace`` function: KeyboardInterrupt at the ``n``-th line event in ``SRC``
    (None: only count them)."""

    def __init__(self, n: int | None) -> None:
        self.n, self.count, self.fired = n, 0, False

    def calls(self, frame, event, arg):
        if self.fired or not frame.f_code.co_filename.startswith(SRC):
            return None
        return self.lines

    def lines(self, frame, event, arg):
        if self.fired:
            frame.f_trace = None
            return None
        if event == "line":
            self.count += 1
            if self.n is not None and self.count >= self.n:
                text = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
                if "(" in text.split("#")[0]:  # a line that calls something
                    self.fired = True
                    sys.settrace(None)
                    frame.f_trace = None
                    raise KeyboardInterrupt
        return self.lines


def _train(monkeypatch, capsys, cfg: Path, out: Path, tracer: _CtrlCAt | None = None):
    args = ("train", cfg, "--out", out, "--device", "cpu", "--no-report")
    if tracer is not None:
        sys.settrace(tracer.calls)
    try:
        return run_cli_catching(monkeypatch, capsys, *args)
    except KeyboardInterrupt:  # out of main(): the shell shows a traceback
        return "traceback", "", capsys.readouterr().err + "\nTraceback: KeyboardInterrupt"
    finally:
        sys.settrace(None)


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoints" / "last.pt", weights_only=True)["population"]


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The config, the uninterrupted run's final weights, and its number of line events."""
    root = tmp_path_factory.mktemp("sweep")
    cfg = root / "c.yaml"
    cfg.write_text(dump_config(small_config(train={"epochs": 2, "batch_size": 256})))
    mp, counter = pytest.MonkeyPatch(), _CtrlCAt(None)
    try:
        sys.settrace(counter.calls)
        try:
            from conftest import call_main

            code, tb = call_main(mp, "train", cfg, "--out", root / "ref", "--device", "cpu",
                                 "--no-report")  # fmt: skip
        finally:
            sys.settrace(None)
    finally:
        mp.undo()
    assert code == 0, tb
    return cfg, _weights(root / "ref"), counter.count


@pytest.mark.parametrize("where", POINTS)
def test_ctrl_c_anywhere_in_train_says_what_is_true_and_that_works(
    reference, where, tmp_path, monkeypatch, capsys
):
    cfg, want, total = reference
    out = tmp_path / "run"
    tracer = _CtrlCAt(max(1, round(where * total)))
    code, _, err = _train(monkeypatch, capsys, cfg, out, tracer)
    if not tracer.fired:  # (past the last line that calls something: the run is complete)
        assert code == 0, err[-1500:]
        return
    line = " ".join(err.split())
    assert code == 130 and "Traceback" not in err, (where, code, err[-1500:])
    assert line.startswith("interrupted; ") and len(err.strip().splitlines()) == 1, line
    assert not [p for p in out.rglob("*.trainlab-tmp") if p.stat().st_size], line  # (an empty
    # one, made as the interrupt landed inside tempfile.mkstemp, is what resume removes)
    if "trainlab resume" in line:
        code, _, err = run_cli_catching(
            monkeypatch, capsys, "resume", out, "--device", "cpu", "--no-report"
        )
        assert code == 0, (line, err[-1500:])
        assert _same(_weights(out), want), line
    elif "is complete" in line or "the command had finished" in line:
        assert (out / "summary.json").is_file(), line
        assert _same(_weights(out), want), line
        if "trainlab report" in line:
            code, _, err = run_cli_catching(monkeypatch, capsys, "report", out)
            assert code == 0 and (out / "report.html").is_file(), (line, err[-1500:])
    else:
        assert "run the command again" in line, line
        code, _, err = _train(monkeypatch, capsys, cfg, out)
        assert code == 0, (line, err[-1500:])
        assert _same(_weights(out), want), line
