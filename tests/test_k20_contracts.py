"""Review k20: DESIGN.md principle 2 (a model's result depends only on its own config and seed,
never on K or its slot) applied to the per-model diagnostics verdict of a training run."""

from __future__ import annotations

from trainlab.config import parse_config
from trainlab.diagnostics.run import run_findings
from trainlab.train import train


def _config(variants):
    # Adam lr 1e-7: updates ~1e-7 of the weights ("too small"); val_acc never improves, so the
    # model early-stops after epoch 2; a neighbour with lr 0.01 keeps training one epoch more
    return parse_config(
        {
            "name": "k20",
            "model": {"name": "mlp", "hidden": [32]},
            "optim": {"name": "adam", "lr": 1e-7},
            "train": {
                "epochs": 3, "batch_size": 512, "diagnose_every": 2,
                "early_stopping_patience": 1, "early_stopping_metric": "val_acc",
            },
            "population": {"seeds": [0], "variants": variants},
        }
    )  # fmt: skip


def _update_finding(result, model):
    # what train() writes to verdict.json (trainer._write_verdict), from the in-memory records
    rows = run_findings(result.diagnostics, result.summary)
    return next((f.status, f.message) for f in rows if f.model == model
                and f.check == "update_ratio")  # fmt: skip


def test_early_stopped_models_verdict_does_not_depend_on_a_neighbour_that_trains_on():
    # Wrong: the watch keeps recording an early-stopped model while a neighbour trains on, and the
    # verdict judges it on those frozen steps (update_ratio 0): alone "update/weight ratio too
    # small ... (warn)", next to a neighbour "no update (model stopped or frozen)" (ok). Right: a
    # model's verdict comes from its own steps up to its stop, the same alone and in a population.
    alone = train(_config([{}]), write=False, progress=False, device="cpu")
    pop = train(_config([{}, {"optim.lr": 0.01}]), write=False, progress=False, device="cpu")
    assert alone.summary["models"][0]["status"] == "early_stopped"
    assert pop.summary["models"][0]["stopped_step"] == alone.summary["models"][0]["stopped_step"]
    assert pop.summary["epochs"] > alone.summary["epochs"]  # the neighbour trained on
    assert _update_finding(pop, 0) == _update_finding(alone, 0)
