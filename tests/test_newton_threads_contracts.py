"""Newton's per-model solve after ``torch.set_num_threads``: torch's batched CPU LU runs LAPACK's
``getrf`` on several threads at once, which MKL does not allow (wrong factors; pytorch/pytorch
#181570). trainlab's studies set the thread count, and so do users; each model's step must
still be its own damped Newton step, as numpy solves it."""

from __future__ import annotations

import numpy as np
import torch

from trainlab.optim import Newton


def test_newton_step_is_each_models_solve_after_set_num_threads():
    """Loss_k(w) = ½ wᵀA_k w − b_kᵀw at w = 0: g = −b_k, H = A_k, so one step with lr 1 and
    damping λ lands at (A_k + λI)⁻¹ b_k (numpy's solve, per model)."""
    k, n, lam = 2, 256, 0.5
    rng = np.random.default_rng(0)
    m = rng.normal(size=(k, n, n))
    a = m @ m.transpose(0, 2, 1) / n + np.eye(n)  # (K, n, n) symmetric positive definite
    b = rng.normal(size=(k, n))
    want = np.stack([np.linalg.solve(a[i] + lam * np.eye(n), b[i]) for i in range(k)])
    at, bt = torch.from_numpy(a), torch.from_numpy(b)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        w = torch.zeros(k, n, dtype=torch.float64, requires_grad=True)
        opt = Newton([w], lr=1.0, damping=lam)
        opt.step(lambda: 0.5 * torch.einsum("ki,kij,kj->k", w, at, w) - (bt * w).sum(-1))
    finally:
        torch.set_num_threads(before)
    np.testing.assert_allclose(w.detach().numpy(), want, rtol=1e-9, atol=1e-12)
