"""Review stop29: early stopping, NaN/Inf stops inside a population, summary.json, --seeds."""

import pytest

from trainlab.config import parse_config
from trainlab.report.rundata import read_run
from trainlab.report.tables import model_table, nan_flags
from trainlab.train import Trainer, train


# A killed run's report (no summary.json yet) labels a NaN/Inf-stopped model in its per-model
# table as "nan (step 13)": 13 is only the step count at the end of the epoch in which the model
# failed (metrics.jsonl records no failing step), while the model really stopped at step 1 (the
# finished summary.json says stopped_step 1). nan_flags() of the same report knows this and says
# "by step 13"; the model table states a wrong step as exact. Expected: the table does not give
# the epoch's end step as the stop step (e.g. "nan (by step 13)", as nan_flags words it).
def test_killed_run_model_table_does_not_state_the_epoch_end_as_the_nan_step(tmp_path, monkeypatch):
    cfg = parse_config(
        {
            "data": {"name": "digits"},
            "model": {"name": "mlp", "hidden": [8]},
            "optim": {"name": "sgd", "lr": 0.1},
            "train": {"epochs": 3, "batch_size": 100},
            "population": {"seeds": [0], "grid": {"optim.lr": [0.1, 1e30]}},
        }
    )
    orig = Trainer.train_epoch
    calls = [0]

    def killed_after_one_epoch(self, *a, **k):
        calls[0] += 1
        if calls[0] > 1:
            raise KeyboardInterrupt
        return orig(self, *a, **k)

    monkeypatch.setattr(Trainer, "train_epoch", killed_after_one_epoch)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(cfg, out=out, progress=False)
    run = read_run(out)
    assert run.summary is None  # a killed run: the report replays metrics.jsonl
    results = {r["index"]: r for r in run.model_results()}
    assert results[1]["status"] == "nan"
    epoch_end = results[1]["stopped_step"]  # the failing epoch's last step, not the failing step
    assert any(f"by step {epoch_end}" in line for line in nan_flags(run))
    columns, rows = model_table(run)
    status = rows[1][columns.index("status")]
    assert f"(step {epoch_end})" not in status, status
