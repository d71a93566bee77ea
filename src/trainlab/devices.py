"""Device names: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, checked against this machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import torch

from .errors import UserError

__all__ = ["resolve_device"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU; any other name must be a CPU or an
    existing CUDA device (a :class:`UserError`, also a ``ValueError``, names the problem)."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError):
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):  # mps, xpu, meta, ...: not supported here
        raise UserError(f"unknown device '{name}'; use auto, cpu or cuda")
    if dev.type == "cpu":  # CPU tensors are on "cpu", never "cpu:0": the trainer compares them
        if dev.index not in (None, 0):
            raise UserError(f"device '{name}' does not exist: the CPU is 'cpu' (or 'cpu:0')")
        return torch.device("cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device '{name}' was asked for, but no CUDA device is available; use cpu")
    n = torch.cuda.device_count() if dev.type == "cuda" else 0
    if dev.type == "cuda" and dev.index is not None and dev.index >= n:
        raise UserError(
            f"device '{name}' does not exist: this machine has {n} CUDA device(s), "
            f"'cuda:0' to 'cuda:{n - 1}'"
        )
    return dev


def autocasting() -> list[str]:
    """The device types (``cpu``, ``cuda``) whose autocast is on: a caller's ``torch.autocast``
    region."""
    try:
        return [d for d in ("cpu", "cuda") if torch.is_autocast_enabled(d)]
    except TypeError:  # (torch < 2.4: no device argument)
        on = (("cpu", torch.is_autocast_cpu_enabled()), ("cuda", torch.is_autocast_enabled()))
        return [d for d, enabled in on if enabled]


@contextmanager
def autocast_off(device_types: list[str] | None = None) -> Iterator[None]:
    """Autocast off inside the block for ``device_types`` (default: those with it on,
    :func:`autocasting`): training and data-driven initialization run in the models' own
    float32 inside a caller's ``torch.autocast`` region, as outside it."""
    with ExitStack() as stack:
        for device_type in autocasting() if device_types is None else device_types:
            stack.enter_context(torch.autocast(device_type, enabled=False))
        yield


# two normal doubles whose product (1e-310) is denormal: computed at run time (a denormal
# literal is parsed at compile time, as 0.0 if that process flushed, kept in the .pyc)
_TINY, _SMALL = 1e-300, 1e-10


def flushes_denormals() -> bool:
    """Whether this thread flushes denormal floats to zero (``torch.set_flush_denormal``; torch
    has no getter): the thread's floating-point control register, which Python's own float
    arithmetic obeys too, reads a denormal product as 0 (30 ns; a tensor probe took 7 µs)."""
    return _TINY * _SMALL == 0.0
