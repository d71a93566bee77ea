"""Review tests (diff35f): watch's denormal handling (247cb50), optimizer error values (fec85b4)."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from trainlab.diagnostics import watch
from trainlab.errors import ConfigError
from trainlab.train import train


def _flushing() -> bool:
    # a tensor probe, independent of trainlab.devices.flushes_denormals (torch has no getter)
    return bool(torch.tensor([1e-39]).mul(1.0)[0] == 0)


def _step(m: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    opt.zero_grad()
    nn.functional.mse_loss(m(x), y).backward()
    opt.step()


# watch (src/trainlab/diagnostics/watch.py, 247cb50) reads whether the thread flushes denormals
# once, at a sampled step's forward (self._flushing), and _denormals_kept(True) later ends each
# norm block with torch.set_flush_denormal(True) -- whatever the caller's setting is by then.
# The last sampled step's update is measured at records() or at detach(): a caller that
# trained with flushing on and turned it off before reading the records (or leaving the block)
# gets flushing silently turned back ON for the rest of the process (every later CPU
# computation of the thread flushes denormals to 0). Expected: the watch leaves the caller's
# flush setting as it found it at that moment (off). Fix: have _denormals_kept probe the
# current setting itself (_flushes_denormals() at entry) and restore that.
@pytest.mark.parametrize("finish", ["records", "detach"])
def test_watch_restores_the_callers_current_flush_setting(finish: str) -> None:
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x, y = torch.randn(16, 4), torch.randn(16, 2)
    assert not _flushing()
    try:
        torch.set_flush_denormal(True)  # the caller's training mode
        w = watch(m, every=1).attach()
        _step(m, opt, x, y)
        torch.set_flush_denormal(False)  # training done: the caller turns it off
        if finish == "records":
            rows = w.records()
            assert rows and rows[-1]["update_ratio"] is not None
        w.detach()
        assert not _flushing(), f"flush-denormal turned back on by watch.{finish}()"
    finally:
        torch.set_flush_denormal(False)


# optim/base.py _short (fec85b4) shows a hyperparameter by np.float32(x), which for a finite
# value beyond float32's range (|x| > 3.4e38) makes numpy emit "RuntimeWarning: overflow
# encountered in cast": the CLI prints "warning (RuntimeWarning): overflow encountered in cast"
# before "error: momentum must lie in [0.0, 1.0], got [0.9, 1e+39]" (and a caller running with
# warnings as errors gets the numpy RuntimeWarning instead of the ConfigError). Expected: the
# ConfigError alone, with the value as given (1e+39). Fix: only try float32 for
# |x| <= np.finfo(np.float32).max (or wrap the cast in np.errstate(over="ignore")).
def test_optimizer_error_for_huge_value_emits_no_numpy_warning() -> None:
    cfg = {
        "name": "huge",
        "data": {"name": "digits"},
        "model": {"name": "mlp", "hidden": [8]},
        "optim": {"name": "sgd", "lr": 0.1},
        "train": {"epochs": 1},
        "population": {"grid": {"optim.momentum": [0.9, 1.0e39]}},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ConfigError, match=r"1e\+39"):
            train(cfg, device="cpu", progress=False, write=False)
