"""Review diff35g: the last four commits (unbatched units through pooling/flatten, resume's
warning stacklevel, the Python-float denormal probe, optimizer value text)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import torch
from torch import nn

from trainlab.diagnostics import watch


def _torch_flushes() -> bool:
    """Whether this thread flushes denormals, read by torch itself (float32 arithmetic)."""
    return bool(torch.tensor([1e-39]).mul(1.0)[0] == 0)


class _SharedStyleFlatten(nn.Module):
    """A batched conv path scaled per channel by a Linear of one shared (D,) style vector
    (given without batch axis, as a diffusion time / class embedding often is), flattened,
    then ReLU. The embedding Linear is declared first, as UNet-style models do."""

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Linear(4, 8)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.style = nn.Parameter(torch.randn(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)  # (B, 8, H, W): batched
        g = self.emb(self.style)  # (8,): an unbatched Linear call, the latest layout layer
        return self.relu((h * g[:, None, None]).flatten(1))  # (B, 288)


# watch.py _units_before (2781229): when neither the shape rule nor the count rule matches (a
# flatten(1) after the conv), the fallback now returns the *latest entry's* unbatched flag,
# here the shared-style Linear's (True), although the ReLU's (5, 288) output is a batch of 5.
# The copy is then unsqueezed as one sample (1, 1, 5, 288) and read with the static "channel"
# guess: the units become the 5 samples, none dead -> 0.0. By hand (and before 2781229, and for
# the same model with the style given batched) the 288 features are the units, 6 of them
# <= 0 for every sample: 6/288. This is the diff35c mixed-batch bug back through the fallback.
# Fix: in the fallback, take unbatched only when every entry of the forward is unbatched (or
# only from an entry whose output can have fed y), else False.
def test_unbatched_flag_of_an_unrelated_layer_not_applied_through_flatten() -> None:
    torch.manual_seed(0)
    m = _SharedStyleFlatten()
    x = torch.randn(5, 3, 6, 6)
    with torch.no_grad():
        y = m(x)  # (5, 288)
    hand = (y.amax(dim=0) <= 0).float().mean().item()
    assert abs(hand - 6 / 288) < 1e-9
    with watch(m, every=1) as w:
        m(x).sum().backward()
        recs = w.records()
    (rec,) = [r for r in recs if r["layer"] == "relu"]
    assert abs(rec["dead_fraction"] - hand) < 1e-6


# watch.py _flushes_denormals (e482649; now trainlab.devices.flushes_denormals) probed `_DENORMAL *
# _ONE == 0.0` with `_DENORMAL = 1e-310` parsed when the module is compiled. Python's float parser
# obeys the thread's FTZ/DAZ mode too: a watch.py compiled while flushing (a script that calls
# torch.set_flush_denormal(True), the PyTorch CPU performance tip, before its first import of
# trainlab.diagnostics, with no valid .pyc yet) gets _DENORMAL == 0.0, and the .pyc written keeps
# that 0.0 for every later process. The probe then always says "flushing", and every _denormals_kept
# block ends with torch.set_flush_denormal(True): a caller that does not flush is switched to
# flushing by the first watched step (confirmed end to end: a fresh copy of the package imported
# once under flush, then `watch(...)` in a new process: flushing before False, after True).
# Expected: the probe reads False and the caller's setting is unchanged. Fix: build the denormal at
# run time from normal operands (e.g. `_TINY * _TINY2 == 0.0` with 1e-300 and 1e-10, both normal,
# whose product is denormal), or from its bit pattern (struct.unpack), not from a literal.
def test_flush_probe_right_when_watch_was_compiled_while_flushing() -> None:
    # (the probe lives in trainlab.devices since: the module compiled under flush is that one)
    import trainlab.devices
    import trainlab.diagnostics  # noqa: F401

    watch_mod = sys.modules["trainlab.diagnostics.watch"]
    path = Path(trainlab.devices.__file__)
    name = "trainlab._devices_compiled_while_flushing"
    mod = types.ModuleType(name)
    mod.__file__, mod.__package__ = str(path), "trainlab"
    sys.modules[name] = mod
    probe = watch_mod.flushes_denormals
    try:
        assert not _torch_flushes()
        torch.set_flush_denormal(True)
        try:  # a first import (no .pyc) while the caller flushes denormals
            code = compile(path.read_text(encoding="utf-8"), str(path), "exec")
        finally:
            torch.set_flush_denormal(False)
        exec(code, mod.__dict__)
        assert mod.flushes_denormals() is False  # the caller does not flush now
        watch_mod.flushes_denormals = mod.flushes_denormals  # (the watch's blocks use it)
        with watch_mod._denormals_kept():
            pass
        assert not _torch_flushes()  # and is not made to by a watch
    finally:
        watch_mod.flushes_denormals = probe
        torch.set_flush_denormal(False)
        sys.modules.pop(name, None)
