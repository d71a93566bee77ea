"""Review claims18: the claim/verdict logic of the studies (not ``init``), fed hand-made
measurements; no study is trained."""

from __future__ import annotations

from conftest import optimizers_cell
from trainlab.studies import clipping as clip_study
from trainlab.studies import optimizers as opt_study
from trainlab.studies import preprocessing as prep


def _prep_best(losses: dict[str, float]) -> dict:
    """The preprocessing study's ``best`` table for the linear model: every cell inside its
    grid, 3 seeds with a 1% spread around the given final training loss."""
    best = {}
    for opt in ("SGD", "Adam"):
        for inputs in (prep.RAW, prep.MEAN, prep.STD, prep.PCA):
            loss = losses.get(inputs, 0.05)
            best[("linear", opt, inputs)] = {
                "lr": 1.0,
                "edge": None,
                "losses": [loss, loss * 1.01, loss * 0.99],
            }
    return best


def test_preprocessing_contradiction_with_untuned_better_cell_is_not_contradicted():
    # preprocessing.py:522 (_tuned) downgrades only a *confirmation* with an untuned cell: when
    # the cell the claim says is BETTER (mean-subtracted) has its best LR at the top of its
    # grid and measures worse, the verdict reads "contradicted; ... not tuned", though a larger
    # LR could flip it. Right: inconclusive (not tuned), as the optimizers studies judge it.
    best = _prep_best({prep.RAW: 0.05, prep.MEAN: 0.10, prep.STD: 0.04, prep.PCA: 0.03})
    best[("linear", "SGD", prep.MEAN)].update(lr=100.0, edge="top")
    rows = {r["claim"]: r for r in prep._claims(best, ["linear"], 3)}
    verdict = rows["linear, SGD: zero-centering speeds convergence"]["verdict"]
    assert not verdict.startswith("contradicted"), verdict
    assert verdict.startswith("inconclusive"), verdict


def _clip_row(clipping: str, lr: float, n_nan: int, n: int = 5) -> dict:
    return {"activation": "relu", "clipping": clipping, "lr": lr, "n_nan": n_nan,
            "n_models": n, "test_acc": [0.9] * (n - n_nan)}  # fmt: skip


def test_clipping_prevents_divergence_is_judged_on_the_runs_that_diverged_unclipped():
    # clipping.py:262-268: "clip norm 1 prevents it" counts every model at LR >= 0.01, also
    # those that never diverged without clipping. Unclipped: lr 0.01 0/5 NaN, lr 0.1 5/5 NaN;
    # clipped: the same 0/5 and 5/5 — clipping prevented none of the 5 divergences, yet the
    # verdict reads "partly (5 of 10 as claimed)". Right: judged on the runs that diverged
    # without clipping (module docstring: "the runs that diverged train instead"): contradicted.
    rows = [
        _clip_row(c, lr, k)
        for c in ("no clipping", "clip norm 1")
        for lr, k in ((1e-3, 0), (1e-2, 0), (1e-1, 5))
    ]
    claims = clip_study._claims(rows, ["relu"], ["no clipping", "clip norm 1"], quick=True)
    (row,) = [r for r in claims if r["claim"].startswith("…and clip norm 1 prevents it")]
    assert row["verdict"] == "contradicted", row


def _baseline_verdict(mom_acc: list[float]) -> str:
    """Full-mode verdict of "MLP test accuracy reaches the paper's baseline" when momentum (its
    best LR inside the grid, the lowest validation loss: the best optimizer) reaches ``mom_acc``
    per seed and SGD and Adam reach 0.5."""
    n, grids = len(mom_acc), opt_study.QUICK_OPTIMIZERS

    def result(name: str, best_lr: float, accs: list[float], val: float = 0.5) -> dict:
        per = {lr: [(1.0, 0.5, 1.0)] * n for lr in grids[name]}
        per[best_lr] = [(val, a, 0.4) for a in accs]
        return opt_study.summarize(optimizers_cell(per), grids[name])

    results = {
        ("MLP", "SGD"): result("SGD", 0.3, [0.5] * n),
        ("MLP", "momentum 0.9"): result("momentum 0.9", 0.03, mom_acc, val=0.45),
        ("MLP", "Adam"): result("Adam", 3e-3, [0.5] * n),
    }
    lrs = [0.01, 0.03, 0.1, 0.3]
    sched = {name: opt_study._sched_models(
        optimizers_cell({lr: [(0.5, 0.6, 0.3 if lr == 0.03 else 0.6)] * n for lr in lrs}), lrs)
        for name in ("constant", "step ×0.1", "cosine")}  # fmt: skip
    demo = {"L-BFGS, full batch": [[1.0, 0.2]] * n, "L-BFGS, batch 64": [[1.0, 0.6]] * n,
            "SGD, batch 64": [[1.0, 0.8]] * n}  # fmt: skip
    rows = opt_study._claims(results, sched, demo, plan={"MLP": ["SGD", "momentum 0.9", "Adam"]},
                             quick=False, epochs=15)  # fmt: skip
    (row,) = [r for r in rows if r["claim"].startswith("MLP test accuracy")]
    return row["verdict"]


def test_optimizers_baseline_claim_treats_both_no_noise_cases_alike():
    # optimizers.py:663: a mean above the paper's 68% with no noise estimate is promoted to
    # "confirmed" when 2 seeds agree exactly (NO_SPREAD: 80%, 80%) but stays "not judged" with
    # one seed (80%); evidence.py judges neither case. Right: the same verdict for both.
    one, two_equal = _baseline_verdict([0.80]), _baseline_verdict([0.80, 0.80])
    assert one == two_equal, (one, two_equal)
