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
    """``name`` is a device torch knows, and CUDA is there if it names it."""
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError):
        ap.error(f"--device {name}: unknown device; use cpu or cuda")
    if dev.type == "cuda" and not torch.cuda.is_available():
        ap.error(f"--device {name}: no CUDA device on this machine; use cpu")
