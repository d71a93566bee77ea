import warnings

import pytest
import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint

import trainlab
from trainlab.errors import UserError


class _LateCheckpoint(nn.Module):
    """Checkpoints its first layer (reentrant form) from its third forward on."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(64, 16)
        self.b = nn.Linear(16, 10)
        self.calls = 0

    def forward(self, x):
        x = x.flatten(1)
        self.calls += 1
        if self.calls < 3:
            h = torch.relu(self.a(x))
        else:
            h = checkpoint(lambda t: torch.relu(self.a(t)), x, use_reentrant=True)
        return self.b(h)


# README: "torch.utils.checkpoint inside the forward is refused" (with the trainer's message
# naming it). Under vmap only the first training forward is checked: a forward that starts
# checkpointing (use_reentrant=True) at a later step escapes as torch's raw RuntimeError
# "In order to use an autograd.Function with functorch transforms ... must override the
# setup_context staticmethod" from population._vmap_forward (the `if not first: raise` path),
# which names neither checkpoint nor the fix. The non-reentrant form started late is already
# translated into a UserError naming torch.utils.checkpoint; the reentrant one should be too.
def test_checkpoint_started_after_first_vmap_forward_is_refused_by_name():
    torch.manual_seed(0)
    cfg = {
        "name": "ck",
        "data": {"name": "digits"},
        "init": {"scheme": "keep"},
        "train": {"epochs": 1, "batch_size": 256},
        "population": {"seeds": [0, 1]},
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(UserError, match="checkpoint"):
            trainlab.train(cfg, model=_LateCheckpoint(), progress=False, write=False)
