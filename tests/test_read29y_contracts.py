"""Review (read29y): study optimizers-2d — defects confirmed by running code."""

from __future__ import annotations

from trainlab.studies import optimizers_2d as o2d
from trainlab.threads import torch_threads


def _measure(fname: str, label: str, steps: int):
    fn = o2d.FUNCTIONS[fname]
    name, hp, lrs = o2d.OPTIMIZERS[label]
    with torch_threads(1):
        path = o2d.trajectories(fn, name, hp, lrs, steps)  # (T, K, 2)
        r, _ = o2d.measure(fn, label, path, o2d.TOL)
    return fn, lrs, path, r


# Wrong: the saddle's escape measure (_escape) credits "momentum 0.9" with coming halfway down
# in 19 steps at lr 0.9, but that run diverges: it passes f ≤ −0.125 on its way out and ends
# clamped at y = 1e6 with f ≈ 2.5e23 (the tolerance table correctly marks lr 0.9 as never
# reaching). A run that blows up has not "escaped the saddle" into the basin; the
# "momentum escapes faster than SGD" row rests on it (19 vs SGD's 21). Among the momentum runs
# that do not diverge the fastest escape is lr 0.3 in 28 steps (> SGD's 21), so the claim's
# verdict flips. Right: the LR credited with the escape is one whose run does not diverge
# (its final loss is finite and below the start's).
def test_saddle_escape_is_not_credited_to_a_run_that_diverges() -> None:
    fn, lrs, path, r = _measure("saddle", "momentum 0.9", o2d.QUICK_STEPS)
    esc = r["escape"]
    assert esc["steps"] is not None
    i = lrs.index(esc["lr"])
    f_start = float(fn.f(path[:1, i])[0])
    f_end = float(fn.f(path[-1:, i])[0])
    assert f_end < f_start, (esc, f_end)  # lr 0.9: f_end ≈ 2.5e23 (diverged)


# Wrong: 'leaves again' (the steps table: "a constant LR keeps it hovering around the minimum")
# is set only when the *last* point is outside the tolerance, not when the run leaves the
# tolerance after the reported step. Nesterov 0.9 on the quadratic (lr 0.1) is reported as
# "24 (lr 0.1)" with no flag, yet after step 24 its gap climbs back to 0.046 (465× tol) and it
# is outside for 59 steps, staying within only from step 88 (so the "21.5× fewer than SGD"
# also rests on a transient touch). In full mode Adam on the quadratic (lr 1) touches at 87,
# goes back up to a gap of 1.3 and stays only from step 2237, again unflagged. Right: a run
# whose gap exceeds tol after its reported step is flagged (stays is False).
def test_leaves_again_flags_a_run_that_leaves_the_tolerance_after_reaching_it() -> None:
    fn, lrs, path, r = _measure("quadratic", "Nesterov 0.9", o2d.QUICK_STEPS)
    i = lrs.index(r["lr"])
    gap = fn.f(path[:, i]) - fn.f_min
    left_again = bool((gap[r["steps"] :] > o2d.TOL).any())
    assert left_again  # the premise: it does leave after step r["steps"]
    assert r["stays"] is False, (r["steps"], r["lr"], float(gap[r["steps"] :].max()))
