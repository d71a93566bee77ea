"""Review (optgroups22): trainlab.optim optimizers used as plain torch.optim optimizers."""

from __future__ import annotations

import pytest
import torch

from trainlab import optim as T
from trainlab.errors import ConfigError

F64 = torch.float64
LRS = torch.optim.lr_scheduler


# PopulationOptimizer.__setattr__ (src/trainlab/optim/base.py) refuses a torch.optim.lr_scheduler
# when a group has a per-model (K,) lr, with a ConfigError that tells the user to keep the
# optimizer and drive it with trainlab.optim.create_schedule (or a shared float lr). But the
# refusal fires only when LRScheduler.__init__ wraps optimizer.step, i.e. *after* the scheduler
# subclass has already written into the param groups: CyclicLR fill_s every model's lr tensor
# with base_lr (all K models end up at one lr) and sets momentum / beta1 to max_momentum;
# OneCycleLR sets momentum / beta1 to max_momentum. The refused optimizer is silently left with
# other hyperparameters than the user configured (per-model lrs 0.1/0.2/0.3 become 0.01 each;
# SGD momentum 0.5 becomes 0.9 or 0.95; Adam beta1 0.8 becomes 0.9 or 0.95), and every later
# step trains with them. Taking the values back would need a copy of every group's values at
# every step (CyclicLR fills the lr tensor in place), so the fix is the message: it must say the
# scheduler has already changed the groups and that the optimizer has to be built again (it
# told the user to keep the optimizer and use create_schedule).
@pytest.mark.parametrize("sched", ["cyclic", "one_cycle"])
@pytest.mark.parametrize("cls", ["sgd", "adam", "rmsprop"])
def test_refused_torch_scheduler_leaves_the_hyperparameters_unchanged(cls, sched):
    p = torch.zeros(3, 2, dtype=F64, requires_grad=True)
    lr = torch.tensor([0.1, 0.2, 0.3], dtype=F64)
    if cls == "adam":
        opt = T.Adam([p], lr=lr, betas=(0.8, 0.99))
    elif cls == "sgd":
        opt = T.SGD([p], lr=lr, momentum=0.5)
    else:
        opt = T.RMSprop([p], lr=lr, momentum=0.5)
    with pytest.raises(ConfigError, match="per-model lr") as err:
        if sched == "cyclic":
            LRS.CyclicLR(opt, base_lr=0.01, max_lr=0.1)
        else:
            LRS.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    group = opt.param_groups[0]
    changed = not torch.equal(group["lr"], lr) or (
        group["betas"] != (0.8, 0.99) if cls == "adam" else group["momentum"] != 0.5
    )
    assert changed  # what torch's scheduler did before trainlab could refuse it
    assert "optimizer built again" in str(err.value), str(err.value)


# hyper() (src/trainlab/optim/base.py) accepts a number, a list/tuple of K numbers or a (K,)
# tensor, but a NumPy array of K values -- the natural way to write an lr grid,
# lr=np.logspace(-3, -1, K) -- is refused with "lr must be a number, got array([...])": the
# message says a per-model value is not allowed at all, which is wrong (a list or tensor of the
# same K values works). Expected: the array is taken like the list of its values (same step),
# or at least the error names the accepted per-model forms (a list / 1-D tensor of length K).
def test_numpy_array_of_k_hyperparameters_is_taken_or_clearly_refused():
    np = pytest.importorskip("numpy")
    lrs = np.array([1e-3, 1e-2, 1e-1])
    p = torch.zeros(3, 2, dtype=F64, requires_grad=True)
    try:
        opt = T.SGD([p], lr=lrs)
    except ConfigError as err:
        assert "length 3" in str(err) or "K=3" in str(err), str(err)
        return
    p.grad = torch.ones_like(p)
    opt.step()
    torch.testing.assert_close(p[:, 0].detach(), torch.tensor([-1e-3, -1e-2, -1e-1], dtype=F64))
