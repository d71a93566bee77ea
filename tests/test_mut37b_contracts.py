"""Mutation review mut37b: the ``clipping`` and ``preprocessing`` studies, their measurement
helpers, table cells and claim logic, fed hand-made inputs. Expected values come from hand
computations, numpy/scipy references and the modules' docstrings / README, never from trainlab.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from trainlab.studies import clipping as clip
from trainlab.studies import preprocessing as prep

# ---------------------------------------------------------------- clipping: small helpers


def test_divergence_verdict_all_none_partly_and_no_models():
    # docstring: confirmed when all n behave as claimed, contradicted when none does, else partly
    assert clip.divergence_verdict(5, 5, expect_nan=True) == "confirmed"
    assert clip.divergence_verdict(0, 5, expect_nan=True) == "contradicted"
    assert clip.divergence_verdict(1, 5, expect_nan=True) == "partly (1 of 5 as claimed)"
    assert clip.divergence_verdict(0, 5, expect_nan=False) == "confirmed"
    assert clip.divergence_verdict(5, 5, expect_nan=False) == "contradicted"
    assert clip.divergence_verdict(4, 5, expect_nan=False) == "partly (1 of 5 as claimed)"
    # one model off in either direction is "partly", not a clean verdict
    assert clip.divergence_verdict(1, 2, expect_nan=False).startswith("partly")
    # no models: nothing was tested, never a vacuous "confirmed"
    for expect in (True, False):
        verdict = clip.divergence_verdict(0, 0, expect_nan=expect)
        assert verdict.startswith("not tested"), verdict


def _metric_cell(rows: list[tuple[int, int, float | None, float | None]]) -> dict[str, Any]:
    """(model, epoch, grad_norm, clip_frac) rows as a cell's ``metrics``."""
    return {
        "metrics": [{"model": m, "epoch": e, "grad_norm": g, "clip_frac": c} for m, e, g, c in rows]
    }


def test_first_epoch_grad_norm_is_the_epoch_one_mean_over_finite_models():
    cell = _metric_cell(
        [
            (0, 1, 10.0, None),
            (1, 1, 30.0, None),
            (2, 1, math.inf, None),
            (3, 1, 1000.0, None),  # not among the asked models
            (0, 2, 500.0, None),  # epoch 2: not counted
            (1, 2, 700.0, None),
        ]
    )
    # by hand: mean(10, 30) = 20 over the finite ones; 1 of 3 non-finite
    assert clip._first_epoch_grad_norm(cell, [0, 1, 2]) == "20 (1/3 non-finite)"
    assert clip._first_epoch_grad_norm(cell, [0, 1]) == "20"
    nan_only = _metric_cell([(0, 1, math.nan, None), (1, 1, None, None)])
    assert clip._first_epoch_grad_norm(nan_only, [0, 1]) == "2/2 non-finite"
    assert clip._first_epoch_grad_norm(cell, [7]) == "—"


def test_clipped_steps_overall_and_epoch_one_shares():
    cell = _metric_cell(
        [
            (0, 1, 1.0, 1.0),
            (1, 1, 1.0, 0.5),
            (0, 2, 1.0, 0.25),
            (1, 2, 1.0, 0.25),
            (2, 1, 1.0, None),  # unclipped model: no clip_frac
        ]
    )
    # by hand: mean over 4 model-epochs = 2.0 / 4 = 50%; epoch 1: (1.0 + 0.5) / 2 = 75%
    assert clip._clipped_steps(cell, [0, 1, 2]) == "50% (epoch 1: 75%)"
    assert clip._clipped_steps(cell, [2]) == "—"


# ---------------------------------------------------------------- clipping: claims


def _clip_rows(
    nan: dict[tuple[str, str, float], int], acc: dict[tuple[str, str, float], list[float]],
    n: int = 4,
) -> list[dict[str, Any]]:  # fmt: skip
    rows = []
    for act in ("relu", "tanh"):
        for c in ("no clipping", "clip norm 1", "clip value 0.1"):
            for lr in (1e-3, 1e-2, 1e-1):
                k = nan.get((act, c, lr), 0)
                accs = acc.get((act, c, lr), [0.5 + 0.01 * i for i in range(n - k)])
                assert len(accs) == n - k
                rows.append({"activation": act, "clipping": c, "lr": lr, "n_nan": k,
                             "n_models": n, "test_acc": list(accs)})  # fmt: skip
    return rows


ALL = ["no clipping", "clip norm 1", "clip value 0.1"]


def _claim(claims: list[dict[str, str]], start: str) -> dict[str, str]:
    (row,) = [c for c in claims if c["claim"].startswith(start)]
    return row


def test_divergence_claim_counts_lr_0_01_as_large():
    # the claim reads "LR ≥ 0.01": LR 0.01 and 0.1 count (both diverge here), 0.001 does not
    rows = _clip_rows({("relu", "no clipping", 1e-2): 4, ("relu", "no clipping", 1e-1): 4}, {})
    claims = clip._claims(rows, ["relu", "tanh"], ALL, quick=False)
    row = _claim(claims, "ReLU, large init, LR ≥ 0.01")
    assert row["verdict"] == "confirmed", row
    assert "8 of 8 models NaN" in row["measured"], row
    # only LR 0.1 diverged: half of the large-LR models diverged
    rows = _clip_rows({("relu", "no clipping", 1e-1): 4}, {})
    row = _claim(clip._claims(rows, ["relu", "tanh"], ALL, quick=False), "ReLU, large init")
    assert row["verdict"] == "partly (4 of 8 as claimed)", row


def test_clipping_prevents_claim_not_tested_when_nothing_diverged_unclipped():
    rows = _clip_rows({("relu", "clip norm 1", 1e-1): 1}, {})
    claims = clip._claims(rows, ["relu", "tanh"], ALL, quick=False)
    row = _claim(claims, "…and clip norm 1 prevents it")
    assert row["verdict"] == "not tested (nothing diverged without clipping)", row


def test_clipping_prevents_claim_judged_at_the_diverged_lrs():
    # unclipped: lr 0.01 and 0.1 all NaN; clip norm 1: none NaN -> every one prevented
    nan = {("relu", "no clipping", 1e-2): 4, ("relu", "no clipping", 1e-1): 4,
           ("relu", "clip value 0.1", 1e-1): 4}  # fmt: skip
    claims = clip._claims(_clip_rows(nan, {}), ["relu", "tanh"], ALL, quick=False)
    assert _claim(claims, "…and clip norm 1 prevents it")["verdict"] == "confirmed"
    # value clipping: 4 of the 8 diverged-LR models still NaN
    row = _claim(claims, "…and clip value 0.1 prevents it")
    assert row["verdict"] == "partly (4 of 8 as claimed)", row


def test_small_lr_claim_counts_nan_models_as_zero_and_takes_the_smallest_lr():
    # LR 0.001: unclipped accuracies 0.90, 0.92, 0.94 and one NaN model (= 0 accuracy);
    # clipped 0.30, 0.31, 0.32, 0.33. Welch on every seed with the NaN one as 0:
    a0, a1 = [0.90, 0.92, 0.94, 0.0], [0.30, 0.31, 0.32, 0.33]
    nan = {("relu", "no clipping", 1e-3): 1}
    acc = {("relu", "no clipping", 1e-3): a0[:3], ("relu", "clip norm 1", 1e-3): a1,
           # other LRs: clipped far better (a claim at the wrong LR would be contradicted)
           ("relu", "no clipping", 1e-1): [0.1, 0.11, 0.12, 0.13],
           ("relu", "clip norm 1", 1e-1): [0.9, 0.91, 0.92, 0.93]}  # fmt: skip
    claims = clip._claims(_clip_rows(nan, acc), ["relu", "tanh"], ALL, quick=False)
    row = _claim(claims, "small LR (0.001)")
    t = stats.ttest_ind(a0, a1, equal_var=False)
    want = "confirmed" if (t.statistic > 0 and t.pvalue < 0.05) else "inconclusive"
    assert row["verdict"].startswith(want), (row, t)
    diff = np.mean(a0) - np.mean(a1)  # 0.69 - 0.315 = 0.375
    assert f"+{diff:.3f}" in row["measured"], row
    # clipped better at LR 0.001 beyond noise: contradicted
    acc2 = {("relu", "no clipping", 1e-3): [0.30, 0.31, 0.32, 0.33],
            ("relu", "clip norm 1", 1e-3): [0.90, 0.92, 0.94, 0.96]}  # fmt: skip
    claims = clip._claims(_clip_rows({}, acc2), ["relu", "tanh"], ALL, quick=False)
    assert _claim(claims, "small LR (0.001)")["verdict"] == "contradicted"


def test_small_lr_claim_with_a_mostly_diverged_cell_is_not_judged_on_survivors():
    # unclipped: 3 of 4 NaN, the survivor at 0.95; clipped 0.50..0.53. Counting NaN as 0 the
    # unclipped mean is 0.2375 < clipped: contradicted (on survivors alone it would be 0.95)
    nan = {("relu", "no clipping", 1e-3): 3}
    acc = {("relu", "no clipping", 1e-3): [0.95],
           ("relu", "clip norm 1", 1e-3): [0.50, 0.51, 0.52, 0.53]}  # fmt: skip
    claims = clip._claims(_clip_rows(nan, acc), ["relu", "tanh"], ALL, quick=False)
    row = _claim(claims, "small LR (0.001)")
    a0 = [0.95, 0.0, 0.0, 0.0]
    assert not row["verdict"].startswith("confirmed"), row
    assert f"-{abs(np.mean(a0) - 0.515):.3f}" in row["measured"], row


def test_tanh_claim_verdicts():
    relu_nan = {("relu", "no clipping", lr): 4 for lr in (1e-2, 1e-1)}
    # tanh: none diverged, ReLU 8: confirmed
    claims = clip._claims(_clip_rows(relu_nan, {}), ["relu", "tanh"], ALL, quick=False)
    assert _claim(claims, "tanh, large init")["verdict"] == "confirmed"
    # tanh as many NaN as ReLU: not "fewer": contradicted
    same = relu_nan | {("tanh", "no clipping", lr): 4 for lr in (1e-2, 1e-1)}
    claims = clip._claims(_clip_rows(same, {}), ["relu", "tanh"], ALL, quick=False)
    assert _claim(claims, "tanh, large init")["verdict"] == "contradicted"
    # tanh fewer than ReLU but some: partly (4 of 12 tanh models did not diverge... as claimed)
    fewer = relu_nan | {("tanh", "no clipping", 1e-1): 4, ("tanh", "no clipping", 1e-2): 4,
                        ("relu", "no clipping", 1e-3): 4}  # fmt: skip
    claims = clip._claims(_clip_rows(fewer, {}), ["relu", "tanh"], ALL, quick=False)
    assert _claim(claims, "tanh, large init")["verdict"] == "partly (4 of 12 as claimed)"
    # nothing diverged anywhere: not tested
    claims = clip._claims(_clip_rows({}, {}), ["relu", "tanh"], ALL, quick=False)
    assert _claim(claims, "tanh, large init")["verdict"].startswith("not tested")


def test_tanh_claim_accuracy_is_over_the_large_lrs_only():
    # tanh accuracies: LR 0.001 at 0.0 (left out), LR 0.01 and 0.1 at 0.8 → mean 0.800
    acc = {("tanh", c, lr): [0.0] * 4 if lr == 1e-3 else [0.79, 0.81, 0.79, 0.81]
           for c in ALL for lr in (1e-3, 1e-2, 1e-1)}  # fmt: skip
    claims = clip._claims(_clip_rows({}, acc), ["relu", "tanh"], ALL, quick=False)
    measured = _claim(claims, "tanh, large init")["measured"]
    assert "no clipping 0.800" in measured, measured
    assert "clip norm 1 0.800" in measured, measured


# ---------------------------------------------------------------- clipping: set-up texts


def test_intro_numbers_match_the_hand_computation():
    # N(0, 0.3²) against He's σ = √(2/64) = 0.1768: 1.7× σ; second moment gain 64·0.09/2 = 2.88
    text = clip.intro_text()
    assert "N(0, 0.3²)" in text
    assert "1.7× He's σ = √(2/64) = 0.177" in text
    assert "2.9× He's variance" in text and "n·σ²/2 = 2.9" in text
    assert "momentum 0.9" in text


def test_setup_text_lists_only_what_quick_mode_left_out():
    text = clip._setup_text(True, ["relu"], ["no clipping", "clip norm 1"], 5, 20)
    assert "tanh (not trained)" in text and "clip value 0.1 (not run)" in text
    assert "seeds (ran" not in text and "epochs (ran" not in text
    text = clip._setup_text(True, ["relu"], ["no clipping", "clip norm 1"], 2, 5)
    assert "5 seeds (ran 2)" in text and "20 epochs (ran 5)" in text
    full = clip._setup_text(False, ["relu", "tanh"], ALL, 5, 20)
    assert "Quick mode leaves out" not in full
    # a full run with fewer seeds (--seeds 2) is not quick mode
    assert "Quick mode leaves out" not in clip._setup_text(False, ["relu", "tanh"], ALL, 2, 20)
    assert "5 seeds per LR, 20 epochs, batch 32" in full


@pytest.fixture(scope="module")
def quick_clipping_run(tmp_path_factory) -> Any:
    return clip.run(tmp_path_factory.mktemp("mut37b") / "clip", quick=True, device="cpu")


def test_quick_clipping_runs_what_the_docstring_says(quick_clipping_run):
    # module docstring: "Quick mode (CI): ReLU only, no clipping vs norm clipping, 2 seeds,
    # 5 epochs"; the set-up: SGD momentum 0.9, batch 32, N(0, 0.3²), 8 × 64, LRs 1e-3..1e-1
    import yaml

    root = quick_clipping_run
    res = json.loads((root / "results.json").read_text())
    s = res["settings"]
    assert (s["seeds"], s["epochs"], s["activations"]) == (2, 5, ["relu"])
    assert list(s["clipping"]) == ["no clipping", "clip norm 1"]
    cfg = yaml.safe_load((root / "cells" / "relu-clip_norm_1" / "config.yaml").read_text())
    assert cfg["optim"]["name"] == "sgd" and cfg["optim"]["momentum"] == 0.9
    assert cfg["train"]["clip_norm"] == 1.0 and cfg["train"]["batch_size"] == 32
    assert cfg["train"]["epochs"] == 5
    assert cfg["init"]["scheme"] == "normal" and cfg["init"]["std"] == 0.3
    assert cfg["model"]["depth"] == 8 and cfg["model"]["width"] == 64
    plain = yaml.safe_load((root / "cells" / "relu-no_clipping" / "config.yaml").read_text())
    assert not plain["train"].get("clip_norm") and not plain["train"].get("clip_value")
    # every row's NaN column agrees with its hidden counts
    for r in res["rows"]:
        assert r["NaN models"] == f"{r['n_nan']}/{r['n_models']}"
        assert r["n_models"] == 2


# ---------------------------------------------------------------- preprocessing: helpers


def test_epochs_to_reach_is_the_first_epoch_at_or_below_target():
    assert prep.epochs_to_reach([1, 2, 3], [0.5, 0.1, 0.05], 0.1) == 2  # ≤: reaching it counts
    assert prep.epochs_to_reach([1, 2, 3], [0.5, 0.2, 0.11], 0.1) is None
    assert prep.TARGET == 0.1  # docstring: "epochs needed to reach a training loss of 0.1"


def test_grid_edge():
    grid = [0.1, 0.3, 1.0, 3.0]
    assert prep.grid_edge(3.0, grid) == "top"
    assert prep.grid_edge(0.1, grid) == "bottom"
    assert prep.grid_edge(1.0, grid) is None
    assert prep.grid_edge(1.0, [1.0]) is None  # a one-LR grid has no edge to flag


def test_data_config_whitens_with_the_documented_epsilon():
    # docstring: the whitened cells (PCA and ZCA) whiten with ε = 1e-5
    for p in ("pca_whiten", "zca"):
        cfg = prep.data_config(p)
        assert cfg["name"] == "digits" and cfg["preprocess"] == p
        assert cfg["options"] == {"epsilon": 1e-5}
    assert prep.data_config("standardize")["options"] == {}
    assert prep.data_config("none")["options"] == {}


def _train_x(p: str) -> np.ndarray:
    from trainlab import data

    cfg = prep.data_config(p)
    return data.load("digits", preprocess=p, **cfg["options"]).x_train.flatten(1).double().numpy()


def _cond_ref(x: np.ndarray, centred: bool) -> float:
    xc = x - x.mean(0) if centred else np.hstack([x, np.ones((len(x), 1))])
    ev = np.linalg.eigvalsh(xc.T @ xc / len(x))
    ev = ev[ev > ev.max() * 1e-9]  # docstring: directions with any variance
    return float(ev.max() / ev.min())


@pytest.mark.parametrize("p", ["none", "standardize", "zca"])
def test_condition_number_matches_numpy(p):
    x = _train_x(p)
    for centred in (True, False):
        assert prep.condition_number(p, centred=centred) == pytest.approx(
            _cond_ref(x, centred), rel=1e-6
        )
    if p == "zca":  # docstring: whitened with ε = 1e-5 has condition number ~6 (5.7)
        assert prep.condition_number(p) < 10


def _coherence_ref(x: np.ndarray, y: np.ndarray, steps: int, batch: int, lr: float, seed: int):
    import torch

    def one_sign(rows: np.ndarray) -> np.ndarray:
        nz = rows != 0
        return np.all((rows > 0) | ~nz, 1) | np.all((rows < 0) | ~nz, 1)

    per_example = one_sign(x).mean()
    c = int(y.max()) + 1
    w, b = np.zeros((c, x.shape[1])), np.zeros(c)
    gen = torch.Generator().manual_seed(seed)
    hits = 0.0
    for _ in range(steps):
        idx = torch.randint(0, x.shape[0], (batch,), generator=gen).numpy()
        xb, yb = x[idx], y[idx]
        z = xb @ w.T + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(batch), yb] -= 1.0  # δ = softmax − onehot
        gw, gb = p.T @ xb / batch, p.mean(0)  # mean cross-entropy's gradient
        hits += one_sign(gw).mean()
        w -= lr * gw
        b -= lr * gb
    return per_example, hits / steps


@pytest.mark.parametrize("p", ["none", "mean"])
def test_gradient_sign_coherence_matches_a_numpy_reference(p):
    from trainlab import data

    ds = data.load("digits", preprocess=p)
    x, y = ds.x_train.flatten(1).double().numpy(), ds.y_train.numpy()
    got = prep.gradient_sign_coherence(p, steps=25, batch=8, lr=0.5, seed=3)
    pe, pb = _coherence_ref(x, y, 25, 8, 0.5, 3)
    assert got["per_example"] == pytest.approx(pe, abs=1e-12)
    assert got["per_batch"] == pytest.approx(pb, abs=1e-9)
    if p == "none":  # all inputs ≥ 0: every example's row is of one sign
        assert got["per_example"] == 1.0


# ---------------------------------------------------------------- preprocessing: statistics


def _welch_verdict(a: list[float], b: list[float]) -> str:
    """mean(a) > mean(b) by Welch's two-sided t-test at 95% (scipy)."""
    t = stats.ttest_ind(a, b, equal_var=False)
    if t.pvalue < 0.05:
        return "confirmed" if t.statistic > 0 else "contradicted"
    return "inconclusive"


def test_lower_than_matches_welch():
    low, high = [0.010, 0.011, 0.012], [0.020, 0.021, 0.023]
    verdict, detail = prep.lower_than(low, high)
    assert verdict == _welch_verdict(high, low) == "confirmed"
    assert f"difference {np.mean(high) - np.mean(low):.4f}" in detail
    verdict, _ = prep.lower_than(high, low)
    assert verdict == "contradicted"
    noisy_low, noisy_high = [0.010, 0.030, 0.020], [0.021, 0.011, 0.031]
    assert prep.lower_than(noisy_low, noisy_high)[0].startswith(
        _welch_verdict(noisy_high, noisy_low)
    )


def test_lower_than_does_not_judge_a_diverged_cell():
    for low, high in (([0.01, math.nan, 0.02], [0.1, 0.2, 0.3]), ([0.01, 0.02], [math.inf, 1.0])):
        verdict, detail = prep.lower_than(low, high)
        assert verdict.startswith("not judged"), verdict
        assert "diverged" in detail or "NaN/Inf" in verdict
        assert "nan" not in detail.lower().replace("nan/inf", "")


def _geo_ratio(raw: list[float], std: list[float]) -> float:
    return float(np.exp(np.mean(np.log(raw)) - np.mean(np.log(std))))


def test_less_sensitive_ratios_and_absolute_test():
    # SGD: raw 10× better than standardized (ratio 0.1); Adam: no difference (ratio 1)
    sgd = ([0.010, 0.011, 0.009], [0.10, 0.11, 0.09])
    adam = ([0.050, 0.052, 0.048], [0.050, 0.049, 0.051])
    verdict, r_sgd, r_adam, _ = prep.less_sensitive(sgd, adam)
    assert r_sgd == pytest.approx(_geo_ratio(*sgd), rel=1e-12)
    assert r_adam == pytest.approx(_geo_ratio(*adam), rel=1e-12)
    assert r_sgd == pytest.approx(0.1, rel=0.01)
    # sensitivity either way: |log 0.1| > |log 1|, so Adam IS less sensitive
    assert verdict == "confirmed", verdict


def test_less_sensitive_does_not_take_the_log_of_a_zero_loss():
    sgd = ([0.0, 0.01, 0.02], [0.1, 0.11, 0.09])
    adam = ([0.05, 0.052, 0.048], [0.05, 0.049, 0.051])
    verdict, r_sgd, r_adam, detail = prep.less_sensitive(sgd, adam)
    assert verdict.startswith("not judged"), verdict
    assert math.isnan(r_sgd) and r_adam == pytest.approx(_geo_ratio(*adam))
    assert "1 of 3 seeds at loss 0" in detail, detail


def test_pm_shows_one_value_without_spread():
    assert prep._pm([0.5, math.inf]) == "0.500 (n=1: no spread, 1 diverged)"
    assert prep._pm([0.1, 0.3]) == f"0.200 ± {np.std([0.1, 0.3], ddof=1):.3f} (n=2)"


def test_quick_and_full_settings_match_the_docstring():
    # docstring: full mode 5 seeds, 10 epochs, every model, input and LR grid; "Quick mode
    # (CI) runs the same cells with 3 seeds and 6 epochs"
    full, quick = prep._settings(False, None), prep._settings(True, None)
    assert (full["seeds"], full["epochs"]) == (5, 10)
    assert (quick["seeds"], quick["epochs"]) == (3, 6)
    assert list(quick["models"]) == list(full["models"]) == ["linear", "MLP"]
    assert list(quick["preps"].values()) == ["none", "mean", "standardize", "pca_whiten", "zca"]
    assert quick["optims"] == full["optims"]
    assert full["optims"]["SGD"][1] == [0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0]
    assert prep._settings(True, 1)["seeds"] == 1


def test_preprocessing_setup_text_lists_only_what_quick_mode_left_out():
    quick = prep._setup_text(prep._settings(True, None), True)
    assert "5 seeds (ran 3)" in quick and "10 epochs (ran 6)" in quick
    # quick mode with the full seed count leaves out no seeds
    quick5 = prep._setup_text(prep._settings(True, 5), True)
    assert "seeds (ran" not in quick5 and "10 epochs (ran 6)" in quick5
    assert "Quick mode leaves out" not in prep._setup_text(prep._settings(False, None), False)
