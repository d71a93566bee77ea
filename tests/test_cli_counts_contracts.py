"""Count options of the CLI read digits only: a plain int option took "0-10" as -10."""

import pytest

from conftest import SMALL_YAML as SMALL
from conftest import config_file, run_cli


@pytest.mark.parametrize(
    "args",
    [
        ("lr-find", "--population", "0-5"),
        ("lr-find", "--steps", "0-10"),
        ("lr-find", "--population", "4", "--epochs", "1-3"),
        ("diagnose", "--every", "0-3"),
        ("diagnose", "--epochs", "0-2"),
    ],
)
def test_a_count_option_names_the_text_it_was_given(monkeypatch, capsys, tmp_path, args):
    # `lr-find --population 0-5` said "needs 2 to 100000 models, got -5" (typer read "0-5" as
    # -5, a number the user never wrote); the option must name what was typed, exit 2, and
    # train nothing.
    small = config_file(tmp_path, SMALL)
    command, *rest = args
    code, out, err = run_cli(monkeypatch, capsys, command, small, *rest, "--out", tmp_path / "run")
    assert code == 2, (code, err[-800:])
    assert "Traceback" not in err
    assert f"got '{rest[-1]}'" in err, err
    assert "-5" not in err.replace("0-5", "") and not (tmp_path / "run").exists()
