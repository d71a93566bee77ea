"""Review mix30: early stopping + grid + schedule + resume used together."""

from __future__ import annotations

from conftest import small_config
from trainlab.train import resume, train


# A run whose every model early-stopped before train.epochs is complete, and `trainlab resume`
# of it says "nothing to train: ... to train it longer raise train.epochs in its config.yaml,
# then `trainlab resume ...`". Following that advice trains nothing: stopped models stay
# stopped, and the resume then says "every model has stopped ..., so nothing is trained".
# The hint must not offer raising train.epochs when no model is left to train (it should say
# every model stopped, early stopping or NaN/Inf, so a longer run needs a new `trainlab train`).
def test_resume_of_a_run_whose_models_all_stopped_early_does_not_advise_raising_epochs(tmp_path):
    cfg = small_config(
        optim={"name": "adam", "lr": 1e-7},  # val_acc never improves: both stop at epoch 2
        train={
            "epochs": 6,
            "batch_size": 200,
            "early_stopping_patience": 1,
            "early_stopping_metric": "val_acc",
        },
        population={"seeds": [0, 1]},
    )
    out = tmp_path / "run"
    result = train(cfg, out=out, progress=False, device="cpu")
    assert result.summary["epochs"] < 6
    assert {m["status"] for m in result.summary["models"]} == {"early_stopped"}
    notes: list[str] = []
    resume(out, progress=False, device="cpu", on_note=notes.append)
    assert notes, "resume of a complete run says there is nothing to train"
    assert not any("raise train.epochs" in n for n in notes), notes


# the same run with train.epochs raised: the note says nothing is trained, and leaves out the
# schedule's new length (no learning rate of it is ever used)
def test_resume_with_more_epochs_of_a_run_whose_models_all_stopped_says_nothing_trains(tmp_path):
    import yaml

    cfg = small_config(
        optim={"name": "adam", "lr": 1e-7},
        schedule={"name": "cosine"},
        train={"epochs": 6, "batch_size": 200, "early_stopping_patience": 1,
               "early_stopping_metric": "val_acc"},
        population={"seeds": [0, 1]},
    )  # fmt: skip
    out = tmp_path / "run"
    train(cfg, out=out, progress=False, device="cpu")
    raw = yaml.safe_load((out / "config.yaml").read_text())
    raw["train"]["epochs"] = 8
    (out / "config.yaml").write_text(yaml.safe_dump(raw))
    notes: list[str] = []
    resume(out, progress=False, device="cpu", on_note=notes.append)
    (note,) = notes
    assert "train.epochs changed from 6 to 8" in note and "nothing is trained" in note, note
    assert "schedule spans the new length" not in note, note
