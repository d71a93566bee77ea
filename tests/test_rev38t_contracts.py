"""Review rev38t: `trainlab train --diagnose` / `trainlab report` diagnostics section."""

from __future__ import annotations

import json
import re
from pathlib import Path

CONFIG = """\
name: rev38t-nan
data:
  name: digits
model:
  name: mlp
  hidden: [16, 16]
  activation: relu
optim:
  name: sgd
train:
  epochs: 1
  batch_size: 256
  diagnose_every: 50
population:
  seeds: [0]
  grid:
    optim.lr: [0.1, 1.0e+12]
"""


def _verdict_table(html_text: str) -> str:
    i = html_text.find("Health verdict")
    j = html_text.find("</table>", i)
    return re.sub(r"<[^>]+>", " ", html_text[i:j])


def test_killed_run_verdict_does_not_claim_epoch_end_as_nan_stop_step(tmp_path: Path) -> None:
    """A killed --diagnose run (no summary.json yet) whose model was stopped for NaN/Inf at
    step 1 of epoch 1 (steps 0..5; metrics.jsonl's row for that epoch says step 6, the steps
    done) gets a report whose Health verdict says "stopped by the trainer at step 6" — a
    step that never ran for that epoch and is not the stop (the finished run's summary.json
    says stopped_step 1).  The "Models stopped for NaN/Inf" section hedges it correctly ("by
    step 6"), the verdict states it as fact.  Expected: the verdict does not claim the stop
    was *at* the epoch's end step (say "by step 6", or the true step); got "at step 6"."""
    from trainlab.report import build_report
    from trainlab.train import train

    cfg = tmp_path / "c.yaml"
    cfg.write_text(CONFIG)
    out = tmp_path / "run"
    train(str(cfg), out=out, device="cpu", progress=False)
    summary = json.loads((out / "summary.json").read_text())
    stops = {m["index"]: m["stopped_step"] for m in summary["models"] if m["status"] == "nan"}
    assert stops == {1: 1}, stops  # the setup: model 1 stopped at step 1
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    epoch_end = max(r["step"] for r in rows if r["model"] == 1)
    assert epoch_end > 1
    # a kill before summary.json was written (the 1-epoch run's last moment)
    for name in ("summary.json", "verdict.json", "report.html"):
        (out / name).unlink(missing_ok=True)
    table = _verdict_table(build_report(out).read_text())
    assert "stopped by the trainer" in table  # the NaN stop is named
    assert f"stopped by the trainer at step {epoch_end}" not in table, table
    assert f"stopped by the trainer by step {epoch_end}" in " ".join(table.split()), table
