"""What the studies compute and claim, checked on tiny inputs (no study runs): the init study's
symmetry measure and verdicts, the 2-D functions and step counts, the activation statistics."""

from __future__ import annotations

import math

import torch

from trainlab.models import create
from trainlab.studies import activations as act_study
from trainlab.studies import optimizers_2d as o2d
from trainlab.studies.init_study import _claims, unit_symmetry


def _model(scheme: str, status: str, loss: float, acc: float, sym: dict | None = None) -> dict:
    sym = sym or {"weight_diff": 0.1, "output_diff": 0.1, "weight_scale": 1.0, "finite": True}
    return {
        "scheme": scheme,
        "status": status,
        "final": {"train_loss": loss, "test_acc": acc},
        "symmetry": sym,
    }


def _deep_cell(models: list[dict]) -> dict:
    return {"name": "digits-depth30-relu", "depth": 30, "act": "relu", "models": models}


# --- init study: the symmetry measurement -------------------------------------------------


def test_unit_symmetry_sees_distinct_units_when_unit_0_is_not_finite() -> None:
    """Units 1 and 2 of fc1 differ by 1.0; unit 0 overflowed: the measure compares the finite
    units with each other, not each with unit 0, so it still sees the difference."""
    m = create("mlp", input_shape=(3,), num_classes=2, hidden=(3, 3))
    with torch.no_grad():
        for layer in (m.fc1, m.fc2):
            layer.weight.fill_(0.5)
            layer.bias.fill_(0.0)
        m.fc1.weight[0] = math.inf
        m.fc1.weight[2] = 1.5  # unit 2 differs from unit 1 by 1.0 in every weight
    s = unit_symmetry(m, torch.ones(4, 3))
    assert not s["finite"]
    assert s["weight_diff"] >= 1.0, s


def test_all_nan_symmetric_models_are_no_evidence_that_symmetry_holds() -> None:
    """A zeros/constant model whose parameters are all NaN measures 'difference 0'; the claim
    (a) must not say 'holds' on such models alone."""
    m = create("mlp", input_shape=(3,), num_classes=2, hidden=(3, 3))
    with torch.no_grad():
        for p in m.parameters():
            p.fill_(math.nan)  # overflowed: nothing left to compare
    sym = unit_symmetry(m, torch.ones(4, 3))
    assert not sym["finite"]
    rnd = {"weight_diff": 0.1, "output_diff": 0.1, "weight_scale": 1.0, "finite": True}
    cell = {
        "name": "x",
        "depth": 4,
        "act": "relu",
        "models": [
            _model("constant 0.1", "nan", math.nan, 0.1, sym),
            _model("He", "ok", 0.1, 0.9, rnd),
        ],
    }
    (a,) = [c for c in _claims([cell]) if c["claim"].startswith("(a)")]
    assert not a["holds"], a["measured"]


# --- init study: 'stalls' vs 'trains' ----------------------------------------------------


def test_he_does_not_train_when_most_seeds_diverged() -> None:
    """Two of three He seeds ended NaN; the one finite seed trained: a seed that diverged
    neither trains nor stalls, so claim (b) does not hold."""
    models = [_model("Xavier", "ok", math.log(10), 0.1) for _ in range(3)]
    models += [_model("He", "ok", 0.2, 0.9), _model("He", "nan", math.nan, 0.1),
               _model("He", "nan", math.nan, 0.1)]  # fmt: skip
    models += [_model("LSUV", "ok", 0.2, 0.9) for _ in range(3)]
    (b,) = [c for c in _claims([_deep_cell(models)]) if c["claim"].startswith("(b)")]
    assert "2 NaN" in b["measured"]
    assert not b["holds"], b["measured"]


def test_lsuv_all_nan_does_not_train_and_chance_accuracy_does_not_train() -> None:
    models = [_model("Xavier", "ok", math.log(10), 0.1) for _ in range(3)]
    models += [_model("He", "ok", 0.5, 0.15) for _ in range(3)]  # low loss, near-chance acc
    models += [_model("LSUV", "nan", math.nan, 0.1) for _ in range(3)]
    claims = {c["claim"][:3]: c for c in _claims([_deep_cell(models)])}
    assert not claims["(b)"]["holds"] and not claims["(c)"]["holds"]


# --- optimizers-2d ------------------------------------------------------------------------


def test_2d_functions_minima_and_gradients() -> None:
    for fn in o2d.FUNCTIONS.values():
        pts = torch.tensor(fn.argmin, dtype=torch.float64, requires_grad=True)
        f = fn.f(pts)
        assert torch.allclose(f, torch.full_like(f, fn.f_min)), fn.name
        (g,) = torch.autograd.grad(f.sum(), pts)
        assert g.abs().max() < 1e-12, fn.name
    # the saddle's origin is stationary but not a minimum
    assert float(o2d.FUNCTIONS["saddle"].f(torch.zeros(1, 2, dtype=torch.float64))) == 0.0


def test_steps_to_tolerance_counts_steps_not_points_and_none_when_never() -> None:
    fn = o2d.FUNCTIONS["quadratic"]
    far, near = [-8.0, 1.0], [0.0, 0.0]
    path = torch.tensor([[far, far], [far, far], [near, far], [far, far], [near, far]],
                        dtype=torch.float64)  # (T=5, K=2, 2)  # fmt: skip
    assert o2d.steps_to_tolerance(fn, path, 1e-4) == [2, None]
    assert o2d.steps_to_tolerance(fn, path, 1e-4, lasting=True) == [4, None]


def test_newton_reaches_quadratic_minimum_in_one_step_and_sgd_needs_predicted_steps() -> None:
    fn = o2d.FUNCTIONS["quadratic"]
    path = o2d.trajectories(fn, "newton", {}, [1.0], 3)
    assert o2d.steps_to_tolerance(fn, path, o2d.TOL) == [1]
    lr = 0.15
    path = o2d.trajectories(fn, "sgd", {}, [lr], 500)
    (s,) = o2d.steps_to_tolerance(fn, path, o2d.TOL)
    pred = math.ceil(math.log(0.5 * 64 / 10 / o2d.TOL) / (-2 * math.log(1 - lr * 0.1)))
    assert s is not None and abs(s - pred) <= 0.1 * pred


# --- activations --------------------------------------------------------------------------


def test_activation_stats_are_per_seed_over_batch_and_units() -> None:
    kw = {"width": 16, "depth": 3, "batch": 8}
    both = act_study.measure("relu", "he_normal", {}, seeds=[0, 1], max_bytes=4 * 16 * 16, **kw)
    one = act_study.measure("relu", "he_normal", {}, seeds=[1], **kw)
    for key in ("mean", "std", "zero"):
        assert [layer[1] for layer in both[key]] == [layer[0] for layer in one[key]], key
    # recompute seed 1 by hand: input first, then the weights layer by layer
    g = torch.Generator().manual_seed(1)
    x = torch.randn(8, 16, generator=g)
    from trainlab import init as init_mod

    for layer in range(3):
        w = init_mod.init_tensor(torch.empty(16, 16), "he_normal", generator=g)
        x = torch.relu(x @ w.T)
        assert math.isclose(one["mean"][layer][0], float(x.mean()), rel_tol=1e-5)
        assert math.isclose(one["std"][layer][0], float(x.std()), rel_tol=1e-5)
