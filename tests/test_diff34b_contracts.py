"""diff34b review: the source changes of f84957b..d7ebe4b."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import yaml

from conftest import small_config


class _EvalNaN(nn.Module):
    """Finite in training; NaN logits in evaluation from the 2nd epoch's val/test on."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(64, 10)
        self.evals = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.fc(x.flatten(1))
        if not self.training:
            self.evals += 1
            if self.evals > 2:  # epoch 1's val and test are finite, epoch 2's are NaN
                y = y * float("nan")
        return y


# 772ee31/b63725b: the trainer stops a model whose epoch evaluation is non-finite (status
# "nan", stopped_by "evaluation") and, doing so, leaves it out of that epoch's early stopping
# (Trainer.train_epoch passes alive=False for it). The killed-run replay in
# RunData.model_results (src/trainlab/report/rundata.py) keeps the failing row in `good` (its
# final numbers) and then replays early stopping over `good`, so with patience 1 the NaN
# val_loss of that very row counts as "no improvement" and the model reads "early_stopped"
# (stopped_by missing) although the trainer said "nan" for the same rows. The replay must
# leave the evaluation-failed row out of _early_stop, as the trainer does.
def test_killed_report_eval_stop_not_read_as_early_stop(tmp_path: Path) -> None:
    import trainlab
    from trainlab.report.rundata import read_run

    cfg = small_config(
        train={"epochs": 3, "batch_size": 512, "early_stopping_patience": 1},
        model={"name": "mlp"},
    )
    out = tmp_path / "run"
    with pytest.warns(UserWarning):  # (model.hidden ignored for a module passed in)
        trainlab.train(cfg, out=out, model=_EvalNaN(), device="cpu", progress=False)
    (finished,) = read_run(out).model_results()
    assert (finished["status"], finished.get("stopped_by")) == ("nan", "evaluation")
    (out / "summary.json").unlink()  # the same rows, as a run killed after its last epoch
    (killed,) = read_run(out).model_results()
    assert killed["status"] == "nan", killed
    assert killed.get("stopped_by") == "evaluation", killed
    assert killed["stopped_step"] == finished["stopped_step"]


# 06e2438: _null_channels_as_built (src/trainlab/train.py) drops model.channels from BOTH
# configs whenever one side is null, so an old convnet run (channels: null, i.e. the built
# [32, 64]) whose config.yaml is edited to channels [4, 8] is no longer refused as a config
# change. Resume then loads the checkpoint into a [4, 8] net and says
# "checkpoints/last.pt is damaged (size mismatch ...) ... delete it to restart the run from
# scratch": a wrong diagnosis that advises deleting a good checkpoint. A new run with the same
# edit gets "config.yaml changed since the checkpoint (model.channels: ...)"; null should be
# resolved to the built default and compared, not dropped.
def test_old_convnet_run_changed_channels_named_not_damaged(tmp_path: Path) -> None:
    import trainlab
    from trainlab.errors import UserError
    from trainlab.runs import RunDir

    cfg = {
        "data": {"name": "digits"},
        "model": {"name": "convnet"},
        "train": {"epochs": 1, "batch_size": 512},
    }
    run = tmp_path / "run"
    trainlab.train(cfg, out=run, device="cpu", progress=False)
    # as written before f84957b: channels null everywhere
    raw = yaml.safe_load((run / "config.yaml").read_text())
    raw["model"]["channels"] = None
    info = json.loads((run / "population.json").read_text())
    info["config"]["model"]["channels"] = None
    (run / "population.json").write_text(json.dumps(info))
    rd = RunDir(run)
    state = rd.load_checkpoint()
    conf = json.loads(state["config"])
    conf["model"]["channels"] = None
    state["config"] = json.dumps(conf, sort_keys=True)
    rd.save_checkpoint(state)
    # the user edits the architecture (and the length) before resuming
    raw["model"]["channels"] = [4, 8]
    raw["train"]["epochs"] = 2
    (run / "config.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(UserError) as err:
        trainlab.resume(run, device="cpu", progress=False)
    msg = str(err.value)
    assert "model.channels" in msg, msg
    assert "damaged" not in msg, msg


class _Leaky(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.drop = nn.Dropout(0.5)
        self.out = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(torch.tanh(self.fc(x)) * 1.0)
        self.features = h  # under vmap: a batched tensor left on the template
        return self.out(h)


# aef1176: Population.__getstate__ (src/trainlab/population.py) deep-copies _template with
# its own memo when a vmap forward left a batched tensor on it. The rest of the state is
# copied with another memo, so the copy's plain attributes that point into the template
# (_dropout_layers, _tensor_attrs) point at orphan modules, not at the copy's template:
# copy.set_step() no longer reaches the dropout layers its vmap forward uses, and the copy's
# training forward draws other masks than the original's (max |diff| ~1). Without the leaked
# tensor the copy matches exactly; it must match with it too.
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_vmap_population_copy_after_leaky_forward_same_dropout(how: str) -> None:
    from trainlab.population import Population

    torch.manual_seed(0)
    pop = Population(_Leaky(), 3)
    assert pop.mode == "vmap"
    x = torch.randn(3, 5, 8)
    pop.train()
    pop.set_step(0)
    pop(x)  # leaves self.features
    c = copy.deepcopy(pop) if how == "deepcopy" else pickle.loads(pickle.dumps(pop))
    outs = []
    for p in (pop, c):
        p.set_step(7)
        outs.append(p(x))
    assert torch.equal(outs[0], outs[1])


# Wrong: Population.__getstate__ (src/trainlab/population.py) now returns
# copy.deepcopy(state, leaked) when a vmap forward left a tensor on the template: a private
# copy made outside the caller's deepcopy/pickle memo. Objects copied together with the
# population (an optimizer over its parameters, as in copy.deepcopy((model, opt)) or
# pickle.dumps((model, opt))) then point at other tensors than the copy's parameters: the
# copied optimizer steps orphans and the copied model never moves. Without the leaked tensor
# (and before ea2dc52, which replaced only _template) the sharing is kept. Right: the copy's
# parameters are the copied optimizer's (fix: a __deepcopy__ that adds the leaked ids to the
# caller's memo; for pickle, drop the leaked attributes without a separate deep copy).
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_leaky_vmap_population_copied_with_its_optimizer_shares_parameters(how: str) -> None:
    from trainlab.population import Population

    torch.manual_seed(0)
    pop = Population(_Leaky(), 3)
    assert pop.mode == "vmap"
    pop(torch.randn(3, 5, 8))  # leaves self.features on the template
    opt = torch.optim.SGD(pop.parameters(), lr=0.1)
    if how == "deepcopy":
        p2, o2 = copy.deepcopy((pop, opt))
    else:
        p2, o2 = pickle.loads(pickle.dumps((pop, opt)))
    params = list(p2.parameters())
    assert len(params) == len(o2.param_groups[0]["params"])
    assert all(a is b for a, b in zip(params, o2.param_groups[0]["params"], strict=True))
