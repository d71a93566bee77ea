"""Review of 785da1f~1..HEAD: defects the three commits introduced or left half-done."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pytest
import torch
from torch import nn

import trainlab.data
import trainlab.pretrain
from conftest import LazyCalib
from trainlab.data.datasets import check_arrays
from trainlab.diagnostics import watch
from trainlab.errors import UserError
from trainlab.population import Population
from trainlab.studies import pretraining


def test_float16_labels_do_not_warn():
    # Wrong: y.max() >= 2**63 casts 2**63 to float16 (overflow RuntimeWarning on valid labels).
    # Right: the beyond-int64 check warns for no dtype (skip it where int64 holds the dtype).
    x = np.zeros((6, 3), dtype=np.float32)
    y = np.array([0, 1, 0, 1, 0, 1], dtype=np.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, k = check_arrays("t", {"train": (x, y)}, None)
    assert k == 2


def test_pretraining_study_seeds_that_agree_have_zero_std(monkeypatch):
    # Wrong: the pretraining study still uses a.std(ddof=1) (1.4e-16 for three 0.7s), which
    # evidence.judge takes for a measured spread. Right: report.stats.sample_std, exactly 0.
    ds = types.SimpleNamespace(
        input_shape=(4,), x_train=torch.zeros(20, 4), y_train=torch.arange(20) % 2, num_classes=2
    )
    monkeypatch.setattr(trainlab.data, "load", lambda *a, **k: ds)
    monkeypatch.setattr(pretraining, "scale_unit", lambda d: d)
    monkeypatch.setattr(pretraining, "_pretrained", lambda *a: None)
    monkeypatch.setattr(pretraining, "_subset", lambda d, idx, min_rows: d)
    methods = list(pretraining.METHODS)
    monkeypatch.setattr(pretraining, "_modules", lambda *a: (methods, methods, [0, 1, 2]))
    fake = {"models": [{"final": {"test_acc": 0.7}, "status": "ok"} for _ in methods]}
    monkeypatch.setattr(trainlab.pretrain, "fine_tune", lambda *a, **k: fake)
    rows: list = []
    cfg = {"depths": [1], "width": 4, "steps": 1}
    pretraining._run_dataset("d", cfg, [0, 1, 2], [1.0], 10, "cpu", rows, [])
    assert rows and all(r["test_acc_std"] == 0.0 for r in rows), [r["test_acc_std"] for r in rows]


class _ScaledTanh(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x) * 1.5


def test_watch_accepts_a_model_with_an_unwatched_scripted_submodule():
    # Wrong: _refuse_scripted walks every submodule, so a scripted activation (no layer of the
    # watch, no hook on it) refuses the whole model, which watched fine before. Right: refuse
    # only a scripted root or a scripted module that holds a selected layer.
    model = nn.Sequential(nn.Linear(4, 8), torch.jit.script(_ScaledTanh()), nn.Linear(8, 3))
    with watch(model, layers=["0", "2"]) as w:
        model(torch.randn(5, 4)).sum().backward()
    assert {r["layer"] for r in w.records()} == {"0", "2"}


def test_loop_population_refuses_an_attribute_each_model_sets_from_none():
    # A forward that sets `calib` from None (a data-dependent lazy init) gave model 1 an
    # AttributeError (the restore deleted it), then, fixed, all models model K-1's value from
    # the second forward on. One attribute cannot hold K values: a clear UserError naming it.
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pop = Population(LazyCalib(), k=3)
        with pytest.raises(UserError, match="calib"):
            pop(torch.randn(3, 5, 4))
    assert pop._template.calib is None or isinstance(pop._template.calib, float)


@pytest.mark.skipif(torch.cuda.is_available(), reason="without CUDA DataParallel passes through")
def test_population_accepts_a_dataparallel_that_scatters_nothing():
    # Wrong: every nn.DataParallel is refused, also one with no device_ids (no CUDA: it only
    # calls its module), which trained correctly before. Right: refuse it where it scatters.
    torch.manual_seed(0)
    model = nn.Sequential(nn.DataParallel(nn.Linear(4, 3)), nn.Tanh())
    pop = Population(model, k=2)
    x = torch.randn(2, 5, 4)
    out = pop(x)
    assert torch.allclose(out[1], pop.unstack(1)(x[1]), atol=1e-6)
