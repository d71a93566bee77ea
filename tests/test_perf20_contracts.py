"""Review (perf20): per-step Python work and host syncs in the training hot loop."""

import warnings

import numpy as np
import torch

from test_custompop19_contracts import _Branch  # a Python branch on the data (loop mode)
from trainlab.config import parse_config
from trainlab.pretrain import arrays_dataset
from trainlab.train import Trainer


def _trainer(k):
    rs = np.random.RandomState(0)
    x = rs.randn(96, 16).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0)
    data = arrays_dataset(x, y, x[:16], y[:16], val_fraction=0.25)
    cfg = parse_config(
        {
            "train": {"epochs": 1, "batch_size": 4},
            "optim": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
            "population": {"seeds": list(range(k))},
            "init": {"scheme": "keep"},
        }
    )
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Trainer(cfg, model=_Branch(), dataset=data, device="cpu")


def test_loop_mode_stops_hooking_every_slice_once_the_unused_parameter_warning_is_given():
    # population.py _loop_forward: `track` registers K x P backward hooks on the parameter slices
    # in every training step, for the whole run, although _warn_unused_parameters warns once and
    # ignores every later record (K=16 small loop MLP: ~15% of a step's CPU time). Once warned,
    # a step must register no hooks (track = ... and not self.__dict__.get("_warned_unused")).
    t = _trainer(16)
    n = t.data.x_train.shape[0]
    g = torch.Generator().manual_seed(0)
    batches = [torch.randint(0, n, (t.k, 4), generator=g) for _ in range(12)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for idx in batches[:6]:
            t.step_on(idx)
    assert t.pop.mode == "loop"  # (vmap refuses the branch at the first step)
    assert any("did not use parameter" in str(w.message) for w in seen)  # warned: precondition
    calls = []
    orig = torch.Tensor.register_hook

    def counting(self, hook):
        calls.append(1)
        return orig(self, hook)

    torch.Tensor.register_hook = counting
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for idx in batches[6:]:
                t.step_on(idx)
    finally:
        torch.Tensor.register_hook = orig
    assert len(calls) == 0, f"{len(calls)} hooks registered in 6 steps after the warning"
