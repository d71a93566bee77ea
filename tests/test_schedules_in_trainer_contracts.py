"""Review: learning-rate schedules as the trainer applies them (per model, per step), the
population's groups when a schedule parameter is given per model, and the note resume gives
when ``train.epochs`` is raised."""

from __future__ import annotations

import torch
import yaml

from conftest import small_config
from trainlab.optim import create_schedule
from trainlab.train import Trainer, resume, train

F64 = torch.float64


def _spy_lrs(trainer: Trainer) -> list[tuple[int, torch.Tensor]]:
    """``(step, lr (K,))`` of every optimizer step, as the optimizer received it."""
    seen: list[tuple[int, torch.Tensor]] = []
    step = trainer.optimizer.step

    def spy(*args, **kwargs):
        lr = trainer.optimizer.param_groups[0]["lr"]
        seen.append((trainer.step, torch.as_tensor(lr).detach().clone()))
        return step(*args, **kwargs)

    trainer.optimizer.step = spy
    return seen


def test_the_lr_each_step_uses_is_the_schedule_in_float64_not_rounded_to_float32():
    """Every optimizer step of every model must use the schedule's value at that step with the
    model's own base lr, as ``torch.optim`` would: a Python float (float64). trainlab promises
    exactly this for its hyperparameters (``trainlab.optim.base``: per-model values are kept in
    float64, "as torch.optim keeps its scalars in Python floats", so that ``η / (1 − β₁ᵗ)`` is
    rounded once and "float32 runs round like torch.optim"; a test already guards β₂ against
    a float32 detour). But the trainer builds ``base_lr`` as a float32 tensor and the schedule
    returns float32, so an lr of 0.01 reaches the optimizer as 0.009999999776, every step of
    every model, first to last (relative error up to 6e-8): the lr is double-rounded, the
    trajectory is not torch's, and a float64 run trains at a float32 lr."""
    cfg = small_config(
        optim={"name": "adam", "lr": 0.01},
        schedule={"name": "cosine", "warmup_steps": 3, "eta_min": [0.0, 1e-4]},
        train={"epochs": 2, "batch_size": 256},
        population={"seeds": [0], "grid": {"optim.lr": [0.01, 0.003]}},
    )
    trainer = Trainer(cfg, device="cpu")
    seen = _spy_lrs(trainer)
    trainer.fit(None, progress=False)
    spe = trainer.steps_per_epoch
    assert [s for s, _ in seen] == list(range(2 * spe))
    ref = create_schedule(
        "cosine", torch.tensor([0.01, 0.003], dtype=F64), total_steps=2 * spe,
        steps_per_epoch=spe, warmup_steps=3, eta_min=torch.tensor([0.0, 1e-4], dtype=F64),
    )  # fmt: skip
    for step, lr in seen:
        torch.testing.assert_close(
            lr.to(F64), ref(step), rtol=1e-12, atol=0, msg=lambda m, s=step: f"step {s}: {m}"
        )


def test_models_with_different_per_model_schedule_values_are_not_pooled_as_seeds():
    """A schedule parameter may be given per model (``gamma: [1.0, 1.0, 0.01, 0.01]``, one per
    model; issue 5's "schedules with per-model parameters"). Models 0-1 then train at a
    constant lr and models 2-3 at an lr decayed 100× per epoch: they differ by more than their
    seed. ``Member.group`` promises "Models that differ only by seed share a group", and the
    summary's groups/aggregates (and the report's bands) are "mean, std and the 95% confidence
    interval over seeds". The per-model schedule value is recorded nowhere in the members'
    overrides, so all four land in one group 'default' and the CI mixes two different
    schedules as if they were seeds of one configuration: a user's comparison of the two
    schedules is silently averaged away."""
    cfg = small_config(
        optim={"name": "sgd", "lr": 0.1},
        schedule={"name": "step", "step_size": 1, "gamma": [1.0, 1.0, 0.01, 0.01]},
        train={"epochs": 2, "batch_size": 256},
        population={"seeds": [0, 1, 2, 3]},
    )
    result = train(cfg, write=False, progress=False, device="cpu")
    models = result.summary["models"]
    constant = {m["group"] for m in models[:2]}
    decayed = {m["group"] for m in models[2:]}
    assert not constant & decayed, (
        f"models with gamma 1.0 and 0.01 share group(s) {constant & decayed}: "
        f"{[(g['group'], g['n']) for g in result.summary['groups']]}"
    )


def test_training_longer_does_not_claim_a_per_model_step_decay_changes_its_rates(tmp_path):
    """Raising ``train.epochs`` at resume is reported with a note that says the schedule "spans
    the new length, so its learning rates from here on differ" only when that is true (README;
    ``resume``'s docstring; an existing test checks a shared step decay is not accused). A
    per-epoch step decay does not depend on the run's length whether its gamma is shared or
    given per model, but ``_schedule_depends_on_length`` probes the schedule with a single
    base lr, fails on the (K,) per-model gamma, and then assumes the worst: the user is told
    the resumed run's learning rates changed when they did not."""
    out = tmp_path / "run"
    cfg = small_config(
        schedule={"name": "step", "step_size": 1, "gamma": [0.5, 0.9]},
        train={"epochs": 1, "batch_size": 256},
        population={"seeds": [0, 1]},
    )
    train(cfg, out=out, progress=False, device="cpu")
    edited = yaml.safe_load((out / "config.yaml").read_text())
    edited["train"]["epochs"] = 2
    (out / "config.yaml").write_text(yaml.safe_dump(edited))
    notes: list[str] = []
    resume(out, progress=False, device="cpu", on_note=notes.append)
    assert len(notes) == 1, notes
    assert "schedule" not in notes[0], notes[0]
