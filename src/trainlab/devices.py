"""Device names: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``, checked against this machine."""

from __future__ import annotations

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
