"""Review of the one-pass Triton Adam(W) (trainlab.optim.triton_adam): defects found."""

from __future__ import annotations

import torch

from trainlab.optim import triton_adam

CUDA_GRID_Y_MAX = 65535  # gridDim.y (and .z) limit of every CUDA GPU; gridDim.x: 2**31 - 1


class _RecordingKernel:
    """Stands in for the (jitted or interpreted) kernel: records each launch's grid."""

    def __init__(self) -> None:
        self.grids: list[tuple[int, ...]] = []

    def warmup(self, *args, grid, **consts):
        return None

    def __getitem__(self, grid):
        self.grids.append(tuple(grid))
        return lambda *args, **consts: None


def test_kernel_grid_fits_cuda_limits_for_large_populations(monkeypatch):
    # adam_step_ launches grid (blocks, K): K on CUDA's y axis, whose limit is 65535, so a
    # population of K > 65535 models (the CLI allows up to MAX_SEEDS = 100,000) fails every
    # Adam step on CUDA with "Triton Error [CUDA]: invalid argument" (not KernelUnavailable,
    # so no fallback); the unbounded model count belongs on grid axis 0 (or the launch split).
    rec = _RecordingKernel()
    monkeypatch.setattr(triton_adam, "_kernels", lambda: (rec, rec))
    k = CUDA_GRID_Y_MAX + 1
    p = torch.zeros(k, 3)
    state = [torch.zeros_like(p) for _ in range(3)]
    triton_adam.adam_step_(
        [p], [state[0]], [state[1]], [state[2]], None, k=k, t=[1], lr=1e-3, beta1=0.9,
        beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False, maximize=False,
    )  # fmt: skip
    assert rec.grids, "no launch recorded"
    for grid in rec.grids:
        assert grid[0] <= 2**31 - 1
        assert all(d <= CUDA_GRID_Y_MAX for d in grid[1:]), grid
