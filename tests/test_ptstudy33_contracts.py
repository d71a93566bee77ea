"""Review of ``trainlab study pretraining`` (reviewer ptstudy33)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from trainlab.studies import pretraining as P

# class counts of the digits training split (load("digits", seed=0): 1294 rows) and of the
# mnist1d one (3600 rows), as the study labels them
DIGITS_COUNTS = [128, 131, 128, 131, 130, 131, 131, 129, 125, 130]
MNIST1D_COUNTS = [358, 356, 370, 354, 355, 362, 361, 364, 362, 358]


# label_subset rounds the fraction per class (max(1, round(f * n_c))), so the "1%" cells do not
# use 1% of the labels: on digits every class has ~130 rows, round(1.3) = 1, and the subset has
# 10 labels = 0.77% of 1294 (1% is 12.94); on mnist1d round(3.6) = 4 per class gives 40 labels
# = 1.11% of 3600 (1% is 36). The report labels both cells "1%". A stratified fraction of N
# rows should hold fraction * N rows up to rounding (scikit-learn's stratified split gives 12
# and 36), distributed by class proportion (largest remainder), at least one per class.
@pytest.mark.parametrize("counts", [DIGITS_COUNTS, MNIST1D_COUNTS], ids=["digits", "mnist1d"])
@pytest.mark.parametrize("fraction", [0.01])
def test_label_subset_holds_the_stated_fraction(counts, fraction):
    y = np.repeat(np.arange(len(counts)), counts)
    for seed in range(3):
        idx = P.label_subset(y, fraction, seed)
        assert len(np.unique(idx)) == len(idx)
        assert abs(len(idx) - fraction * len(y)) < 1.0, (len(idx), fraction * len(y))
        per_class = np.bincount(y[idx], minlength=len(counts))
        assert per_class.min() >= 1
        # stratified: each class within one of its proportional share
        share = fraction * np.asarray(counts)
        assert np.all(np.abs(per_class - share) < 1.0 + 1e-9), (per_class, share)


# The table ("Test accuracy (mean ± std over seeds)") and the figure's error bars are the sample
# std (report.stats.sample_std, ddof 1), but the pretraining report never says which std it is:
# it is written with include_standard=False, so the standard sections' "(ddof=1)" captions are
# absent, and no text, title or caption of this report names the ddof. With 3 seeds ddof 0 vs 1
# changes the std by a factor sqrt(3/2) = 1.22, so a reader cannot recompute the table's ±
# without it. Expected: the report states "ddof" (e.g. "mean ± sample std (ddof=1)").
def test_report_states_the_std_ddof(tmp_path, monkeypatch):
    import trainlab.pretrain as pretrain

    quick = dict(P.SETTINGS["quick"], width=8, steps=4, dbn_iter=1, sdae_iter=1)
    monkeypatch.setitem(P.SETTINGS, "quick", quick)
    rng = np.random.default_rng(0)

    def fake_fine_tune(mods, sub, seeds, **kw):  # (the report's wording is under test, fast)
        return {
            "models": [
                {"status": "ok", "final": {"test_acc": float(rng.uniform(0.5, 0.9))}} for _ in mods
            ]
        }

    monkeypatch.setattr(pretrain, "fine_tune", fake_fine_tune)
    monkeypatch.setattr(
        P,
        "_pretrained",
        lambda x, depth, width, seed, cfg: {
            m: [
                (np.zeros((width, x.shape[1] if i == 0 else width)), np.zeros(width))
                for i in range(depth)
            ]
            for m in ("dbn", "sdae")
        },
    )
    import trainlab.report as report

    written: list[str] = []

    class Recorder:  # what the report says, without rendering it
        def __init__(self, *a, **k):
            pass

        def add_text(self, text):
            written.append(text)

        def add_table(self, title, rows, *a, **k):
            written.append(title)

        def add_figure(self, name, fig, caption="", *a, **k):
            written.append(caption)

        def write(self, *a, **k):
            pass

    monkeypatch.setattr(report, "Report", Recorder)
    monkeypatch.setattr(P, "_figure", lambda *a, **k: None)
    out = P.run(tmp_path / "study", quick=True, seeds=2, device="cpu")
    # the numbers are the ddof-1 std of the per-model accuracies
    models = json.loads((out / "summary.json").read_text())["models"]
    cells = json.loads((out / "summary.json").read_text())["cells"]
    for c in cells:
        acc = [
            m["test_acc"]
            for m in models
            if all(m[k] == c[k] for k in ("data", "activation", "depth", "labels", "method"))
        ]
        assert c["test_acc_std"] == pytest.approx(float(np.std(acc, ddof=1)), abs=1e-12)
    assert any("mean ±" in w for w in written)  # the table's title
    stated = " ".join(written)
    assert "ddof" in stated.lower()
