"""Adversarial review: inputs that reach branches the rest of the suite never runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import Killed, kill_after_checkpoint, run_cli


def test_multistep_milestones_given_as_a_string_are_not_read_digit_by_digit():
    """``_Params.ints`` (schedules.py) is the only reader of a schedule's list of epochs
    (``milestones``); its error says the value "must be a list of ints". A YAML config that
    quotes the value (``milestones: "10"``, or ``--set 'schedule.milestones="10"'``) hands it a
    string, and ``[float(v) for v in "10"]`` iterates its characters: the run silently decays
    the LR at epochs 0 and 1 instead of 10 (``trainlab schedule`` prints
    ``milestones=[0, 1]``, ``trainlab train`` trains with it). A string must be refused with a
    ConfigError (or, at the very least, mean the epoch it spells), never be split into digits."""
    from trainlab.errors import ConfigError
    from trainlab.optim import create_schedule

    base = torch.full((1,), 0.1, dtype=torch.float64)
    kw = dict(total_steps=12, steps_per_epoch=1, gamma=0.1)
    try:
        got = create_schedule("multistep", base, milestones="10", **kw).curve()
    except ConfigError:
        return  # refused: the contract holds
    want = create_schedule("multistep", base, milestones=[10], **kw).curve()
    assert torch.equal(got, want), (
        f"milestones='10' gave lrs {got[:, 0].tolist()} (decayed at epochs 0 and 1), "
        f"milestones=[10] gives {want[:, 0].tolist()}"
    )


def test_resume_after_the_data_file_changed_names_the_data_not_config_yaml(
    monkeypatch, capsys, tmp_path
):
    """``trainlab resume`` of a run trained on a file (``data.name: npz``,
    ``data.options.path``) whose file was replaced since (here with 4 features instead of 3)
    reaches the ``load_state_dict`` failure branch of ``train.resume`` (train.py ~1156), which
    tells the user "restore the run's config.yaml". But config.yaml is untouched: following
    that advice cannot help, and the user is sent looking in the wrong place. The one-line
    error must name the data file that no longer matches (as ``resume`` already does for a
    dataset passed from Python: "the dataset passed to resume is not the one ... trained on")."""
    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    data = tmp_path / "feats.npz"
    np.savez(data, x_train=rng.random((60, 3)), y_train=y, x_test=rng.random((30, 3)),
             y_test=y[:30])  # fmt: skip
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: review\nmodel: {name: mlp, hidden: [8]}\ntrain: {epochs: 3, batch_size: 16}\n"
        f"population: {{seeds: [0]}}\ndata: {{name: npz, options: {{path: '{data}'}}}}\n"
    )
    run = tmp_path / "run"
    kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        run_cli(monkeypatch, capsys, "train", cfg, "--out", run, "--device", "cpu")
    monkeypatch.undo()
    capsys.readouterr()
    assert (run / "checkpoints").is_dir()
    np.savez(data, x_train=rng.random((60, 4)), y_train=y, x_test=rng.random((30, 4)),
             y_test=y[:30])  # fmt: skip
    code, _, err = run_cli(monkeypatch, capsys, "resume", run, "--device", "cpu")
    assert "Traceback" not in err, err[-1500:]
    assert code == 2, (code, err)
    assert "restore the run's config.yaml" not in err and data.name in err, err


def test_resume_refuses_a_data_file_replaced_by_other_data_of_the_same_shape(
    monkeypatch, capsys, tmp_path
):
    """A run trained on a file whose contents changed since (same shapes, other values) must
    not continue silently on the new data: the result would be neither run. ``population.json``
    records the loaded data's fingerprint, and resume names the file in one line."""
    rng = np.random.default_rng(0)
    y = np.arange(60) % 3
    data = tmp_path / "feats.npz"
    np.savez(data, x_train=rng.random((60, 3)), y_train=y, x_test=rng.random((30, 3)),
             y_test=y[:30])  # fmt: skip
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: review\nmodel: {name: mlp, hidden: [8]}\ntrain: {epochs: 3, batch_size: 16}\n"
        f"population: {{seeds: [0]}}\ndata: {{name: npz, options: {{path: '{data}'}}}}\n"
    )
    run = tmp_path / "run"
    kill_after_checkpoint(monkeypatch, 1)
    with pytest.raises(Killed):
        run_cli(monkeypatch, capsys, "train", cfg, "--out", run, "--device", "cpu")
    monkeypatch.undo()
    capsys.readouterr()
    np.savez(data, x_train=rng.random((60, 3)), y_train=y, x_test=rng.random((30, 3)),
             y_test=y[:30])  # fmt: skip
    code, _, err = run_cli(monkeypatch, capsys, "resume", run, "--device", "cpu")
    assert code == 2 and "changed since it trained" in err and data.name in err, err
