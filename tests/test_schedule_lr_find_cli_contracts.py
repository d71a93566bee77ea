"""Review (schedcli) of ``trainlab schedule --plot`` / ``trainlab lr-find``: defects found."""

from __future__ import annotations

import pytest
import torch

from conftest import assert_user_error, config_file, run_cli

SMALL = """
name: review
data: {name: digits}
model: {name: mlp, hidden: [16]}
optim: {name: sgd, lr: 0.1}
train: {epochs: 1, batch_size: 200}
population: {seeds: [0]}
"""


@pytest.fixture
def small(tmp_path):
    return config_file(tmp_path, SMALL)


def test_lr_sweep_does_not_pair_a_per_model_optim_list_with_the_lr_slots(small):
    # lr_sweep keeps optim.momentum=[0.9, 0.0] while replacing the population by the LR grid,
    # so LR i silently trains with momentum i; it must refuse the list or use one momentum for all.
    from trainlab.config import load_config
    from trainlab.errors import UserError
    from trainlab.optim.lr_find import lr_sweep

    lrs = [0.01, 0.3]

    def sweep(mom: str) -> list[float]:
        cfg = load_config(small, [f"optim.momentum={mom}", "train.batch_size=600"])
        return lr_sweep(cfg, lrs, device="cpu").train_loss

    try:
        mixed = sweep("[0.9, 0.0]")
    except UserError:  # (ConfigError is a UserError) refused: fine
        return
    assert mixed in (sweep("0.9"), sweep("0.0")), (
        f"lr-find --population paired momentum [0.9, 0.0] with lrs {lrs}: {mixed}"
    )


@pytest.mark.parametrize(
    "cmd", [["schedule", "--plot"], ["lr-find", "--steps", "5", "--device", "cpu"]]
)
def test_an_existing_out_file_is_not_overwritten_silently(
    monkeypatch, capsys, tmp_path, small, cmd
):
    # _png never checks whether --out exists: a user's figure (plot.pdf) is replaced without a
    # word; it must be refused with one line (exit 2) or the plot written under a new name.
    target = tmp_path / "plot.pdf"
    target.write_bytes(b"my own figure")
    code, _, err = run_cli(monkeypatch, capsys, cmd[0], small, *cmd[1:], "--out", target)
    assert target.read_bytes() == b"my own figure", f"{cmd[0]} overwrote {target}"
    if code != 0:
        assert_user_error(code, err)


def test_one_cycle_refuses_a_div_factor_that_makes_the_lr_nan():
    # div_factor=1e-320 passes the (0, inf) check but base/div overflows to inf and the curve is
    # NaN everywhere (`trainlab schedule` prints nan, exit 0); non-finite LRs must be refused.
    from trainlab.errors import ConfigError
    from trainlab.optim import create_schedule

    try:
        sched = create_schedule(
            "one_cycle", torch.tensor([0.1], dtype=torch.float64), total_steps=10,
            steps_per_epoch=10, div_factor=1e-320,
        )  # fmt: skip
    except ConfigError:
        return
    assert torch.isfinite(sched.curve()).all(), sched.curve().flatten().tolist()


def test_a_schedule_range_error_does_not_contradict_itself():
    # t_max=inf is refused with "must lie in (0.0, inf], got inf" (the bracket says inf is
    # allowed), and a NaN in a per-model list prints "tensor([0.1000, nan], dtype=...)";
    # the message must state a range that excludes the value and show the value as given.
    from trainlab.errors import ConfigError
    from trainlab.optim import create_schedule

    base = torch.tensor([0.1, 0.1], dtype=torch.float64)
    with pytest.raises(ConfigError) as inf_err:
        create_schedule("cosine", base, total_steps=10, steps_per_epoch=10, t_max=float("inf"))
    with pytest.raises(ConfigError) as nan_err:
        create_schedule("step", base, total_steps=10, steps_per_epoch=10, step_size=1,
                        gamma=[0.1, float("nan")])  # fmt: skip
    assert "inf]" not in str(inf_err.value), str(inf_err.value)
    assert "tensor(" not in str(nan_err.value), str(nan_err.value)
