"""Review optstudy19: optimizers / preprocessing studies (claims, selection, seed texts)."""

from __future__ import annotations

from test_studies_optim import _fake_optimizer


def test_optimizers_baseline_claim_picks_the_best_optimizer_on_validation_not_test():
    # optimizers.py _claims picks the "best optimizer" of the baseline claim by mean *test*
    # accuracy, then judges that same test accuracy (selection on test data); it should pick it
    # on validation data, as the best LR is (here momentum: lower val loss, lower test acc)
    from trainlab.studies import optimizers as opt

    mom = _fake_optimizer({0.01: [(1.5, 1.4, 0.5)] * 2, 0.03: [(1.0, 0.9, 0.70), (1.0, 0.9, 0.71)],
                           0.1: [(1.4, 1.3, 0.5)] * 2})  # fmt: skip
    adam = _fake_optimizer({1e-3: [(1.6, 1.4, 0.5)] * 2, 3e-3: [(1.3, 1.0, 0.80), (1.3, 1.0, 0.81)],
                            0.01: [(1.6, 1.3, 0.5)] * 2})  # fmt: skip
    sched = {n: {"mods": mom["mods"], "best": 0.03, "edge": ""}
             for n in ("constant", "step ×0.1", "cosine")}  # fmt: skip
    demo = {"L-BFGS, full batch": [[0.1], [0.1]], "L-BFGS, batch 64": [[0.3], [0.31]]}
    rows = opt._claims({("MLP", "momentum 0.9"): mom, ("MLP", "Adam"): adam}, sched, demo,
                       plan={"MLP": ["momentum 0.9", "Adam"]}, quick=False, epochs=3)  # fmt: skip
    row = next(r for r in rows if r["claim"].startswith("MLP test accuracy (best optimizer)"))
    assert row["measured"].startswith("momentum 0.9 at lr 0.03"), row["measured"]


def test_preprocessing_one_seed_figures_do_not_say_mean_std_over_seeds(tmp_path, monkeypatch):
    # preprocessing.py run: the figures' y labels are hard-coded "mean ± std over seeds" /
    # "(mean ± std)" even with --seeds 1 (no spread measured, no band); they should say "one
    # seed" as the optimizers and clipping studies do (studies.spread_text)
    from trainlab.report import Report
    from trainlab.studies import preprocessing as pp

    def fake_cell(raw, out, device):
        lrs = raw["population"]["grid"]["optim.lr"]
        models = [{"index": i, "seed": 0, "overrides": {"optim.lr": lr}, "status": "ok",
                   "final": {"train_loss": 0.5 / (i + 1), "test_acc": 0.9}}
                  for i, lr in enumerate(lrs)]  # fmt: skip
        metrics = [{"model": i, "epoch": 1, "train_loss": 0.5 / (i + 1)} for i in range(len(lrs))]
        return {"summary": {"models": models}, "metrics": metrics}

    monkeypatch.setattr(pp, "train_cell", fake_cell)
    monkeypatch.setattr(pp, "condition_number", lambda prep, **kw: 1.0)
    monkeypatch.setattr(pp, "gradient_sign_coherence",
                        lambda prep: {"per_example": 1.0, "per_batch": 0.1})  # fmt: skip
    monkeypatch.setattr(pp, "QUICK_MODELS", ("linear",))
    monkeypatch.setattr(pp, "QUICK_PREPROCESSING", (pp.RAW,))
    monkeypatch.setattr(pp, "QUICK_OPTIMS", {"SGD": [1.0, 3.0, 10.0]})
    labels: list[str] = []
    orig = Report.add_figure

    def record(self, name, fig, *a, **kw):
        labels.extend(ax.get_ylabel() for ax in fig.axes if ax.get_ylabel())
        return orig(self, name, fig, *a, **kw)

    monkeypatch.setattr(Report, "add_figure", record)
    pp.run(tmp_path / "pp", quick=True, seeds=1, device="cpu")
    assert labels
    for label in labels:
        assert "±" not in label, label
