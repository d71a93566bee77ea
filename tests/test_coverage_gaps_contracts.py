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


def _save_features(path, n_features: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = np.arange(60) % 3
    np.savez(path, x_train=rng.random((60, n_features)), y_train=y,
             x_test=rng.random((30, n_features)), y_test=y[:30])  # fmt: skip


def _killed_npz_run(monkeypatch, capsys, tmp_path):
    """A run on ``feats.npz`` (3 features), killed after its first checkpoint: (file, run)."""
    data = tmp_path / "feats.npz"
    _save_features(data, 3, seed=0)
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
    return data, run


def test_resume_after_the_data_file_changed_names_the_data_not_config_yaml(
    monkeypatch, capsys, tmp_path
):
    """``trainlab resume`` of a run trained on a file (``data.name: npz``,
    ``data.options.path``) whose file was replaced since (here with 4 features instead of 3)
    reached the ``load_state_dict`` failure branch of ``train.resume``, which told the user
    "restore the run's config.yaml". But config.yaml is untouched: following that advice cannot
    help. The one-line error must name the data file that no longer matches (as ``resume``
    already does for a dataset passed from Python)."""
    data, run = _killed_npz_run(monkeypatch, capsys, tmp_path)
    _save_features(data, 4, seed=1)
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
    data, run = _killed_npz_run(monkeypatch, capsys, tmp_path)
    _save_features(data, 3, seed=1)
    code, _, err = run_cli(monkeypatch, capsys, "resume", run, "--device", "cpu")
    assert code == 2 and "changed since it trained" in err and data.name in err, err
