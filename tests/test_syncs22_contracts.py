"""Review (syncs22): no host syncs in the hot loop (DESIGN.md principle 3, issue 3 item 5).

On the CPU a sync cannot be timed, so these tests count what would be one on CUDA. A tensor
made from host data (``torch.tensor``, or ``torch.arange`` without a device, later moved with
``.to(device)``) is a blocking host-to-device copy there, which torch's sync debug mode reports
(as ``tests/test_train.py::test_a_step_makes_no_tensor_from_host_data`` does for ``step_on``).
"""

from __future__ import annotations

import warnings

import pytest
import torch

import trainlab


def _host_made_tensors(monkeypatch, config: dict) -> int:
    """Train ``config`` in memory and count the tensors made from host data on the way:
    ``torch.tensor`` calls and ``torch.arange`` calls without a device."""
    made = []
    real_tensor, real_arange = torch.tensor, torch.arange

    def tensor(*args, **kwargs):
        made.append("tensor")
        return real_tensor(*args, **kwargs)

    def arange(*args, **kwargs):
        if kwargs.get("device") is None:
            made.append("arange")
        return real_arange(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(torch, "tensor", tensor)
        m.setattr(torch, "arange", arange)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            trainlab.train(config, progress=False, write=False)
    return len(made)


def _deep_config(n_train: int) -> dict:
    # a population (its layer outputs are non-contiguous (K, B, D) views, which the watch
    # samples through cached index constants) of an MLP with 32 hidden layers of different
    # widths; diagnostics every 10 steps; 100 samples per step, so n_train / 100 steps
    return {
        "name": "deep",
        "data": {
            "name": "blobs",
            "options": {"n_samples": n_train * 5 // 4, "dim": 4},
            "val_fraction": 0.2,  # n_train training rows exactly: every batch holds 100
            "test_fraction": 0.0,
        },
        "model": {"name": "mlp", "hidden": list(range(2, 34))},
        "optim": {"name": "sgd", "lr": 0.01},
        "train": {"epochs": 1, "batch_size": 100, "diagnose_every": 10},
        "population": {"seeds": [0]},
    }


# What is wrong: trainlab/diagnostics/watch.py keeps the device constants its hooks use (the
# strided-sample indices of each non-contiguous layer output, `Watch._unravel` and its
# "offsets_mem", and the "units"/"dead"/"offsets" tables of `_finalize`) in `Watch._cache`, which
# `Watch._remember` empties whenever it holds `_CACHE_ENTRIES` (64) entries. A watched population
# with about 31 or more distinct layer-output shapes needs more than 64 constants in one sampled
# step, so the cache empties itself inside every sampled step and every constant is built again
# from host data (torch.arange / torch.tensor, then .to(device)): on CUDA ~2 blocking
# host-to-device copies per layer per sampled step, where the module docstring promises no host
# sync in any hook and `_remember`'s docstring says the limit is there only against batch sizes
# that change every step. Measured with this config (K=1, 32 hidden layers of widths 2..33,
# diagnose_every 10): an epoch of 4 steps (1 sampled) makes 41 host tensors, one of 14 steps
# (2 sampled) 78, 24 steps (3 sampled) 114; with the limit raised 41 each time (and with 28-30
# distinct widths none grows either).
# Expected: the constants of a fixed batch shape are made once, so a longer epoch makes no more
# host tensors than a short one (a small allowance for anything made once per epoch).
# Fix: evict least-recently-used entries, or size the limit by the watched layers (e.g.
# max(64, 4 * len(layers) + 8)), so that one step's working set never evicts itself.
def test_watch_builds_its_constants_once_however_many_layer_shapes(monkeypatch):
    short = _host_made_tensors(monkeypatch, _deep_config(400))  # 4 steps, sampled: step 0
    long = _host_made_tensors(monkeypatch, _deep_config(1400))  # 14 steps, sampled: 0 and 10
    assert long <= short + 4, (short, long)


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__, "-q"])
