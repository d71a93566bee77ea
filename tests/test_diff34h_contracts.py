"""Review diff34h: the commits 7881456..HEAD (integer-text refusal, MAX_EPOCHS, YAML messages,
base-60 floats)."""

from __future__ import annotations

import pytest

from conftest import call_main
from trainlab.config import MAX_EPOCHS, parse_config
from trainlab.errors import UserError


def _config():
    return parse_config(
        {"name": "t", "data": {"name": "digits"}, "model": {"name": "mlp"},
         "train": {"epochs": 1}},
        "test",
    )  # fmt: skip


def _main(monkeypatch, capsys, *args):
    """``trainlab ARGS`` as the shell runs it: (exit code, stderr with any traceback)."""
    code, tb = call_main(monkeypatch, *args)
    return code, capsys.readouterr().err + tb


# diagnostics/run.py: diagnose() assigns `cfg.train.epochs = epochs` (validate_assignment), so
# the new MAX_EPOCHS validator raises a raw pydantic ValidationError there: `trainlab diagnose
# c.yaml --epochs 2000000` ends in a traceback ("Value error, at most 1,000,000 epochs ...").
# --every 0 and --epochs 0 are a UserError (one line); a count above the limit must be one too.
def test_diagnose_epochs_above_the_limit_is_a_user_error(tmp_path):
    from trainlab.diagnostics.run import diagnose

    with pytest.raises(UserError, match="1,000,000|1000000"):
        diagnose(_config(), out=tmp_path / "d", epochs=MAX_EPOCHS + 1, progress=False,
                 report=False, device="cpu")  # fmt: skip


def test_diagnose_cli_epochs_above_the_limit_is_one_line(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: t\ndata: {name: digits}\nmodel: {name: mlp}\ntrain: {epochs: 1}\n")
    code, err = _main(monkeypatch, capsys, "diagnose", cfg, "--epochs", MAX_EPOCHS + 1,
                      "--out", tmp_path / "d", "--device", "cpu")  # fmt: skip
    assert code not in (0, None)
    assert "Traceback" not in err and "ValidationError" not in err, err
    assert "epochs" in err


# optim/lr_find.py: lr_sweep writes raw["train"]["epochs"] = epochs and calls
# Config.model_validate(raw) unguarded, so `trainlab lr-find c.yaml --population 3 --epochs
# 2000000` ends in a pydantic traceback; lr_sweep's other refusals (epochs < 1) are ConfigError.
def test_lr_sweep_epochs_above_the_limit_is_a_user_error():
    from trainlab.optim.lr_find import lr_sweep

    with pytest.raises(UserError, match="1,000,000|1000000"):
        lr_sweep(_config(), [1e-3, 1e-2], epochs=MAX_EPOCHS + 1, device="cpu")


# config.refuse_integer_text, shared by the pretrain config since 10c1f4f: for any field named
# `seeds` it hints "a range is the CLI's --seeds 0-9", but `trainlab pretrain` has no --seeds
# option (only --set/--grid/--out/--device: `trainlab pretrain --seeds 0-9` is "No such
# option"). The pretrain message must not send the user to an option that does not exist.
def test_pretrain_seeds_hint_names_no_missing_option(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("seeds: ['0-9']\n")
    code, err = _main(monkeypatch, capsys, "pretrain", cfg, "--out", tmp_path / "run")
    assert code not in (0, None)
    assert "expected an integer" in err and "'0-9'" in err
    assert "--seeds" not in err, err
