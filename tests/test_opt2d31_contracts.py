"""Review opt2d31: `trainlab study optimizers-2d`."""

from __future__ import annotations

import pytest

from trainlab.studies import optimizers_2d as o2


# The trajectory figures clip the very trajectories they are meant to show: each function's
# contour plot uses the fixed box ``fn.box`` as axis limits (``_plot`` sets xlim/ylim), but the
# best-LR paths the study plots leave that box. Newton on Rosenbrock from (-1.2, 1) jumps to
# (0.763, -3.175) at step 2 (the classic Newton overshoot; checked with a hand-coded gradient
# and Hessian in numpy: (-1.2, 1) -> (-1.1753, 1.3807) -> (0.7631, -3.1750)), while the box's
# y range is [-1, 3]; L-BFGS (lr 0.5) on the saddle goes to (-2.03, 3.18) at step 22 while the
# box is ±1.5 (also AdaGrad/RMSProp on the saddle to y ≈ 2, momentum on Beale to y = -1.54,
# Adam on Rosenbrock to y = -1.004). The points plotted are exactly measure()'s (pts, lr), so
# the figure must show all of them: the axis limits should contain every plotted point
# (enlarge the boxes or widen the limits to the paths' extent).
@pytest.mark.parametrize(
    ("fname", "label", "steps"),
    [("rosenbrock", "Newton", 20), ("saddle", "L-BFGS", 60)],
)
def test_trajectory_figure_axes_contain_the_plotted_path(fname, label, steps):
    fn = o2.FUNCTIONS[fname]
    name, hp, lrs = o2.OPTIMIZERS[label]
    path = o2.trajectories(fn, name, hp, lrs, steps)
    _, (pts, lr) = o2.measure(fn, label, path, o2.TOL)
    assert lr in lrs
    fig = o2._plot(fn, {label: (pts, lr)})
    ax = fig.axes[0]
    (xa, xb), (ya, yb) = ax.get_xlim(), ax.get_ylim()
    xs, ys = pts[:, 0], pts[:, 1]
    outside = ((xs < xa) | (xs > xb) | (ys < ya) | (ys > yb)).nonzero().flatten().tolist()
    assert not outside, (
        f"{fname}/{label} (lr {lr:g}): points {[pts[i].tolist() for i in outside]} "
        f"lie outside the axes x∈[{xa}, {xb}], y∈[{ya}, {yb}]"
    )
