"""Mutation review (mut37a): study optimizers-2d — contracts checked against hand computations,
numpy and torch.optim (never trainlab's own numbers)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trainlab.errors import UserError
from trainlab.studies import optimizers_2d as o2d
from trainlab.studies.evidence import CONFIRMED, CONTRADICTED


# --- the functions, written out from the module docstring ---------------------------------------
def _rosen(p):
    x, y = p[:, 0], p[:, 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(p):
    x, y = p[:, 0], p[:, 1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _quad(p):
    x, y = p[:, 0], p[:, 1]
    return 0.5 * (x**2 / 10 + 10 * y**2)


def _saddle(p):
    x, y = p[:, 0], p[:, 1]
    return x**2 + y**4 / 4 - y**2 / 2


HAND = {"rosenbrock": _rosen, "beale": _beale, "quadratic": _quad, "saddle": _saddle}
# the starts the module docstring names
STARTS = {"rosenbrock": (-1.2, 1.0), "beale": (1.0, 1.5), "quadratic": (-8.0, 1.0),
          "saddle": (0.7, 1e-6)}  # fmt: skip


def test_functions_and_starts_are_the_documented_ones() -> None:
    g = torch.Generator().manual_seed(0)
    pts = torch.rand(50, 2, generator=g, dtype=torch.float64) * 6 - 3
    for name, f in HAND.items():
        fn = o2d.FUNCTIONS[name]
        assert fn.start == STARTS[name], name
        torch.testing.assert_close(fn.f(pts), f(pts), rtol=1e-12, atol=1e-12)

    # hand values at the starts: Rosenbrock (2.2)² + 100·0.44² = 24.2; quadratic ½(6.4 + 10) = 8.2
    def at_start(name: str) -> float:
        return float(o2d.FUNCTIONS[name].f(torch.tensor([STARTS[name]], dtype=torch.float64)))

    assert at_start("rosenbrock") == pytest.approx(24.2, rel=1e-12)
    assert at_start("quadratic") == pytest.approx(8.2, rel=1e-12)


# --- trajectories against torch.optim, one model at a time --------------------------------------
_TORCH = {
    "SGD": (torch.optim.SGD, {}),
    "momentum 0.9": (torch.optim.SGD, {"momentum": 0.9}),
    "Nesterov 0.9": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "AdaGrad": (torch.optim.Adagrad, {}),
    "RMSProp": (torch.optim.RMSprop, {}),
    "Adam": (torch.optim.Adam, {}),
    "L-BFGS": (torch.optim.LBFGS, {"max_iter": 1, "history_size": 10}),
}


def _torch_path(fname: str, label: str, lr: float, steps: int) -> np.ndarray:
    cls, kw = _TORCH[label]
    p = torch.tensor([STARTS[fname]], dtype=torch.float64, requires_grad=True)
    opt = cls([p], lr=lr, **kw)
    f = HAND[fname]

    def closure():
        opt.zero_grad()
        loss = f(p).sum()
        loss.backward()
        return loss

    out = [p.detach().clone()[0].numpy()]
    for _ in range(steps):
        if label == "L-BFGS":
            opt.step(closure)
        else:
            closure()
            opt.step()
        out.append(p.detach().clone()[0].numpy())
    return np.stack(out)


@pytest.mark.parametrize("fname", ["quadratic", "rosenbrock", "saddle", "beale"])
@pytest.mark.parametrize("label", list(_TORCH))
def test_each_optimizer_follows_torch_optim_at_every_lr_of_its_grid(fname, label) -> None:
    """An optimizer's label (``Nesterov 0.9``, ``L-BFGS``…) and its LR grid are what runs: each
    of the K models of the population follows torch.optim's run of that optimizer alone."""
    steps = 40
    name, hp, lrs = o2d.OPTIMIZERS[label]
    path = o2d.trajectories(o2d.FUNCTIONS[fname], name, hp, lrs, steps).numpy()
    assert path.shape == (steps + 1, len(lrs), 2)
    for i, lr in enumerate(lrs):
        ref = _torch_path(fname, label, lr, steps)
        ok = np.all(np.isfinite(ref), axis=1) & (np.abs(ref).max(axis=1) < 1e4)
        n = int(np.argmin(ok)) if not ok.all() else len(ok)  # compare until it blows up
        np.testing.assert_allclose(path[:n, i], ref[:n], rtol=1e-7, atol=1e-9,
                                   err_msg=f"{fname} {label} lr {lr}")  # fmt: skip


def _newton_numpy(start, steps):
    """Rosenbrock's gradient and Hessian by hand, full Newton steps."""
    p = np.array(start, dtype=np.float64)
    out = [p.copy()]
    for _ in range(steps):
        x, y = p
        g = np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])
        h = np.array([[2 - 400 * (y - x**2) + 800 * x**2, -400 * x], [-400 * x, 200.0]])
        p = p - np.linalg.solve(h, g)
        out.append(p.copy())
    return np.stack(out)


def test_newton_trajectory_on_rosenbrock_is_the_hand_computed_one() -> None:
    name, hp, lrs = o2d.OPTIMIZERS["Newton"]
    assert 1.0 in lrs
    path = o2d.trajectories(o2d.FUNCTIONS["rosenbrock"], name, hp, [1.0], 5).numpy()[:, 0]
    ref = _newton_numpy(STARTS["rosenbrock"], 5)
    np.testing.assert_allclose(path, ref, rtol=1e-9, atol=1e-12)
    # the classic overshoot: (-1.2, 1) -> (-1.1753, 1.3807) -> (0.7631, -3.1750)
    np.testing.assert_allclose(path[2], [0.7631, -3.1750], atol=1e-4)


def test_a_slow_run_is_not_cut_short_as_settled() -> None:
    """Only models that stopped moving are treated as settled; a run creeping by 1.4e-9 a step
    (1.4e-7 per 100 steps) goes on: SGD on the saddle x² + …, x ← x(1 − 2·lr)."""
    lr, steps = 1e-9, 300
    path = o2d.trajectories(o2d.FUNCTIONS["saddle"], "sgd", {}, [lr], steps)
    x = 0.7
    xs = [x]
    for _ in range(steps):
        x = x - lr * 2 * x
        xs.append(x)
    np.testing.assert_allclose(path[:, 0, 0].numpy(), np.array(xs), rtol=1e-12, atol=0)


@pytest.mark.parametrize("label", list(o2d.OPTIMIZERS))
def test_one_function_evaluation_per_step(label) -> None:
    """Module docstring: "one gradient evaluation per step; L-BFGS runs one iteration per step
    without line search, Newton one exact step per step"."""
    import dataclasses

    fn = o2d.FUNCTIONS["rosenbrock"]
    calls = []

    def counted(p):
        calls.append(p.shape[0])
        return _rosen(p)

    name, hp, lrs = o2d.OPTIMIZERS[label]
    steps = 7
    o2d.trajectories(dataclasses.replace(fn, f=counted), name, hp, lrs, steps)
    assert calls == [len(lrs)] * steps, (label, calls)


# --- steps to tolerance: "f − f* ≤ tol" ---------------------------------------------------------
def test_steps_to_tolerance_counts_a_gap_equal_to_tol_as_reached() -> None:
    fn = o2d.FUNCTIONS["quadratic"]
    # (0, 0.5): ½·10·0.25 = 1.25 exactly (binary fractions); tol 1.25 -> f − f* ≤ tol at step 1
    path = torch.tensor([[[-8.0, 1.0]], [[0.0, 0.5]], [[0.0, 0.5]]], dtype=torch.float64)
    assert o2d.steps_to_tolerance(fn, path, 1.25) == [1]
    assert o2d.steps_to_tolerance(fn, path, 1.25, lasting=True) == [1]


# --- the contour plot's view: "a 5% margin, by at most the box's own width on each side" --------
def test_view_grows_the_box_by_a_5_percent_margin_and_at_most_one_box_width() -> None:
    box = (0.0, 1.0, 0.0, 2.0)
    path = torch.tensor([[0.5, 1.0], [1.5, 2.5]], dtype=torch.float64)
    x0, x1, y0, y1 = o2d._view(box, [path])
    assert (x0, y0) == (0.0, 0.0)
    assert x1 == pytest.approx(1.5 + 0.05 * 1.0)
    assert y1 == pytest.approx(2.5 + 0.05 * 2.0)
    far = torch.tensor([[-100.0, 1.0], [100.0, -100.0]], dtype=torch.float64)
    assert o2d._view(box, [far]) == pytest.approx((-1.0, 2.0, -2.0, 2.0))


# --- the zig-zag measurement ---------------------------------------------------------------------
def test_zigzag_stats_by_hand() -> None:
    ys = [1.0, -0.5, 0.4, -0.3] + [0.2] * 7 + [-0.1]  # 12 points: steps 0..11
    path = torch.tensor([[float(i), y] for i, y in enumerate(ys)], dtype=torch.float64)
    s = o2d.zigzag_stats(path)
    assert s["sign_changes"] == 5  # 1→−.5, −.5→.4, .4→−.3, −.3→.2, then .2→−.1 at step 11
    # Newton lands on y = 0 at step 1 and stays: it never crosses the axis
    newton = torch.tensor([[-8.0, 1.0]] + [[0.0, 0.0]] * 20, dtype=torch.float64)
    assert o2d.zigzag_stats(newton)["sign_changes"] == 0
    assert o2d.zigzag_stats(newton)["final_x"] == 0.0


def test_zigzag_stats_sign_changes_hand_count() -> None:
    ys = [1.0, -1.0, 1.0, -1.0, 1.0]
    path = torch.tensor([[0.0, y] for y in ys], dtype=torch.float64)
    assert o2d.zigzag_stats(path)["sign_changes"] == 4


def test_a_flip_at_every_one_of_the_steps_is_called_zig_zag() -> None:
    n = o2d.ZIGZAG_STEPS  # n steps: n + 1 points, at most n sign changes
    assert "every step" in o2d._oscillation(n)
    assert "every step" not in o2d._oscillation(n - 1)
    assert o2d._oscillation(0) == "never crosses y = 0"


# --- measure ------------------------------------------------------------------------------------
def test_measure_draws_the_path_up_to_its_first_arrival_inclusive() -> None:
    fn = o2d.FUNCTIONS["quadratic"]
    name, hp, lrs = o2d.OPTIMIZERS["SGD"]
    path = o2d.trajectories(fn, name, hp, lrs, 600)
    r, (pts, lr) = o2d.measure(fn, "SGD", path, o2d.TOL)
    s = r["steps"]
    i = lrs.index(lr)
    assert s is not None and s > 2
    assert pts.shape == (s + 1, 2)
    gap = float(_quad(pts[-1:])[0])
    assert gap <= o2d.TOL  # the drawn path ends where it arrived
    assert float(_quad(pts[-2:-1])[0]) > o2d.TOL
    torch.testing.assert_close(pts, path[: s + 1, i])


def test_measure_full_newton_step_is_not_flagged_as_grid_edge() -> None:
    """lr 1 is Newton's and L-BFGS's natural full step, not a limit of the grid (docstring of
    run's table: 'grid edge' means the grid did not bracket the LR)."""
    fn = o2d.FUNCTIONS["quadratic"]
    for label in ("Newton", "L-BFGS"):
        name, hp, lrs = o2d.OPTIMIZERS[label]
        path = o2d.trajectories(fn, name, hp, lrs, 60)
        r, _ = o2d.measure(fn, label, path, o2d.TOL)
        if r["lr"] == 1.0:
            assert r["edge"] == "", (label, r["edge"])
    name, hp, lrs = o2d.OPTIMIZERS["Newton"]
    r, _ = o2d.measure(fn, "Newton", o2d.trajectories(fn, name, hp, lrs, 5), o2d.TOL)
    assert (r["steps"], r["lr"], r["edge"]) == (1, 1.0, "")


def test_measure_without_arrival_picks_the_lr_with_the_lowest_final_loss() -> None:
    fn = o2d.FUNCTIONS["quadratic"]
    lrs = o2d.OPTIMIZERS["SGD"][2]
    k = len(lrs)
    # every model ends at (x, 0) with gap x²/20; model 4 ends nearest the minimum
    ends = [3.0 - 0.5 * (j == 4) for j in range(k)]
    ends[7] = 4.0
    start = torch.tensor([[-8.0, 1.0]] * k, dtype=torch.float64)
    end = torch.tensor([[e, 0.0] for e in ends], dtype=torch.float64)
    path = torch.stack([start, end])
    r, (pts, lr) = o2d.measure(fn, "SGD", path, o2d.TOL)
    assert r["steps"] is None and lr == lrs[4]
    assert r["final_gap"] == pytest.approx(2.5**2 / 20)


def test_stays_is_true_only_when_the_run_stays_from_its_first_arrival() -> None:
    fn = o2d.FUNCTIONS["quadratic"]
    lrs = o2d.OPTIMIZERS["SGD"][2]
    far, near = [-8.0, 1.0], [0.0, 0.0]
    # model 0 arrives at step 1, leaves at step 2, stays from step 3; the others never arrive
    rows = [[far] * len(lrs) for _ in range(5)]
    rows[1][0] = near
    rows[3][0] = near
    rows[4][0] = near
    path = torch.tensor(rows, dtype=torch.float64)
    r, _ = o2d.measure(fn, "SGD", path, o2d.TOL)
    assert (r["steps"], r["settles"], r["stays"]) == (1, 3, False)


def test_path_ratio_of_a_closed_path_is_infinite() -> None:
    pts = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    assert o2d._path_ratio(pts) == math.inf
    pts = torch.tensor([[0.0, 0.0], [3.0, 4.0], [6.0, 0.0]], dtype=torch.float64)
    assert o2d._path_ratio(pts) == pytest.approx(10 / 6)


# --- the saddle's escape: "halfway down from the saddle's value to the minimum's" ----------------
def test_escape_is_the_first_step_halfway_down() -> None:
    fn = o2d.FUNCTIONS["saddle"]
    # f(0, y) = y⁴/4 − y²/2; halfway: f ≤ −0.125, |y| ≥ √(1 − √½) ≈ 0.541
    ys = [1e-6, 0.3, 0.5, 0.6, 1.0]
    path = torch.tensor([[[0.0, y]] for y in ys], dtype=torch.float64)
    assert (0.5**4 / 4 - 0.5**2 / 2) > -0.125 >= (0.6**4 / 4 - 0.6**2 / 2)
    esc = o2d._escape(fn, path, [0.1])
    assert esc["steps"] == 3 and esc["lr"] == 0.1


def test_escape_does_not_count_a_run_that_ends_above_its_start() -> None:
    fn = o2d.FUNCTIONS["saddle"]
    # passes f = −0.25 at step 1, ends at f(0, 2) = 4 − 2 = 2 > f(start)
    path = torch.tensor([[[0.0, 1e-3]], [[0.0, 1.0]], [[0.0, 2.0]]], dtype=torch.float64)
    assert o2d._escape(fn, path, [0.1])["steps"] is None


# --- the claims table ---------------------------------------------------------------------------
def _result(label: str, steps, lr: float = 0.1, **kw) -> dict:
    r = {
        "escape": {"steps": steps, "lr": lr, "edge": ""},
        "steps": steps,
        "stays": True,
        "settles": steps,
        "lr": lr,
        "edge": "",
        "final_gap": 0.0,
        "final_xy": [0.0, 0.0],
        "grad_norm": 0.0,
        "path_ratio": 1.05,
        "straightest_ratio": 1.05,
        "straightest_lr": lr,
        "steps_by_lr": [steps if x == lr else None for x in o2d.OPTIMIZERS[label][2]],
    }
    r.update(kw)
    return r


def _claims(**over) -> dict[tuple[str, str], dict[str, str]]:
    results = {(f, o): _result(o, 100) for f in o2d.FUNCTIONS for o in o2d.OPTIMIZERS}
    results[("quadratic", "Newton")] = _result("Newton", 1, lr=1.0)
    results[("saddle", "Newton")] = _result("Newton", None, lr=1.0)
    for k, v in over.items():
        f, o = k.split("__")
        results[(f, o.replace("_", " "))] = v
    rows = o2d.expected_vs_measured(results, 600, 1e-4)
    return {(r["function"], r["claim"]): r for r in rows}


def _sgd_pred(lr: float) -> int:
    # gap on the shallow axis at (−8, ·): ½·64/10 = 3.2, shrinking by (1 − 0.1·lr)² a step
    return math.ceil(math.log(3.2 / 1e-4) / (-2 * math.log(1 - 0.1 * lr)))


SGD_CLAIM = ("quadratic", "SGD: lr < 2/λ_max = 0.2, crawls along the shallow axis")


def test_sgd_claim_states_the_hand_computed_prediction() -> None:
    pred = _sgd_pred(0.1)
    assert pred == 517  # ln(32000)/(−2 ln 0.99) = 10.373/0.020101 = 516.06
    row = _claims(quadratic__SGD=_result("SGD", pred, lr=0.1))[SGD_CLAIM]
    assert f"predicted {pred} for lr 0.1" in row["measured"]
    assert row["verdict"] == CONFIRMED


def test_sgd_claim_is_contradicted_beyond_10_percent_of_the_prediction() -> None:
    pred = _sgd_pred(0.1)
    row = _claims(quadratic__SGD=_result("SGD", int(pred * 1.15), lr=0.1))[SGD_CLAIM]
    assert row["verdict"] == CONTRADICTED
    row = _claims(quadratic__SGD=_result("SGD", int(pred * 1.05), lr=0.1))[SGD_CLAIM]
    assert row["verdict"] == CONFIRMED


def test_sgd_claim_is_contradicted_when_an_lr_of_0_3_converges() -> None:
    pred = _sgd_pred(0.1)
    r = _result("SGD", pred, lr=0.1)
    r["steps_by_lr"] = [pred if x in (0.1, 0.3) else None for x in o2d.OPTIMIZERS["SGD"][2]]
    row = _claims(quadratic__SGD=r)[SGD_CLAIM]
    assert row["verdict"] == CONTRADICTED


@pytest.mark.parametrize(("ratio", "verdict"), [(1.1, CONFIRMED), (1.2, CONTRADICTED)])
def test_nearly_straight_means_at_most_1_1_times_the_straight_line(ratio, verdict) -> None:
    row = _claims(quadratic__Adam=_result("Adam", 50, straightest_ratio=ratio))[
        ("quadratic", "Adam goes nearly straight (path ≤ 1.1 × the straight line, at some LR "
                      "that reaches the tolerance)")
    ]  # fmt: skip
    assert row["verdict"] == verdict


def test_newton_two_steps_on_the_quadratic_contradicts_one_step() -> None:
    row = _claims(quadratic__Newton=_result("Newton", 2, lr=1.0))[
        ("quadratic", "Newton reaches the minimum in one step")
    ]
    assert row["verdict"] == CONTRADICTED


def test_newton_at_saddle_requires_both_coordinates_near_zero() -> None:
    key = ("saddle", "Newton is attracted to the saddle, never reaches a minimum")
    at = _claims(saddle__Newton=_result("Newton", None, lr=1.0, final_xy=[0.0, 0.0]))[key]
    assert at["verdict"] == CONFIRMED
    off = _claims(saddle__Newton=_result("Newton", None, lr=1.0, final_xy=[0.0, 0.5]))[key]
    assert off["verdict"] == CONTRADICTED


def test_equal_steps_are_inconclusive() -> None:
    a = {"steps": 30, "edge": ""}
    assert o2d._ordered(a, dict(a), "A", "B") == "inconclusive (equal steps)"


def test_stationary_point_is_only_said_of_a_vanishing_gradient() -> None:
    key = ("beale", "Newton fastest in steps (fewer than every first-order method)")
    r = _result("Newton", None, lr=1.0, final_xy=[0.0, 1.0], grad_norm=0.5, final_gap=14.2)
    row = _claims(beale__Newton=r)[key]
    assert row["verdict"] == "not reached (Newton)"
    assert "stationary point" not in row["measured"]
    r = _result("Newton", None, lr=1.0, final_xy=[0.0, 1.0], grad_norm=1e-9, final_gap=14.2)
    assert "stationary point" in _claims(beale__Newton=r)[key]["measured"]


def test_seeds_below_one_are_refused(tmp_path) -> None:
    with pytest.raises(UserError, match="at least 1"):
        o2d.run(tmp_path / "o", quick=True, seeds=0)
    assert not (tmp_path / "o").exists()


def test_zigzag_counts_a_crossing_through_exactly_zero() -> None:
    """``1 → 0 → -1`` crosses y = 0 once (a step landing on 0 is not a crossing of its own);
    ``1 → 0 → 1`` touches it and does not cross."""
    from trainlab.studies.optimizers_2d import zigzag_stats

    def path(ys: list[float]) -> torch.Tensor:
        return torch.tensor([[0.0, y] for y in ys], dtype=torch.float64)

    assert zigzag_stats(path([1.0, 0.0, -1.0]))["sign_changes"] == 1
    assert zigzag_stats(path([1.0, 0.0, 1.0]))["sign_changes"] == 0
    assert zigzag_stats(path([1.0, -1.0, 0.0, 0.0, 1.0, -2.0]))["sign_changes"] == 3
    assert zigzag_stats(path([0.0, 0.0]))["sign_changes"] == 0


def test_escape_text_says_one_step_in_the_singular() -> None:
    """The escape text says "halfway down in 1 step", not "1 steps" (study37c)."""
    one = {"steps": 1, "lr": 0.1, "edge": ""}
    three = {"steps": 3, "lr": 0.01, "edge": ""}
    results = {("saddle", "Newton"): {"escape": one}, ("saddle", "SGD"): {"escape": three}}
    _, text = o2d._escapes_faster(results, "saddle", "Newton", "SGD", 600)
    assert "Newton halfway down in 1 step (lr 0.1)" in text, text
    assert "SGD halfway down in 3 steps (lr 0.01)" in text, text
