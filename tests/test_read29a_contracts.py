"""Review read29a: schedules.py and second_order.py."""

import torch

from trainlab.optim import SGD
from trainlab.optim.schedules import create_schedule


# create_schedule takes a (K,) base_lr tensor; an integer one (torch.tensor([1, 2]), which the
# population optimizers accept and turn into float64 lrs 1.0 and 2.0) is evaluated in float64
# but cast back to the *integer* dtype (Schedule.__call__/curve: `.to(self.base_lr.dtype)`), so
# the rates are truncated: a linear decay of lr 1 over 4 steps gives 1, 0, 0, 0 instead of
# 1, 0.75, 0.5, 0.25 (base · (1 − t/4), torch's LinearLR with end_factor 0). The expected
# values are the same schedule built from the float tensor [1., 2.].
def test_integer_base_lr_tensor_is_not_truncated():
    ints = create_schedule("linear", torch.tensor([1, 2]), total_steps=4, steps_per_epoch=1)
    floats = create_schedule("linear", torch.tensor([1.0, 2.0]), total_steps=4, steps_per_epoch=1)
    expected = torch.tensor([[1.0, 2.0], [0.75, 1.5], [0.5, 1.0], [0.25, 0.5]], dtype=torch.float64)
    assert torch.allclose(floats.curve().double(), expected)
    assert ints.curve().is_floating_point()
    assert torch.allclose(ints.curve().double(), expected)
    assert torch.allclose(ints(1).double(), expected[1])
    # and the optimizer takes those rates as the floats they are
    p = torch.nn.Parameter(torch.zeros(2, 3, dtype=torch.float64))
    opt = SGD([p], lr=ints(1))
    p.grad = torch.ones_like(p)
    opt.step()
    assert torch.allclose(p.detach()[:, 0], -expected[1])
