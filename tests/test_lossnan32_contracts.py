"""Review lossnan32: runs in which every model goes NaN/Inf."""

import json

from trainlab.config import parse_config
from trainlab.train import train


def _nan_summary(step: int) -> dict:
    none = {"mean": None, "std": None, "ci95": None, "n": 0}
    group = {"group": "default", "n": 1, "aggregates": {"test_acc": none, "test_loss": none}}
    nan = [{"index": 0, "seed": 0, "group": "default", "step": step}]
    return {"name": "s", "k": 1, "epochs": 1, "steps": 13, "groups": [group], "nan_models": nan}


# A model whose loss/gradient is NaN/Inf at step 0 failed on its *initial* weights, before any
# update: its learning rate and gradient clipping never acted (an infinite gradient norm also
# stops a clipped model). `trainlab train` (cli/core.py `_finish`) still prints only "fix: lower
# optim.lr, or set train.clip_norm", which cannot help (repro: `--set init.std=1e30` on a digits
# MLP, "stopped ... at step 0" then that fix). For a step-0 stop the fix must point at what
# decides the first loss: the init (scheme/scale), the model or the data.
def test_step0_nan_fix_names_the_init_not_the_lr(capsys):
    from trainlab.cli.core import _finish

    _finish(None, _nan_summary(0), report=False)
    out = capsys.readouterr().out
    fix = next(line for line in out.splitlines() if line.startswith("fix:"))
    assert "init" in fix.lower(), fix


def _diverging(lr: float) -> dict:
    return {
        "name": "d",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [32]},
        "init": {"scheme": "normal", "std": 1.0},
        "optim": {"name": "sgd", "lr": lr},
        "train": {"epochs": 1, "batch_size": 100, "diagnose_every": 50},
        "population": {"seeds": [0]},
    }


# The run verdict's update_ratio check (diagnostics/verdict.py `_check_updates`) judges only
# the latest step whose ratio is *finite* (`_latest(rows, "update_ratio")` with `_finite`). An
# update so large that its float32 norm overflows (README: counted as infinite, ratio +inf) is
# then not judged at all: with SGD lr 1e3 verdict.json says "update/weight ratio too large:
# 4.9e+02", with lr 1e20 (the model goes NaN at step 1) the update_ratio finding is missing,
# although +inf > 1e-1 is the clearest "too fast" there is (the same function counts +inf as
# too large for an earlier step). Expected: a warn finding for update_ratio.
def test_infinite_update_ratio_is_judged_too_fast(tmp_path):
    train(parse_config(_diverging(1e20)), out=tmp_path / "run", progress=False)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["models"][0]["status"] == "nan"  # the run this is about
    findings = json.loads((tmp_path / "run" / "verdict.json").read_text())
    upd = [f for f in findings if f["check"] == "update_ratio"]
    assert upd and upd[0]["status"] == "warn", [(f["check"], f["status"]) for f in findings]
