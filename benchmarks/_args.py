"""Argument checks the benchmark scripts share: a bad value is one line and exit 2 (argparse's
``error``), before anything heavy runs."""

from __future__ import annotations

import argparse

import torch


def require_counts(ap: argparse.ArgumentParser, **counts: int | list[int] | None) -> None:
    """Each count (``rounds=7``, ``k=[16, 64]``) is at least 1; None (left out) passes."""
    for name, value in counts.items():
        for v in value if isinstance(value, list) else [value]:
            if v is not None and v < 1:
                ap.error(f"--{name.replace('_', '-')} must be at least 1, got {v}")


def require_device(ap: argparse.ArgumentParser, name: str) -> None:
    """``name`` is ``cpu`` or ``cuda[:N]``, and that CUDA device is there if it names one."""
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError):
        ap.error(f"--device {name}: unknown device; use cpu or cuda")
    if dev.type not in ("cpu", "cuda"):
        ap.error(f"--device {name}: the benchmarks run on cpu or cuda only")
    if dev.type == "cuda" and not torch.cuda.is_available():
        ap.error(f"--device {name}: no CUDA device on this machine; use cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        ap.error(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s)")


def require_threads(ap: argparse.ArgumentParser, threads: int | None) -> None:
    """``--threads`` is 0 (torch's default) or more; None (left out) passes."""
    if threads is not None and threads < 0:
        ap.error(f"--threads must be 0 (torch's default) or more, got {threads}")
