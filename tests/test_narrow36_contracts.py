"""lr-find's tables in a narrow console (env36): one line per model instead of folded cells."""

import importlib

from conftest import SMALL_YAML, config_file, run_cli


# At COLUMNS=20 rich folded the "LR range test" table one character per column line: with
# several seeds the suggested learning rates are only in its 'steep' column, which printed as
# "0…", unreadable (lr-find writes the PNG only). As the end-of-run summary does, a console
# too narrow for the table whole gets one line per model with every number whole.
def test_lr_find_suggestions_readable_in_a_narrow_console(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(importlib.import_module("trainlab.cli.app").console, "_width", 20)
    small = config_file(tmp_path, SMALL_YAML.replace("seeds: [0]", "seeds: [0, 1]"))
    code, out, err = run_cli(
        monkeypatch, capsys, "lr-find", small, "--steps", "20", "--out", tmp_path / "lr.png"
    )
    assert code == 0, err
    lines = [line for line in out.splitlines() if line.startswith("seed ")]
    assert [line.split(":")[0] for line in lines] == ["seed 0", "seed 1"], out
    for line in lines:
        assert "steep " in line and "min/10 " in line, out


def test_lr_sweep_rows_readable_in_a_narrow_console(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(importlib.import_module("trainlab.cli.app").console, "_width", 20)
    small = config_file(tmp_path, SMALL_YAML)
    code, out, err = run_cli(
        monkeypatch, capsys, "lr-find", small, "--population", "3", "--out", tmp_path / "s.png"
    )
    assert code == 0, err
    rows = [line for line in out.splitlines() if line.startswith("lr ")]
    assert len(rows) == 3 and all("train_loss " in r and "val_loss " in r for r in rows), out
