"""Review (sched31): learning-rate schedules, per model, in the trainer, the CLI and the docs.

Each test fails on the code as reviewed and asserts the behaviour a user should get."""

from __future__ import annotations

from conftest import small_config


# wrong: `trainlab diagnose CONFIG` ("trains CONFIG briefly") shortened train.epochs to 3 and then
# built the config's schedule over those 3 epochs, so a config whose linear warmup is longer
# than 3 epochs' steps (a valid config: `trainlab train` and `trainlab schedule` accept it) was
# refused with "warmup_steps (100) must be smaller than the run's total steps (18)", an error
# about the user's schedule that names neither diagnose nor its --epochs (and a cosine was
# squeezed into the 3 epochs, so its last sampled updates read "too small"). right: diagnose
# trains the first epochs of the config's own schedule: 18 of the 100 warmup steps.
def test_diagnose_does_not_refuse_a_warmup_longer_than_its_short_training(tmp_path):
    import json

    import pytest

    from trainlab.cli.optim import schedule_curves
    from trainlab.diagnostics.run import diagnose

    cfg = small_config(
        schedule={"name": "cosine", "warmup_steps": 100},
        train={"epochs": 30, "batch_size": 256},
    )
    res = diagnose(cfg, out=tmp_path / "d", progress=False, report=False, device="cpu")
    rows = [json.loads(x) for x in (res.run_dir / "metrics.jsonl").read_text().splitlines()]
    _, _, curve, spe = schedule_curves(cfg)  # the config's own 30 epochs
    assert spe == 6 and [r["epoch"] for r in rows] == [1, 2, 3]
    assert rows[-1]["lr"] == pytest.approx(float(curve[3 * spe - 1, 0]), rel=1e-12)
    assert rows[-1]["lr"] < 0.01 * 0.2  # still warming up


# wrong: the `cyclic` schedule is documented as torch's CyclicLR "per step" (its docstring and
# registry line), and the README says only of `one_cycle` that momentum/β₁ are not cycled. But
# torch's CyclicLR cycles momentum by default too (cycle_momentum=True: 0.9 at the base lr down
# to 0.8 at max_lr, even for an SGD given momentum 0), while trainlab's cyclic moves the lr
# only. A user comparing with torch's defaults gets other momenta with no word of it. right:
# the docs say, for cyclic as for one_cycle, that momentum is not cycled (torch's
# cycle_momentum=False).
def test_cyclic_docs_say_that_momentum_is_not_cycled_unlike_torch_default():
    import torch
    from torch.optim import lr_scheduler

    from trainlab.optim import schedules

    # torch's default does cycle momentum (the premise of the finding)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    sched = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["momentum"] < 0.9

    doc = schedules._cyclic.__doc__ or ""
    described = dict(schedules.list_schedules())["cyclic"]
    assert "momentum" in doc or "momentum" in described, doc


# train.schedule_epochs (what diagnose sets): a run of 3 epochs over a 12-epoch schedule, then
# train.epochs raised to 12 and resumed, is the 12-epoch run, bitwise on the CPU; a span
# shorter than the training is refused in one line.
def test_schedule_epochs_short_run_resumes_into_the_full_run(tmp_path):
    import pytest
    import torch
    import yaml

    from trainlab.errors import ConfigError
    from trainlab.train import resume, train

    sched = {"name": "cosine", "warmup_steps": 20}
    full = train(
        small_config(schedule=sched, train={"epochs": 12, "batch_size": 256}),
        out=tmp_path / "full",
        progress=False,
    )
    cut = small_config(
        schedule=sched, train={"epochs": 3, "batch_size": 256, "schedule_epochs": 12}
    )
    part = train(cut, out=tmp_path / "part", progress=False)
    path = part.run_dir / "config.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["train"]["epochs"] = 12
    path.write_text(yaml.safe_dump(raw))
    done = resume(part.run_dir, progress=False)
    a, b = full.population.state_dict(), done.population.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(
        ConfigError, match="train.schedule_epochs \\(2\\) is less than train.epochs"
    ):
        train(
            small_config(train={"epochs": 3, "schedule_epochs": 2}),
            out=tmp_path / "x",
            progress=False,
        )
    assert not (tmp_path / "x").exists()
