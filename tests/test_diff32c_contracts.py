"""Review diff32c: the session's own changes (961373e..HEAD) to the trainer, CLI, optimizers."""

from __future__ import annotations

import pytest
import torch

from trainlab.errors import UserError
from trainlab.optim import create_optimizer


def _fake_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make PopulationOptimizer._counts see a CUDA graph capture of the caller's own (the only
    way to reach the refusal on a CPU-only machine)."""
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_current_stream_capturing", lambda: True)


# wrong: the CUDA-capture refusal added to PopulationOptimizer._counts (optim/base.py) is
# reached in Adam's _foreach path (optim/adam.py _step_group) and AdaGrad's (optim/adagrad.py)
# only AFTER `self.state[p]["step"] = step` has counted the step ("counted once nothing can
# refuse it" no longer holds). On a real capture the recorded kernels never run, so m and v
# stay 0 while the count says 1: the eager step the message advises then uses t=2 and moves
# the parameter by 0.744*lr instead of lr (bias corrections of a step that never happened).
# torch.optim refuses a capture before touching any state (_cuda_graph_capture_health_check);
# a refused step must leave the optimizer as it was: no step counted.
@pytest.mark.parametrize("name", ["adam", "adamw", "adagrad"])
def test_refused_capture_counts_no_step(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    p = torch.nn.Parameter(torch.ones(3))
    opt = create_optimizer(name, [p], lr=0.1, fused=False)  # (the _foreach path, as on CUDA)
    p.grad = torch.tensor([1.0, -2.0, 3.0])
    with monkeypatch.context() as m:
        _fake_capture(m)
        with pytest.raises(UserError, match="CUDA graph"):
            opt.step()
    assert int(opt.state[p].get("step", 0)) == 0
    assert torch.equal(p.detach(), torch.ones(3))
