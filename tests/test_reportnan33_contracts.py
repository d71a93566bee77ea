"""Review of trainlab.report (reportnan33): runs with NaN-stopped models and diagnostics."""

from __future__ import annotations

from conftest import nan_run_folder
from trainlab.report import tables


# tables.diagnostics_table (report section "Per-layer statistics at the last recorded step")
# takes each model's *own* last record and averages them under one row whose "step" column is
# the max step. A NaN-stopped seed's last record is from before its blow-up (step 0 here), so
# the row reads "step 50, models 2, grad_norm 0.125": a value no model had at step 50, hiding
# that the one model measured there has a gradient norm of exactly 0 (a dead first layer; the
# diagnostics figure, which averages per step, shows 0 at step 50, so table and figure
# disagree). The early-stopped case is handled on purpose (held at its last value,
# RunData.diagnostics_held), the NaN case is not. At step 50 only model 0 was measured, so the
# statistic shown for step 50 must be its 0.0 (and the row must not count 2 models there).
def test_diagnostics_table_row_does_not_mix_steps_of_a_nan_stopped_seed(tmp_path):
    run = nan_run_folder(tmp_path)
    cols, rows = tables.diagnostics_table(run)
    rows_50 = [r for r in rows if r[cols.index("step")] == 50]
    assert rows_50, rows
    (row,) = rows_50
    assert row[cols.index("grad_norm")] == tables.fmt(0.0), (cols, row)
