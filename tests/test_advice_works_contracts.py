"""Review: every piece of advice trainlab prints must work when followed literally."""

from __future__ import annotations

import pytest

from conftest import config_file, run_cli, small_config
from trainlab.config import parse_config
from trainlab.errors import UserError

TINY = (
    "name: t\nmodel: {name: mlp, hidden: [8]}\noptim: {name: adam, lr: 0.01}\n"
    "train: {epochs: 1, batch_size: 256}\npopulation: {seeds: [0]}\n"
)


def test_optim_name_typo_hint_names_the_name_key(monkeypatch, capsys, tmp_path):
    """A typo of ``optim.name`` (``optim: {nmae: sgd}``) must be answered with a hint that
    points at ``name``, the key the user meant; today the did-you-mean list holds only the
    optimizer's hyperparameters, so trainlab answers "did you mean 'maximize'?". Followed
    literally (``--set optim.maximize=sgd``) that advice is another error, and the real fix is
    never named (``init`` already adds its own ``scheme``/``bias`` keys to its near list)."""
    cfg = config_file(tmp_path, TINY)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "optim.nmae=sgd",
        "--out", tmp_path / "run", "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert code == 2, err
    assert "did you mean 'maximize'" not in err, err
    assert "did you mean 'name'" in err, err


def test_early_stopping_hint_works_for_a_dataset_passed_in(digits):
    """``train(config, dataset=ds)`` with early stopping and a dataset that has no validation
    split is refused with "set data.val_fraction > 0". With a dataset passed in,
    ``config.data`` is not used at all, so that advice cannot work: here ``data.val_fraction``
    already is 0.5 and the same refusal comes back. The message must name a fix that applies
    (give the dataset a validation split, e.g. ``arrays_dataset(..., val_fraction=0.1)``)."""
    from trainlab.pretrain import arrays_dataset
    from trainlab.train import train

    X, y = digits
    ds = arrays_dataset(X[:300], y[:300], X[300:400], y[300:400], val_fraction=0.0)
    cfg = small_config(train={"early_stopping_patience": 2}, data={"val_fraction": 0.5})
    with pytest.raises(UserError) as info:
        train(cfg, dataset=ds, write=False, progress=False)
    msg = str(info.value)
    assert "data.val_fraction > 0" not in msg, msg  # already 0.5: the advice is a no-op


def test_gain_hint_can_be_followed_in_a_config(monkeypatch, capsys, tmp_path):
    """``init: {scheme: xavier_uniform, gain: relu}`` (or ``--set init.gain=relu``) is refused
    with "pass gain=init.gain('relu')": a Python call, which neither a YAML config nor
    ``--set`` can make (written literally, ``--set "init.gain=init.gain('relu')"`` is refused
    again, now suggesting ``init.gain("init.gain('relu')")``). From the CLI the hint must give
    something a config accepts, e.g. the number (``gain=1.414``, sqrt(2) for relu)."""
    cfg = config_file(tmp_path, TINY)
    code, _, err = run_cli(
        monkeypatch, capsys, "train", cfg, "--set", "init.scheme=xavier_uniform",
        "--set", "init.gain=relu", "--out", tmp_path / "run", "--device", "cpu", "--no-report",
    )  # fmt: skip
    assert code == 2, err
    assert "1.41" in err, err  # the value a config can take, not a Python expression


def test_dotted_grid_key_hint_followed_literally_is_accepted():
    """A dotted top-level key is answered with "write it nested (<head>: {<rest>: ...})". For
    ``population.grid.optim.lr: [0.1, 0.01]`` that reads ``population: {grid.optim.lr: ...}``,
    which, written as said, is refused in turn (``unknown key 'population.grid.optim.lr'``):
    the hint must give the form that works, ``population: {grid: {optim.lr: [...]}}`` (the
    axis name keeps its dots)."""
    with pytest.raises(UserError) as info:
        parse_config({"population.grid.optim.lr": [0.1, 0.01]})
    msg = str(info.value)
    # follow the advice literally: nest only the head
    if "population: {grid.optim.lr:" in msg:
        parse_config({"population": {"grid.optim.lr": [0.1, 0.01]}})  # must be accepted
    else:
        assert "grid: {optim.lr" in msg, msg
