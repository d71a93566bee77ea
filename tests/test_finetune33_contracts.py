"""Review tests (finetune33): fine-tuning pre-trained modules with trainlab's trainer."""

import numpy as np
import torch
from torch import nn

from trainlab.pretrain import arrays_dataset, fine_tune


def _digits_dataset():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    p = np.random.RandomState(0).permutation(len(x))
    x, y = x[p][:300], y[p][:300]
    return arrays_dataset(x[:240], y[:240], x[240:], y[240:])


class _Centered(nn.Module):
    """A pre-trained module whose input centering lives in a non-persistent buffer."""

    def __init__(self, mu: float) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(64, 10)
        self.register_buffer("mu", torch.full((64,), mu), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x - self.mu)


# fine_tune promises "model i starts from modules[i]'s weights", and the trainer's own init
# (Trainer._init_members) copies non-persistent buffers for every model. But fine_tune loads
# modules[1:] with Population.load_member(i, m.state_dict()), and a state_dict has no
# non-persistent buffers: every model silently runs with modules[0]'s (here mu=0 instead of
# 5), with no warning or error (the fingerprint check passes: same names/shapes). Model 1 of
# fine_tune([a, b], seeds=[0, 1]) must train as fine_tune([b], seeds=[1]) does (a model's
# result depends only on its own module and seed: DESIGN principle 2), so its final test loss
# must match to float rounding. Fix: copy each module's non-persistent buffers into its slot
# too (or refuse modules whose non-persistent buffers differ).
def test_fine_tune_model_keeps_its_own_non_persistent_buffers():
    ds = _digits_dataset()
    a, b = _Centered(0.0), _Centered(5.0)
    both = fine_tune([a, b], ds, seeds=[0, 1], epochs=1, optimizer="sgd", lr=0.01)
    alone = fine_tune([b], ds, seeds=[1], epochs=1, optimizer="sgd", lr=0.01)
    got = both["models"][1]["final"]["test_loss"]
    want = alone["models"][0]["final"]["test_loss"]
    assert abs(got - want) <= 1e-4 * max(1.0, abs(want)), (got, want)
