"""readme18: the README walked top to bottom against what the code does."""

from __future__ import annotations

import pytest

from conftest import config_file, run_cli

CFG = (
    "data: {name: digits}\nmodel: {name: mlp, hidden: [8]}\noptim: {name: sgd, lr: 0.1}\n"
    "train: {epochs: 1, batch_size: 200}\npopulation: {seeds: [0]}\n"
)


def test_lr_find_population_honours_or_refuses_set_train_epochs(tmp_path, monkeypatch, capsys):
    # wrong: `lr-find --population N --set train.epochs=2` silently trains 1 epoch (the --epochs
    # default), as --epochs without --population did before it was refused; right: --set
    # train.epochs is the default of --epochs (as `trainlab diagnose` does) or it is refused
    import importlib

    from trainlab.errors import UserError

    lf = importlib.import_module("trainlab.optim.lr_find")  # (trainlab.optim.lr_find: a function)
    called: list[int] = []

    def fake_sweep(cfg, lrs, *, epochs=1, **kw):
        called.append(epochs)
        raise UserError("stop here (test)")

    monkeypatch.setattr(lf, "lr_sweep", fake_sweep)
    cfg = config_file(tmp_path, CFG)
    code, _, err = run_cli(
        monkeypatch, capsys, "lr-find", cfg, "--population", "2", "--set", "train.epochs=2",
        "--out", tmp_path / "lf.png", "--device", "cpu",
    )  # fmt: skip
    assert called == [2] or (not called and code == 2), (called, code, err)


def test_a_per_model_list_in_optim_is_refused_or_recorded_as_overrides():
    # wrong: `optim: {momentum: [0.9, 0.0]}` (README names "`optim` lists" as per-model values)
    # trains model i with element i, by slot: seed 1 gets another momentum in slot 0 than in
    # slot 1, population.json/summary.json record overrides {} and one "default" group mixes
    # both values; right: refused with a hint to population.grid/variants, or recorded per model
    from trainlab.config import parse_config
    from trainlab.errors import UserError
    from trainlab.train import train

    cfg = {
        "data": {"name": "blobs", "options": {"n_samples": 200}},
        "model": {"name": "mlp", "hidden": [8]},
        "optim": {"name": "sgd", "lr": 0.1, "momentum": [0.9, 0.0]},
        "train": {"epochs": 1, "batch_size": 200},
        "population": {"seeds": [0, 1]},
    }
    try:
        res = train(parse_config(cfg), write=False, progress=False)
    except UserError:
        return  # refused: fine
    assert [m.overrides.get("optim.momentum") for m in res.members] == [0.9, 0.0], [
        m.overrides for m in res.members
    ]
    assert len(res.summary["groups"]) == 2, [g["group"] for g in res.summary["groups"]]


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
