"""Review yaml34: reading config YAML files (config.py load_config / read_yaml_file / _Loader)
for the CLI commands. Each test fails on the code as reviewed and asserts what a user needs."""

from __future__ import annotations

import sys
import traceback

import pytest

from conftest import assert_user_error
from trainlab.config import load_config
from trainlab.errors import ConfigError

TINY = "model: {name: mlp, hidden: [8]}\ntrain: {epochs: 1, batch_size: 256}\n"


def _cli(monkeypatch, capsys, *args):
    """``trainlab ARGS`` as the shell runs it: (exit code, stderr); an exception that escapes
    main() is what the shell shows as a traceback (exit 1)."""
    from trainlab.cli import main

    monkeypatch.setattr(sys, "argv", ["trainlab", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # noqa: BLE001 -- a traceback, reported by the assertions
        return 1, capsys.readouterr().err + traceback.format_exc()
    return code, capsys.readouterr().err


# config.py PopulationConfig.seeds / DataConfig.seed (pydantic lax int parsing): pydantic-core
# 2.x parses the text "0-9" as the integer -9 (it drops leading zeros, then reads "-9"), so
# `seeds: [0-9]` -- the CLI's --seeds range syntax, which YAML reads as the text '0-9' -- trains
# ONE model with seed -9 and exits 0, and `data.seed: 0-3` splits with seed -3. Text that is no
# integer must be refused, naming the key (as `seeds: '0-9'` and `seeds: [1-3]` already are).
@pytest.mark.parametrize(
    "text, key",
    [
        ("population:\n  seeds: [0-9]\n", "population.seeds"),
        ("population:\n  seeds: [0-4, 5]\n", "population.seeds"),
        ("data: {seed: 0-3}\n", "data.seed"),
    ],
)
def test_range_text_for_an_integer_is_refused_not_read_as_negative(tmp_path, text, key):
    path = tmp_path / "c.yaml"
    path.write_text(TINY + text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        cfg = load_config(path)
        print(cfg.population.seeds, cfg.data.seed)  # (on the bug: [-9] / [-4, 5] / -3)


# cli/optim.py schedule -> schedule_curves: train.epochs has no upper bound, so a config with
# `epochs: 99999999999999999999999` (or 1e17) reaches torch.arange(epochs * steps_per_epoch) and
# escapes as an OverflowError / "Storage size calculation overflowed" RuntimeError traceback
# (exit 1). A bad config value must be one error line naming train.epochs, exit 2.
@pytest.mark.parametrize("epochs", ["99999999999999999999999", "100000000000000000"])
def test_schedule_with_absurd_epochs_is_one_line_error(tmp_path, monkeypatch, capsys, epochs):
    path = tmp_path / "big.yaml"
    path.write_text(f"model: {{name: mlp, hidden: [8]}}\ntrain: {{epochs: {epochs}}}\n")
    monkeypatch.chdir(tmp_path)
    code, err = _cli(monkeypatch, capsys, "schedule", path)
    assert_user_error(code, err, "epochs")


# config.py read_yaml_file: every PyYAML error other than a duplicate key becomes "not valid
# YAML at line L, column C; check indentation and colons", dropping PyYAML's own problem text.
# For two documents in one file (`---`), a tab (invisible in most editors), or an unknown tag,
# that advice points at the wrong thing; the message must name the actual cause.
@pytest.mark.parametrize(
    "text, cause",
    [
        ("train: {epochs: 2}\n---\ntrain: {epochs: 3}\n", "document"),
        ("train:\n  epochs:\t2\n", "tab"),
        ("train:\n\tepochs: 2\n", "tab"),
        ("train: !wip {epochs: 2}\n", "!wip"),
    ],
)
def test_yaml_syntax_error_names_its_cause(tmp_path, text, cause):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert str(path) in msg and "line" in msg
    assert cause in msg.lower() or cause in msg, msg


# config.py _Loader: it says it reads numbers as YAML 1.2 ("1:30 is text", no base 60), and the
# integer resolver was replaced, but PyYAML 1.1's base-60 FLOAT resolver is still there:
# `optim: {lr: 1:30.5}` silently trains at lr 90.5 (1*60 + 30.5). YAML 1.2 reads 1:30.5 as
# text, which optim.lr must refuse.
def test_base60_float_is_not_a_number(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(TINY + "optim: {lr: 1:30.5}\n")
    with pytest.raises(ConfigError, match=r"optim\.lr"):
        cfg = load_config(path)
        print(cfg.optim.lr)  # (on the bug: 90.5)
