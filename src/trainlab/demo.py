"""``make demo``: the notes' MNIST recipe adapted to ``digits``, as one population.

MLP 256-256, Adam lr 1e-3, batch 100, 15 epochs (DESIGN.md, "the notes' MNIST recipe"), with
5 seeds × 3 init schemes: Xavier-uniform (the recipe), N(0, 1) (too large: activations and
logits explode, slow) and zeros (symmetry never breaks) — 15 models trained at once.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .config import parse_config
from .train import RunResult, default_run_dir, train

__all__ = ["DEMO_CONFIG", "run_demo"]

DEMO_CONFIG = {
    "name": "demo",
    "data": {"name": "digits"},
    "model": {"name": "mlp", "hidden": [256, 256], "activation": "relu"},
    "init": {"scheme": "xavier_uniform"},
    "optim": {"name": "adam", "lr": 1e-3},
    "train": {"epochs": 15, "batch_size": 100},
    "population": {
        "seeds": [0, 1, 2, 3, 4],
        "variants": [
            {"init.scheme": "xavier_uniform"},
            {"init.scheme": "normal", "init.std": 1.0},
            {"init.scheme": "zeros"},
        ],
    },
}


def run_demo(out: str | Path | None = None, device: str | torch.device = "auto") -> RunResult:
    """Train the demo population and return its result (the report is built by the caller)."""
    cfg = parse_config(DEMO_CONFIG, "demo")
    return train(cfg, out=out if out is not None else default_run_dir("demo"), device=device)
