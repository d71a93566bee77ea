"""Review tests for `trainlab study optimizers-2d` (reviewer opt2d33)."""

import torch

from trainlab.studies.optimizers_2d import FUNCTIONS, OPTIMIZERS, TOL, measure, trajectories


# measure() reports "final_gap", "final_xy" and "grad_norm" (written to results.json) at the step
# where the best LR *first* reached the tolerance (it slices path[: s_best + 1]), not at the end of
# the run. For a run the table marks "leaves again" (settles is None: it ends outside f − f* ≤ tol)
# results.json then says final_gap ≈ 6e-5 ≤ tol while the run really ends at gap ≈ 0.03 (RMSProp
# lr 0.3 on the quadratic; Adam lr 1 on Rosenbrock: 9.9e-5 reported vs 0.10 real). The final gap
# of a run is f(last point) − f*, as it already is for runs that never reach the tolerance.
def test_final_gap_is_gap_at_end_of_run_for_leaves_again():
    fn = FUNCTIONS["quadratic"]
    name, hp, lrs = OPTIMIZERS["RMSProp"]
    path = trajectories(fn, name, hp, lrs, 600)
    r, _ = measure(fn, "RMSProp", path, TOL)
    assert r["steps"] is not None and r["settles"] is None  # reached, then "leaves again"
    i = lrs.index(r["lr"])
    with torch.no_grad():
        real_final = float(fn.f(path[-1, i : i + 1])[0]) - fn.f_min
    assert real_final > TOL
    assert abs(r["final_gap"] - real_final) <= 1e-12 * max(1.0, real_final)
    assert r["final_xy"] == path[-1, i].tolist()
