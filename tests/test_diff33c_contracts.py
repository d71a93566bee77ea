"""Review diff33c: today's changes (06e2438..HEAD) in population.py and train.py."""

from __future__ import annotations

import copy
import io
import json
import pickle

import torch
from torch import nn

from conftest import full_and_resumed_longer
from trainlab import Population


# Wrong: Population.__getstate__ (new, population.py) starts from `self.__dict__.copy()`
# instead of nn.Module.__getstate__, which drops `_compiled_call_impl`. After the public
# `pop.compile()`, pickle.dumps(pop) / torch.save(pop, f) fail ("Can't pickle <function
# Module._call_impl ...>"; they worked at 06e2438), and copy.deepcopy(pop) shares the
# original's compiled call, bound to the ORIGINAL module: the copy computes with the original's
# weights (zeroing the copy's weights leaves its output unchanged). Right: as for any
# nn.Module, a copy computes with its own weights and a compiled population pickles.
def test_copy_of_a_compiled_population_uses_its_own_weights_and_pickles():
    torch.manual_seed(0)
    pop = Population(nn.Linear(4, 2), 3)
    pop.compile(backend="eager")
    x = torch.randn(3, 5, 4)
    pop(x)
    c = copy.deepcopy(pop)
    with torch.no_grad():
        for p in c.parameters():
            p.zero_()
    assert c(x).abs().max().item() == 0.0  # a zero linear layer outputs zeros
    buf = io.BytesIO()
    torch.save(pop, buf)
    pickle.dumps(pop)


# Wrong: train.py's _stop_diverged_at_the_end flags a model whose last update made its val/test
# loss non-finite with nan_step = step - 1, while the uninterrupted longer run flags the same
# model at the step whose loss shows it (step 2 here). So a finished 2-epoch run extended to 4
# epochs (README: train.epochs may be raised to train a finished run longer) reports
# stopped_step 1, the uninterrupted 4-epoch run stopped_step 2; and the report says "loss
# became NaN/Inf at step 1" although step 1's training loss was finite (metrics.jsonl).
# Right: the same model, same data, same updates: the same stopped step as the longer run.
def test_last_step_divergence_is_flagged_at_the_step_a_longer_run_flags(tmp_path):
    kw = dict(
        optim={"name": "sgd", "lr": 0.05},
        schedule={"name": "multistep", "interval": "step", "milestones": [1], "gamma": 1e30},
        population={"seeds": [0, 1]},
    )
    full, ext = full_and_resumed_longer(
        tmp_path, epochs=4, first=2, train={"batch_size": 4096}, **kw
    )
    assert [n["step"] for n in full.summary["nan_models"]] == [2, 2]
    assert ext.summary["nan_models"] == full.summary["nan_models"]
    assert (
        json.loads((tmp_path / "short" / "summary.json").read_text())["nan_models"]
        == (full.summary["nan_models"])
    )
