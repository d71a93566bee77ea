"""Review cuda32 (read on CPU): an Adam/AdamW/AdaGrad step captured into a CUDA graph of the
user's own (not the trainer's, which sets ``graph_t``) took the host step count at capture: every
replay reused it (bias corrections frozen, ``state['step']`` never advancing) in silence, where
torch.optim refuses the capture unless ``capturable=True``. The capture is simulated on CPU by
making torch report a capturing stream, on the ``_foreach`` path a CUDA step takes (``fused=False``:
torch's fused kernels are CPU-only here); the step must refuse it with a UserError."""

import pytest
import torch

from trainlab import optim
from trainlab.errors import UserError


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adagrad"])
def test_step_captured_into_a_users_cuda_graph_is_refused(monkeypatch, name):
    p = torch.nn.Parameter(torch.ones(3, 2))
    p.grad = torch.ones(3, 2)
    opt = getattr(optim, name)([p], lr=0.1, fused=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_current_stream_capturing", lambda: True)
    with pytest.raises(UserError, match="captured into a CUDA graph"):
        opt.step()


def test_eager_step_is_unaffected(monkeypatch):
    p = torch.nn.Parameter(torch.ones(3, 2))
    p.grad = torch.ones(3, 2)
    opt = optim.Adam([p], lr=0.1, fused=False)
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_current_stream_capturing", lambda: False)
    opt.step()
    assert torch.allclose(p.detach(), torch.full((3, 2), 0.9))
