"""Review of early stopping, NaN/Inf flagging and the summary/report of stopped models: what
still fails.

Checked and fine (no test here): the NaN step of a diverging model (SGD lr 1e11 … 1e20, init std
1e30) equals the first step at which a hand-written torch loop's loss or gradient norm is
non-finite, alone and as one of K=6 (stacked, vmap and loop engines); the other models end with
their alone weights and metrics to float rounding in all three engines; a finite loss with an
infinite gradient (sqrt at 0) is flagged at step 0; early-stopped models stop at the same step
alone and in a population (val_loss and val_acc, stacked and vmap); a run killed between a
model's early stop and the end (checkpoint_every 2) resumes bitwise to the uninterrupted run;
an unknown early_stopping_metric, patience 0 or a min_delta key are one-line config errors.
"""

from __future__ import annotations

import dataclasses
import math
import re

import pytest

from conftest import small_config
from trainlab.errors import UserError
from trainlab.train import Trainer, load_dataset, train


# -- a run whose every model diverges at step 0 -------------------------------------------------
def test_report_of_a_run_whose_models_all_diverged_at_step_0_keeps_its_test_split(tmp_path):
    """Every model of a run with the default split (``data.test_fraction`` 0.2) turns NaN at its
    first step (init N(0, 1e30²)); the run finishes, names the models, and writes its report.
    The report must describe the run as it is: it has a test split, so it must not claim "The
    run has no test split (data.test_fraction 0)" and switch its group table to validation
    columns, which is what ``tables.has_test_split`` does when no model has a finite test
    number. A user who reads that sentence goes looking for a configuration mistake that is not
    there; the CLI's own summary table (``summary_table``) keeps the test columns for the same
    run, so the two disagree."""
    from trainlab.report import build_report

    cfg = small_config(
        init={"scheme": "normal", "std": 1e30},
        train={"epochs": 2},
        population={"seeds": [0, 1, 2]},
    )
    assert cfg.data.test_fraction > 0
    out = tmp_path / "run"
    result = train(cfg, out=out, progress=False, device="cpu")
    assert [m["status"] for m in result.summary["models"]] == ["nan"] * 3
    assert [m["step"] for m in result.summary["nan_models"]] == [0, 0, 0]
    text = re.sub(r"<[^>]+>", " ", build_report(out).read_text())
    assert "no test split" not in text, "the report says the run has no test split"
    assert "test_acc mean" in text, "the group table shows validation columns, not test ones"


# -- NaN/Inf in the input data: a data error, not a diverging model -----------------------------
@pytest.mark.parametrize("split", ["x_train", "x_val", "x_test"])
def test_nan_in_a_given_datasets_inputs_is_a_clear_error_before_training(split):
    """DESIGN.md principle 6 and the data module's promise: inputs are checked for finite values,
    and NaN/Inf stops a *model* only when training made it. ``trainlab.data.load`` does check
    (one line, before training), but a :class:`trainlab.data.Dataset` handed to ``train`` /
    ``Trainer`` (the documented ``dataset=`` argument) is used unchecked: a NaN in one training
    sample makes every model "stop for NaN/Inf" at whichever step its batch first meets that
    sample (the summary then blames the models and suggests lowering the lr), and an Inf in the
    validation split makes every model's val_loss NaN, so with early stopping they all
    "early-stop" after the first epoch with no word about the data. The trainer must refuse such
    a dataset with a UserError naming the NaN/Inf, before any step."""
    cfg = small_config(
        train={"epochs": 2, "early_stopping_patience": 1}, population={"seeds": [0, 1, 2]}
    )
    ds = load_dataset(cfg)
    x = getattr(ds, split).clone()
    x[3] = math.nan if split == "x_train" else math.inf
    bad = dataclasses.replace(ds, **{split: x})
    with pytest.raises(UserError, match=r"NaN|Inf"):
        trainer = Trainer(cfg, device="cpu", dataset=bad)
        summary = trainer.fit(None, progress=False)
        pytest.fail(
            "trained on data holding NaN/Inf; statuses "
            f"{[(m['status'], m['stopped_step']) for m in summary['models']]}"
        )
