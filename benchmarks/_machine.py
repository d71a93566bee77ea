"""What a benchmark's JSON records about where and with what it ran (one place for all)."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import numpy as np
import torch


def device_name(device: str | torch.device) -> str:
    """``"cpu"``, or the CUDA device's name (``"NVIDIA H200"``), not just ``"cuda"``."""
    dev = torch.device(device)
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"


def triton_version() -> str | None:
    """Triton's version (trainlab's CUDA Adam kernel needs it), None where it is missing."""
    try:
        import triton
    except Exception:
        return None
    return triton.__version__


def code_revision() -> str | None:
    """The trainlab checkout's ``git rev-parse --short HEAD`` (``+`` when it has uncommitted
    changes), None outside a git checkout: which code a result file measured."""
    root = Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                             capture_output=True, text=True, timeout=10, check=True)  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return rev.stdout.strip() + ("+" if dirty.stdout.strip() else "")


def machine(device: str | torch.device = "cpu") -> dict[str, object]:
    """Platform, device name, thread count and the versions a result depends on."""
    return {
        "platform": platform.platform(),
        "device": device_name(device),
        "threads": torch.get_num_threads(),  # torch intra-op threads
        "torch": torch.__version__,
        "numpy": np.__version__,
        "triton": triton_version(),
        "revision": code_revision(),
    }
