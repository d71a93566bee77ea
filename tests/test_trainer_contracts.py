"""The trainer: one-sample batches with batch norm (refused in one line, or evaluated in a
larger chunk), and an early-stopped model keeps its status."""

from __future__ import annotations

import pytest
import torch

from conftest import batch_stats_net, run_cli, small_config
from trainlab.train import Trainer, train


def _n_train() -> int:
    return int(Trainer(small_config(), device="cpu").data.x_train.shape[0])


def _batch_leaving_one(n: int) -> int:
    """The largest batch size below n/2 whose last batch of an epoch holds one sample."""
    return next(b for b in range(n // 2, 1, -1) if n % b == 1)


def test_a_last_training_batch_of_one_sample_does_not_crash_a_batch_norm_run(
    monkeypatch, capsys, tmp_path
):
    """`trainlab train` of a batch-norm MLP whose training split is not a multiple of the batch
    size must train (or refuse with one clear line and exit 2). The trainer cuts each epoch's
    permutation into batches itself (no DataLoader, no ``drop_last``), so when
    ``n_train % batch_size == 1`` the last step of every epoch gathers one sample; the stacked
    batch norm then raises torch's ``ValueError: Expected more than 1 value per channel`` and
    the CLI prints a traceback, leaving a half-made run directory. Whether this happens depends
    only on the data size (any ``.npz``/IDX file of the user's), not on anything the user did
    wrong: a config that trains with batch 64 crashes with batch 431 on digits."""
    n = _n_train()
    batch = _batch_leaving_one(n)
    path = tmp_path / "bn.yaml"
    path.write_text(
        "name: bn\n"
        "model: {name: mlp, hidden: [16], batch_norm: true}\n"
        "optim: {name: adam, lr: 0.01}\n"
        f"train: {{epochs: 1, batch_size: {batch}}}\n"
        "population: {seeds: [0]}\n"
    )
    try:
        code, _, err = run_cli(
            monkeypatch,
            capsys,
            "train",
            path,
            "--out",
            tmp_path / "run",
            "--device",
            "cpu",
            "--no-report",
        )
    except Exception as exc:  # noqa: BLE001 - the bug: an exception escapes main()
        raise AssertionError(
            f"n_train={n}, batch_size={batch}: `trainlab train` raised {type(exc).__name__}: {exc}"
        ) from None
    assert code == 0 or (code == 2 and "Traceback" not in err and len(err.splitlines()) <= 2)


def test_evaluation_chunks_never_leave_one_sample_for_batch_statistics_models():
    """A user module whose batch norm keeps no running statistics
    (``track_running_stats=False``) normalizes evaluation batches with their own statistics;
    the trainer knows this (``_eval_uses_batch_stats``) and evaluates it in chunks of
    ``train.eval_batch_size``. When a split's size is one more than a multiple of that chunk,
    the last chunk holds one sample and the batch norm raises ``ValueError: Expected more than
    1 value per channel`` at the end of the first epoch, after all the training. ``eval_batch_size``
    is documented as a setting that does not touch the models (README, RESUME_MAY_CHANGE); it
    must never make a run crash. (The default 4096 crashes on a 4097-sample split.)"""
    n_val = int(Trainer(small_config(), device="cpu").data.x_val.shape[0])
    torch.manual_seed(0)
    net = batch_stats_net()
    cfg = small_config(init={"scheme": "keep"}, train={"epochs": 1, "eval_batch_size": n_val - 1})
    result = train(cfg, model=net, write=False, progress=False, device="cpu")
    final = result.summary["models"][0]["final"]
    assert final["val_loss"] == final["val_loss"] and final["test_loss"] == final["test_loss"]


def test_an_early_stopped_model_is_never_relabelled_as_failed():
    """A model stopped early keeps computing forwards beside the others (its weights frozen);
    should its loss become non-finite on a later batch, it must keep its early-stopped status
    (trained alone, its run would have ended at the stop): the NaN flag is for models that
    were still training. It was relabelled NaN and dropped from the aggregates."""
    t = Trainer(
        small_config(population={"seeds": [0, 1]}, train={"early_stopping_patience": 1}),
        device="cpu",
    )
    t.stopped_step[0] = t.step
    t.active = torch.tensor([False, True])
    with torch.no_grad():
        for p in t.pop.parameters():
            p[0].fill_(float("inf"))  # model 0's forward now gives a non-finite loss
    before = t.nan_step.clone()
    t.step_on(torch.arange(32).expand(2, 32))
    assert t.alive.tolist() == [True, True]
    assert torch.equal(t.nan_step, before)


def test_metrics_lr_rows_match_the_epochs_rates(tmp_path):
    """``metrics.jsonl``'s ``lr`` of epoch e must be a rate epoch e used (its last step's): with
    a step decay of 0.1 per epoch from 0.1, epochs 1-3 train at 0.1, 0.01, 0.001. The rows
    showed the *next* epoch's first rate (0.01, 0.001, 1e-4), shifted by one."""
    import json

    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        schedule={"name": "step", "step_size": 1, "gamma": 0.1},
        train={"epochs": 3},
    )
    train(cfg, out=tmp_path / "run", progress=False, device="cpu")
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    got = [json.loads(x)["lr"] for x in lines if json.loads(x).get("model") == 0]
    assert got == pytest.approx([0.1, 0.01, 0.001], rel=1e-6)


def test_a_run_directory_records_the_software_versions(tmp_path):
    """DESIGN.md principle 5: a run is reproducible from its directory, versions included:
    population.json names trainlab, torch, numpy, Python, the platform and the device."""
    import json

    import trainlab

    train(small_config(train={"epochs": 1}), out=tmp_path / "r", progress=False, device="cpu")
    v = json.loads((tmp_path / "r" / "population.json").read_text())["versions"]
    assert v["trainlab"] == trainlab.__version__ and v["torch"] == torch.__version__
    assert {"numpy", "python", "platform"} <= set(v) and v["device"] == "cpu"


def test_evaluation_loss_does_not_depend_on_the_chunk_size():
    """The evaluation chunk shrinks as K grows; each chunk's per-sample losses were summed in
    float32 before the float64 total, so a model's val_loss moved by ~1e-7 relative with K
    (early stopping compares it). Summed in float64, chunks of 64 and one chunk agree (a chunk
    as small as 7 can still pick other matrix kernels: ~1e-8)."""
    from conftest import small_config
    from trainlab.train import Trainer

    losses = []
    for size in (64, 4096):
        cfg = small_config(
            train={"epochs": 1, "eval_batch_size": size}, population={"seeds": [0, 1]}
        )
        losses.append(Trainer(cfg, device="cpu").evaluate("val")[0])
    torch.testing.assert_close(losses[0], losses[1], rtol=2e-8, atol=0)


def test_the_progress_line_of_a_run_without_validation_split_shows_training_accuracy():
    """With data.val_fraction 0 the per-epoch line said ``val_acc nan``; it shows train_acc."""
    from conftest import small_config
    from trainlab.train import Trainer

    cfg = small_config(data={"val_fraction": 0.0}, train={"epochs": 1})
    trainer = Trainer(cfg, device="cpu")
    line = trainer.progress_line(trainer.train_epoch())
    assert line.startswith("train_acc ") and "nan" not in line, line
