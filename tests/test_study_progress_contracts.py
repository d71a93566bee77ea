"""`trainlab study` shows its trainings' progress (it printed nothing until the study ended: a
full study runs for many minutes); the library's run_study stays quiet unless asked."""

from conftest import run_cli
from trainlab.studies import run_study


def test_study_cli_prints_each_cells_epochs(monkeypatch, capsys, tmp_path):
    code, out, err = run_cli(
        monkeypatch, capsys, "study", "clipping", "--quick", "--device", "cpu",
        "--out", tmp_path / "st",
    )  # fmt: skip
    assert code in (0, None), err
    epoch_lines = [x for x in out.splitlines() if " epoch 1/" in x]
    assert len(epoch_lines) >= 2, out  # one per cell (a log file: a line per epoch)
    assert any(x.startswith("clip-") for x in epoch_lines), out


def test_run_study_is_quiet_by_default(capsys, tmp_path):
    run_study("clipping", tmp_path / "st", quick=True, device="cpu")
    assert " epoch 1/" not in capsys.readouterr().out
