"""Review of `trainlab report` / report.html (reviewer report34)."""

from __future__ import annotations

import json
from pathlib import Path

from trainlab.report import build_report
from trainlab.report.rundata import read_run
from trainlab.report.tables import diagnostics_table


def _killed_run(path: Path) -> None:
    """A run of 2 healthy models (one group), killed by ``kill -9`` while diagnostics.jsonl
    was being appended: its last line (model 1's record of step 10) is half-written."""
    path.mkdir()
    pop = {
        "k": 2,
        "models": [{"index": i, "seed": i, "overrides": {}, "group": "default"} for i in range(2)],
    }
    (path / "population.json").write_text(json.dumps(pop))
    rows = [
        {"model": m, "epoch": 1, "step": 10, "train_loss": 1.0 + m, "train_acc": 0.5,
         "val_loss": 1.1, "val_acc": 0.5, "test_loss": 1.2, "test_acc": 0.5,
         "lr": 0.1, "grad_norm": 0.3}
        for m in range(2)
    ]  # fmt: skip
    (path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    recs = [
        {"model": m, "layer": "fc1", "step": s, "act_mean": 0.1, "act_std": 1.0 + m,
         "grad_norm": 0.2, "update_ratio": 1e-3}
        for s in (0, 5, 10)
        for m in range(2)
    ]  # fmt: skip
    text = "".join(json.dumps(r) + "\n" for r in recs)
    (path / "diagnostics.jsonl").write_text(text[: len(text) - 30])  # cut mid-line


# The per-layer diagnostics table (src/trainlab/report/tables.py, diagnostics_table) calls
# every model whose latest record is older than its group's latest step "stopped: NaN/Inf"
# (`stopped = [r for r in recs if r["step"] != top]`), without looking at the model's status.
# A killed run's half-written last diagnostics line (which read_jsonl drops on purpose, "the
# normal state of a killed run") leaves a healthy model (status "incomplete", finite loss)
# without its last record, and the report then says it was stopped for NaN/Inf, which
# neither metrics.jsonl nor the Models table says. Only models whose status is "nan" may be
# labelled so.
def test_diagnostics_table_does_not_call_a_healthy_model_nan_stopped(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    _killed_run(run_dir)
    run = read_run(run_dir)
    assert all(r["status"] != "nan" for r in run.model_results())
    cols, rows = diagnostics_table(run)
    cell = rows[0][cols.index("models")]
    assert "NaN" not in str(cell), cell
    html = build_report(run_dir).read_text()
    assert "stopped: NaN/Inf" not in html


# A finished run (summary.json written last) whose diagnostics.jsonl ends in a half-written
# line was reported silently without the lost record, while a finished run's truncated
# metrics.jsonl is refused as damaged; the diagnostics file gets the same check.
def test_finished_run_with_half_written_diagnostics_is_refused(tmp_path: Path) -> None:
    import pytest

    import trainlab
    from conftest import small_config
    from trainlab.errors import UserError
    from trainlab.report.rundata import read_run

    out = tmp_path / "run"
    cfg = small_config(train={"epochs": 1, "batch_size": 512, "diagnose_every": 1})
    trainlab.train(cfg, out=out, device="cpu", progress=False)
    read_run(out)  # whole: fine
    diag = out / "diagnostics.jsonl"
    diag.write_bytes(diag.read_bytes()[:-40])
    with pytest.raises(UserError, match="diagnostics.jsonl ends in a half-written line"):
        read_run(out)
    (out / "summary.json").unlink()  # a killed run: its lost last line is normal
    read_run(out)
